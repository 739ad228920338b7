/**
 * Namespace objects backend: NetworkPolicies, ResourceQuota and LimitRange per namespace, as plain manifests
 * for every namespace of the IR's namespace-object scopes (the non-exempt namespaces the config names):
 * `network/<namespace>.yaml` and `resources/<namespace>.yaml`, each folder with a kustomization (for
 * clusters without Kyverno). The Kyverno generate policies that create the same objects are the Kyverno
 * backend's (kyverno/generate.ts); install one route or the other, so that every object has a single owner.
 * A namespace neither named nor labelled gets nothing. Pure: no I/O.
 */
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';
import type { BundleIR } from '../../ir/types.js';
import { namespaceGeneratePolicies } from '../kyverno/generate.js';
import type { BackendFile } from '../types.js';
import { manifest, networkPolicyObjects, resourceObjects, type NamespacedObject } from './objects.js';

export const NETWORK_DIR = 'network';
export const RESOURCES_DIR = 'resources';

/** Plain manifests, grouped per namespace into one folder per kind of object. */
function manifestFiles(ir: BundleIR, dir: string, build: (s: NamespaceObjectSettings) => NamespacedObject[]): BackendFile[] {
  const files: BackendFile[] = [];
  for (const { namespace, settings } of ir.namespaceObjects.scopes) {
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

/** `network/` and `resources/` manifests. */
export function namespacesBackend(ir: BundleIR): BackendFile[] {
  return [...manifestFiles(ir, NETWORK_DIR, networkPolicyObjects), ...manifestFiles(ir, RESOURCES_DIR, resourceObjects)];
}

/** The bundle README's section on namespace objects (empty when none are generated). */
export function namespaceObjectsReadme(ir: BundleIR): string[] {
  const kyverno = namespaceGeneratePolicies(ir);
  if (!kyverno.length) return [];
  const manifests = namespacesBackend(ir);
  const c = ir.cluster.name;
  const has = (dir: string): boolean => manifests.some((f) => f.path.startsWith(`${dir}/`));
  const label = ir.namespaceObjects.optInLabel;
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
  const rows = [...(label ? [{ label: `(labelled \`${label.key}=${label.value}\`)`, s: ir.namespaceObjects.cluster }] : []), ...ir.namespaceObjects.scopes.map((n) => ({ label: `\`${n.namespace}\``, s: n.settings }))];
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
