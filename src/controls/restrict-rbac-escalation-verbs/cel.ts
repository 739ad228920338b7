/** The CEL check of restrict-rbac-escalation-verbs (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { AGGREGATION, type Finding, type Grant, ROLE_VARIABLES, grantFinding, holds, list, roleCheck, roleGiven } from '../../lang/cel/rbac-roles.js';
import type { CelCheck } from '../../lang/cel/types.js';

const RBAC = 'rbac.authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';
const CERTS = 'certificates.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';

const WRITE = ['update', 'patch', 'delete', 'deletecollection'];
const EXCEPT = ['create', 'update', 'patch'];

/** What restrict-rbac-escalation-verbs forbids at every version (`fixed` in its Rego template). */
const ESCALATION: readonly Grant[] = [
  { verbs: ['escalate', 'bind'], group: RBAC, resource: 'roles', sub: '' },
  { verbs: ['escalate', 'bind'], group: RBAC, resource: 'clusterroles', sub: '' },
  ...['users', 'groups', 'serviceaccounts'].map((resource) => ({ verbs: ['impersonate'], group: '', resource, sub: '' })),
  { verbs: ['impersonate'], group: AUTHN, resource: 'uids', sub: '' },
  { verbs: ['impersonate'], group: AUTHN, resource: 'userextras', sub: '*' },
  { verbs: ['create'], group: '', resource: 'serviceaccounts', sub: 'token' },
  { verbs: [], group: '', resource: 'nodes', sub: 'proxy' },
  { verbs: ['update', 'patch'], group: '', resource: 'namespaces', sub: 'status' },
  { verbs: ['update', 'patch'], group: '', resource: 'namespaces', sub: 'finalize' },
  { verbs: ['update', 'patch'], group: CERTS, resource: 'certificatesigningrequests', sub: 'approval' },
  { verbs: ['approve'], group: CERTS, resource: 'signers', sub: '' },
  ...['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'].map((resource) => ({ verbs: ['create', ...WRITE], group: ADMISSION, resource, sub: '' })),
  { verbs: WRITE, group: 'kyverno.io', resource: 'clusterpolicies', sub: '' },
  { verbs: WRITE, group: 'kyverno.io', resource: 'policies', sub: '' },
  { verbs: EXCEPT, group: 'kyverno.io', resource: 'policyexceptions', sub: '' },
  { verbs: WRITE, group: 'policies.kyverno.io', resource: '*', sub: '' },
  { verbs: EXCEPT, group: 'policies.kyverno.io', resource: 'policyexceptions', sub: '' },
  ...['templates', 'constraints', 'expansion', 'mutations'].map((g) => ({ verbs: WRITE, group: `${g}.gatekeeper.sh`, resource: '*', sub: '' })),
  { verbs: EXCEPT, group: 'config.gatekeeper.sh', resource: 'configs', sub: '' },
];

/** Writes of the admission policy kinds of the target version (`variables.admissionPolicies`). */
const ADMISSION_POLICIES: Finding = {
  label: `update/patch/delete/deletecollection on admission policies or their bindings (${ADMISSION})`,
  bad: (r) =>
    `variables.admissionPolicies.exists(p, ${holds(list(r, 'verbs'), 'v', [...WRITE, '*'])} && ${holds(list(r, 'apiGroups'), 'g', [ADMISSION, '*'])} && ` +
    `${list(r, 'resources')}.exists(x, x == '*' || x == p))`,
};

/** Constrained impersonation (`variables.impersonationModes`, empty before the version has it). */
const IMPERSONATION: readonly Finding[] = [
  {
    label: `constrained impersonation (impersonate:<mode>, ${AUTHN})`,
    bad: (r) =>
      `variables.impersonationModes.exists(m, ${list(r, 'verbs')}.exists(v, v == '*' || v == 'impersonate:' + m)) && ${holds(list(r, 'apiGroups'), 'g', [AUTHN, '*'])} && ` +
      `${list(r, 'resources')}.exists(x, type(x) == string && (x in ['*', 'users', 'groups', 'serviceaccounts', 'nodes', 'uids'] || x.startsWith('userextras/') || x.startsWith('*/')))`,
  },
  {
    label: 'impersonate-on:<mode>:<verb> (constrained impersonation)',
    bad: (r) => `size(variables.impersonationModes) > 0 && ${list(r, 'verbs')}.exists(v, type(v) == string && v.startsWith('impersonate-on:'))`,
  },
];

export const check: CelCheck = {
  message: 'Roles and ClusterRoles must not grant privilege escalation.',
  variables: [...ROLE_VARIABLES, roleGiven([...ESCALATION.map(grantFinding), ADMISSION_POLICIES, ...IMPERSONATION])],
  expressions: [
    roleCheck(
      'Roles and ClusterRoles must not grant escalate or bind on roles, impersonation, service account tokens, nodes/proxy, namespace status writes, CSR approval, or changes to admission webhooks, admission policies and the policy engines\' objects.',
      'must not grant any of',
    ),
    AGGREGATION,
  ],
};
