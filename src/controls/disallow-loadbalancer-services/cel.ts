/** The CEL check of disallow-loadbalancer-services (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { IS_UPDATE, mapOr, unchanged } from '../../lang/cel/cel.js';
import { NAME } from '../../lang/cel/object.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Services must not be of type LoadBalancer unless they carry an allowed annotation.',
  variables: [
    { name: 'annotations', expression: mapOr('object.?metadata.?annotations.orValue({})') },
    // An UPDATE of a Service that failed before with the same ports (a label, a finalizer, the load
    // balancer's address written to status) does not introduce the load balancer.
    {
      name: 'lbExisting',
      expression:
        `${IS_UPDATE} && oldObject.?spec.?type.orValue('') == 'LoadBalancer' && ${unchanged('?spec.?ports')} && ` +
        `!${mapOr('oldObject.?metadata.?annotations.orValue({})')}.exists(k, type(oldObject.metadata.annotations[k]) == string && (k + "=" + oldObject.metadata.annotations[k]) in variables.allowedAnnotations)`,
    },
  ],
  expressions: [
    {
      // Annotation keys cannot contain "=": joining each pair with "=" matches an entry split at its first "=".
      expression:
        "object.?spec.?type.orValue('') != 'LoadBalancer' || variables.lbExisting || " +
        'variables.annotations.exists(k, type(variables.annotations[k]) == string && (k + "=" + variables.annotations[k]) in variables.allowedAnnotations)',
      message: 'Services must not be of type LoadBalancer unless they carry an allowed annotation.',
      messageExpression: `'Service ' + ${NAME} + ' must not be of type LoadBalancer' + (size(variables.allowedAnnotations) == 0 ? '' : ' without one of the annotations ' + variables.allowedAnnotations.join(', ')) + '.'`,
    },
  ],
};
