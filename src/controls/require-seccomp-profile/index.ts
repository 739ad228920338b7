import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const RD = { seccompProfile: { type: 'RuntimeDefault' } };

export default defineControl({
  id: 'require-seccomp-profile',
  title: 'Require a seccomp profile (restricted)',
  description: 'Every container must run with a RuntimeDefault or Localhost seccomp profile, set on the pod or the container.',
  details: `PSS restricted check seccompProfile_restricted (v1.19; Windows exemption from v1.25). Each container passes
if it sets securityContext.seccompProfile.type to RuntimeDefault or Localhost, or leaves it unset while the pod
level sets a valid type. An explicit bad value at pod level fails even if every container overrides it. Pods with
spec.os.name: windows are exempt. Replaces restrict-seccomp where both apply and this
control is not relaxed more than that one (warn, audit or an exception here keeps Unconfined denied there).
Exceptions can allow named profile types: allow: { seccompTypes: ['Unconfined'] } (list restrict-seccomp in the
same exception, or Unconfined stays denied there); a container still has to set a profile, or inherit the pod's.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-8', 'NSA-LOG-3'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'seccompProfile_restricted', overrides: 'restrict-seccomp' },
  options: {
    allowedTypes: opt.oneOf('Seccomp profile types that count as confined. Default: RuntimeDefault, Localhost.', ['RuntimeDefault', 'Localhost']),
  },
  defaults: () => ({ allowedTypes: ['Localhost', 'RuntimeDefault'] }),
  params: { allowedTypes: 'strings' },
  lower: (o) => ({ allowedTypes: [...o.allowedTypes].sort() }),
  samples: [
    sample('unset', 'deny', pod('plain')),
    sample('pod-runtime-default', 'allow', pod('pod-rd', { securityContext: RD })),
    ...perContainerList('pod-set-container-unset', 'allow', {}, { podSpec: { securityContext: RD } }),
    ...perContainerList('container-unset-no-pod', 'deny', { securityContext: {} }, { base: { securityContext: RD } }),
    inList('container-set-no-pod', 'allow', 'containers', { securityContext: RD }),
    ...perContainerList('container-unconfined-over-pod', 'deny', { securityContext: { seccompProfile: { type: 'Unconfined' } } }, { podSpec: { securityContext: RD } }),
    sample(
      'pod-unconfined-all-containers-override',
      'deny',
      pod('pod-unconfined-override', {
        securityContext: { seccompProfile: { type: 'Unconfined' } },
        containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: RD }],
      }),
    ),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
    sample('linux-os-unset', 'deny', pod('linux', { os: { name: 'linux' } })),
  ],
});
