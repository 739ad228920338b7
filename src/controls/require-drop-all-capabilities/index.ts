import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const DROP_ALL = { securityContext: { capabilities: { drop: ['ALL'] } } };

export default defineControl({
  id: 'require-drop-all-capabilities',
  title: 'Require dropping ALL capabilities (restricted)',
  description: 'Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE.',
  details: `PSS restricted check capabilities_restricted (v1.22; Windows exemption from v1.25). Every container must list
the exact string ALL in securityContext.capabilities.drop (lower-case "all" is rejected, as by PSA), and may only
add NET_BIND_SERVICE. A container without capabilities fails. Pods with spec.os.name: windows are exempt. Replaces
restrict-capabilities-baseline where both apply and this control is not relaxed more than that one (an exception
of this control alone keeps the baseline list in force). Exceptions can allow named capabilities:
allow: { capabilities: ['NET_ADMIN', 'NET_RAW'] } lets the excepted images' containers (any list) add exactly
those, and must still drop ALL.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-5'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'capabilities_restricted', since: 22, overrides: 'restrict-capabilities-baseline' },
  options: {
    allowedCapabilities: opt.strings('Capabilities containers may add back after dropping ALL. Default: NET_BIND_SERVICE.', ['NET_BIND_SERVICE']),
  },
  defaults: () => ({ allowedCapabilities: ['NET_BIND_SERVICE'] }),
  params: { allowedCapabilities: 'strings' },
  lower: (o) => ({ allowedCapabilities: [...o.allowedCapabilities].sort() }),
  samples: [
    sample('unset', 'deny', pod('plain')),
    ...perContainerList('drop-all', 'allow', DROP_ALL, { base: DROP_ALL }),
    ...perContainerList('no-drop', 'deny', { securityContext: { capabilities: {} } }, { base: DROP_ALL }),
    ...perContainerList('drop-lower-case-all', 'deny', { securityContext: { capabilities: { drop: ['all'] } } }, { base: DROP_ALL }),
    ...perContainerList('add-sys-admin', 'deny', { securityContext: { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } } }, { base: DROP_ALL }),
    inList('add-net-bind-service', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }),
    inList('drop-net-raw-only', 'deny', 'containers', { securityContext: { capabilities: { drop: ['NET_RAW'] } } }),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
  ],
});
