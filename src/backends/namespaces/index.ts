/**
 * Namespace objects backend: NetworkPolicies, ResourceQuota and LimitRange per namespace, two ways.
 *
 * - Plain manifests for every non-exempt namespace the config names: `network/<namespace>.yaml` and
 *   `resources/<namespace>.yaml`, each folder with a kustomization (for clusters without Kyverno).
 * - Kyverno ClusterPolicies with generate rules (`kyverno/<control>.yaml`) that create the same objects in
 *   the same namespaces, and in namespaces carrying the config's opt-in label (also those created or
 *   labelled later; `generateExisting` covers those that exist when the policy is installed), and keep them
 *   as generated (`synchronize`: edits and deletions are reverted). Install one route or the other, so
 *   that every object has a single owner. A namespace neither named nor labelled gets nothing.
 *
 * Namespaces with settings of their own get rules of their own (matched by name); the cluster-wide rules
 * match the other named namespaces by name and the label by selector (excluding the exempt and
 * infrastructure namespaces and those with rules of their own). Pure: no I/O.
 */
import type { ResolvedCluster } from '../../config/resolve.js';
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';
import { dnsName } from '../../names.js';
import { KYVERNO_MIN_VERSION } from '../kyverno/index.js';
import type { BackendFile } from '../types.js';
import {
  DEFAULT_DENY_CONTROL, METADATA_CONTROL, QUOTA_CONTROL, generateData, manifest, networkPolicyObjects, resourceObjects,
  type NamespaceControl, type NamespacedObject,
} from './objects.js';

export const NETWORK_DIR = 'network';
export const RESOURCES_DIR = 'resources';

/**
 * Effective settings per namespace that gets objects: the non-exempt namespaces the config names (not the
 * infrastructure namespaces of `psa.infraNamespaces`), sorted by name. No other namespace gets objects,
 * except, through Kyverno, those carrying the opt-in label.
 */
export function namespaceSettings(cluster: ResolvedCluster): { namespace: string; settings: NamespaceObjectSettings }[] {
  const own = new Map(cluster.namespaceObjects.namespaces.map((n) => [n.namespace, n.settings]));
  return cluster.namespaces.filter((n) => !n.exempt && !n.infra).map((n) => ({ namespace: n.name, settings: own.get(n.name) ?? cluster.namespaceObjects.cluster }));
}

/** Plain manifests, grouped per namespace into one folder per kind of object. */
function manifestFiles(cluster: ResolvedCluster, dir: string, build: (s: NamespaceObjectSettings) => NamespacedObject[]): BackendFile[] {
  const files: BackendFile[] = [];
  for (const { namespace, settings } of namespaceSettings(cluster)) {
    const objects = build(settings).map((o) => manifest(o, namespace));
    if (objects.length) files.push({ path: `${dir}/${namespace}.yaml`, objects });
  }
  if (files.length) {
    files.push({
      path: `${dir}/kustomization.yaml`,
      objects: [{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files.map((f) => f.path.slice(dir.length + 1)).sort() }],
    });
  }
  return files;
}

const TITLES: Record<NamespaceControl, { title: string; description: string }> = {
  [DEFAULT_DENY_CONTROL]: {
    title: 'Default-deny NetworkPolicy per namespace',
    description:
      'Generates in the namespaces the config names (and those carrying its opt-in label) a NetworkPolicy that denies all ingress and egress of its pods (and, when configured, one allowing DNS to kube-dns), so only flows opened by further policies are allowed. Needs a network plugin that implements NetworkPolicy; hostNetwork pods are not affected.',
  },
  [METADATA_CONTROL]: {
    title: 'Block egress to cloud metadata per namespace',
    description:
      'Generates in the namespaces the config names (and those carrying its opt-in label) a NetworkPolicy allowing egress to every address except the cloud metadata service, so pods cannot fetch node credentials from it. Another policy that allows a range containing the metadata address re-opens it; hostNetwork pods are not affected.',
  },
  [QUOTA_CONTROL]: {
    title: 'ResourceQuota and LimitRange per namespace',
    description:
      'Generates in the namespaces the config names (and those carrying its opt-in label) a ResourceQuota capping its aggregate requests, limits and object counts, and a LimitRange giving containers default requests and limits and bounding them.',
  },
};

/** Namespaces whose objects of this control differ from the cluster-wide ones (they get rules of their own). */
function ownNamespaces(cluster: ResolvedCluster, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[]): ResolvedCluster['namespaceObjects']['namespaces'] {
  const mine = (s: NamespaceObjectSettings): string => JSON.stringify(build(s).filter((o) => o.control === control));
  const base = mine(cluster.namespaceObjects.cluster);
  return cluster.namespaceObjects.namespaces.filter((n) => mine(n.settings) !== base);
}

/** The generate rule that creates an object in a namespace. */
function ruleName(o: NamespacedObject, namespace: string, own: boolean): string {
  return own ? dnsName([o.name, namespace]) : o.name;
}

/** One generate rule per object and scope (the cluster-wide default, or one namespace with its own settings). */
function rules(cluster: ResolvedCluster, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[]): object[] {
  const mine = (s: NamespaceObjectSettings): NamespacedObject[] => build(s).filter((o) => o.control === control);
  const own = ownNamespaces(cluster, control, build);
  const out: object[] = [];
  const rule = (o: NamespacedObject, name: string, match: readonly object[], exclude?: readonly string[]): object => ({
    name,
    match: { any: match.map((m) => ({ resources: { kinds: ['Namespace'], ...m } })) },
    ...(exclude?.length ? { exclude: { any: [{ resources: { kinds: ['Namespace'], names: [...exclude] } }] } } : {}),
    // Kyverno ≥ 1.13 spells generateExisting per rule.
    generate: {
      generateExisting: true,
      synchronize: true,
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      namespace: '{{request.object.metadata.name}}',
      data: generateData(o),
    },
  });
  // The cluster-wide objects go to the namespaces the config names without settings of their own, and to
  // namespaces carrying the opt-in label; never to any other namespace.
  const ownNames = new Set(own.map((n) => n.namespace));
  const listed = namespaceSettings(cluster).map((n) => n.namespace).filter((n) => !ownNames.has(n));
  const label = cluster.namespaceObjects.optInLabel;
  const match = [...(listed.length ? [{ names: listed }] : []), ...(label ? [{ selector: { matchLabels: { [label.key]: label.value } } }] : [])];
  // Exclusions only matter for the label: exempt and infrastructure namespaces, and those with their own rules.
  const infra = cluster.namespaces.filter((n) => n.infra).map((n) => n.name);
  const exclude = label ? [...new Set([...cluster.exemptNamespaces, ...infra, ...ownNames])].sort() : [];
  if (match.length) for (const o of mine(cluster.namespaceObjects.cluster)) out.push(rule(o, o.name, match, exclude));
  for (const n of own) for (const o of mine(n.settings)) out.push(rule(o, ruleName(o, n.namespace, true), [{ names: [n.namespace] }]));
  return out;
}

function generatePolicy(cluster: ResolvedCluster, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[], subject: string): BackendFile[] {
  const r = rules(cluster, control, build);
  if (!r.length) return [];
  const policy = {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: control,
      annotations: {
        'policies.kyverno.io/title': TITLES[control].title,
        'policies.kyverno.io/category': control === QUOTA_CONTROL ? 'Resource policies' : 'Network separation',
        'policies.kyverno.io/severity': 'medium',
        'policies.kyverno.io/subject': subject,
        'policies.kyverno.io/description': TITLES[control].description,
        'policies.kyverno.io/minversion': KYVERNO_MIN_VERSION,
        'kyverno.io/kubernetes-version': cluster.version,
        'kubeharden.io/control': control,
      },
    },
    spec: { background: true, rules: r },
  };
  return [{ path: `kyverno/${control}.yaml`, objects: [policy] }];
}

/** A namespace the config does not name that carries the opt-in label (suite only, when there is a label). */
export const SAMPLE_NEW_NAMESPACE = 'kubeharden-new-namespace';
const SUITE_DIR = 'kyverno/samples/namespaces';

/**
 * A `kyverno test` suite for the generate policies: for every namespace that gets objects (and, with an
 * opt-in label, a labelled one the config does not name) each rule must generate exactly the object of the
 * plain manifests (`generatedResource`).
 */
function generateSuite(cluster: ResolvedCluster, policyFiles: readonly BackendFile[]): BackendFile[] {
  if (!policyFiles.length) return [];
  const label = cluster.namespaceObjects.optInLabel;
  const scopes = [...namespaceSettings(cluster), ...(label ? [{ namespace: SAMPLE_NEW_NAMESPACE, settings: cluster.namespaceObjects.cluster }] : [])];
  const builders = [networkPolicyObjects, resourceObjects];
  const files: BackendFile[] = [];
  const results: object[] = [];
  for (const { namespace, settings } of scopes) {
    for (const build of builders) {
      for (const o of build(settings)) {
        const own = ownNamespaces(cluster, o.control, build).some((n) => n.namespace === namespace);
        const file = `generated/${namespace}-${o.name}.yaml`;
        // Kyverno sets its own labels on what it generates; the comparison covers everything else.
        const { labels: _labels, ...md } = manifest(o, namespace)['metadata'] as Record<string, unknown>;
        files.push({ path: `${SUITE_DIR}/${file}`, objects: [{ ...manifest(o, namespace), metadata: md }] });
        results.push({ policy: o.control, rule: ruleName(o, namespace, own), kind: 'Namespace', resources: [namespace], generatedResource: file, result: 'pass' });
      }
    }
  }
  if (!results.length) return [];
  const nsObject = (name: string, extra: Record<string, string> = {}): object => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...extra } } });
  // `kyverno test` has no verdict for a rule that does not match, so namespaces that get nothing (neither
  // named nor labelled) are checked with `kyverno apply` in test/namespace-objects.test.ts.
  const namespaces = scopes.map((s) => nsObject(s.namespace, s.namespace === SAMPLE_NEW_NAMESPACE && label ? { [label.key]: label.value } : {}));
  files.push({ path: `${SUITE_DIR}/namespaces.yaml`, objects: namespaces });
  files.push({
    path: `${SUITE_DIR}/kyverno-test.yaml`,
    objects: [
      {
        apiVersion: 'cli.kyverno.io/v1alpha1',
        kind: 'Test',
        metadata: { name: 'kubeharden-namespace-objects' },
        policies: policyFiles.map((f) => `../../${f.path.slice('kyverno/'.length)}`),
        resources: ['namespaces.yaml'],
        results,
      },
    ],
  });
  return files;
}

export interface NamespaceObjectFiles {
  /** Kyverno generate policies (listed in the Kyverno kustomization). */
  readonly kyverno: readonly BackendFile[];
  /** `network/` and `resources/` manifests. */
  readonly manifests: readonly BackendFile[];
  /** The `kyverno test` suite of the generate policies (under kyverno/samples/). */
  readonly suite: readonly BackendFile[];
}

export function namespacesBackend(cluster: ResolvedCluster): NamespaceObjectFiles {
  const kyverno = [
    ...generatePolicy(cluster, DEFAULT_DENY_CONTROL, networkPolicyObjects, 'Namespace, NetworkPolicy'),
    ...generatePolicy(cluster, METADATA_CONTROL, networkPolicyObjects, 'Namespace, NetworkPolicy'),
    ...generatePolicy(cluster, QUOTA_CONTROL, resourceObjects, 'Namespace, ResourceQuota, LimitRange'),
  ];
  return {
    kyverno,
    manifests: [...manifestFiles(cluster, NETWORK_DIR, networkPolicyObjects), ...manifestFiles(cluster, RESOURCES_DIR, resourceObjects)],
    suite: generateSuite(cluster, kyverno),
  };
}

/** The bundle README's section on namespace objects (empty when none are generated). */
export function namespaceObjectsReadme(cluster: ResolvedCluster): string[] {
  const { kyverno, manifests } = namespacesBackend(cluster);
  if (!kyverno.length) return [];
  const c = cluster.name;
  const has = (dir: string): boolean => manifests.some((f) => f.path.startsWith(`${dir}/`));
  const label = cluster.namespaceObjects.optInLabel;
  const where = [
    'the namespaces the config names (not the exempt ones, nor `psa.infraNamespaces`)',
    ...(label ? [`namespaces labelled \`${label.key}=${label.value}\`, including namespaces created or labelled later`] : []),
  ].join(', and in ');
  const lines = [
    '## Namespace objects',
    '',
    `Kyverno generate policies (${kyverno.map((f) => `\`${f.path}\``).join(', ')}) create these objects in ${where}, and restore them when they are changed or deleted. No other namespace gets anything${label ? ` (label a namespace \`${label.key}=${label.value}\` to opt it in)` : ' (set `namespaceObjects.optInLabel` to let namespace owners opt in)'}. Every object is named \`kubeharden-…\`, so an object of the same name written by the namespace's owners (\`default-deny\`, \`allow-dns\`) is never taken over. Without Kyverno, apply the same objects as plain manifests for the namespaces the config names (use one route, not both, so that every object has a single owner):`,
    '',
    '```sh',
    ...(has(NETWORK_DIR) ? [`kubectl apply -k ${c}/${NETWORK_DIR}       # NetworkPolicies per namespace`] : []),
    ...(has(RESOURCES_DIR) ? [`kubectl apply -k ${c}/${RESOURCES_DIR}     # ResourceQuota and LimitRange per namespace`] : []),
    '```',
    '',
    "Kyverno's background controller creates the objects: its ClusterRole must allow creating and updating NetworkPolicies, ResourceQuotas and LimitRanges (Helm chart: `backgroundController.rbac.coreClusterRole.extraResources`).",
    '',
    'NetworkPolicies only take effect with a network plugin that implements them, and never apply to hostNetwork pods. They never deny, they only allow, and their allows add up: a pod selected by `kubeharden-default-deny` may use only the flows that another policy of its namespace allows (`kubeharden-allow-dns`: UDP/TCP 53 to kube-dns), so the cloud metadata service is blocked too. `kubeharden-allow-egress-except-cloud-metadata` (written only where default-deny is off) allows all egress except the metadata addresses; a policy allowing a range that contains them re-opens them.',
    '',
    '**Default-deny and webhooks, operators.** Under default-deny, pods can no longer reach the API server and the API server can no longer reach webhooks served in the namespace. Admission and conversion webhooks (cert-manager, ingress controllers, operators, the policy engines themselves) then time out; with `failurePolicy: Fail` the API server rejects every request the webhook covers, and controllers that watch the API stop working. Keep such namespaces out of the config (or in `psa.infraNamespaces`), or open the flows: `network.apiServerEgress: { cidrs: [<API server endpoints>] }` writes `kubeharden-allow-api-server` (egress on TCP 443 and 6443 by default) and `network.webhookIngress: { cidrs: [<control-plane node addresses>] }` writes `kubeharden-allow-webhooks` (ingress from them), cluster-wide or per namespace. A ResourceQuota rejects pods beyond its caps and the LimitRange rejects containers above its `max`: size them for databases and monitoring before listing those namespaces.',
    '',
    '| Namespace | default-deny | allowed under default-deny | egress except metadata | ResourceQuota | LimitRange |',
    '|---|---|---|---|---|---|',
  ];
  const yes = (b: boolean): string => (b ? 'yes' : '—');
  const rows = [...(label ? [{ label: `(labelled \`${label.key}=${label.value}\`)`, s: cluster.namespaceObjects.cluster }] : []), ...namespaceSettings(cluster).map((n) => ({ label: `\`${n.namespace}\``, s: n.settings }))];
  for (const { label, s } of rows) {
    const quota = s.quota ? Object.entries(s.quota).map(([k, v]) => `${k}=${v}`).join(', ') : '—';
    const lr = s.limitRange ? Object.entries(s.limitRange).map(([k, v]) => `${k}: ${Object.entries(v ?? {}).map(([r, q]) => `${r}=${q}`).join(', ')}`).join('; ') : '—';
    const allows = [
      ...(s.network.defaultDeny && s.network.allowDns ? ['dns'] : []),
      ...(s.network.defaultDeny && s.network.apiServerEgress ? [`api-server (${s.network.apiServerEgress.cidrs.join(', ')})`] : []),
      ...(s.network.defaultDeny && s.network.webhookIngress ? [`webhooks (${s.network.webhookIngress.cidrs.join(', ')})`] : []),
    ];
    lines.push(`| ${label} | ${yes(s.network.defaultDeny)} | ${allows.join('; ') || '—'} | ${yes(!s.network.defaultDeny && s.network.blockCloudMetadata)} | ${quota} | ${lr} |`);
  }
  lines.push('');
  return lines;
}
