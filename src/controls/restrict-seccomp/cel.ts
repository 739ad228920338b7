/** The CEL check of restrict-seccomp (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, allowedForPod, containerCheck, podCheck, seccompTypeBad } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Seccomp profiles must be of an allowed type where set.',
  expressions: [
    podCheck(
      `${POD_SC}.?seccompProfile.orValue(dyn(null)) == null || ${POD_SC}.?seccompProfile.?type.orValue('') in variables.allowedTypes || ` +
        allowedForPod('seccompTypes', `${POD_SC}.?seccompProfile.?type.orValue('')`),
      'The pod must not set spec.securityContext.seccompProfile.type to a disallowed type.',
    ),
    containerCheck((c) => seccompTypeBad(c), 'must not set securityContext.seccompProfile.type to a disallowed type'),
  ],
};
