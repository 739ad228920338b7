import { cel, defineControl, rego } from '../types.js';
import { perContainerList, pod, sample } from '../samples.js';
import { userNamespaceRelaxation } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'disallow-run-as-root-user',
  title: 'Disallow runAsUser 0',
  description: 'Pods and containers must not set runAsUser to 0 (root).',
  details: `PSS restricted check runAsUser (v1.23; user-namespace exemption from v1.35). spec.securityContext.runAsUser
and securityContext.runAsUser of every container must not be 0; unset is fine (require-run-as-non-root covers it).
An explicit pod-level 0 fails even if every container overrides it. From v1.35, pods with spec.hostUsers: false are
exempt.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'high',
  nsa: ['NSA-POD-1', 'NSA-POD-7'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'runAsUser', since: 23 },
  options: {},
  defaults: () => ({}),
  params: { userNamespaceRelaxation: 'boolean' },
  lower: (_o, v) => ({ userNamespaceRelaxation: userNamespaceRelaxation(v) }),
  samples: [
    sample('unset', 'allow', pod('plain')),
    sample('pod-1000', 'allow', pod('pod-1000', { securityContext: { runAsUser: 1000 } })),
    sample('pod-0', 'deny', pod('pod-0', { securityContext: { runAsUser: 0 } })),
    sample('pod-0-containers-override', 'deny', pod('pod-0-override', { securityContext: { runAsUser: 0 }, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { runAsUser: 1000 } }] })),
    ...perContainerList('container-0', 'deny', { securityContext: { runAsUser: 0 } }, { podSpec: { securityContext: { runAsUser: 1000 } } }),
    ...perContainerList('container-1000', 'allow', { securityContext: { runAsUser: 1000 } }),
    sample('user-namespace-before-1-35', 'deny', pod('userns-old', { hostUsers: false, securityContext: { runAsUser: 0 } }), { to: 34 }),
    sample('user-namespace-from-1-35', 'allow', pod('userns-new', { hostUsers: false, securityContext: { runAsUser: 0 } }), { from: 35 }),
  ],
});
