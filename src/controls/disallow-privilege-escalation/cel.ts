/** The CEL check of disallow-privilege-escalation (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { containerCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must set securityContext.allowPrivilegeEscalation to false.',
  expressions: [
    containerCheck((c) => `${sc(c, 'allowPrivilegeEscalation')}.orValue(true) != false`, 'must set securityContext.allowPrivilegeEscalation to false', [
      'variables.windows',
    ]),
  ],
};
