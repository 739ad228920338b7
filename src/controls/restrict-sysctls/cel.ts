/** The CEL check of restrict-sysctls (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { POD_SC, allowedForPod, podCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Only allowed sysctls may be set.',
  expressions: [
    podCheck(
      `!${listOr(`${POD_SC}.?sysctls.orValue([])`)}.exists(s, type(s) == map && !(s.?name.orValue('') in variables.allowedSysctls) && !(${allowedForPod('sysctls', "s.?name.orValue('')")}))`,
      'The pod must not set sysctls outside the allowed list.',
    ),
  ],
};
