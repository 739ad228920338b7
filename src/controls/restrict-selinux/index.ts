import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { perContainerList, pod, sample } from '../samples.js';
import { baselineSelinuxTypes } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-selinux',
  title: 'Restrict SELinux options',
  description: 'SELinux type must be an allowed container type; custom user and role are forbidden.',
  details: `PSS baseline check seLinuxOptions. For spec.securityContext.seLinuxOptions and every container's
securityContext.seLinuxOptions: type must be empty or one of container_t, container_init_t, container_kvm_t (and
container_engine_t from v1.31); user and role must be empty; level is not restricted. A bad value at pod or
container level fails regardless of overrides. Exceptions can allow named types: allow: { seLinuxTypes: ['spc_t'] }
(compared exactly; user and role stay denied).`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'seLinuxOptions' },
  options: {
    allowedTypes: opt.strings('SELinux types allowed besides the empty string. Default: the PSS list for the target version.', ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']),
  },
  defaults: (v) => ({ allowedTypes: baselineSelinuxTypes(v) }),
  params: { allowedTypes: 'strings' },
  lower: (o) => ({ allowedTypes: [...o.allowedTypes].sort() }),
  samples: [
    sample('no-selinux', 'allow', pod('plain')),
    sample('pod-container-t-with-level', 'allow', pod('pod-ct', { securityContext: { seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' } } })),
    sample('pod-empty-strings', 'allow', pod('pod-empty', { securityContext: { seLinuxOptions: { type: '', user: '', role: '' } } })),
    sample('pod-spc-t', 'deny', pod('pod-spc', { securityContext: { seLinuxOptions: { type: 'spc_t' } } })),
    sample('pod-user', 'deny', pod('pod-user', { securityContext: { seLinuxOptions: { user: 'system_u' } } })),
    sample('pod-role', 'deny', pod('pod-role', { securityContext: { seLinuxOptions: { role: 'system_r' } } })),
    ...perContainerList('container-spc-t', 'deny', { securityContext: { seLinuxOptions: { type: 'spc_t' } } }),
    ...perContainerList('container-init-t', 'allow', { securityContext: { seLinuxOptions: { type: 'container_init_t' } } }),
    sample('container-engine-t-before-1-31', 'deny', pod('engine-t-old', { securityContext: { seLinuxOptions: { type: 'container_engine_t' } } }), { to: 30 }),
    sample('container-engine-t-from-1-31', 'allow', pod('engine-t-new', { securityContext: { seLinuxOptions: { type: 'container_engine_t' } } }), { from: 31 }),
  ],
});
