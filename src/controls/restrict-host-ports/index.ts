import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { apiServerRejects, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-host-ports',
  title: 'Restrict host ports',
  description: 'Containers must not bind host ports (hostPort unset or 0), except in allowed ranges.',
  details: `PSS baseline check hostPorts, all versions. ports[*].hostPort of every container must be unset or 0.
PSA supports no allow-list; the allowedRanges option is a kubeharden extension (stricter-or-equal to PSA only when
empty, which is the default). hostNetwork pods get hostPort defaulted from containerPort by the API server.
Exceptions can allow named ports for the excepted images' containers (any list): allow: { hostPorts: [9100,
{ min: 9200, max: 9201 }] }.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'medium',
  nsa: ['NSA-POD-6', 'NSA-NET-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'hostPorts' },
  options: {
    allowedRanges: opt.portRanges('Host port ranges that are allowed anyway (inclusive). Default: none, as PSS.'),
  },
  defaults: () => ({ allowedRanges: [] }),
  params: { allowedRanges: 'ranges' },
  lower: (o) => ({ allowedRanges: [...o.allowedRanges].sort((a, b) => a.min - b.min || a.max - b.max) }),
  samples: [
    sample('container-port-only', 'allow', pod('container-port', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', ports: [{ containerPort: 8080 }] }] })),
    sample('host-port-zero', 'allow', pod('host-port-zero', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', ports: [{ containerPort: 8080, hostPort: 0 }] }] })),
    // The API server refuses ports on an ephemeral container: that sample is a validation proof.
    ...apiServerRejects(perContainerList('host-port', 'deny', { ports: [{ containerPort: 80 }, { containerPort: 8080, hostPort: 8080 }] }), {
      'host-port-ephemeral-containers': 'ports: Forbidden: cannot be set for an Ephemeral Container',
    }),
  ],
});
