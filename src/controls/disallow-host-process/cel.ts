/** The CEL check of disallow-host-process (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, containerCheck, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Windows HostProcess is not allowed (windowsOptions.hostProcess must be unset or false).',
  expressions: [
    podCheck(`${POD_SC}.?windowsOptions.?hostProcess.orValue(false) != true`, 'The pod must not set spec.securityContext.windowsOptions.hostProcess to true.'),
    containerCheck((c) => `${sc(c, 'windowsOptions.?hostProcess')}.orValue(false) == true`, 'must not set securityContext.windowsOptions.hostProcess to true'),
  ],
};
