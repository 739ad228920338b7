import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const APE_FALSE = { securityContext: { allowPrivilegeEscalation: false } };

export default defineControl({
  id: 'disallow-privilege-escalation',
  title: 'Disallow privilege escalation',
  description: 'Every container must set securityContext.allowPrivilegeEscalation to false.',
  details: `PSS restricted check allowPrivilegeEscalation (v1.8; Windows exemption from v1.25). Every container (init,
regular, ephemeral) must set securityContext.allowPrivilegeEscalation explicitly to false; unset fails because the
runtime default allows escalation. Pods with spec.os.name: windows are exempt.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-7'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'allowPrivilegeEscalation' },
  ...NO_OPTIONS,
  samples: [
    sample('unset', 'deny', pod('plain')),
    inList('false-everywhere', 'allow', 'containers', APE_FALSE, { base: APE_FALSE }),
    inList('false-everywhere-with-init', 'allow', 'initContainers', APE_FALSE, { base: APE_FALSE }),
    ...perContainerList('true', 'deny', { securityContext: { allowPrivilegeEscalation: true } }, { base: APE_FALSE }),
    ...perContainerList('missing', 'deny', { securityContext: {} }, { base: APE_FALSE }),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
  ],
});
