/**
 * Admission reviews for offline evaluation, following Gatekeeper: Pods are reviewed as they are; workload
 * controllers are expanded into the Pod they would create (a CronJob straight into its job's Pod), reviewed
 * with the parent's operation and namespace; constraints match Pods by namespace.
 */
import type { Constraint } from '../backends/gatekeeper/types.js';
import { EXPAND_CRONJOBS, EXPAND_WORKLOADS, matchesPattern } from '../names.js';
import type { PolicyModule } from './wasm.js';

export type Obj = Record<string, unknown>;
export type Operation = 'CREATE' | 'UPDATE';
export type Action = 'deny' | 'warn' | 'audit';

/** Kinds whose `spec.template` is a pod template (Gatekeeper's first ExpansionTemplate). */
export const POD_TEMPLATE_KINDS: Readonly<Record<string, string>> = {
  Deployment: 'apps',
  ReplicaSet: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  Job: 'batch',
  ReplicationController: '',
};

/** An object's API group, version and kind, as an AdmissionReview carries them. */
export interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export const POD_GVK: Gvk = { group: '', version: 'v1', kind: 'Pod' };

export interface PodReview {
  readonly object: Obj;
  /** The reviewed object's kind (default: Pod). */
  readonly kind?: Gvk;
  /** Set for Pods expanded from workloads: messages get Gatekeeper's `[Implied by <template>] ` prefix. */
  readonly expandedBy?: string;
  readonly oldObject?: Obj;
  readonly operation: Operation;
  /** The subresource the request writes through (`status`, `finalize`), as Gatekeeper's review carries it. */
  readonly subResource?: string;
  /** Undefined for a cluster-scoped object. */
  readonly namespace: string | undefined;
  /** The namespace constraints match it by, when not `namespace` (a Namespace object: its own name). */
  readonly matchAs?: string;
  readonly name: string;
}

export interface Finding {
  readonly control: string;
  readonly constraint: string;
  readonly action: Action;
  readonly message: string;
  /** Set for what Pod Security Admission would do (namespace labels), as opposed to the bundle's policies. */
  readonly source?: 'psa';
}

const ACTIONS: Record<string, Action> = { deny: 'deny', warn: 'warn', dryrun: 'audit' };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function meta(o: Obj): Obj {
  return isObj(o['metadata']) ? o['metadata'] : {};
}

/**
 * The Pods a resource stands for: itself for a Pod, the expanded template for workload controllers, none
 * for other kinds. `defaultNamespace` applies to namespaced objects that do not name one.
 */
export interface ExpandedPod {
  readonly pod: Obj;
  readonly namespace: string;
  readonly name: string;
  /** The ExpansionTemplate that produced the Pod (Gatekeeper prefixes its messages with it), if expanded. */
  readonly expandedBy?: string;
}

export function podsOf(resource: Obj, defaultNamespace: string): ExpandedPod[] {
  const kind = resource['kind'];
  const m = meta(resource);
  const namespace = typeof m['namespace'] === 'string' && m['namespace'] ? m['namespace'] : defaultNamespace;
  const name = typeof m['name'] === 'string' ? m['name'] : '';
  if (kind === 'Pod') return [{ pod: resource, namespace, name }];
  const spec = isObj(resource['spec']) ? resource['spec'] : {};
  if (typeof kind === 'string' && kind in POD_TEMPLATE_KINDS) {
    if (!isObj(spec['template'])) return [];
    const pod = expand(spec['template'], resource, namespace);
    return [{ pod, namespace, name: String(meta(pod)['name']), expandedBy: EXPAND_WORKLOADS }];
  }
  if (kind === 'CronJob') {
    // Gatekeeper's second ExpansionTemplate: spec.jobTemplate.spec.template straight into a Pod.
    const jobTemplate = isObj(spec['jobTemplate']) ? spec['jobTemplate'] : {};
    const jobSpec = isObj(jobTemplate['spec']) ? jobTemplate['spec'] : {};
    if (!isObj(jobSpec['template'])) return [];
    const pod = expand(jobSpec['template'], resource, namespace);
    return [{ pod, namespace, name: String(meta(pod)['name']), expandedBy: EXPAND_CRONJOBS }];
  }
  return [];
}

/** The init, regular and ephemeral containers of a pod spec (entries that are not objects left out). */
export function podContainers(spec: Obj): Obj[] {
  return (['initContainers', 'containers', 'ephemeralContainers'] as const).flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as unknown[]) : [])).filter(isObj);
}

/**
 * Kinds that exist without a namespace (the built-in ones a policy bundle meets; anything else counts as
 * namespaced). Cluster-scoped objects are matched by cluster-wide constraints only, as Gatekeeper and
 * Kyverno match them: a `namespaces` list never selects them and `excludedNamespaces` never skips them.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'IngressClass', 'MutatingWebhookConfiguration', 'Namespace', 'Node', 'PersistentVolume', 'PriorityClass',
  'RuntimeClass', 'StorageClass', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration', 'VolumeAttachment', 'CSIDriver', 'CSINode',
]);

export function gvkOf(o: Obj): Gvk {
  const apiVersion = typeof o['apiVersion'] === 'string' ? o['apiVersion'] : '';
  const slash = apiVersion.lastIndexOf('/');
  return { group: slash < 0 ? '' : apiVersion.slice(0, slash), version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1), kind: String(o['kind'] ?? '') };
}

/** One object an admission review is made for: the resource itself or a Pod expanded from it. */
export interface ReviewedObject {
  readonly object: Obj;
  readonly kind: Gvk;
  /** Undefined for a cluster-scoped object. */
  readonly namespace: string | undefined;
  /**
   * The namespace constraints select the object by: its namespace, or for a Namespace object its own name
   * (Gatekeeper and Kyverno match `namespaces`/`excludedNamespaces` against it).
   */
  readonly matchAs: string | undefined;
  readonly name: string;
  readonly expandedBy?: string;
}

/**
 * Everything Gatekeeper reviews for a resource: the resource itself (whatever its kind) and, for a
 * workload controller, the Pod it expands to. `defaultNamespace` applies to namespaced objects without one.
 */
export function reviewsOf(resource: Obj, defaultNamespace: string): ReviewedObject[] {
  const kind = gvkOf(resource);
  if (kind.kind === 'Pod') return podsOf(resource, defaultNamespace).map((p) => ({ object: p.pod, kind: POD_GVK, namespace: p.namespace, matchAs: p.namespace, name: p.name }));
  const m = meta(resource);
  const name = typeof m['name'] === 'string' ? m['name'] : '';
  const namespace = CLUSTER_SCOPED_KINDS.has(kind.kind) ? undefined : typeof m['namespace'] === 'string' && m['namespace'] ? m['namespace'] : defaultNamespace;
  const matchAs = kind.kind === 'Namespace' && kind.group === '' ? name : namespace;
  const own: ReviewedObject = { object: resource, kind, namespace, matchAs, name };
  return [
    own,
    ...podsOf(resource, defaultNamespace).map((p) => ({ object: p.pod, kind: POD_GVK, namespace: p.namespace, matchAs: p.namespace, name: p.name, ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}) })),
  ];
}

/**
 * The Pod generated from a pod template, as Gatekeeper's expansion builds it (pkg/expansion
 * expandResource): named "<parent>-pod" (lower-cased), in the parent's namespace, with an owner reference to
 * the parent that has no uid (ensureOwnerReference), which is how the Rego tells an expanded Pod from a
 * created one (the API server rejects owner references without a uid).
 */
function expand(source: Obj, parent: Obj, namespace: string): Obj {
  const pm = meta(parent);
  const parentName = typeof pm['name'] === 'string' ? pm['name'] : '';
  const m: Obj = { ...meta(source), namespace, name: `${parentName}-pod`.toLowerCase() };
  const owner = { apiVersion: str(parent['apiVersion']), kind: str(parent['kind']), name: parentName };
  if (owner.apiVersion && owner.kind && owner.name) {
    // unstructured.GetOwnerReferences: a list of maps, anything else reads as none.
    const raw = m['ownerReferences'];
    const existing = Array.isArray(raw) && raw.every(isObj) ? raw : [];
    const present = existing.some((r) => str(r['apiVersion']) === owner.apiVersion && str(r['kind']) === owner.kind && str(r['name']) === owner.name);
    if (!present) m['ownerReferences'] = [...existing.map(ownerReference), { ...owner, uid: '' }];
  }
  return { ...source, apiVersion: 'v1', kind: 'Pod', metadata: m };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** An owner reference as SetOwnerReferences writes it back (metav1.OwnerReference fields only). */
function ownerReference(r: Obj): Obj {
  return {
    apiVersion: str(r['apiVersion']),
    kind: str(r['kind']),
    name: str(r['name']),
    uid: str(r['uid']),
    ...(typeof r['controller'] === 'boolean' ? { controller: r['controller'] } : {}),
    ...(typeof r['blockOwnerDeletion'] === 'boolean' ? { blockOwnerDeletion: r['blockOwnerDeletion'] } : {}),
  };
}

/**
 * Does a constraint's match block select an object of this kind in this namespace (undefined: a
 * cluster-scoped object, which only constraints without a `namespaces` list select)?
 */
export function matches(c: Constraint, namespace: string | undefined, kind: Gvk = POD_GVK): boolean {
  const m = c.spec.match;
  if (!m.kinds.some((k) => (k.apiGroups.includes('*') || k.apiGroups.includes(kind.group)) && (k.kinds.includes('*') || k.kinds.includes(kind.kind)))) return false;
  if (namespace === undefined) return !m.namespaces;
  if (m.namespaces && !m.namespaces.some((p) => matchesPattern(p, namespace))) return false;
  if (m.excludedNamespaces && m.excludedNamespaces.some((p) => matchesPattern(p, namespace))) return false;
  return true;
}

/** What an admission request says about a reviewed object, besides the object: operation, old object, subresource. */
export interface ReviewRequest {
  readonly operation: Operation;
  readonly oldObject?: Obj;
  readonly subResource?: string;
}

/** The review of one object (see reviewsOf) in a request. */
export function podReview(p: ReviewedObject, request: ReviewRequest): PodReview {
  return {
    object: p.object,
    kind: p.kind,
    matchAs: p.matchAs,
    operation: request.operation,
    ...(request.subResource ? { subResource: request.subResource } : {}),
    namespace: p.namespace,
    name: p.name,
    ...(request.oldObject ? { oldObject: request.oldObject } : {}),
    ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}),
  };
}

/** The `review` Gatekeeper gives a template (`input.review`): the fields its AdmissionReview request carries. */
export function gatekeeperReview(review: PodReview): Obj {
  return {
    object: review.object,
    ...(review.oldObject ? { oldObject: review.oldObject } : {}),
    operation: review.operation,
    ...(review.subResource ? { subResource: review.subResource } : {}),
    kind: review.kind ?? POD_GVK,
    name: review.name,
    ...(review.namespace !== undefined ? { namespace: review.namespace } : {}),
  };
}

/** Evaluates every matching constraint against one review. */
export function evaluateReview(
  policy: PolicyModule,
  constraints: readonly Constraint[],
  review: PodReview,
): Finding[] {
  const findings: Finding[] = [];
  const kind = review.kind ?? POD_GVK;
  for (const c of constraints) {
    if (!matches(c, review.matchAs ?? review.namespace, kind)) continue;
    const input = { review: gatekeeperReview(review), parameters: c.spec.parameters };
    for (const v of policy.evaluate(c.kind, input)) findings.push(findingOf(c, review.expandedBy ? `[Implied by ${review.expandedBy}] ${v.msg}` : v.msg));
  }
  return findings.sort(compareFindings);
}

/**
 * A message as people read it: without Gatekeeper's `[Implied by <expansion template>] ` prefix (the
 * evaluator keeps it, as gator writes it, so that the engines' messages compare equal; reports name the
 * workload, which says the same).
 */
export function userMessage(message: string): string {
  return message.startsWith('[Implied by ') ? message.replace(/^\[Implied by [^\]]*\]\s*/, '') : message;
}

export function findingOf(c: Constraint, message: string): Finding {
  return { control: c.metadata.annotations['kubeharden.io/control'] ?? c.kind, constraint: c.metadata.name, action: ACTIONS[c.spec.enforcementAction] ?? 'deny', message };
}

/** The order findings are reported in: control, constraint, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return cmp(a.control, b.control) || cmp(a.constraint, b.constraint) || cmp(a.message, b.message);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/**
 * The name of a pod's workload variant: `<pod>-<kind>`, dots turned into dashes (a StatefulSet's name is a DNS
 * label: it names the Pods' hostnames) and at most 52 characters (a CronJob's Jobs add 11); a longer pod name
 * keeps its start and gets a hash of the whole (shortName), so distinct names stay distinct.
 */
export function workloadVariantName(pod: string, kind: string): string {
  const suffix = `-${kind.toLowerCase()}`;
  return `${shortName(pod, 52 - suffix.length)}${suffix}`;
}

/**
 * `text` as a DNS label of at most `max` characters: dots turned into dashes; a longer one keeps its start
 * and ends in a hash of the whole text (FNV-1a, 32 bits: deterministic, no dependency).
 */
export function shortName(text: string, max: number): string {
  const full = text.replace(/\./g, '-');
  if (full.length <= max) return full;
  let h = 0x811c9dc5;
  for (let i = 0; i < full.length; i++) h = Math.imul(h ^ full.charCodeAt(i), 0x01000193) >>> 0;
  const suffix = `-${h.toString(16).padStart(8, '0')}`;
  return `${full.slice(0, max - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** The same pod spec inside every workload controller kind (named by workloadVariantName: valid objects). */
export function workloadVariants(pod: Obj): { kind: WorkloadKind; object: Obj }[] {
  const m = (pod['metadata'] ?? {}) as Obj;
  const name = String(m['name'] ?? 'sample');
  const namespace = m['namespace'];
  const labels = { app: name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) };
  // The template carries the Pod's own labels too (a custom control may check them); `app` selects it.
  const podLabels = typeof m['labels'] === 'object' && m['labels'] !== null && !Array.isArray(m['labels']) ? (m['labels'] as Obj) : {};
  const template = { metadata: { labels: { ...podLabels, ...labels }, ...(m['annotations'] ? { annotations: m['annotations'] } : {}) }, spec: pod['spec'] };
  const md = (kind: string): Obj => ({ name: workloadVariantName(name, kind), ...(namespace ? { namespace } : {}) });
  const selector = { matchLabels: labels };
  const jobSpec = { template: { ...template, spec: { restartPolicy: 'Never', ...(pod['spec'] as Obj) } } };
  const objects: Record<WorkloadKind, Obj> = {
    Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: md('Deployment'), spec: { selector, template } },
    StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: md('StatefulSet'), spec: { selector, serviceName: labels.app, template } },
    DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: md('DaemonSet'), spec: { selector, template } },
    ReplicaSet: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: md('ReplicaSet'), spec: { selector, template } },
    ReplicationController: { apiVersion: 'v1', kind: 'ReplicationController', metadata: md('ReplicationController'), spec: { selector: labels, template } },
    Job: { apiVersion: 'batch/v1', kind: 'Job', metadata: md('Job'), spec: jobSpec },
    CronJob: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: md('CronJob'), spec: { schedule: '0 * * * *', jobTemplate: { spec: jobSpec } } },
  };
  return WORKLOAD_KINDS.map((kind) => ({ kind, object: objects[kind] }));
}
