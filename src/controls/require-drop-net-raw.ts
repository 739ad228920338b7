import { NO_OPTIONS, defineControl } from './types.js';
import { inList, perContainerList, pod, sample } from './samples.js';

const DROP = { securityContext: { capabilities: { drop: ['NET_RAW'] } } };

export default defineControl({
  id: 'require-drop-net-raw',
  title: 'Require dropping NET_RAW',
  description: 'Containers must drop the NET_RAW capability (or ALL).',
  details: `NSA/CISA "prevent privileged containers / restrict capabilities". Every container (init, regular,
ephemeral) must list NET_RAW, CAP_NET_RAW or ALL in securityContext.capabilities.drop, in any letter case
(container runtimes read capability names that way); NET_RAW is in the default set container runtimes grant
and allows raw-socket spoofing. The PSS baseline only forbids adding it. A container without a drop list
fails. Pods with spec.os.name: windows are exempt (no Linux capabilities). Redundant but harmless where
require-drop-all-capabilities is enforced.`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-5'],
  ...NO_OPTIONS,
  samples: [
    sample('unset', 'deny', pod('plain')),
    ...perContainerList('drop-net-raw', 'allow', DROP, { base: DROP }),
    ...perContainerList('drop-other', 'deny', { securityContext: { capabilities: { drop: ['SYS_ADMIN'] } } }, { base: DROP }),
    ...perContainerList('no-capabilities', 'deny', { securityContext: {} }, { base: DROP }),
    inList('drop-all', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'] } } }),
    inList('drop-lower-case-all', 'allow', 'containers', { securityContext: { capabilities: { drop: ['all'] } } }),
    inList('drop-cap-net-raw', 'allow', 'containers', { securityContext: { capabilities: { drop: ['CAP_NET_RAW'] } } }),
    inList('drop-net-raw-lower-case', 'allow', 'containers', { securityContext: { capabilities: { drop: ['net_raw'] } } }),
    inList('add-net-raw-drop-all', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
  ],
});
