/** The CEL check of restrict-secret-read-roles (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { AGGREGATION, type Grant, ROLE_VARIABLES, grantFinding, roleCheck, roleGiven } from '../../lang/cel/rbac-roles.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** What restrict-secret-read-roles forbids. */
const SECRET_READ: readonly Grant[] = [{ verbs: ['get', 'list', 'watch'], group: '', resource: 'secrets', sub: '' }];

export const check: CelCheck = {
  message: 'Roles and ClusterRoles must not grant reading Secrets.',
  variables: [...ROLE_VARIABLES, roleGiven(SECRET_READ.map(grantFinding))],
  expressions: [roleCheck('Roles and ClusterRoles must not grant get, list or watch on secrets.', 'must not grant any of'), AGGREGATION],
};
