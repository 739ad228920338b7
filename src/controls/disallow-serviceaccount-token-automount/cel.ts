/** The CEL check of disallow-serviceaccount-token-automount (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { IS_UPDATE } from '../../lang/cel/cel.js';
import { NAME } from '../../lang/cel/object.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'ServiceAccounts must set automountServiceAccountToken to false.',
  expressions: [
    {
      expression:
        "object.?automountServiceAccountToken.orValue(dyn(null)) == false || (variables.exemptDefault && object.?metadata.?name.orValue('') == 'default') || " +
        // An UPDATE of a ServiceAccount that already mounted its token does not introduce it.
        `(${IS_UPDATE} && oldObject.?automountServiceAccountToken.orValue(dyn(null)) != false)`,
      message: 'ServiceAccounts must set automountServiceAccountToken to false.',
      messageExpression: `'ServiceAccount ' + ${NAME} + ' must set automountServiceAccountToken to false.'`,
    },
  ],
};
