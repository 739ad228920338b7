import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { apiServerRejects, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-probe-lifecycle-host',
  title: 'Restrict probe and lifecycle hosts',
  description: 'Probes and lifecycle handlers must not target another host (httpGet.host / tcpSocket.host).',
  details: `PSS baseline check hostProbesAndHostLifecycle, from v1.34 (targets below 1.34 skip this control, so the
policies stay in step with PSA). For every container, livenessProbe, readinessProbe, startupProbe and
lifecycle.postStart/preStop must leave httpGet.host and tcpSocket.host unset or empty. Setting a host turns the
kubelet into an SSRF proxy towards the node's network.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-6'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'hostProbesAndHostLifecycle', since: 34 },
  ...NO_OPTIONS,
  samples: [
    sample('probe-without-host', 'allow', pod('probe-no-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', livenessProbe: { httpGet: { path: '/healthz', port: 8080 } } }] })),
    sample('probe-empty-host', 'allow', pod('probe-empty-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', readinessProbe: { tcpSocket: { host: '', port: 8080 } } }] })),
    // An init container may carry probes only as a sidecar (restartPolicy: Always); an ephemeral container
    // never (the API server refuses probes on it: the engines still deny it).
    ...apiServerRejects(perContainerList('liveness-http-host', 'deny', { livenessProbe: { httpGet: { host: '169.254.169.254', path: '/', port: 80 } } }, { inList: { initContainers: { restartPolicy: 'Always' } } }), {
      'liveness-http-host-ephemeral-containers': 'livenessProbe: Forbidden: cannot be set for an Ephemeral Container',
    }),
    sample('readiness-tcp-host', 'deny', pod('readiness-tcp-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', readinessProbe: { tcpSocket: { host: '10.0.0.1', port: 22 } } }] })),
    sample('startup-http-host', 'deny', pod('startup-http-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', startupProbe: { httpGet: { host: 'localhost', port: 10250 } } }] })),
    sample('post-start-http-host', 'deny', pod('post-start-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', lifecycle: { postStart: { httpGet: { host: 'example.com', port: 80 } } } }] })),
    sample('pre-stop-tcp-host', 'deny', pod('pre-stop-host', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', lifecycle: { preStop: { tcpSocket: { host: 'example.com', port: 80 } } } }] })),
  ],
});
