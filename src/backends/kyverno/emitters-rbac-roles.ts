/**
 * CEL checks of the controls on Role and ClusterRole rules (same semantics as their Rego templates).
 * RBAC matching is normalised as the authorizer reads rules, and wider where a form could be read as a
 * wildcard: verb "*" matches every verb, apiGroup "*" every group, resource "*" every resource and
 * subresource, "<res>/*" every subresource of res, "*\/<sub>" that subresource of every resource.
 */
import type { Emitter } from './emitters.js';
import { celString, listOr } from './cel.js';
import type { CelValidation, CelVariable } from './types.js';

type Ids = 'restrict-rbac-wildcards' | 'restrict-rbac-escalation-verbs' | 'restrict-secret-read-roles';

/** A grant a rule must not give: verbs (empty: any verb), API group, resource, subresource ('' none, '*' any). */
interface Grant {
  readonly verbs: readonly string[];
  readonly group: string;
  readonly resource: string;
  readonly sub: string;
}

/** Roles named in `variables.exemptRoles` (exact, or a prefix ending in `*`), and the map-typed rules. */
const ROLE_VARIABLES: readonly CelVariable[] = [
  {
    name: 'roleExempt',
    expression:
      "type(object.?metadata.?name.orValue(null)) == string && variables.exemptRoles.exists(p, p == object.metadata.name || " +
      "(p.endsWith('*') && object.metadata.name.startsWith(p.substring(0, size(p) - 1))))",
  },
  { name: 'roleRules', expression: `${listOr('object.?rules.orValue([])')}.filter(r, type(r) == map)` },
];

/** The rule's list `field` (absent, null or mistyped reads as empty). */
const list = (r: string, field: string): string => listOr(`${r}.?${field}.orValue([])`);

/** True when list `l` holds one of `values`. */
const holds = (l: string, x: string, values: readonly string[]): string =>
  `${l}.exists(${x}, ${[...new Set(values)].map((v) => `${x} == ${celString(v)}`).join(' || ')})`;

/** True when rule `r` grants some verb of `g` on g's resource in g's group. */
function grants(r: string, g: Grant): string {
  const verbs = g.verbs.length ? holds(list(r, 'verbs'), 'v', [...g.verbs, '*']) : `${list(r, 'verbs')}.exists(v, type(v) == string)`;
  const groups = holds(list(r, 'apiGroups'), 'g', [g.group, '*']);
  let resources: string;
  if (g.sub === '') resources = holds(list(r, 'resources'), 'x', ['*', g.resource]);
  else if (g.sub === '*')
    resources = `${list(r, 'resources')}.exists(x, type(x) == string && (x == '*' || x.startsWith(${celString(`${g.resource}/`)}) || x.startsWith('*/')))`;
  else resources = holds(list(r, 'resources'), 'x', ['*', `${g.resource}/${g.sub}`, `${g.resource}/*`, `*/${g.sub}`]);
  return `(${verbs} && ${groups} && ${resources})`;
}

/** One kind of finding: what a failing rule grants (for the message) and the test of a rule `r`. */
interface Finding {
  readonly label: string;
  readonly bad: (r: string) => string;
}

/**
 * Passes when the role is exempt or no rule gives one of the findings; the message names the role and the
 * findings its rules give (CEL has no list index here, so the rules themselves are not numbered).
 */
function roleCheck(findings: readonly Finding[], message: string, mustText: string): CelValidation {
  const given = findings.map((f) => `(variables.roleRules.exists(r, ${f.bad('r')}) ? [${celString(f.label)}] : [])`).join(' + ');
  return {
    expression: `variables.roleExempt || !variables.roleRules.exists(r, ${findings.map((f) => f.bad('r')).join(' || ')})`,
    message,
    messageExpression:
      `string(object.?kind.orValue('')) + ' "' + string(object.?metadata.?name.orValue('')) + '" ' + ` +
      `${celString(`${mustText}: `)} + (${given}).join(', ') + '.'`,
  };
}

/** A grant as the Rego templates word it: "escalate/bind on roles (rbac.authorization.k8s.io)". */
function grantFinding(g: Grant): Finding {
  const resource = g.sub ? `${g.resource}/${g.sub}` : g.resource;
  return { label: `${g.verbs.length ? g.verbs.join('/') : 'any verb'} on ${resource} (${g.group || 'core'})`, bad: (r) => grants(r, g) };
}

const RBAC = 'rbac.authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';
const CERTS = 'certificates.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';

/** What restrict-rbac-escalation-verbs forbids (the table in its Rego template). */
const ESCALATION: readonly Grant[] = [
  { verbs: ['escalate', 'bind'], group: RBAC, resource: 'roles', sub: '' },
  { verbs: ['escalate', 'bind'], group: RBAC, resource: 'clusterroles', sub: '' },
  ...['users', 'groups', 'serviceaccounts'].map((resource) => ({ verbs: ['impersonate'], group: '', resource, sub: '' })),
  { verbs: ['impersonate'], group: AUTHN, resource: 'uids', sub: '' },
  { verbs: ['impersonate'], group: AUTHN, resource: 'userextras', sub: '*' },
  { verbs: [], group: '', resource: 'nodes', sub: 'proxy' },
  { verbs: ['update', 'patch'], group: CERTS, resource: 'certificatesigningrequests', sub: 'approval' },
  { verbs: ['approve'], group: CERTS, resource: 'signers', sub: '' },
  ...['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'].map((resource) => ({
    verbs: ['create', 'update', 'patch'],
    group: ADMISSION,
    resource,
    sub: '',
  })),
];

/** What restrict-secret-read-roles forbids. */
const SECRET_READ: readonly Grant[] = [{ verbs: ['get', 'list', 'watch'], group: '', resource: 'secrets', sub: '' }];

/** "*" in verbs, apiGroups or nonResourceURLs, or anywhere in a resource. */
const WILDCARDS: readonly Finding[] = [
  { label: 'verbs "*"', bad: (r) => holds(list(r, 'verbs'), 'v', ['*']) },
  { label: 'apiGroups "*"', bad: (r) => holds(list(r, 'apiGroups'), 'g', ['*']) },
  { label: 'resources containing "*"', bad: (r) => `${list(r, 'resources')}.exists(x, type(x) == string && x.contains('*'))` },
  { label: 'nonResourceURLs "*"', bad: (r) => holds(list(r, 'nonResourceURLs'), 'u', ['*']) },
];

export const rbacRoleEmitters: { [K in Ids]: Emitter<K> } = {
  'restrict-rbac-wildcards': () => ({
    message: 'Role and ClusterRole rules must not use wildcards.',
    variables: ROLE_VARIABLES,
    expressions: [roleCheck(WILDCARDS, 'Role and ClusterRole rules must not use wildcards ("*") in verbs, apiGroups, resources or nonResourceURLs.', 'must not use wildcards')],
  }),

  'restrict-rbac-escalation-verbs': () => ({
    message: 'Roles and ClusterRoles must not grant privilege escalation.',
    variables: ROLE_VARIABLES,
    expressions: [
      roleCheck(
        ESCALATION.map(grantFinding),
        'Roles and ClusterRoles must not grant escalate or bind on roles, impersonation, nodes/proxy, CSR approval or admission webhook changes.',
        'must not grant any of',
      ),
    ],
  }),

  'restrict-secret-read-roles': () => ({
    message: 'Roles and ClusterRoles must not grant reading Secrets.',
    variables: ROLE_VARIABLES,
    expressions: [roleCheck(SECRET_READ.map(grantFinding), 'Roles and ClusterRoles must not grant get, list or watch on secrets.', 'must not grant any of')],
  }),
};
