/** The CEL check of restrict-probe-lifecycle-host (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { containerCheck, nonEmpty } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

const PROBE_HANDLERS = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle.?postStart', 'lifecycle.?preStop'];

export const check: CelCheck = {
  message: 'Probes and lifecycle handlers must not set httpGet.host or tcpSocket.host.',
  expressions: [
    containerCheck(
      (c) =>
        `[${PROBE_HANDLERS.flatMap((h) => ['httpGet', 'tcpSocket'].map((a) => `${c}.?${h}.?${a}.?host.orValue('')`)).join(', ')}]` +
        `.exists(h, ${nonEmpty('h')})`,
      'must not set a host in probes or lifecycle handlers (httpGet.host, tcpSocket.host)',
    ),
  ],
};
