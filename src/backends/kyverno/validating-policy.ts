/**
 * Kyverno's `policies.kyverno.io/v1` output (config `kyverno.policyType: 'ValidatingPolicy'`): the same CEL check
 * per control as the ClusterPolicy (controls/<id>/cel.ts, variables from ruleVariables), wrapped in one
 * ValidatingPolicy per control instance, plus v1 PolicyExceptions for exceptions by image. Facts from kyverno
 * v1.19.0 (pkg/cel/autogen, pkg/cel/policies/vpol), checked with its CLI.
 *
 * - `validationActions` is per policy (no failureActionOverrides): each instance, which has one mode and one
 *   namespace scope, is a policy of its own (enforce → Deny, audit → Audit, warn → Warn).
 * - Namespace scope: `matchConstraints.namespaceSelector` on `kubernetes.io/metadata.name` (In the instance's
 *   namespaces, or NotIn its exempt ones). A cluster-scoped object other than a Namespace ignores a namespace
 *   selector, so a namespace-scoped instance of such a control also gets a matchCondition that skips objects
 *   without a namespace (the ClusterPolicy's `namespaces` match does the same).
 * - Pod controls: one resource rule for `""/v1/pods` and nothing excluded by rule, so Kyverno's autogen derives
 *   the policies for the six controllers it knows (listed in `autogen.podControllers.controllers`); it rewrites
 *   `object.spec`/`object.metadata` textually, never `object.?metadata`. ReplicationController, which it does
 *   not know, gets a policy of its own (`<instance>.replicationcontrollers`) whose CEL is moved into the pod
 *   template by lang/cel/pod-template.ts. Ephemeral containers are added through `pods/ephemeralcontainers`
 *   UPDATEs, which every Pod control judges (the whole Pod, as Gatekeeper and Pod Security Admission do): a
 *   second resource would switch autogen off, so they get `<instance>.ephemeralcontainers`.
 *   Policy names carry a dot, which no namespace name (DNS label) and so no instance name can contain.
 * - Exceptions by name: a matchCondition on the reviewed object's own name (`object.?metadata.?name`, which
 *   autogen leaves alone: a workload's name, not its template's), never `excludeResourceRules` (it switches
 *   autogen off). Exceptions by image: v1 PolicyExceptions (`images`), which Kyverno hands to the policy as
 *   `exceptions.allowedImages`; the checks read them as `variables.exemptImages`. Exceptions with `allow` stay
 *   literal values in the policy (`variables.allowances`), as in the ClusterPolicy.
 *
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { getControl, type ControlId } from '../../controls/index.js';
import { targetKinds, type ResourceKind } from '../../controls/types.js';
import type { ControlInstance, BundleIR } from '../../ir/types.js';
import type { Mode } from '../../config/types.js';
import type { ResolvedException } from '../../ir/cluster.js';
import { celLiteral } from '../../lang/cel/cel.js';
import { rewritePodPaths } from '../../lang/cel/pod-template.js';
import { stableJson } from '../../stable-json.js';
import type { CelCheck, CelVariable, MatchCondition, NamespaceSelector, PolicyExceptionV1, ResourceRule, ValidatingPolicy, ValidationAction } from './types.js';

/** The controllers Kyverno 1.19's autogen knows for ValidatingPolicies (pkg/cel/autogen ConfigsMap); ReplicationController is not one. */
export const AUTOGEN_CONTROLLERS = ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'replicasets', 'statefulsets'] as const;

export const RC_SUFFIX = '.replicationcontrollers';
export const EPHEMERAL_SUFFIX = '.ephemeralcontainers';

const OPERATIONS: ResourceRule['operations'] = ['CREATE', 'UPDATE'];

export function validationAction(mode: Mode): ValidationAction {
  return mode === 'enforce' ? 'Deny' : mode === 'warn' ? 'Warn' : 'Audit';
}

/** The reviewed object's own name (never rewritten by autogen: a workload's name, not its pod template's). */
const OWN_NAME = "string(object.?metadata.?name.orValue(''))";

/** The matchCondition that skips the objects an instance excepts by name (exact, or a prefix ending in `*`). */
export function notExceptedByName(names: readonly string[]): MatchCondition {
  return {
    name: 'not-excepted-by-name',
    expression: `!${celLiteral(names)}.exists(p, p == ${OWN_NAME} || (p.endsWith('*') && ${OWN_NAME}.startsWith(p.substring(0, size(p) - 1))))`,
  };
}

/** Namespaced objects (and Namespaces, which namespace selectors match by their own labels) only. */
const NAMESPACED_ONLY: MatchCondition = {
  name: 'namespaced-objects-only',
  expression: "object.kind == 'Namespace' || string(object.?metadata.?namespace.orValue('')) != ''",
};

export function namespaceSelector(instance: Pick<ControlInstance, 'scope'>): NamespaceSelector | undefined {
  const { include, exclude } = instance.scope;
  if (include) return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...include] }] };
  if (exclude.length) return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...exclude] }] };
  return undefined;
}

function resourceRules(kinds: readonly ResourceKind[], subresources: readonly string[]): ResourceRule[] {
  return kinds.map((k) => ({
    apiGroups: [k.group],
    apiVersions: [k.version],
    resources: [k.resource, ...subresources.map((s) => `${k.resource}/${s}`)],
    operations: [...OPERATIONS],
  }));
}

/** The variables of a ValidatingPolicy: the ClusterPolicy's, with the image exemptions read from the PolicyExceptions. */
function policyVariables(id: ControlId, instance: ControlInstance, check: CelCheck, ruleVariables: RuleVariables): CelVariable[] {
  return ruleVariables(id, { ...instance, exemptImages: [] }, check).map((v) => (v.name === 'exemptImages' ? { name: v.name, expression: 'exceptions.allowedImages' } : v));
}

type RuleVariables = (id: ControlId, instance: ControlInstance, check: CelCheck) => CelVariable[];

/**
 * The ValidatingPolicies of one control instance: the policy (with autogen for a pod control), and for a pod
 * control the ReplicationController and ephemeral-container policies.
 */
export function validatingPoliciesFor(
  id: ControlId,
  instance: ControlInstance,
  check: CelCheck,
  annotations: Record<string, string>,
  ruleVariables: RuleVariables,
): ValidatingPolicy[] {
  const control = getControl(id);
  const kinds = targetKinds(control);
  const variables = policyVariables(id, instance, check, ruleVariables);
  const conditions: MatchCondition[] = [];
  if (instance.exemptNames.length) conditions.push(notExceptedByName(instance.exemptNames));
  if (kinds && instance.scope.include && kinds.some((k) => !k.namespaced && k.kind !== 'Namespace')) conditions.push(NAMESPACED_ONLY);
  const selector = namespaceSelector(instance);
  const policy = (name: string, rules: ResourceRule[], vars: CelVariable[], validations: ValidatingPolicy['spec']['validations'], extra: Partial<ValidatingPolicy['spec']> = {}, background = true): ValidatingPolicy => ({
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ValidatingPolicy',
    metadata: { name, annotations: { ...annotations } },
    spec: {
      validationActions: [validationAction(instance.mode)],
      evaluation: { background: { enabled: background } },
      matchConstraints: { resourceRules: rules, ...(selector ? { namespaceSelector: selector } : {}) },
      ...extra,
      ...(conditions.length ? { matchConditions: conditions.map((c) => ({ ...c })) } : {}),
      variables: vars,
      validations,
    },
  });
  const validations = check.expressions.map((e) => ({ ...e }));
  if (kinds) return [policy(instance.name, resourceRules(kinds, control.target?.subresources ?? []), variables, validations)];
  const pods: ResourceRule = { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: [...OPERATIONS] };
  const rc = (e: string): string => rewritePodPaths(e, 'template');
  const out = [
    policy(instance.name, [pods], variables, validations, { autogen: { podControllers: { controllers: [...AUTOGEN_CONTROLLERS] } } }),
    policy(
      `${instance.name}${RC_SUFFIX}`,
      [{ apiGroups: [''], apiVersions: ['v1'], resources: ['replicationcontrollers'], operations: [...OPERATIONS] }],
      variables.map((v) => ({ name: v.name, expression: rc(v.expression) })),
      validations.map((v) => ({ ...v, expression: rc(v.expression), ...(v.messageExpression ? { messageExpression: rc(v.messageExpression) } : {}) })),
    ),
  ];
  // Ephemeral containers are added by UPDATEs of pods/ephemeralcontainers (the Pod as object). Every Pod
  // control judges that write, whether or not its check reads containers: Gatekeeper's webhook forwards it to
  // every Pod constraint and Pod Security Admission checks the whole Pod again, so a running Pod with a
  // pod-level violation (host namespaces, volumes, sysctls) gets no debug container there either. Background
  // scans see the Pod itself (the main policy).
  out.push(
    policy(`${instance.name}${EPHEMERAL_SUFFIX}`, [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], operations: ['UPDATE'] }], variables, validations, {}, false),
  );
  return out;
}

/** `expires` (a date, valid through that day) as `expiresAt`: the last second of the day, UTC. */
export function expiresAt(expires: string): string {
  return `${expires}T23:59:59Z`;
}

/**
 * The instances an exception by image reaches (lowering applies it in the cluster-wide scope when it names no
 * namespace, and in every namespace scope it names).
 */
function reached(ex: ResolvedException, instance: ControlInstance): boolean {
  if (!instance.scope.include) return !ex.namespaces;
  return !ex.namespaces || instance.scope.include.some((n) => ex.namespaces!.includes(n));
}

/**
 * One v1 PolicyException per exception by image (without `allow`) of the config: `policyRefs` to every
 * ValidatingPolicy of the instances it reaches, its namespaces as a matchCondition, its images, its expiry
 * (`expiresAt`) and its reason (`properties`). `policyNames` gives the policies of an instance.
 */
export function imageExceptions(ir: BundleIR, namespace: string, policyNames: (id: ControlId, instance: ControlInstance) => readonly string[] | undefined): PolicyExceptionV1[] {
  const out = new Map<string, PolicyExceptionV1>();
  for (const ex of ir.cluster.exceptions) {
    if (!ex.images?.length || ex.allow) continue;
    const refs: string[] = [];
    for (const c of ir.controls) {
      if (!ex.controls.includes(c.control) || targetKinds(getControl(c.control))) continue;
      for (const inst of c.instances) {
        if (!reached(ex, inst)) continue;
        const missing = ex.images.filter((i) => !inst.exemptImages.includes(i));
        if (missing.length) throw new Error(`kyverno: exception by image for ${c.control} reaches ${inst.name}, whose exempt images lack ${missing.join(', ')}`);
        refs.push(...(policyNames(c.control, inst) ?? []));
      }
    }
    if (!refs.length) continue;
    const name = `images-${createHash('sha256').update(stableJson(ex)).digest('hex').slice(0, 10)}`;
    out.set(name, {
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'PolicyException',
      metadata: { name, namespace, annotations: { 'kubeharden.io/control': ex.controls.join(', ') } },
      spec: {
        policyRefs: [...new Set(refs)].sort().map((n) => ({ name: n, kind: 'ValidatingPolicy' })),
        ...(ex.namespaces ? { matchConditions: [{ name: 'in-namespaces', expression: `request.namespace in ${celLiteral(ex.namespaces)}` }] } : {}),
        images: [...ex.images],
        expiresAt: expiresAt(ex.expires),
        properties: { reason: ex.reason, expires: ex.expires },
      },
    });
  }
  return [...out.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}
