/** The CEL check of require-readonly-root-fs (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { containerCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must set securityContext.readOnlyRootFilesystem to true.',
  expressions: [
    containerCheck((c) => `${sc(c, 'readOnlyRootFilesystem')}.orValue(dyn(null)) != true`, 'must set securityContext.readOnlyRootFilesystem to true', ['variables.windows']),
  ],
};
