import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { apiServerRejects, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'require-default-proc-mount',
  title: 'Require the Default /proc mount (restricted)',
  description: 'Containers must use the Default /proc mount, even in user-namespaced pods.',
  details: `PSS restricted check procMount_restricted, from v1.35 (targets below 1.35 skip it; there the baseline
control already applies unconditionally). securityContext.procMount of every container must be unset or Default,
whatever spec.hostUsers says. Replaces restrict-proc-mount where both apply and this
control is not relaxed more than that one.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'procMount_restricted', since: 35, overrides: 'restrict-proc-mount' },
  ...NO_OPTIONS,
  samples: [
    sample('unset', 'allow', pod('plain')),
    ...perContainerList('default', 'allow', { securityContext: { procMount: 'Default' } }),
    // Unmasked in the host's user namespace: the API server refuses it (hostUsers must be false), the engines deny it.
    ...apiServerRejects(perContainerList('unmasked', 'deny', { securityContext: { procMount: 'Unmasked' } }), '`hostUsers` must be false to use `Unmasked`'),
    ...perContainerList('unmasked-user-namespace', 'deny', { securityContext: { procMount: 'Unmasked' } }, { podSpec: { hostUsers: false } }),
  ],
});
