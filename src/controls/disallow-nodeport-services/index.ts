import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { SERVICE, object, service } from '../kinds.js';
import { check } from './cel.js';

export default defineControl({
  id: 'disallow-nodeport-services',
  title: 'Disallow NodePort Services',
  description: 'Services must not be of type NodePort.',
  details: `NSA/CISA "network separation": a NodePort Service opens its port on every node, around network
policies and load balancers. A Service fails when spec.type is exactly NodePort (the API's values are
case-sensitive). LoadBalancer Services also allocate node ports unless spec.allocateLoadBalancerNodePorts
is false; disallow-loadbalancer-services covers them. Checked on CREATE and UPDATE (a type change is an
UPDATE). An UPDATE of a Service that was NodePort before with the same spec.ports passes (a label, a
finalizer, a services/status write): it opens no node port; a new or changed port is checked.`,
  category: 'Services and ingress (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [SERVICE] },
  ...NO_OPTIONS,
  samples: [
    { name: 'cluster-ip', expect: 'allow', object: service('cluster-ip') },
    { name: 'explicit-cluster-ip', expect: 'allow', object: service('explicit-cluster-ip', { type: 'ClusterIP' }) },
    { name: 'node-port', expect: 'deny', object: service('node-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }) },
    { name: 'headless', expect: 'allow', object: service('headless', { clusterIP: 'None' }) },
    { name: 'external-name', expect: 'allow', object: object(SERVICE, 'external-name', { spec: { type: 'ExternalName', externalName: 'db.example.com' } }) },
    {
      name: 'status-write-of-existing',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      subResource: 'status',
      oldObject: service('status-write-of-existing', { type: 'NodePort' }),
      object: { ...service('status-write-of-existing', { type: 'NodePort' }), status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } },
    },
    {
      name: 'update-label-on-existing',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-label-on-existing', { type: 'NodePort' }),
      object: service('update-label-on-existing', { type: 'NodePort' }, { labels: { 'app.kubernetes.io/version': '2' } }),
    },
    {
      // Another node port opened on every node.
      name: 'update-adds-port',
      expect: 'deny',
      operation: 'UPDATE',
      // A Service with more than one port names each of them (the API server requires it).
      oldObject: service('update-adds-port', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      object: service('update-adds-port', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'alt', port: 81, nodePort: 30081 }] }),
    },
    {
      name: 'update-load-balancer-to-node-port',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-load-balancer-to-node-port', { type: 'LoadBalancer' }),
      object: service('update-load-balancer-to-node-port', { type: 'NodePort' }),
    },
    {
      name: 'update-to-node-port',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-to-node-port'),
      object: service('update-to-node-port', { type: 'NodePort' }),
    },
  ],
});
