/** The CEL check of block-ephemeral-containers (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { exempt } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Ephemeral containers are not allowed.',
  expressions: [
    {
      expression: `variables.skipUpdate || !${listOr('object.spec.?ephemeralContainers.orValue([])')}.exists(c, type(c) == map && !(${exempt('c')}))`,
      message: 'Ephemeral containers are not allowed.',
    },
  ],
};
