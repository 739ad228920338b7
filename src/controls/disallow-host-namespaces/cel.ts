/** The CEL check of disallow-host-namespaces (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { celString } from '../../lang/cel/cel.js';
import { allowedForPod, podCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Sharing the host network, PID or IPC namespace is not allowed.',
  expressions: (['hostNetwork', 'hostPID', 'hostIPC'] as const).map((f) =>
    podCheck(`object.spec.?${f}.orValue(false) != true`, `The pod must not set spec.${f} to true.`, [allowedForPod('hostNamespaces', celString(f))]),
  ),
};
