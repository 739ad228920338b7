/** The CEL check of restrict-capabilities-baseline (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { allowedForContainer, capabilities, containerCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers may only add capabilities from the allowed list.',
  expressions: [
    containerCheck(
      (c) => `${capabilities(c, 'add')}.exists(a, !(a in variables.allowedCapabilities) && !(${allowedForContainer('capabilities', 'a', c)}))`,
      'must not add capabilities outside the allowed list',
    ),
  ],
};
