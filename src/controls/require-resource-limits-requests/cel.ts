/** The CEL check of require-resource-limits-requests (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { celString, listOr } from '../../lang/cel/cel.js';
import { exempt, nonEmpty } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** A resources field of container `c` named by the string `r` (one of RESOURCE_FIELDS). */
const resourceField = (c: string, r: string): string =>
  `(${r} == 'requests.cpu' ? ${c}.?resources.?requests.?cpu : ${r} == 'requests.memory' ? ${c}.?resources.?requests.?memory : ` +
  `${r} == 'limits.cpu' ? ${c}.?resources.?limits.?cpu : ${c}.?resources.?limits.?memory).orValue(dyn(null))`;

export const check: CelCheck = {
  message: 'Containers must set the required resource requests and limits.',
  variables: [
    // Regular and init containers only: ephemeral containers cannot set resources.
    {
      name: 'resourceContainers',
      expression:
        `variables.skipUpdate ? [] : (dyn(${listOr('object.spec.?initContainers.orValue([])')}) + dyn(${listOr('object.spec.?containers.orValue([])')}))` +
        `.filter(c, type(c) == map && !(${exempt('c')}))`,
    },
  ],
  expressions: [
    {
      expression: `!variables.resourceContainers.exists(c, variables.required.exists(r, !${nonEmpty(resourceField('c', 'r'))}))`,
      message: 'Containers must set the required resource requests and limits.',
      messageExpression:
        `${celString('container(s) ')} + variables.resourceContainers.filter(c, variables.required.exists(r, !${nonEmpty(resourceField('c', 'r'))}))` +
        `.map(c, '"' + c.?name.orValue('') + '"').join(', ') + ${celString(' must set resources ')} + variables.required.join(', ') + '.'`,
    },
  ],
};
