/** The CEL check of restrict-service-external-ips (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr, oldList } from '../../lang/cel/cel.js';
import { NAME } from '../../lang/cel/object.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Services must not use external IPs that are not allowed.',
  variables: [
    {
      name: 'unlistedIPs',
      // On an UPDATE, only the addresses the Service did not list before.
      expression: `${listOr('object.?spec.?externalIPs.orValue([])')}.filter(ip, !(ip in variables.allowedIPs) && !(ip in ${oldList('?spec.?externalIPs')}))`,
    },
  ],
  expressions: [
    {
      expression: 'size(variables.unlistedIPs) == 0',
      message: 'Services must not use external IPs that are not allowed.',
      messageExpression: `'Service ' + ${NAME} + ' must not use external IPs that are not allowed: ' + variables.unlistedIPs.map(ip, string(ip)).join(', ') + '.'`,
    },
  ],
};
