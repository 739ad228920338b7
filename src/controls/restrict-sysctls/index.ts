import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { debugRunningPod, pod, sample } from '../samples.js';
import { baselineSysctls } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-sysctls',
  title: 'Restrict sysctls',
  description: 'Pods may only set safe, namespaced sysctls.',
  details: `PSS baseline check sysctls. Every spec.securityContext.sysctls[*].name must be in the allow-list for the
target version (exact match): kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range; + ip_local_reserved_ports
(v1.27); + tcp_keepalive_time, tcp_fin_timeout, tcp_keepalive_intvl, tcp_keepalive_probes (v1.29); + tcp_rmem,
tcp_wmem (v1.32); + tcp_slow_start_after_idle, tcp_notsent_lowat (v1.37). Exceptions can allow named sysctls:
allow: { sysctls: ['net.core.somaxconn'] }.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'sysctls' },
  options: {
    allowedSysctls: opt.strings('Sysctl names pods may set (exact). Default: the PSS list for the target version.'),
  },
  defaults: (v) => ({ allowedSysctls: baselineSysctls(v) }),
  params: { allowedSysctls: 'strings' },
  lower: (o) => ({ allowedSysctls: [...o.allowedSysctls].sort() }),
  samples: [
    sample('no-sysctls', 'allow', pod('plain')),
    sample('safe-sysctl', 'allow', pod('safe', { securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }] } })),
    sample('unsafe-sysctl', 'deny', pod('unsafe', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } })),
    // A debug container added to a running Pod with an unsafe sysctl: the whole Pod is judged again.
    debugRunningPod('debug-running-unsafe-sysctl-pod', pod('running-unsafe', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } })),
    sample('mixed-sysctls', 'deny', pod('mixed', { securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'net.core.somaxconn', value: '1024' }] } })),
    sample('reserved-ports-from-1-27', 'allow', pod('reserved-new', { securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_reserved_ports', value: '30000' }] } }), { from: 27 }),
    sample('reserved-ports-before-1-27', 'deny', pod('reserved-old', { securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_reserved_ports', value: '30000' }] } }), { to: 26 }),
    sample('keepalive-from-1-29', 'allow', pod('keepalive-new', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }] } }), { from: 29 }),
    sample('keepalive-before-1-29', 'deny', pod('keepalive-old', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }] } }), { to: 28 }),
    sample('tcp-rmem-from-1-32', 'allow', pod('rmem-new', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }] } }), { from: 32 }),
    sample('tcp-rmem-before-1-32', 'deny', pod('rmem-old', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }] } }), { to: 31 }),
    sample('notsent-lowat-from-1-37', 'allow', pod('lowat-new', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_notsent_lowat', value: '16384' }] } }), { from: 37 }),
    sample('notsent-lowat-before-1-37', 'deny', pod('lowat-old', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_notsent_lowat', value: '16384' }] } }), { to: 36 }),
  ],
});
