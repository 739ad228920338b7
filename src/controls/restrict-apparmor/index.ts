import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { perContainerList, pod, sample } from '../samples.js';
import { checksAppArmorFields } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-apparmor',
  title: 'Restrict AppArmor profiles',
  description: 'AppArmor may not be disabled: profiles must be RuntimeDefault or Localhost where set.',
  details: `PSS baseline check appArmorProfile, all versions. Annotations container.apparmor.security.beta.kubernetes.io/*
may be empty, runtime/default or localhost/<profile>. From Kubernetes 1.30 the fields
spec.securityContext.appArmorProfile.type and securityContext.appArmorProfile.type of every container must be
RuntimeDefault or Localhost when set (added inside the v1.0 check, so it depends on the apiserver version, which is
the bundle's target). Unset is allowed: baseline restricts overrides, it does not require a profile. Exceptions
can allow named profile types: allow: { appArmorTypes: ['Unconfined'] } (fields: per container; the pod field and
the annotations, which name containers only by name, when the whole pod is excepted).`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'appArmorProfile' },
  options: {
    allowedTypes: opt.oneOf('AppArmor profile types allowed where a profile is set. Default: RuntimeDefault, Localhost.', ['RuntimeDefault', 'Localhost', 'Unconfined']),
  },
  defaults: () => ({ allowedTypes: ['Localhost', 'RuntimeDefault'] }),
  params: { allowedTypes: 'strings', checkFields: 'boolean' },
  lower: (o, v) => ({ allowedTypes: [...o.allowedTypes].sort(), checkFields: checksAppArmorFields(v) }),
  samples: [
    sample('no-profile', 'allow', pod('plain')),
    sample('annotation-runtime-default', 'allow', pod('ann-rd', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' } })),
    sample('annotation-localhost', 'allow', pod('ann-lh', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/k8s-apparmor' } })),
    sample('annotation-empty', 'allow', pod('ann-empty', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': '' } })),
    sample('annotation-unconfined', 'deny', pod('ann-unconfined', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } })),
    sample('pod-field-runtime-default', 'allow', pod('pod-rd', { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } })),
    sample('pod-field-unconfined', 'deny', pod('pod-unconfined', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }), { from: 30 }),
    sample('pod-field-unconfined-before-1-30', 'allow', pod('pod-unconfined-old', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }), { to: 29 }),
    sample(
      'pod-unconfined-container-override',
      'deny',
      pod('pod-unconfined-override', {
        securityContext: { appArmorProfile: { type: 'Unconfined' } },
        containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }],
      }),
      { from: 30 },
    ),
    ...perContainerList('container-field-unconfined', 'deny', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }, { versions: { from: 30 } }),
    ...perContainerList('container-field-localhost', 'allow', { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-apparmor' } } }),
  ],
});
