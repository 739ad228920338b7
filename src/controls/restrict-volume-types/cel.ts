/** The CEL check of restrict-volume-types (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { allowedForPod, podCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Only allowed volume types may be used.',
  expressions: [
    podCheck(
      `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && ` +
        `dyn(v).exists(k, k != 'name' && dyn(v)[k] != null && !(k in variables.allowedVolumeTypes) && !(${allowedForPod('volumeTypes', 'k')})))`,
      'The pod must not use volume types outside the allowed list.',
    ),
  ],
};
