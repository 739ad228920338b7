/** The CEL check of require-drop-all-capabilities (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { allowedForContainer, capabilities, containerCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must drop ALL capabilities and add back only allowed ones.',
  expressions: [
    containerCheck((c) => `!('ALL' in ${capabilities(c, 'drop')})`, 'must drop ALL capabilities (securityContext.capabilities.drop)', ['variables.windows']),
    containerCheck(
      (c) => `${capabilities(c, 'add')}.exists(a, !(a in variables.allowedCapabilities) && !(${allowedForContainer('capabilities', 'a', c)}))`,
      'must not add capabilities outside the allowed list',
      ['variables.windows'],
    ),
  ],
};
