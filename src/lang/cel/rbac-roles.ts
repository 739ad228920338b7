/**
 * RBAC grant matching shared by the CEL checks of the controls on Role and ClusterRole rules (same semantics as
 * their Rego templates).
 * RBAC matching is normalised as the authorizer reads rules, and wider where a form could be read as a
 * wildcard: verb "*" matches every verb, apiGroup "*" every group, resource "*" every resource and
 * subresource, "<res>/*" every subresource of res, "*\/<sub>" that subresource of every resource.
 */
import { celString, listOr, mapOr, oldList } from './cel.js';
import type { CelValidation, CelVariable } from './types.js';

/**
 * A grant a rule must not give: verbs (empty: any verb), API group, resource ('*': every resource of the group),
 * subresource ('' none, '*' any).
 */
export interface Grant {
  readonly verbs: readonly string[];
  readonly group: string;
  readonly resource: string;
  readonly sub: string;
}

/** The list fields of a rule that the checks read (`variables.roleRules`). */
const RULE_LISTS = ['verbs', 'apiGroups', 'resources', 'nonResourceURLs'] as const;

export const aggregated = (o: string): string => `(type(${o}) == map && type(${o}.?aggregationRule.orValue(dyn(null))) == map)`;

/**
 * ClusterRoles named in `variables.exemptRoles` (exact, or a prefix ending in `*`; namespaced Roles never),
 * the map-typed rules (none on an UPDATE of a ClusterRole aggregated before and after: the controller's), each
 * as a map of its list fields (see `list`),
 * the aggregationRule selectors and the label keys each requires a ClusterRole to carry. On an UPDATE, rules
 * and selectors the role already had, exactly, do not count (lib.rego.hbs `role_rule_new`, `selector_new`).
 */
export const ROLE_VARIABLES: readonly CelVariable[] = [
  {
    name: 'roleExempt',
    expression:
      "object.?kind.orValue('') == 'ClusterRole' && type(object.?metadata.?name.orValue(dyn(null))) == string && variables.exemptRoles.exists(p, p == object.metadata.name || " +
      "(p.endsWith('*') && object.metadata.name.startsWith(p.substring(0, size(p) - 1))))",
  },
  {
    name: 'roleRules',
    expression:
      `request.operation == 'UPDATE' && ${aggregated('dyn(object)')} && ${aggregated('dyn(oldObject)')} ? [] : ` +
      `${listOr('object.?rules.orValue([])')}.filter(r, type(r) == map && !(r in ${oldList('?rules')}))` +
      `.map(r, {${RULE_LISTS.map((f) => `${celString(f)}: ${listOr(`r.?${f}.orValue([])`)}`).join(', ')}})`,
  },
  {
    name: 'selectorKeys',
    expression:
      `${listOr('dyn(object).?aggregationRule.?clusterRoleSelectors.orValue([])')}.filter(s, type(s) == map && !(s in ${oldList('?aggregationRule.?clusterRoleSelectors')})).map(s, ` +
      `${mapOr('s.?matchLabels.orValue({})')}.map(k, string(k)) + ` +
      `${listOr('s.?matchExpressions.orValue([])')}.filter(e, type(e) == map && e.?operator.orValue('') in ['In', 'Exists']).map(e, string(e.?key.orValue(''))))`,
  },
];

/** The aggregationRule check (lib.rego.hbs `aggregation_findings`). */
export const AGGREGATION: CelValidation = {
  expression: 'variables.roleExempt || !variables.selectorKeys.exists(ks, size(ks) == 0 || ks.exists(k, k in variables.aggregationKeys))',
  message: 'aggregationRule selectors must require a label the aggregated ClusterRoles carry, and must not select labels of roles the control does not check.',
  messageExpression:
    `string(object.?kind.orValue('')) + ' "' + string(object.?metadata.?name.orValue('')) + '" aggregationRule: ' + ` +
    `(variables.selectorKeys.exists(ks, size(ks) == 0) ? ['a selector must require a label the aggregated ClusterRoles carry (matchLabels, or operator In or Exists)'] : []).join('') + ` +
    `(variables.selectorKeys.exists(ks, size(ks) == 0) && variables.selectorKeys.exists(ks, ks.exists(k, k in variables.aggregationKeys)) ? '; ' : '') + ` +
    `(variables.selectorKeys.exists(ks, ks.exists(k, k in variables.aggregationKeys)) ? ['selectors must not select ' + variables.aggregationKeys.filter(k, variables.selectorKeys.exists(ks, k in ks)).join(', ')] : []).join('') + '.'`,
};

/**
 * The list `field` of a rule of `variables.roleRules`, which holds each new rule with its list fields read
 * once (absent, null or mistyped as empty): every check tests a rule's lists many times, and the expression
 * stays a fraction of its size (the engines compile it per request).
 */
export const list = (r: string, field: (typeof RULE_LISTS)[number]): string => `${r}.${field}`;

/** True when list `l` holds one of `values`. */
export const holds = (l: string, x: string, values: readonly string[]): string =>
  `${l}.exists(${x}, ${[...new Set(values)].map((v) => `${x} == ${celString(v)}`).join(' || ')})`;

/** True when rule `r` grants some verb of `g` on g's resource in g's group. */
export function grants(r: string, g: Grant): string {
  const verbs = g.verbs.length ? holds(list(r, 'verbs'), 'v', [...g.verbs, '*']) : `${list(r, 'verbs')}.exists(v, type(v) == string)`;
  const groups = holds(list(r, 'apiGroups'), 'g', [g.group, '*']);
  let resources: string;
  if (g.resource === '*') resources = `${list(r, 'resources')}.exists(x, type(x) == string && !x.contains('/'))`;
  else if (g.sub === '') resources = holds(list(r, 'resources'), 'x', ['*', g.resource]);
  else if (g.sub === '*')
    resources = `${list(r, 'resources')}.exists(x, type(x) == string && (x == '*' || x.startsWith(${celString(`${g.resource}/`)}) || x.startsWith('*/')))`;
  else resources = holds(list(r, 'resources'), 'x', ['*', `${g.resource}/${g.sub}`, `${g.resource}/*`, `*/${g.sub}`]);
  return `(${verbs} && ${groups} && ${resources})`;
}

/** One kind of finding: what a failing rule grants (for the message) and the test of a rule `r`. */
export interface Finding {
  readonly label: string;
  readonly bad: (r: string) => string;
}

/**
 * The labels of the findings the role's rules give, computed once (`variables.roleGiven`) for the check and its
 * message: CEL variables are evaluated lazily and at most once per request.
 */
export function roleGiven(findings: readonly Finding[]): CelVariable {
  return { name: 'roleGiven', expression: findings.map((f) => `(variables.roleRules.exists(r, ${f.bad('r')}) ? [${celString(f.label)}] : [])`).join(' + ') };
}

/**
 * Passes when the role is exempt or no rule gives one of the findings; the message names the role and the
 * findings its rules give (CEL has no list index here, so the rules themselves are not numbered).
 */
export function roleCheck(message: string, mustText: string): CelValidation {
  return {
    expression: 'variables.roleExempt || size(variables.roleGiven) == 0',
    message,
    messageExpression:
      `string(object.?kind.orValue('')) + ' "' + string(object.?metadata.?name.orValue('')) + '" ' + ` +
      `${celString(`${mustText}: `)} + variables.roleGiven.join(', ') + '.'`,
  };
}

/** A grant as the Rego templates word it: "escalate/bind on roles (rbac.authorization.k8s.io)". */
export function grantFinding(g: Grant): Finding {
  const resource = g.sub ? `${g.resource}/${g.sub}` : g.resource;
  return { label: `${g.verbs.length ? g.verbs.join('/') : 'any verb'} on ${resource} (${g.group || 'core'})`, bad: (r) => grants(r, g) };
}
