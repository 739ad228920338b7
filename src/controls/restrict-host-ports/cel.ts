/** The CEL check of restrict-host-ports (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { allowanceImage, allowanceNamed, allowanceUnscoped, containerCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** Host port `port` is in a range an exception with allow.hostPorts gives container `c` (gatekeeper.rego.hbs). */
function hostPortAllowedFor(port: string, c: string): string {
  return (
    `variables.allowances.exists(w, (${allowanceUnscoped('w')} || ${allowanceNamed('w')} || ${allowanceImage('w', c)}) && ` +
    `w.?hostPorts.orValue([]).exists(r, ${port} >= r.min && ${port} <= r.max))`
  );
}

export const check: CelCheck = {
  message: 'Host ports are not allowed (hostPort must be unset or 0, or in an allowed range).',
  expressions: [
    containerCheck(
      (c) =>
        `${listOr(`${c}.?ports.orValue([])`)}.exists(p, type(p) == map && p.?hostPort.orValue(0) != null && p.?hostPort.orValue(0) != 0 && ` +
        `!variables.allowedRanges.exists(r, p.hostPort >= r.min && p.hostPort <= r.max) && !${hostPortAllowedFor('p.hostPort', c)})`,
      'must not use host ports outside the allowed ranges',
    ),
  ],
};
