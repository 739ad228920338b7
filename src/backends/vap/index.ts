/**
 * The native ValidatingAdmissionPolicy target (config `vap.enabled`): `vap/` holds, per control, one
 * `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy per control instance and path shape, each with
 * its ValidatingAdmissionPolicyBinding, built from the same CEL check as the Kyverno policies
 * (controls/<id>/cel.ts, variables from kyverno ruleVariables). The API server runs them itself: no webhook,
 * no policy engine. Choices:
 *
 * - Per-namespace option values are baked into per-instance policies (one instance = one mode and one
 *   namespace scope, with its parameters, exempt images and allowances as CEL literals), not read from a
 *   namespaced `paramKind`: there are no parameter objects to ship, keep in step and protect with RBAC, no
 *   `parameterNotFoundAction` to get wrong (a missing or deleted parameter object would switch a control off
 *   or deny everything in a namespace), the values the API server type-checks are the ones that run, and the
 *   same policies can be loaded from files (`.static.k8s.io`, which allows no params).
 * - No autogen: a Pod control gets three policies, one per place the pod spec sits, because the API server
 *   type-checks every expression against the schema of every kind its policy matches, and a CEL dispatch on
 *   `object.kind` would still name `spec.template` against the Pod schema (and `spec.containers` against a
 *   Deployment's), a type-check warning per expression. So: `<instance>` (Pods, and `pods/ephemeralcontainers`
 *   UPDATEs, whatever the check reads, as in Kyverno's ValidatingPolicy), `<instance>.workloads` (the
 *   controllers with `spec.template`: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
 *   Job) and `<instance>.cronjobs` (`spec.jobTemplate.spec.template`), the paths moved by rewritePodPaths.
 *   A policy name carries a dot, which no instance name (a DNS label) contains.
 * - Bindings: one per policy, `validationActions` from the instance's mode: enforce → [Deny], audit →
 *   [Audit], warn → [Warn, Audit]. Warn keeps the audit record: the project's warn mode is audit plus an
 *   admission warning (the Kyverno ClusterPolicy's Audit + emitWarning), so switching a control from audit to
 *   warn never loses the audit log's `validation.policy.admission.k8s.io/validation_failure` annotations.
 * - Scope: `matchResources.namespaceSelector` on `kubernetes.io/metadata.name` (In the instance's namespaces,
 *   or NotIn its exempt ones; a Namespace is matched by its own labels). A cluster-scoped object other than a
 *   Namespace ignores a namespace selector, so a namespace-scoped instance of such a control skips objects
 *   without a namespace (a matchCondition), as the Kyverno policies do.
 * - Exceptions: exact names by the binding's `excludeResourceRules.resourceNames` (the reviewed object's own
 *   name: a workload's, not its pod template's), `prefix*` names by a matchCondition on the object's own name,
 *   images and `allow` values inside the CEL (`variables.exemptImages`, `variables.allowances`). Expiry is
 *   decided at build time (CEL in the API server has no clock): an expired exception is not in the bundle,
 *   and a live one stays in force until the bundle is rebuilt and applied.
 * - `failurePolicy: Fail`: an expression that errors (or runs out of its cost budget on an oversized
 *   object) counts as a violation, handled by the binding's actions (a Warn or Audit binding never rejects),
 *   so no malformed object slips through. A broken policy cannot lock the control plane: the API server never
 *   applies these policies to its own admissionregistration objects (policies and bindings can always be
 *   fixed or deleted), the exempt namespaces (kube-system, kube-node-lease, kube-public, the policy engines')
 *   are outside every binding, DELETE is never matched, and policies over cluster-scoped kinds (RBAC,
 *   Namespaces) skip the API server's own requests (`system:apiserver`: its bootstrap roles and namespaces).
 *
 * A control whose check CEL in the API server cannot express (verify-image-signatures: registry access) gets
 * no file; vapUnsupportedReason (backends/cel-support.ts) says why, for the README, `kubeharden explain` and the report. Pure: no I/O.
 */
import { getControl, type ControlId } from '../../controls/index.js';
import { targetKinds, type ResourceKind } from '../../controls/types.js';
import type { BundleIR, ControlInstance } from '../../ir/types.js';
import type { Mode } from '../../config/types.js';
import { celLiteral } from '../../lang/cel/cel.js';
import { rewritePodPaths, type PodTemplateKind } from '../../lang/cel/pod-template.js';
import type { CelVariable } from '../../lang/cel/types.js';
import type { BackendFile } from '../types.js';
import { ruleVariables } from '../kyverno/index.js';
import type { MatchCondition, NamedResourceRule, NamespaceSelector, Operation, ResourceRule, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidationAction } from './types.js';

export type * from './types.js';

export const VAP_DIR = 'vap';
export const WORKLOADS_SUFFIX = '.workloads';
export const CRONJOBS_SUFFIX = '.cronjobs';
/** The annotation on every policy and binding naming its control (findings map back to controls by it). */
export const CONTROL_ANNOTATION = 'kubeharden.io/control';

const OPERATIONS: Operation[] = ['CREATE', 'UPDATE'];

/** The workload controllers whose pod template sits at `spec.template`, by API group. */
const TEMPLATE_WORKLOADS: readonly { group: string; resources: readonly string[] }[] = [
  { group: '', resources: ['replicationcontrollers'] },
  { group: 'apps', resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'] },
  { group: 'batch', resources: ['jobs'] },
];

export function validationActions(mode: Mode): ValidationAction[] {
  return mode === 'enforce' ? ['Deny'] : mode === 'warn' ? ['Warn', 'Audit'] : ['Audit'];
}

function namespaceSelector(instance: Pick<ControlInstance, 'scope'>): NamespaceSelector | undefined {
  const { include, exclude } = instance.scope;
  if (include) return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...include] }] };
  if (exclude.length) return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...exclude] }] };
  return undefined;
}

/** The reviewed object's own name (a workload's, not its pod template's: optional steps are never rewritten). */
const OWN_NAME = "string(object.?metadata.?name.orValue(''))";

/** Skips the objects whose own name starts with the prefix of one of the `prefix*` exceptions. */
function notExceptedByPattern(patterns: readonly string[]): MatchCondition {
  return {
    name: 'not-excepted-by-name-pattern',
    expression: `!${celLiteral(patterns.map((p) => p.slice(0, -1)))}.exists(p, ${OWN_NAME}.startsWith(p))`,
  };
}

const NAMESPACED_ONLY: MatchCondition = {
  name: 'namespaced-objects-only',
  expression: "object.kind == 'Namespace' || string(object.?metadata.?namespace.orValue('')) != ''",
};

/** The API server's own loopback identity: its bootstrap RBAC objects and namespaces are never held up. */
const NOT_THE_API_SERVER: MatchCondition = {
  name: 'not-the-api-server',
  expression: "request.userInfo.username != 'system:apiserver'",
};

function kindRules(kinds: readonly ResourceKind[], subresources: readonly string[]): ResourceRule[] {
  return kinds.map((k) => ({ apiGroups: [k.group], apiVersions: [k.version], resources: [k.resource, ...subresources.map((s) => `${k.resource}/${s}`)], operations: [...OPERATIONS] }));
}

interface Shape {
  readonly suffix: string;
  readonly rules: ResourceRule[];
  readonly rewrite?: PodTemplateKind;
}

/**
 * The path shapes of a pod control: Pods (and `pods/ephemeralcontainers` UPDATEs, for every Pod control: the
 * whole Pod is judged again, as Gatekeeper and Pod Security Admission do), the `spec.template` controllers,
 * CronJobs.
 */
function podShapes(): Shape[] {
  return [
    { suffix: '', rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/ephemeralcontainers'], operations: [...OPERATIONS] }] },
    { suffix: WORKLOADS_SUFFIX, rules: TEMPLATE_WORKLOADS.map((w) => ({ apiGroups: [w.group], apiVersions: ['v1'], resources: [...w.resources], operations: [...OPERATIONS] })), rewrite: 'template' },
    { suffix: CRONJOBS_SUFFIX, rules: [{ apiGroups: ['batch'], apiVersions: ['v1'], resources: ['cronjobs'], operations: [...OPERATIONS] }], rewrite: 'cronjob' },
  ];
}

/** The policies and bindings of one control instance (undefined when no VAP can express the control). */
export function vapObjectsFor(id: ControlId, instance: ControlInstance): (ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding)[] | undefined {
  const control = getControl(id);
  const impl = control.engines.kyverno;
  if (impl.kind !== 'cel') return undefined;
  const check = impl.check;
  const kinds = targetKinds(control);
  const variables = ruleVariables(id, instance, check);
  const annotations = { [CONTROL_ANNOTATION]: id };
  const exact = instance.exemptNames.filter((n) => !n.endsWith('*'));
  const patterns = instance.exemptNames.filter((n) => n.endsWith('*'));
  const conditions: MatchCondition[] = [];
  if (patterns.length) conditions.push(notExceptedByPattern(patterns));
  if (kinds && instance.scope.include && kinds.some((k) => !k.namespaced && k.kind !== 'Namespace')) conditions.push(NAMESPACED_ONLY);
  if (kinds && kinds.some((k) => !k.namespaced)) conditions.push(NOT_THE_API_SERVER);
  const selector = namespaceSelector(instance);
  const shapes: Shape[] = kinds ? [{ suffix: '', rules: kindRules(kinds, control.target?.subresources ?? []) }] : podShapes();
  const out: (ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding)[] = [];
  for (const shape of shapes) {
    const name = `${instance.name}${shape.suffix}`;
    const move = (e: string): string => (shape.rewrite ? rewritePodPaths(e, shape.rewrite) : e);
    const vars: CelVariable[] = variables.map((v) => ({ name: v.name, expression: move(v.expression) }));
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, annotations: { ...annotations } },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: shape.rules },
        ...(conditions.length ? { matchConditions: conditions.map((c) => ({ ...c })) } : {}),
        variables: vars,
        validations: check.expressions.map((e) => ({ ...e, expression: move(e.expression), ...(e.messageExpression ? { messageExpression: move(e.messageExpression) } : {}) })),
      },
    });
    const exclude: NamedResourceRule[] = exact.length ? shape.rules.map((r) => ({ ...r, resources: [...r.resources], resourceNames: [...exact] })) : [];
    const matchResources = { ...(selector ? { namespaceSelector: selector } : {}), ...(exclude.length ? { excludeResourceRules: exclude } : {}) };
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, annotations: { ...annotations } },
      spec: { policyName: name, validationActions: validationActions(instance.mode), ...(Object.keys(matchResources).length ? { matchResources } : {}) },
    });
  }
  return out;
}

/** `vap/<control>.yaml` per control a VAP can express, and `vap/kustomization.yaml`; nothing when `vap.enabled` is off. */
export function vapBackend(ir: BundleIR): BackendFile[] {
  if (!ir.cluster.vap.enabled) return [];
  const files: BackendFile[] = [];
  for (const c of ir.controls) {
    const objects = c.instances.map((i) => vapObjectsFor(c.control, i));
    if (objects.some((o) => o === undefined)) continue;
    files.push({ path: `${VAP_DIR}/${c.control}.yaml`, objects: objects.flatMap((o) => o!) });
  }
  files.push({
    path: `${VAP_DIR}/kustomization.yaml`,
    objects: [{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files.map((f) => f.path.slice(VAP_DIR.length + 1)).sort() }],
  });
  return files;
}
