import { cel, defineControl, rego } from '../types.js';
import { apiServerRejects, perContainerList, pod, sample } from '../samples.js';
import { userNamespaceRelaxation } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-proc-mount',
  title: 'Restrict /proc mount type',
  description: 'Containers must use the Default /proc mount (Unmasked only in user-namespaced pods from v1.35).',
  details: `PSS baseline check procMount. securityContext.procMount of every container must be unset or Default. From
v1.35, pods with spec.hostUsers: false (user namespaces) may use any value. The restricted profile from v1.35
keeps the unconditional rule (require-default-proc-mount), which replaces this control where both apply, but
only where it is at least as strict: where require-default-proc-mount is relaxed this control keeps applying
unless it is relaxed the same way.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'procMount' },
  options: {},
  defaults: () => ({}),
  params: { userNamespaceRelaxation: 'boolean' },
  lower: (_o, v) => ({ userNamespaceRelaxation: userNamespaceRelaxation(v) }),
  samples: [
    sample('unset', 'allow', pod('plain')),
    ...perContainerList('default', 'allow', { securityContext: { procMount: 'Default' } }),
    // Unmasked in the host's user namespace: the API server refuses it (hostUsers must be false), the engines deny it.
    ...apiServerRejects(perContainerList('unmasked', 'deny', { securityContext: { procMount: 'Unmasked' } }), '`hostUsers` must be false to use `Unmasked`'),
    ...perContainerList('unmasked-user-namespace-before-1-35', 'deny', { securityContext: { procMount: 'Unmasked' } }, { podSpec: { hostUsers: false }, versions: { to: 34 } }),
    ...perContainerList('unmasked-user-namespace-from-1-35', 'allow', { securityContext: { procMount: 'Unmasked' } }, { podSpec: { hostUsers: false }, versions: { from: 35 } }),
  ],
});
