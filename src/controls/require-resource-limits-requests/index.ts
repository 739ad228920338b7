import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export const RESOURCE_FIELDS = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'] as const;
const FULL = { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } } };

export default defineControl({
  id: 'require-resource-limits-requests',
  title: 'Require resource requests and limits',
  description: 'Containers must set the required resource requests and limits (default: CPU and memory requests, memory limit).',
  details: `NSA/CISA "resource policies": without requests and limits one pod can starve a node. Every regular and init
container (sidecars included) must set each entry of the required option under resources (a present,
non-empty quantity; "0" counts as set). The default requires requests.cpu, requests.memory and
limits.memory; limits.cpu is not required by default because CPU limits throttle rather than protect.
Ephemeral containers are not checked: the API does not allow them to set resources. Known gaps: defaults
injected by a LimitRange reach Pods but not workload templates, so a workload can fail where its Pods would
pass (set the values in the template); pod-level spec.resources is not taken into account.`,
  category: 'Resources (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  options: {
    required: opt.oneOf('Which of requests.cpu, requests.memory, limits.cpu, limits.memory every container must set. Default: requests.cpu, requests.memory, limits.memory.', RESOURCE_FIELDS),
  },
  defaults: () => ({ required: ['requests.cpu', 'requests.memory', 'limits.memory'] }),
  params: { required: 'strings' },
  lower: (o) => ({ required: RESOURCE_FIELDS.filter((f) => o.required.includes(f)) }),
  samples: [
    sample('unset', 'deny', pod('plain')),
    ...perContainerList('all-set', 'allow', FULL, { base: FULL }).filter((s) => !s.name.endsWith('ephemeral-containers')),
    ...perContainerList('no-resources', 'deny', { resources: {} }, { base: FULL }).filter((s) => !s.name.endsWith('ephemeral-containers')),
    inList('default-set-without-cpu-limit', 'allow', 'containers', { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } } }),
    inList('no-memory-limit', 'deny', 'containers', { resources: { requests: { cpu: '100m', memory: '128Mi' } } }),
    inList('no-cpu-request', 'deny', 'initContainers', { resources: { requests: { memory: '128Mi' }, limits: { memory: '128Mi' } } }, { base: FULL }),
    inList('zero-quantity', 'allow', 'containers', { resources: { requests: { cpu: '0', memory: '128Mi' }, limits: { memory: '128Mi' } } }),
    // Ephemeral containers cannot set resources (the API server refuses them there): adding a debug container
    // without any passes.
    (() => {
      const s = inList('debug-container-without-resources', 'allow', 'ephemeralContainers', {}, { base: FULL });
      const after = structuredClone(s.object) as { spec: { ephemeralContainers: Record<string, unknown>[] } };
      after.spec.ephemeralContainers = after.spec.ephemeralContainers.map(({ resources: _, ...c }) => c);
      return { ...s, object: after as unknown as typeof s.object };
    })(),
  ],
});
