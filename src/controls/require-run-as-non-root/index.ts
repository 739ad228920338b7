import { cel, defineControl, rego } from '../types.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { userNamespaceRelaxation } from '../../pss/versions.js';
import { check } from './cel.js';

const NON_ROOT = { runAsNonRoot: true };

export default defineControl({
  id: 'require-run-as-non-root',
  title: 'Require runAsNonRoot',
  description: 'Containers must run with runAsNonRoot: true, set on the pod or on every container.',
  details: `PSS restricted check runAsNonRoot. An explicit runAsNonRoot: false at pod level or on any container fails.
A container that leaves it unset passes only if the pod level sets true. From v1.35, pods with spec.hostUsers: false
(user namespaces) are exempt. The kubelet enforces the runtime side (an image whose user is 0 fails to start).`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-1', 'NSA-POD-7'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'runAsNonRoot' },
  options: {},
  defaults: () => ({}),
  params: { userNamespaceRelaxation: 'boolean' },
  lower: (_o, v) => ({ userNamespaceRelaxation: userNamespaceRelaxation(v) }),
  samples: [
    sample('unset', 'deny', pod('plain')),
    sample('pod-true', 'allow', pod('pod-true', { securityContext: NON_ROOT })),
    sample('pod-false', 'deny', pod('pod-false', { securityContext: { runAsNonRoot: false } })),
    sample(
      'pod-false-containers-true',
      'deny',
      pod('pod-false-override', { securityContext: { runAsNonRoot: false }, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: NON_ROOT }] }),
    ),
    inList('containers-true-no-pod', 'allow', 'containers', { securityContext: NON_ROOT }),
    ...perContainerList('container-false-pod-true', 'deny', { securityContext: { runAsNonRoot: false } }, { podSpec: { securityContext: NON_ROOT } }),
    ...perContainerList('container-unset-pod-unset', 'deny', { securityContext: {} }, { base: { securityContext: NON_ROOT } }),
    sample('run-as-user-only', 'deny', pod('uid-only', { securityContext: { runAsUser: 1000 } })),
    sample('user-namespace-before-1-35', 'deny', pod('userns-old', { hostUsers: false }), { to: 34 }),
    sample('user-namespace-from-1-35', 'allow', pod('userns-new', { hostUsers: false, securityContext: { runAsNonRoot: false } }), { from: 35 }),
  ],
});
