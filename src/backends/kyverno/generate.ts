/**
 * Kyverno ClusterPolicies with generate rules (`kyverno/<control>.yaml`) that create the namespace objects
 * (NetworkPolicies, ResourceQuota, LimitRange: backends/namespaces/objects.ts) in the namespaces of the IR's
 * namespace-object scopes, and in namespaces carrying the config's opt-in label (also those created or
 * labelled later; `generateExisting` covers those that exist when the policy is installed), and keep them as
 * generated (`synchronize`: edits and deletions are reverted); and the `kyverno test` suite that checks them
 * against the plain manifests. Namespaces with settings of their own get rules of their own (matched by
 * name); the cluster-wide rules match the other named namespaces by name and the label by selector
 * (excluding the exempt and infrastructure namespaces and those with rules of their own). Pure: no I/O.
 */
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';
import type { BundleIR } from '../../ir/types.js';
import { dnsName } from '../../names.js';
import type { BackendFile } from '../types.js';
import {
  DEFAULT_DENY_CONTROL, METADATA_CONTROL, QUOTA_CONTROL, generateData, manifest, networkPolicyObjects, resourceObjects,
  type NamespaceControl, type NamespacedObject,
} from '../namespaces/objects.js';
import { KYVERNO_MIN_VERSION, KYVERNO_V1_MIN_VERSION } from './version.js';
import { policyAnnotations } from './annotations.js';
import { celLiteral, celString, type CelLiteralValue } from '../../lang/cel/cel.js';

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
function ownNamespaces(ir: BundleIR, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[]): BundleIR['namespaceObjects']['namespaces'] {
  const mine = (s: NamespaceObjectSettings): string => JSON.stringify(build(s).filter((o) => o.control === control));
  const base = mine(ir.namespaceObjects.cluster);
  return ir.namespaceObjects.namespaces.filter((n) => mine(n.settings) !== base);
}

/** The generate rule that creates an object in a namespace. */
function ruleName(o: NamespacedObject, namespace: string, own: boolean): string {
  return own ? dnsName([o.name, namespace]) : o.name;
}

/** One generate rule per object and scope (the cluster-wide default, or one namespace with its own settings). */
function rules(ir: BundleIR, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[]): object[] {
  const mine = (s: NamespaceObjectSettings): NamespacedObject[] => build(s).filter((o) => o.control === control);
  const own = ownNamespaces(ir, control, build);
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
  const listed = ir.namespaceObjects.scopes.map((n) => n.namespace).filter((n) => !ownNames.has(n));
  const label = ir.namespaceObjects.optInLabel;
  const match = [...(listed.length ? [{ names: listed }] : []), ...(label ? [{ selector: { matchLabels: { [label.key]: label.value } } }] : [])];
  // Exclusions only matter for the label: exempt and infrastructure namespaces, and those with their own rules.
  const infra = ir.cluster.namespaces.filter((n) => n.infra).map((n) => n.name);
  const exclude = label ? [...new Set([...ir.cluster.exemptNamespaces, ...infra, ...ownNames])].sort() : [];
  if (match.length) for (const o of mine(ir.namespaceObjects.cluster)) out.push(rule(o, o.name, match, exclude));
  for (const n of own) for (const o of mine(n.settings)) out.push(rule(o, ruleName(o, n.namespace, true), [{ names: [n.namespace] }]));
  return out;
}

function annotations(ir: BundleIR, control: NamespaceControl, subject: string, minVersion: string): Record<string, string> {
  const category = control === QUOTA_CONTROL ? 'Resource policies' : 'Network separation';
  return policyAnnotations({ ...TITLES[control], category, severity: 'medium' }, subject, control, minVersion, ir.version);
}

function generatePolicy(ir: BundleIR, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[], subject: string): BackendFile[] {
  if (ir.cluster.kyvernoPolicyType === 'ValidatingPolicy') return generatingPolicies(ir, control, build, subject);
  const r = rules(ir, control, build);
  if (!r.length) return [];
  const policy = {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: control, annotations: annotations(ir, control, subject, KYVERNO_MIN_VERSION) },
    spec: { background: true, rules: r },
  };
  return [{ path: `kyverno/${control}.yaml`, objects: [policy] }];
}

/** The GeneratingPolicy of the cluster-wide objects of a control: its own name. One namespace's: `<control>-<namespace>`. */
export function generatingPolicyName(control: NamespaceControl, namespace?: string): string {
  return namespace === undefined ? control : dnsName([control, namespace]);
}

/**
 * The same objects as `policies.kyverno.io/v1` GeneratingPolicies (Kyverno ≥ 1.17): one policy per scope
 * (the cluster-wide objects, then each namespace with settings of its own), triggered by CREATE and UPDATE of
 * a Namespace like the generate rules. The namespace scope is a match condition on the Namespace's name and
 * labels (the rules' names / selector / exclude); each object is a CEL literal handed to
 * `generator.Apply`, which puts it into the triggering namespace. `synchronize` and `generateExisting` as
 * in the rules; `orphanDownstreamOnPolicyDelete` keeps its default (false, as in the rules): deleting the
 * policy deletes what it generated.
 */
function generatingPolicies(ir: BundleIR, control: NamespaceControl, build: (s: NamespaceObjectSettings) => NamespacedObject[], subject: string): BackendFile[] {
  const mine = (s: NamespaceObjectSettings): NamespacedObject[] => build(s).filter((o) => o.control === control);
  const own = ownNamespaces(ir, control, build);
  const ownNames = new Set(own.map((n) => n.namespace));
  const listed = ir.namespaceObjects.scopes.map((n) => n.namespace).filter((n) => !ownNames.has(n));
  const label = ir.namespaceObjects.optInLabel;
  const infra = ir.cluster.namespaces.filter((n) => n.infra).map((n) => n.name);
  const exclude = label ? [...new Set([...ir.cluster.exemptNamespaces, ...infra, ...ownNames])].sort() : [];
  const name = 'object.metadata.name';
  const named = (names: readonly string[]): string => `${name} in ${celLiteral([...names])}`;
  const policy = (policyName: string, objects: readonly NamespacedObject[], condition: string): object => ({
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'GeneratingPolicy',
    metadata: { name: policyName, annotations: annotations(ir, control, subject, KYVERNO_V1_MIN_VERSION) },
    spec: {
      evaluation: { generateExisting: { enabled: true }, synchronize: { enabled: true } },
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'] }] },
      matchConditions: [{ name: 'namespace-scope', expression: condition }],
      variables: [{ name: 'namespace', expression: name }],
      generate: objects.map((o) => ({ expression: `generator.Apply(variables.namespace, [${celLiteral(generatedObject(o))}])` })),
    },
  });
  const out: object[] = [];
  const clusterWide = mine(ir.namespaceObjects.cluster);
  const scope = [
    ...(listed.length ? [named(listed)] : []),
    ...(label
      ? [`(object.metadata.?labels[?${celString(label.key)}].orValue(null) == ${celString(label.value)}${exclude.length ? ` && !(${named(exclude)})` : ''})`]
      : []),
  ];
  if (scope.length && clusterWide.length) out.push(policy(generatingPolicyName(control), clusterWide, scope.join(' || ')));
  for (const n of own) {
    const objects = mine(n.settings);
    if (objects.length) out.push(policy(generatingPolicyName(control, n.namespace), objects, named([n.namespace])));
  }
  return out.length ? [{ path: `kyverno/${control}.yaml`, objects: out }] : [];
}

/** What a GeneratingPolicy creates: the manifest without namespace (generator.Apply sets it) and without our labels (Kyverno sets its own). */
function generatedObject(o: NamespacedObject): Record<string, CelLiteralValue> {
  const { apiVersion, kind, metadata, ...body } = manifest(o, '') as { metadata: Record<string, unknown> } & Record<string, unknown>;
  const { namespace: _ns, labels: _labels, ...md } = metadata;
  return { apiVersion, kind, metadata: md, ...body } as Record<string, CelLiteralValue>;
}

/** A namespace the config does not name that carries the opt-in label (suite only, when there is a label). */
export const SAMPLE_NEW_NAMESPACE = 'kubeharden-new-namespace';
const SUITE_DIR = 'kyverno/samples/namespaces';

/**
 * A `kyverno test` suite for the generate policies: for every namespace that gets objects (and, with an
 * opt-in label, a labelled one the config does not name) each rule must generate exactly the object of the
 * plain manifests (`generatedResource`).
 */
/** The suite of the generate policies (under kyverno/samples/namespaces), none without them. */
export function namespaceGenerateSuite(ir: BundleIR): BackendFile[] {
  const policyFiles = namespaceGeneratePolicies(ir);
  if (!policyFiles.length) return [];
  const label = ir.namespaceObjects.optInLabel;
  const scopes = [...ir.namespaceObjects.scopes, ...(label ? [{ namespace: SAMPLE_NEW_NAMESPACE, settings: ir.namespaceObjects.cluster }] : [])];
  const builders = [networkPolicyObjects, resourceObjects];
  const files: BackendFile[] = [];
  const results: object[] = [];
  const v1 = ir.cluster.kyvernoPolicyType === 'ValidatingPolicy';
  const byPolicy = new Map<string, { generatedResources: string[] }>();
  for (const { namespace, settings } of scopes) {
    for (const build of builders) {
      for (const o of build(settings)) {
        const own = ownNamespaces(ir, o.control, build).some((n) => n.namespace === namespace);
        const file = `generated/${namespace}-${o.name}.yaml`;
        // Kyverno sets its own labels on what it generates; the comparison covers everything else. (The
        // Kyverno CLI adds none to what a GeneratingPolicy generates, the cluster does.)
        const { labels: _labels, ...md } = manifest(o, namespace)['metadata'] as Record<string, unknown>;
        files.push({ path: `${SUITE_DIR}/${file}`, objects: [{ ...manifest(o, namespace), metadata: md }] });
        if (v1) {
          // A GeneratingPolicy has no rules: each object it generates is compared with the files of its scope.
          const policy = generatingPolicyName(o.control, own ? namespace : undefined);
          const key = `${policy}\u0000${namespace}`;
          const r = byPolicy.get(key) ?? { policy, isGeneratingPolicy: true, kind: 'Namespace', resources: [namespace], generatedResources: [] as string[], result: 'pass' };
          r.generatedResources.push(file);
          if (!byPolicy.has(key)) results.push(r);
          byPolicy.set(key, r);
        } else results.push({ policy: o.control, rule: ruleName(o, namespace, own), kind: 'Namespace', resources: [namespace], generatedResource: file, result: 'pass' });
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

/** The generate policies of the namespace objects, one file per kind of object that some namespace gets. */
export function namespaceGeneratePolicies(ir: BundleIR): BackendFile[] {
  return [
    ...generatePolicy(ir, DEFAULT_DENY_CONTROL, networkPolicyObjects, 'Namespace, NetworkPolicy'),
    ...generatePolicy(ir, METADATA_CONTROL, networkPolicyObjects, 'Namespace, NetworkPolicy'),
    ...generatePolicy(ir, QUOTA_CONTROL, resourceObjects, 'Namespace, ResourceQuota, LimitRange'),
  ];
}
