import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { apiServerRejects, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'disallow-host-process',
  title: 'Disallow Windows HostProcess',
  description: 'Pods and containers must not run as Windows HostProcess (windowsOptions.hostProcess: true).',
  details: `PSS baseline check windowsHostProcess, all versions. Fails when spec.securityContext.windowsOptions.hostProcess
or securityContext.windowsOptions.hostProcess of any container (init, regular, ephemeral) is true. Unset and false
are allowed. Pod and container level are checked independently: a container-level false does not excuse a
pod-level true.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'high',
  nsa: ['NSA-POD-5', 'NSA-POD-6'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'windowsHostProcess' },
  ...NO_OPTIONS,
  samples: [
    sample('no-windows-options', 'allow', pod('plain')),
    sample('pod-host-process-false', 'allow', pod('pod-false', { securityContext: { windowsOptions: { hostProcess: false } } })),
    sample('pod-host-process-true', 'deny', pod('pod-true', { os: { name: 'windows' }, hostNetwork: true, securityContext: { windowsOptions: { hostProcess: true } } })),
    // The API server admits hostProcess only with hostNetwork: true (every sample here sets it). A container
    // that contradicts the pod-level value, and a hostProcess init or ephemeral container beside a plain
    // container, are refused by its validation: the engines still deny them (an older or unvalidated object).
    {
      ...sample(
        'pod-true-container-false',
        'deny',
        pod('pod-true-container-false', {
          hostNetwork: true,
          securityContext: { windowsOptions: { hostProcess: true } },
          containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { windowsOptions: { hostProcess: false } } }],
        }),
      ),
      apiServerRejects: 'pod hostProcess value must be identical if both are specified',
    },
    ...apiServerRejects(perContainerList('container-host-process-true', 'deny', { securityContext: { windowsOptions: { hostProcess: true } } }, { podSpec: { hostNetwork: true } }), {
      'container-host-process-true-init-containers': 'If pod contains any hostProcess containers then all containers must be HostProcess containers',
      'container-host-process-true-ephemeral-containers': 'If pod contains any hostProcess containers then all containers must be HostProcess containers',
    }),
    ...perContainerList('container-host-process-false', 'allow', { securityContext: { windowsOptions: { hostProcess: false } } }),
  ],
});
