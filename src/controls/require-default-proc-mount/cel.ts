/** The CEL check of require-default-proc-mount (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { containerCheck, nonDefaultProcMount } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must use the Default /proc mount, also in user-namespaced pods.',
  expressions: [
    containerCheck(nonDefaultProcMount, 'must not set securityContext.procMount to a value other than Default'),
  ],
};
