import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { pod } from '../samples.js';
import type { Manifest, Sample } from '../types.js';
import { check } from './cel.js';

const inNamespace = (name: string, expect: 'allow' | 'deny', namespace: string | undefined): Sample => {
  const p = pod(name) as { metadata: Record<string, unknown> };
  const metadata = { ...p.metadata };
  if (namespace === undefined) delete metadata['namespace'];
  else metadata['namespace'] = namespace;
  return { name, expect, object: { ...p, metadata } as Manifest, keepNamespace: true };
};

export default defineControl({
  id: 'disallow-default-namespace',
  title: 'Disallow the default namespace',
  description: 'Pods and workloads must not be created in the default namespace.',
  details: `NSA/CISA "namespaces": partition workloads into namespaces; the default namespace gets no dedicated
policies, quotas or RBAC. A Pod, or a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob), fails when its own namespace is listed in the namespaces option
(default: default). An object without a namespace counts as "default", where kubectl puts it with a default
context (in a cluster the API server fills in the request's namespace before admission). Gatekeeper sees a
workload as the Pod it expands to, which carries the workload's namespace; Kyverno reads the workload's own
metadata (not the pod template's, which has no namespace). Listing kube-system etc. has no effect while
they are exempt namespaces.`,
  category: 'Namespaces (NSA/CISA)',
  severity: 'low',
  nsa: ['NSA-NET-1'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  options: {
    namespaces: opt.strings('Namespaces in which Pods and workloads may not be created. Default: default.', ['default']),
  },
  defaults: () => ({ namespaces: ['default'] }),
  params: { namespaces: 'strings' },
  lower: (o) => ({ namespaces: [...new Set(o.namespaces)].sort() }),
  samples: [
    inNamespace('own-namespace', 'allow', 'apps'),
    inNamespace('default-namespace', 'deny', 'default'),
    inNamespace('no-namespace', 'deny', undefined),
    inNamespace('namespace-named-like-default', 'allow', 'default-apps'),
  ],
});
