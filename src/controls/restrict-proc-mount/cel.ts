/** The CEL check of restrict-proc-mount (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { RELAXED, containerCheck, nonDefaultProcMount } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must use the Default /proc mount.',
  expressions: [
    containerCheck(nonDefaultProcMount, 'must not set securityContext.procMount to a value other than Default', [RELAXED]),
  ],
};
