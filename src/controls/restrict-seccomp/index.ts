import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { debugRunningPod, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-seccomp',
  title: 'Restrict seccomp profiles (baseline)',
  description: 'Seccomp may not be disabled: profile types must be RuntimeDefault or Localhost where set.',
  details: `PSS baseline check seccompProfile_baseline (v1.19 semantics; every supported target is newer).
spec.securityContext.seccompProfile.type and securityContext.seccompProfile.type of every container must be
RuntimeDefault or Localhost when set; unset is allowed; Unconfined fails at either level. The seccomp alpha
annotations are not looked at. Where require-seccomp-profile applies it replaces this control, but only where it is at least as strict: where
require-seccomp-profile is relaxed (excepted, off, warn or audit) Unconfined stays denied here unless this
control is relaxed the same way. Exceptions can allow named profile types: allow: { seccompTypes: ['Unconfined'] }
(container-level for the excepted images' containers; the pod level when every container is excepted).`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-8', 'NSA-LOG-3'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'seccompProfile_baseline' },
  options: {
    allowedTypes: opt.oneOf('Seccomp profile types allowed where a profile is set. Default: RuntimeDefault, Localhost.', ['RuntimeDefault', 'Localhost', 'Unconfined']),
  },
  defaults: () => ({ allowedTypes: ['Localhost', 'RuntimeDefault'] }),
  params: { allowedTypes: 'strings' },
  lower: (o) => ({ allowedTypes: [...o.allowedTypes].sort() }),
  samples: [
    sample('unset', 'allow', pod('plain')),
    sample('pod-runtime-default', 'allow', pod('pod-rd', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } })),
    sample('pod-unconfined', 'deny', pod('pod-unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } } })),
    // A debug container added to a running Pod whose pod-level profile is Unconfined: the whole Pod is judged again.
    debugRunningPod('debug-running-pod-unconfined', pod('running-pod-unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } } })),
    sample(
      'pod-unconfined-container-override',
      'deny',
      pod('pod-unconfined-override', {
        securityContext: { seccompProfile: { type: 'Unconfined' } },
        containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }],
      }),
    ),
    ...perContainerList('container-unconfined', 'deny', { securityContext: { seccompProfile: { type: 'Unconfined' } } }),
    ...perContainerList('container-localhost', 'allow', { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } }),
    sample('alpha-annotation-ignored', 'allow', pod('annotation', {}, { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } })),
  ],
});
