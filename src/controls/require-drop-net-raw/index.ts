import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const DROP = { securityContext: { capabilities: { drop: ['NET_RAW'] } } };

export default defineControl({
  id: 'require-drop-net-raw',
  title: 'Require dropping NET_RAW',
  description: 'Containers must drop the NET_RAW capability (or ALL) and not add it back.',
  details: `NSA/CISA "prevent privileged containers / restrict capabilities". Every container (init, regular,
ephemeral) must list NET_RAW or ALL in securityContext.capabilities.drop, in any letter case (container runtimes
upper-case the names), and must not add it back: an entry of securityContext.capabilities.add that reads NET_RAW
or ALL, in any case and with or without a CAP_ prefix, fails. NET_RAW is in the default set container runtimes
grant and allows raw-socket spoofing. "CAP_NET_RAW" in drop does not count: the CRI passes names without the
prefix and containerd prepends CAP_, so it drops the unknown CAP_CAP_NET_RAW and NET_RAW stays. In add the
prefix counts as adding: containerd would ask for the unknown CAP_CAP_NET_RAW, but a runtime that strips the
prefix grants NET_RAW, and no valid spec needs it. The PSS baseline only forbids adding it
(restrict-capabilities-baseline, exact names). A container without a drop list fails. Pods with spec.os.name:
windows are exempt (no Linux capabilities). Redundant but harmless where require-drop-all-capabilities is enforced.
Exceptions can allow NET_RAW: allow: { capabilities: ['NET_RAW'] } lets the excepted images' containers keep it and
add it by that exact name (ALL, CAP_NET_RAW and other spellings in add still fail).`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-5'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NO_OPTIONS,
  samples: [
    sample('unset', 'deny', pod('plain')),
    ...perContainerList('drop-net-raw', 'allow', DROP, { base: DROP }),
    ...perContainerList('drop-other', 'deny', { securityContext: { capabilities: { drop: ['SYS_ADMIN'] } } }, { base: DROP }),
    ...perContainerList('no-capabilities', 'deny', { securityContext: {} }, { base: DROP }),
    inList('drop-all', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'] } } }),
    inList('drop-lower-case-all', 'allow', 'containers', { securityContext: { capabilities: { drop: ['all'] } } }),
    inList('drop-net-raw-lower-case', 'allow', 'containers', { securityContext: { capabilities: { drop: ['net_raw'] } } }),
    inList('drop-all-add-net-bind-service', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }),
    // containerd prepends CAP_ to every name: this drops CAP_CAP_NET_RAW and NET_RAW stays.
    ...perContainerList('drop-cap-net-raw', 'deny', { securityContext: { capabilities: { drop: ['CAP_NET_RAW'] } } }, { base: DROP }),
    inList('drop-cap-all', 'deny', 'containers', { securityContext: { capabilities: { drop: ['CAP_ALL'] } } }),
    // Dropping everything and adding NET_RAW back leaves NET_RAW in the container.
    ...perContainerList('drop-all-add-net-raw', 'deny', { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_RAW'] } } }, { base: DROP }),
    inList('drop-all-add-lower-case-net-raw', 'deny', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['net_raw'] } } }),
    inList('drop-all-add-cap-net-raw', 'deny', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['CAP_NET_RAW'] } } }),
    inList('drop-all-add-all', 'deny', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['ALL'] } } }),
    inList('drop-net-raw-add-lower-case-all', 'deny', 'containers', { securityContext: { capabilities: { drop: ['NET_RAW'], add: ['all'] } } }),
    inList('drop-net-raw-add-net-raw', 'deny', 'containers', { securityContext: { capabilities: { drop: ['NET_RAW'], add: ['NET_RAW'] } } }),
    inList('drop-all-add-net-raw-look-alike', 'allow', 'containers', { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_RAWX', 'CAP_CAP_NET_RAW'] } } }),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
  ],
});
