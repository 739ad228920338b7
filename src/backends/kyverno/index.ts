/**
 * Kyverno backend: one `kyverno.io/v1` ClusterPolicy per control, one validate.cel rule per control
 * instance, plus a kustomization listing the policy files.
 *
 * Rules of a pod control match only `kinds: [Pod]` (with `namespaces` for namespace-scoped instances, and the CREATE and
 * UPDATE operations) and exclude only by namespace, so Kyverno autogen stays on and derives the rules for
 * Deployment, DaemonSet, StatefulSet, ReplicaSet, ReplicationController, Job and CronJob by rewriting
 * `object.spec` in the CEL text. Rules of a non-pod control match its target kinds (Service, Ingress, RBAC
 * objects, ServiceAccount), where auto-gen does not apply. `validate.cel.generate` is never set: a generated
 * ValidatingAdmissionPolicy would move evaluation into the API server, without autogen and with another
 * CEL environment than the one these checks were verified in.
 *
 * A control whose check Kyverno cannot express gets no file (the bundle README reports it). Pure: no I/O.
 */
import { getControl, type ControlId } from '../../controls/index.js';
import type { ControlInstance, BundleIR, Params } from '../../ir/types.js';
import type { Mode } from '../../config/types.js';
import { takesImageExceptions, targetKinds, type Unsupported } from '../../controls/types.js';
import type { BackendFile } from '../types.js';
import { celLiteral, isCelIdentifier, variableRefs } from '../../lang/cel/cel.js';
import { SHARED_VARIABLES } from '../../lang/cel/pod.js';
import { kyvernoLiteral } from '../../lang/kyverno.js';
import type { CelCheck, CelVariable, ClusterPolicy, FailureAction, ImageVerificationCheck, Kustomization, KyvernoRule, PolicyException } from './types.js';
import { dnsName } from '../../names.js';
import { allowKeysOf } from '../../config/allow.js';
import { allowanceParams } from '../allowances.js';
import { KYVERNO_MIN_VERSION, KYVERNO_V1_MIN_VERSION } from './version.js';
import { policyAnnotations } from './annotations.js';
import { namespaceGeneratePolicies } from './generate.js';
import { imageValidatingPolicies, isImageValidatingControl } from './image-validating.js';
import { EPHEMERAL_SUFFIX, RC_SUFFIX, imageExceptions, validatingPoliciesFor } from './validating-policy.js';
import type { PolicyExceptionV1, ValidatingPolicy } from './types.js';

export { KYVERNO_MIN_VERSION };

export const KYVERNO_DIR = 'kyverno';

/** The policy files, then the namespace generate policies (kyverno/generate.ts), all listed in the kustomization. */
export function kyvernoBackend(ir: BundleIR): BackendFile[] {
  const files: BackendFile[] = [];
  const exceptions: (PolicyException | PolicyExceptionV1)[] = [];
  const v1 = ir.cluster.kyvernoPolicyType === 'ValidatingPolicy';
  /** The ValidatingPolicies of each instance (control, instance name): what an exception by image refers to. */
  const v1Names = new Map<string, string[]>();
  for (const c of ir.controls) {
    // policies.kyverno.io/v1: verify-image-signatures as ImageValidatingPolicies (kyverno/image-validating.ts).
    if (v1 && isImageValidatingControl(c.control)) {
      files.push({ path: `${KYVERNO_DIR}/${c.control}.yaml`, objects: imageValidatingPolicies(ir, c.control, c.instances) });
      continue;
    }
    const policies = v1 ? validatingPolicies(c.control, c.instances, ir.version) : policiesFor(c.control, c.instances, ir.version);
    if (!policies) continue;
    files.push({ path: `${KYVERNO_DIR}/${c.control}.yaml`, objects: policies });
    if (v1) {
      // Policy names are the instance's name, alone or before a dot (RC_SUFFIX, EPHEMERAL_SUFFIX).
      for (const p of policies) {
        const key = `${c.control}\u0000${p.metadata.name.split('.')[0]}`;
        v1Names.set(key, [...(v1Names.get(key) ?? []), p.metadata.name]);
      }
      continue;
    }
    for (const inst of c.instances) if (inst.exemptNames.length) exceptions.push(policyException(c.control, inst, c.instances));
  }
  if (v1) exceptions.push(...imageExceptions(ir, EXCEPTION_NAMESPACE, (id, inst) => v1Names.get(`${id}\u0000${inst.name}`)));
  if (exceptions.length) files.push({ path: `${KYVERNO_DIR}/exceptions.yaml`, objects: exceptions });
  files.push(...namespaceGeneratePolicies(ir));
  const kustomization: Kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: files.map((f) => f.path.slice(KYVERNO_DIR.length + 1)).sort(),
  };
  files.push({ path: `${KYVERNO_DIR}/kustomization.yaml`, objects: [kustomization] });
  return files;
}

/** The annotations of a control's policies (both policy types). */
function annotationsOf(id: ControlId, version: string, minVersion: string): Record<string, string> {
  return policyAnnotations(getControl(id), ruleKinds(id).join(', '), id, minVersion, version);
}

/**
 * The ValidatingPolicies of a control (kyverno/validating-policy.ts), one set per instance, or undefined when
 * Kyverno cannot express one of its instances.
 */
export function validatingPolicies(id: ControlId, instances: readonly ControlInstance[], version: string): ValidatingPolicy[] | undefined {
  const out: ValidatingPolicy[] = [];
  for (const instance of instances) {
    const check = celCheck(id, instance.params);
    if (isUnsupported(check) || isImageVerification(check)) return undefined;
    out.push(...validatingPoliciesFor(id, instance, check, annotationsOf(id, version, KYVERNO_V1_MIN_VERSION), ruleVariables));
  }
  return out;
}

/** The names of the ValidatingPolicies of one instance (undefined when the control has none). */
export function validatingPolicyNames(id: ControlId, instance: ControlInstance, version: string): string[] | undefined {
  return validatingPolicies(id, [instance], version)?.map((p) => p.metadata.name);
}

export { EPHEMERAL_SUFFIX, RC_SUFFIX };

/** The Kyverno check a control declares, for given parameters (or why Kyverno cannot express it). */
export function celCheck(id: ControlId, params: Params): CelCheck | ImageVerificationCheck | Unsupported {
  const k = getControl(id).engines.kyverno;
  return k.kind === 'cel' ? k.check : k.kind === 'imageVerification' ? k.check(params) : k;
}

function isUnsupported(c: CelCheck | ImageVerificationCheck | Unsupported): c is Unsupported {
  return 'kind' in c && c.kind === 'unsupported';
}

function isImageVerification(c: CelCheck | ImageVerificationCheck): c is ImageVerificationCheck {
  return 'verifyImages' in c;
}

/**
 * The ClusterPolicies of a control. `emitWarning` is a policy-wide switch, so warn-mode instances go into a
 * policy of their own (`<id>-warn`) when the control also has instances in other modes; otherwise those
 * would warn too.
 */
export function policiesFor(id: ControlId, instances: readonly ControlInstance[], version: string): ClusterPolicy[] | undefined {
  const warn = instances.filter((i) => i.mode === 'warn');
  const rest = instances.filter((i) => i.mode !== 'warn');
  if (!warn.length || !rest.length) {
    const p = clusterPolicy(id, instances, version);
    return p && [p];
  }
  const a = clusterPolicy(id, rest, version);
  const b = clusterPolicy(id, warn, version);
  return a && b ? [a, { ...b, metadata: { ...b.metadata, name: warnPolicyName(id) } }] : undefined;
}

export function warnPolicyName(id: ControlId): string {
  return `${id}-warn`;
}

/** The name of the policy that holds an instance of a control (see policiesFor). */
export function policyNameFor(id: ControlId, instance: ControlInstance, all: readonly ControlInstance[]): string {
  return instance.mode === 'warn' && all.some((i) => i.mode !== 'warn') ? warnPolicyName(id) : id;
}

/** The ClusterPolicy of a control, or undefined when Kyverno cannot express one of its instances. */
export function clusterPolicy(id: ControlId, instances: readonly ControlInstance[], version: string): ClusterPolicy | undefined {
  const rules: KyvernoRule[] = [];
  for (const instance of instances) {
    const check = celCheck(id, instance.params);
    if (isUnsupported(check)) return undefined;
    rules.push(rule(id, instance, check));
  }
  const policy: ClusterPolicy = {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: id, annotations: annotationsOf(id, version, KYVERNO_MIN_VERSION) },
    spec: { background: true, rules },
  };
  // Signatures are checked at admission (registry and Rekor access from the webhook), not in background
  // scans; the webhook waits for the registry, and its failure policy (stated, never Kyverno's implicit
  // default) decides what an outage of the registry, Rekor or Kyverno does to admission.
  if (rules.some((r) => r.verifyImages)) {
    const checks = instances.map((i) => celCheck(id, i.params)).filter((c): c is ImageVerificationCheck => !isUnsupported(c) && isImageVerification(c));
    const failurePolicy = checks.some((c) => c.failurePolicy === 'Fail') ? 'Fail' : 'Ignore';
    policy.spec = { background: false, webhookConfiguration: { failurePolicy, timeoutSeconds: 30 }, rules };
  }
  // Warn mode = Audit plus admission warnings; emitWarning is policy-wide, so it also makes Audit
  // instances of the same control warn.
  if (instances.some((i) => i.mode === 'warn')) policy.spec.emitWarning = true;
  return policy;
}

/**
 * Namespace of the generated PolicyExceptions. Kyverno processes PolicyExceptions only when started with
 * --enablePolicyException (off by default) and only from the namespace named by --exceptionNamespace
 * (none by default; `*` means any): the bundle README (src/backends/docs) gives the flags for this one.
 */
export const EXCEPTION_NAMESPACE = 'kyverno';

const POD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'];

/** The kinds a control's rules match: Pods (auto-gen adds the workloads) or the control's target kinds and their listed subresources. */
export function ruleKinds(id: ControlId): string[] {
  const c = getControl(id);
  return targetKinds(c)?.flatMap((k) => [k.kind, ...(c.target?.subresources ?? []).map((s) => `${k.kind}/${s}`)]) ?? ['Pod'];
}

/** The rule names an exception of an instance covers: the rule and, for a pod control, its auto-gen rules. */
function exceptedRuleNames(id: ControlId, rule: string): string[] {
  return targetKinds(getControl(id)) ? [rule] : ['Pod', 'Deployment', 'CronJob'].map((k) => autogenRuleName(rule, k));
}

/** Kyverno auto-gen rule names: `autogen-<rule>` for controllers, `autogen-cronjob-<rule>` for CronJobs (≤ 63 chars). */
export function autogenRuleName(rule: string, kind: string): string {
  if (kind === 'Pod') return rule;
  return `${kind === 'CronJob' ? 'autogen-cronjob-' : 'autogen-'}${rule}`.slice(0, 63);
}

/**
 * Exceptions by name become a PolicyException: matching by name inside a rule would switch auto-gen off,
 * and CEL rewritten by auto-gen cannot see a workload's own name. It covers the rule and its auto-gen rules.
 */
function policyException(id: ControlId, inst: ControlInstance, all: readonly ControlInstance[]): PolicyException {
  const resources: PolicyException['spec']['match']['any'][number]['resources'] = { kinds: targetKinds(getControl(id)) ? ruleKinds(id) : POD_KINDS, names: [...inst.exemptNames] };
  if (inst.scope.include) resources.namespaces = [...inst.scope.include];
  return {
    apiVersion: 'kyverno.io/v2',
    kind: 'PolicyException',
    metadata: { name: dnsName([inst.name, 'by-name']), namespace: EXCEPTION_NAMESPACE, annotations: { 'kubeharden.io/control': id } },
    spec: {
      exceptions: [{ policyName: policyNameFor(id, inst, all), ruleNames: exceptedRuleNames(id, inst.name) }],
      match: { any: [{ resources }] },
    },
  };
}

export function failureAction(mode: Mode): FailureAction {
  return mode === 'enforce' ? 'Enforce' : 'Audit';
}

function rule(id: ControlId, instance: ControlInstance, check: CelCheck | ImageVerificationCheck): KyvernoRule {
  // CREATE and UPDATE only (ephemeral containers arrive as UPDATEs). Kyverno's webhook also sends DELETE
  // requests to validate rules, where `object` is null: the CEL would fail and block every deletion.
  const resources: KyvernoRule['match']['any'][number]['resources'] = { kinds: ruleKinds(id), operations: ['CREATE', 'UPDATE'] };
  if (instance.scope.include) resources.namespaces = [...instance.scope.include];
  if (isImageVerification(check)) {
    const v: KyvernoRule = {
      name: instance.name,
      match: { any: [{ resources }] },
      verifyImages: [
        {
          failureAction: failureAction(instance.mode),
          ...check.verifyImages,
          ...(instance.exemptImages.length ? { skipImageReferences: instance.exemptImages.map(kyvernoLiteral) } : {}),
        },
      ],
    };
    if (instance.scope.exclude.length) v.exclude = { any: [{ resources: { namespaces: [...instance.scope.exclude] } }] };
    return v;
  }
  const r: KyvernoRule = {
    name: instance.name,
    match: { any: [{ resources }] },
    validate: {
      failureAction: failureAction(instance.mode),
      message: check.message,
      cel: {
        variables: ruleVariables(id, instance, check),
        expressions: check.expressions.map((e) => ({ ...e })),
      },
    },
  };
  if (instance.scope.exclude.length) r.exclude = { any: [{ resources: { namespaces: [...instance.scope.exclude] } }] };
  return r;
}

/**
 * The variables of one rule: `exemptImages` and every parameter as literals, then the shared variables
 * the check uses, then the check's own. Throws when an expression reads an undefined variable or a name
 * is defined twice, so a mistake in a check fails the build rather than the cluster.
 */
export function ruleVariables(id: ControlId, instance: Pick<ControlInstance, 'params' | 'exemptImages'> & Partial<Pick<ControlInstance, 'allowances'>>, check: CelCheck): CelVariable[] {
  // Image exceptions only exist for pod controls (not custom ones).
  const literals: CelVariable[] = takesImageExceptions(getControl(id)) ? [{ name: 'exemptImages', expression: celLiteral(instance.exemptImages) }] : [];
  // What exceptions with `allow` let through, for the controls that have such sub-checks (lib.rego.hbs allowances).
  if (allowKeysOf(id).length) literals.push({ name: 'allowances', expression: celLiteral(allowanceParams({ allowances: instance.allowances ?? [] })) });
  for (const key of Object.keys(instance.params).sort()) {
    literals.push({ name: key, expression: celLiteral(instance.params[key]!) });
  }
  const own = check.variables ?? [];
  const shared = new Map(SHARED_VARIABLES.map((v) => [v.name, v]));
  const needed = new Set<string>();
  const visit = (expression: string): void => {
    for (const ref of variableRefs(expression)) {
      const v = shared.get(ref);
      if (v && !needed.has(ref)) {
        needed.add(ref);
        visit(v.expression);
      }
    }
  };
  for (const e of check.expressions) {
    visit(e.expression);
    if (e.messageExpression) visit(e.messageExpression);
  }
  for (const v of own) visit(v.expression);

  const all = [...literals, ...SHARED_VARIABLES.filter((v) => needed.has(v.name)), ...own];
  const defined = new Set<string>();
  const checkRefs = (expression: string, where: string): void => {
    for (const ref of variableRefs(expression)) {
      if (!defined.has(ref)) throw new Error(`kyverno: ${id}: ${where} reads variables.${ref}, which is not defined before it`);
    }
  };
  for (const v of all) {
    if (!isCelIdentifier(v.name)) throw new Error(`kyverno: ${id}: "${v.name}" is not a valid CEL variable name`);
    if (defined.has(v.name)) throw new Error(`kyverno: ${id}: variable ${v.name} is defined twice`);
    if (!literals.includes(v)) checkRefs(v.expression, `variable ${v.name}`);
    defined.add(v.name);
  }
  for (const e of check.expressions) {
    checkRefs(e.expression, 'an expression');
    if (e.messageExpression) checkRefs(e.messageExpression, 'a message expression');
  }
  return all.map((v) => ({ name: v.name, expression: v.expression }));
}
