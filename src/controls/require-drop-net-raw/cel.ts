/** The CEL check of require-drop-net-raw (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { allowedForContainer, capabilities, containerCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must drop NET_RAW (or ALL) and not add it back.',
  expressions: [
    // Runtimes upper-case the names and containerd prepends CAP_: "CAP_NET_RAW" in drop leaves NET_RAW.
    // An exception with allow.capabilities naming NET_RAW lets the container keep it, and add it by that exact name.
    containerCheck(
      (c) => `!${capabilities(c, 'drop')}.exists(d, type(d) == string && d.upperAscii() in ['NET_RAW', 'ALL']) && !(${allowedForContainer('capabilities', "'NET_RAW'", c)})`,
      'must drop NET_RAW (or ALL) in securityContext.capabilities.drop',
      ['variables.windows'],
    ),
    // In add the CAP_ prefix counts too: a runtime that strips it would grant NET_RAW.
    containerCheck(
      (c) =>
        `${capabilities(c, 'add')}.exists(a, type(a) == string && a.upperAscii() in ['NET_RAW', 'ALL', 'CAP_NET_RAW', 'CAP_ALL'] && ` +
        `!(a == 'NET_RAW' && ${allowedForContainer('capabilities', "'NET_RAW'", c)}))`,
      'must not add NET_RAW (or ALL) back in securityContext.capabilities.add',
      ['variables.windows'],
    ),
  ],
};
