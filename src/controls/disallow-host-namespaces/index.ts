import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { debugRunningPod, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'disallow-host-namespaces',
  title: 'Disallow host namespaces',
  description: 'Pods must not share the host network, PID or IPC namespace.',
  details: `PSS baseline check hostNamespaces, all versions. spec.hostNetwork, spec.hostPID and spec.hostIPC must be
unset or false. spec.hostUsers is not part of this check (hostUsers: false is the safer value). Note that API
defaulting copies containerPort into hostPort for hostNetwork pods, so those also trip restrict-host-ports. Exceptions can allow one host namespace without the others:
allow: { hostNamespaces: ['hostPID'] }.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'high',
  nsa: ['NSA-POD-6'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'hostNamespaces' },
  ...NO_OPTIONS,
  samples: [
    sample('no-host-namespaces', 'allow', pod('plain')),
    sample('all-false', 'allow', pod('all-false', { hostNetwork: false, hostPID: false, hostIPC: false })),
    sample('host-network', 'deny', pod('host-network', { hostNetwork: true })),
    sample('host-pid', 'deny', pod('host-pid', { hostPID: true })),
    sample('host-ipc', 'deny', pod('host-ipc', { hostIPC: true })),
    sample('host-users-false', 'allow', pod('host-users-false', { hostUsers: false })),
    // A debug container added to a running Pod that shares the host's network: the whole Pod is judged again.
    debugRunningPod('debug-running-host-network-pod', pod('running-host-network', { hostNetwork: true })),
  ],
});
