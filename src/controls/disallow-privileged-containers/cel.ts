/** The CEL check of disallow-privileged-containers (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { containerCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Privileged containers are not allowed.',
  expressions: [containerCheck((c) => `${sc(c, 'privileged')}.orValue(false) == true`, 'must not set securityContext.privileged to true')],
};
