/** The CEL check of disallow-automount-sa-token (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { podCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Pods must set spec.automountServiceAccountToken to false.',
  expressions: [
    podCheck('object.spec.?automountServiceAccountToken.orValue(dyn(null)) == false', 'The pod must set spec.automountServiceAccountToken to false.'),
    // The token mounted explicitly: a projected volume with a serviceAccountToken source (any audience).
    podCheck(
      `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && ` +
        `${listOr('v.?projected.?sources.orValue([])')}.exists(s, type(s) == map && s.?serviceAccountToken.orValue(dyn(null)) != null))`,
      'The pod must not project a service account token into a volume.',
    ),
  ],
};
