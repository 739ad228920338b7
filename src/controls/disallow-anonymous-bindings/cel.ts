/** The CEL check of disallow-anonymous-bindings (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { OBJECT_KIND, ROLE_KIND, ROLE_NAME, SUBJECTS, kindOf, nameOf, str } from '../../lang/cel/rbac-bindings.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** A User or Group subject with one of the anonymous names. */
const anonymous = (s: string): string => `(${kindOf(s)} in ['User', 'Group'] && ${nameOf(s)} in variables.names)`;

export const check: CelCheck = {
  message: 'Bindings must not grant roles to anonymous or unauthenticated users.',
  variables: [SUBJECTS],
  expressions: [
    {
      expression: `(${ROLE_KIND} == 'ClusterRole' && ${ROLE_NAME} in variables.allowedRoles) || !variables.subjects.exists(s, ${anonymous('s')})`,
      message: 'Bindings must not grant roles to anonymous or unauthenticated users.',
      messageExpression:
        `${OBJECT_KIND} + ' "' + ${str("object.?metadata.?name.orValue('')")} + '" binds ' + ${ROLE_KIND} + ' "' + ${ROLE_NAME} + '" to ' + ` +
        `variables.subjects.filter(s, ${anonymous('s')}).map(s, '"' + ${kindOf('s')} + ':' + ${nameOf('s')} + '"').join(', ')`,
    },
  ],
};
