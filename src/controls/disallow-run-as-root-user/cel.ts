/** The CEL check of disallow-run-as-root-user (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, RELAXED, containerCheck, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Pods and containers must not set runAsUser to 0.',
  expressions: [
    podCheck(`${POD_SC}.?runAsUser.orValue(dyn(null)) != 0`, 'The pod must not set spec.securityContext.runAsUser to 0.', [RELAXED]),
    containerCheck((c) => `${sc(c, 'runAsUser')}.orValue(dyn(null)) == 0`, 'must not set securityContext.runAsUser to 0', [RELAXED]),
  ],
};
