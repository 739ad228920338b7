/** The CEL check of restrict-rbac-wildcards (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { AGGREGATION, type Finding, ROLE_VARIABLES, holds, list, roleCheck, roleGiven } from '../../lang/cel/rbac-roles.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** "*" in verbs, apiGroups or nonResourceURLs, or anywhere in a resource. */
const WILDCARDS: readonly Finding[] = [
  { label: 'verbs "*"', bad: (r) => holds(list(r, 'verbs'), 'v', ['*']) },
  { label: 'apiGroups "*"', bad: (r) => holds(list(r, 'apiGroups'), 'g', ['*']) },
  { label: 'resources containing "*"', bad: (r) => `${list(r, 'resources')}.exists(x, type(x) == string && x.contains('*'))` },
  { label: 'nonResourceURLs "*"', bad: (r) => holds(list(r, 'nonResourceURLs'), 'u', ['*']) },
];

export const check: CelCheck = {
  message: 'Role and ClusterRole rules must not use wildcards.',
  variables: [...ROLE_VARIABLES, roleGiven(WILDCARDS)],
  expressions: [roleCheck('Role and ClusterRole rules must not use wildcards ("*") in verbs, apiGroups, resources or nonResourceURLs.', 'must not use wildcards'), AGGREGATION],
};
