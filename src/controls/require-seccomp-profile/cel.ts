/** The CEL check of require-seccomp-profile (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, allowedForPod, containerCheck, podCheck, sc, seccompTypeBad } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Every container must run with an allowed seccomp profile (set on the pod or the container).',
  variables: [
    {
      name: 'podProfileValid',
      expression:
        `${POD_SC}.?seccompProfile.orValue(dyn(null)) != null && (${POD_SC}.?seccompProfile.?type.orValue('') in variables.allowedTypes || ` +
        `${allowedForPod('seccompTypes', `${POD_SC}.?seccompProfile.?type.orValue('')`)})`,
    },
  ],
  expressions: [
    podCheck(
      `${POD_SC}.?seccompProfile.orValue(dyn(null)) == null || variables.podProfileValid`,
      'The pod must not set spec.securityContext.seccompProfile.type to a disallowed type.',
      ['variables.windows'],
    ),
    containerCheck((c) => seccompTypeBad(c), 'must not set securityContext.seccompProfile.type to a disallowed type', ['variables.windows']),
    containerCheck((c) => `${sc(c, 'seccompProfile')}.orValue(dyn(null)) == null`, "must set securityContext.seccompProfile.type (or the pod's) to an allowed type", [
      'variables.windows',
      'variables.podProfileValid',
    ]),
  ],
};
