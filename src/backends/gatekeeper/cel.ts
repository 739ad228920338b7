/**
 * The `K8sNativeValidation` (CEL) block of a ConstraintTemplate (config `gatekeeper.engines: ['Rego', 'CEL']`):
 * the control's CEL check (controls/<id>/cel.ts, the one the Kyverno policies carry) in Gatekeeper's CEL engine.
 * Facts from gatekeeper v3.23.0 (pkg/drivers/k8scel), checked with its gator.
 *
 * - Gatekeeper runs only this block when a template has both, so it must give the Rego's verdicts. What it reads
 *   differs from Kyverno's:
 *   - Parameters are the Constraint's (`variables.params`, null when the Constraint has none): every option
 *     value, image and name exception and allowance is read from there, none is written into the CEL.
 *   - Workloads reach it as the Pods Gatekeeper's ExpansionTemplates make of them (`gator expand`): a Pod named
 *     `<workload>-pod` whose owner reference names the workload, without a uid. So an exception by name, as in
 *     the Rego (lib.rego.hbs `object_names`), matches such a Pod by its workload's name, and there is no
 *     autogen path to rewrite: `object.spec` is the Pod's spec for every controller.
 *   - Exceptions by name are no match condition (Gatekeeper compiles those without `params`): each validation
 *     passes for an excepted object (`variables.nameExempt || …`), as the Rego's `name_exempt` silences every
 *     finding.
 *   - On DELETE, Gatekeeper gives the Rego the old object as `object`, but the CEL a null `object`; the CEL reads
 *     `variables.anyObject` (the old object on DELETE, the object otherwise) wherever the check says `object`, so
 *     both see the same object.
 * - `generateVAP` is written out (false unless config `gatekeeper.generateVAP`): Gatekeeper ≥ 3.20 generates a
 *   ValidatingAdmissionPolicy per template by default, which inherits `failurePolicy: Fail` and can deadlock the
 *   control plane (open-policy-agent/gatekeeper#4530).
 *
 * Pure: no I/O.
 */
import { getControl, type ControlId } from '../../controls/index.js';
import { takesImageExceptions, targetKinds } from '../../controls/types.js';
import { allowKeysOf } from '../../config/allow.js';
import { listOr, variableRefs } from '../../lang/cel/cel.js';
import { rewriteOutsideLiterals } from '../../lang/cel/pod-template.js';
import { patternMatches } from '../../lang/cel/pod.js';
import type { CelVariable } from '../../lang/cel/types.js';
import { ruleVariables } from '../kyverno/index.js';
import { celBlockWhy, gatekeeperCelCheck } from '../cel-support.js';

/** The `source` of a `K8sNativeValidation` code block (gatekeeper pkg/drivers/k8scel/schema Source). */
export interface CelSource {
  generateVAP: boolean;
  variables: CelVariable[];
  validations: { expression: string; message: string; messageExpression?: string }[];
}

/** The kinds kubeharden's ExpansionTemplates expand into Pods (lib.rego.hbs `expanded_kinds`). */
const EXPANDED_KINDS = ['CronJob', 'DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet'];

/** The Constraint's parameters as a map (Gatekeeper binds `variables.params` to null when there are none). */
const PARAMS: CelVariable = { name: 'constraintParams', expression: '(type(variables.params) == map ? variables.params : {})' };

/** A parameter of the Constraint, its type's empty value when absent (lib.rego.hbs `object.get(params, key, …)`). */
function paramRead(name: string, type: 'strings' | 'ranges' | 'boolean' | 'list'): string {
  const read = `variables.constraintParams[?'${name}']`;
  return type === 'boolean' ? `${read}.orValue(false) == true` : listOr(`${read}.orValue([])`);
}

/**
 * The names the reviewed object answers to (lib.rego.hbs `object_names`): its own, or for a Pod Gatekeeper expanded
 * from a workload (named `<workload>-pod`, with an owner reference to the workload without a uid) the workload's
 * only: the made-up Pod name must not match a pattern by accident (`web-*` and the Deployment `web`). A Pod the
 * API server stored always has uids in its owner references.
 */
const EXPANDED_PARENT =
  "object.?kind.orValue('') == 'Pod' && type(object.?metadata.?name.orValue(null)) == string && object.metadata.name.endsWith('-pod') && " +
  `${listOr('object.?metadata.?ownerReferences.orValue([])')}.exists(r, type(r) == map && r.?uid.orValue('') == '' && ` +
  "r.?name.orValue('') == object.metadata.name.substring(0, size(object.metadata.name) - 4) && " +
  `r.?kind.orValue('') in [${EXPANDED_KINDS.map((k) => `'${k}'`).join(', ')}])`;
const OBJECT_NAMES: CelVariable = {
  name: 'objectNames',
  expression:
    `${EXPANDED_PARENT} ? [object.metadata.name.substring(0, size(object.metadata.name) - 4)] : ` +
    "type(object.?metadata.?name.orValue(null)) == string && object.metadata.name != '' ? [object.metadata.name] : []",
};

/** An exception by name covers the whole object (lib.rego.hbs `name_exempt`). */
const NAME_EXEMPT: CelVariable = {
  name: 'nameExempt',
  expression: `variables.exemptNames.exists(p, variables.objectNames.exists(n, ${patternMatches('p', 'n')}))`,
};

/** How lang/cel/pod.ts `allowanceNamed` matches a pattern `p` against the object's one name. */
const ONE_NAME = patternMatches('p', 'variables.objectName');
const ANY_NAME = `variables.objectNames.exists(n, ${patternMatches('p', 'n')})`;

/** `object` (the identifier, outside string literals) read as `variables.anyObject`. */
export function anyObject(expression: string): string {
  return rewriteOutsideLiterals(expression, (rest, prev) => (!/[A-Za-z0-9_.]/.test(prev) && /^object(?![A-Za-z0-9_])/.test(rest) ? ['object'.length, 'variables.anyObject'] : undefined));
}

/** The `K8sNativeValidation` source of a control's template. Throws for a control without a CEL check. */
export function celSource(id: ControlId, generateVAP: boolean): CelSource {
  const check = gatekeeperCelCheck(id);
  if (!check) throw new Error(`gatekeeper: ${id} has no CEL check: ${celBlockWhy(id)}`);
  const control = getControl(id);
  const podControl = !targetKinds(control);
  const paramTypes = control.params as Record<string, 'strings' | 'ranges' | 'boolean'>;
  // The Kyverno rule's variables, with every literal (exemptImages, allowances, options) replaced by a read of
  // the Constraint's parameters. ruleVariables checks that every variable read is defined before it.
  const placeholders = Object.fromEntries(Object.keys(paramTypes).map((k) => [k, false]));
  const kyvernoVars = ruleVariables(id, { params: placeholders, exemptImages: [], allowances: [] }, check);
  const fromParams = new Set([...Object.keys(paramTypes), 'allowances', ...(takesImageExceptions(control) ? ['exemptImages'] : [])]);
  const vars: CelVariable[] = [PARAMS, { name: 'exemptNames', expression: paramRead('exemptNames', 'list') }, OBJECT_NAMES, NAME_EXEMPT];
  for (const v of kyvernoVars) {
    if (fromParams.has(v.name)) vars.push({ name: v.name, expression: paramRead(v.name, v.name in paramTypes ? paramTypes[v.name]! : 'list') });
    else vars.push({ name: v.name, expression: gatekeeperExpression(v.expression) });
  }
  // An allowance by name reads variables.objectNames instead (gatekeeperExpression): the Kyverno variable goes.
  const used = (name: string): boolean =>
    [...vars.map((v) => v.expression), ...check.expressions.flatMap((e) => [gatekeeperExpression(e.expression), gatekeeperExpression(e.messageExpression ?? '')])].some((x) => variableRefs(x).includes(name));
  const unusedName = vars.findIndex((v) => v.name === 'objectName');
  if (unusedName >= 0 && !used('objectName')) vars.splice(unusedName, 1);
  const names = vars.map((v) => v.name);
  for (const reserved of ['params', 'anyObject']) if (names.includes(reserved)) throw new Error(`gatekeeper: ${id}: "${reserved}" is a variable Gatekeeper defines`);
  if (new Set(names).size !== names.length) throw new Error(`gatekeeper: ${id}: a CEL variable is defined twice (${names.join(', ')})`);
  const validations = check.expressions.map((e) => ({
    expression: `variables.nameExempt || (${gatekeeperExpression(e.expression)})`,
    message: e.message,
    ...(e.messageExpression ? { messageExpression: gatekeeperExpression(e.messageExpression) } : {}),
  }));
  // Every variable read is defined before it is read (Gatekeeper's own variables: params, anyObject).
  const defined = new Set(['params', 'anyObject']);
  for (const v of vars) {
    for (const ref of variableRefs(v.expression)) if (!defined.has(ref)) throw new Error(`gatekeeper: ${id}: variable ${v.name} reads variables.${ref} before it is defined`);
    defined.add(v.name);
  }
  for (const e of validations) for (const ref of variableRefs(`${e.expression} ${e.messageExpression ?? ''}`)) if (!defined.has(ref)) throw new Error(`gatekeeper: ${id}: a validation reads undefined variables.${ref}`);
  if (!podControl && allowKeysOf(id).length) throw new Error(`gatekeeper: ${id}: allowances are only known for pod controls`);
  return { generateVAP, variables: vars, validations };
}

/**
 * A Kyverno check expression as Gatekeeper's CEL reads it: an allowance by name matches any of the object's names
 * (the expanded Pod's and its workload's), and `object` is `variables.anyObject`.
 */
function gatekeeperExpression(expression: string): string {
  const e = expression.split(ONE_NAME).join(ANY_NAME);
  if (/variables\.objectName\b(?!s)/.test(e)) throw new Error(`gatekeeper: a CEL expression reads variables.objectName other than through an allowance by name: ${expression.slice(0, 200)}`);
  return anyObject(e);
}
