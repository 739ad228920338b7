import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { perContainerList, pod, sample } from '../samples.js';
import { BASELINE_CAPABILITIES } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-capabilities-baseline',
  title: 'Restrict added capabilities (baseline)',
  description: 'Containers may only add capabilities from the baseline allow-list.',
  details: `PSS baseline check capabilities_baseline, all versions. Every entry of securityContext.capabilities.add in
every container must be one of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE,
SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT. Matching is exact and case-sensitive: "chown" and "CAP_CHOWN" are
rejected. drop is not inspected. Where require-drop-all-capabilities applies, it replaces this control (as the
restricted profile replaces the baseline check), but only where it is at least as strict: where it is relaxed
(excepted, off, a milder mode, allowed capabilities) this list keeps applying unless this control is relaxed the
same way. Exceptions can allow named capabilities: allow: { capabilities: ['NET_ADMIN'] } lets the excepted
images' containers add exactly those.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'high',
  nsa: ['NSA-POD-5'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'capabilities_baseline' },
  options: {
    allowedCapabilities: opt.strings('Capabilities containers may add (exact, case-sensitive names). Default: the PSS baseline list.', BASELINE_CAPABILITIES),
  },
  defaults: () => ({ allowedCapabilities: [...BASELINE_CAPABILITIES] }),
  params: { allowedCapabilities: 'strings' },
  lower: (o) => ({ allowedCapabilities: [...o.allowedCapabilities].sort() }),
  samples: [
    sample('no-capabilities', 'allow', pod('plain')),
    ...perContainerList('add-allowed', 'allow', { securityContext: { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE'] } } }),
    ...perContainerList('add-sys-admin', 'deny', { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }),
    sample('add-lower-case', 'deny', pod('add-lower-case', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { capabilities: { add: ['chown'] } } }] })),
    sample('add-cap-prefix', 'deny', pod('add-cap-prefix', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { capabilities: { add: ['CAP_CHOWN'] } } }] })),
    sample('add-net-raw', 'deny', pod('add-net-raw', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { capabilities: { add: ['NET_RAW'] } } }] })),
    sample('drop-only', 'allow', pod('drop-only', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { capabilities: { drop: ['ALL'] } } }] })),
  ],
});
