/** The CEL check of disallow-nodeport-services (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { IS_UPDATE, unchanged } from '../../lang/cel/cel.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Services must not be of type NodePort.',
  expressions: [
    {
      // An UPDATE of a Service that was NodePort before with the same ports opens no node port.
      expression: `object.?spec.?type.orValue('') != 'NodePort' || (${IS_UPDATE} && oldObject.?spec.?type.orValue('') == 'NodePort' && ${unchanged('?spec.?ports')})`,
      message: 'Services must not be of type NodePort.',
    },
  ],
};
