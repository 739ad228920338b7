import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { SERVICE, object, service } from '../kinds.js';
import { check } from './cel.js';

const LB = { type: 'LoadBalancer' };
const GKE_INTERNAL = 'networking.gke.io/load-balancer-type';
const AZURE_INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

export default defineControl({
  id: 'disallow-loadbalancer-services',
  title: 'Disallow LoadBalancer Services',
  description: 'Services must not be of type LoadBalancer unless they carry an allowed annotation (e.g. an internal load balancer).',
  details: `NSA/CISA "network separation": a LoadBalancer Service asks the cloud provider for a load balancer, usually
reachable from outside the cluster network, and bypasses any ingress gateway. A Service fails when spec.type
is exactly LoadBalancer (the API's values are case-sensitive), unless its metadata.annotations carry one of
the allowedAnnotations entries: "key=value", the annotation present with exactly that value (split at the
first "="; keys and values are compared case-sensitively, so "True" is not "true"). Typical entries request
an internal load balancer from the cloud provider: networking.gke.io/load-balancer-type=Internal,
service.beta.kubernetes.io/azure-load-balancer-internal=true,
service.beta.kubernetes.io/aws-load-balancer-internal=true. Default: no entries (every LoadBalancer Service
fails); an entry without "=" never matches (kubeharden warns). The annotation is only as good as the cloud
controller that reads it: an annotation another provider ignores still gets a public load balancer.
Namespaces that may expose load balancers (ingress controllers, gateways) get the control switched off per
namespace in the config. LoadBalancer Services also allocate node ports unless
spec.allocateLoadBalancerNodePorts is false (disallow-nodeport-services only checks type NodePort).
Checked on CREATE and UPDATE. An UPDATE of a Service that failed before with the same spec.ports passes (it
introduces no load balancer): a label, a finalizer, the cloud controller's write of the load balancer's
address through services/status, which Gatekeeper's webhook forwards. A type change, a new or changed port, or
a removed allowed annotation (also through services/status, whose writes keep metadata changes) is denied.`,
  category: 'Services and ingress (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [SERVICE], subresources: ['status'] },
  options: {
    allowedAnnotations: opt.strings(
      'Annotations, as "key=value", that make a LoadBalancer Service acceptable (e.g. an internal load balancer). Default: none.',
      [`${GKE_INTERNAL}=Internal`, `${AZURE_INTERNAL}=true`, 'service.beta.kubernetes.io/aws-load-balancer-internal=true'],
    ),
  },
  defaults: () => ({ allowedAnnotations: [] }),
  sampleOptions: { allowedAnnotations: [`${GKE_INTERNAL}=Internal`, `${AZURE_INTERNAL}=true`] },
  lintOptions: (o) =>
    (Array.isArray(o.allowedAnnotations) ? o.allowedAnnotations : []).flatMap((a, index) =>
      typeof a === 'string' && !a.includes('=')
        ? [{ option: 'allowedAnnotations', index, message: `"${a}" has no "=", so it never matches`, hint: `write "${a}=<value>" to allow Services carrying that annotation with that value` }]
        : [],
    ),
  params: { allowedAnnotations: 'strings' },
  lower: (o) => ({ allowedAnnotations: [...new Set(o.allowedAnnotations)].sort() }),
  samples: [
    { name: 'cluster-ip', expect: 'allow', object: service('cluster-ip') },
    { name: 'node-port', expect: 'allow', object: service('node-port', { type: 'NodePort' }) },
    { name: 'external-name', expect: 'allow', object: object(SERVICE, 'external-name', { spec: { type: 'ExternalName', externalName: 'db.example.com' } }) },
    { name: 'load-balancer', expect: 'deny', object: service('load-balancer', LB) },
    {
      name: 'load-balancer-without-node-ports',
      expect: 'deny',
      object: service('load-balancer-without-node-ports', { ...LB, allocateLoadBalancerNodePorts: false }),
    },
    {
      name: 'allowed-annotation',
      expect: 'allow',
      object: service('allowed-annotation', LB, { annotations: { [GKE_INTERNAL]: 'Internal' } }),
    },
    {
      name: 'second-allowed-annotation',
      expect: 'allow',
      object: service('second-allowed-annotation', LB, { annotations: { team: 'web', [AZURE_INTERNAL]: 'true' } }),
    },
    {
      name: 'annotation-other-value',
      expect: 'deny',
      object: service('annotation-other-value', LB, { annotations: { [GKE_INTERNAL]: 'External' } }),
    },
    {
      name: 'annotation-value-case',
      expect: 'deny',
      object: service('annotation-value-case', LB, { annotations: { [AZURE_INTERNAL]: 'True' } }),
    },
    {
      name: 'annotation-empty-value',
      expect: 'deny',
      object: service('annotation-empty-value', LB, { annotations: { [GKE_INTERNAL]: '' } }),
    },
    {
      name: 'allowed-pair-as-label',
      expect: 'deny',
      object: service('allowed-pair-as-label', LB, { labels: { [AZURE_INTERNAL]: 'true' } }),
    },
    { name: 'empty-annotations', expect: 'deny', object: service('empty-annotations', LB, { annotations: {} }) },
    {
      name: 'update-to-load-balancer',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-to-load-balancer'),
      object: service('update-to-load-balancer', LB),
    },
    {
      // The cloud controller writes the load balancer's address through services/status (Gatekeeper's
      // webhook forwards it): the write cannot change the type, and the Service failed before.
      name: 'status-write-load-balancer-ingress',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      subResource: 'status',
      oldObject: service('status-write-load-balancer-ingress', LB),
      object: { ...service('status-write-load-balancer-ingress', LB), status: { loadBalancer: { ingress: [{ ip: '203.0.113.20' }] } } },
    },
    {
      // Deleting a Service that predates the policy: the cloud controller removes its cleanup finalizer.
      name: 'finalizer-removal',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: service('finalizer-removal', LB, { finalizers: ['service.kubernetes.io/load-balancer-cleanup'], deletionTimestamp: '2026-01-01T00:00:00Z' }),
      object: service('finalizer-removal', LB, { finalizers: [], deletionTimestamp: '2026-01-01T00:00:00Z' }),
    },
    {
      name: 'update-label-on-existing',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-label-on-existing', LB),
      object: service('update-label-on-existing', LB, { labels: { 'app.kubernetes.io/version': '2' } }),
    },
    {
      // A new port on a load balancer is new exposure.
      name: 'update-adds-port',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-adds-port', LB),
      // A Service with more than one port names each of them (the API server requires it).
      object: service('update-adds-port', { ...LB, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000, targetPort: 9000 }] }),
    },
    {
      name: 'update-node-port-to-load-balancer',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-node-port-to-load-balancer', { type: 'NodePort' }),
      object: service('update-node-port-to-load-balancer', LB),
    },
    {
      // Metadata written through services/status counts like any other change: the allowed annotation goes.
      name: 'status-write-removes-annotation',
      expect: 'deny',
      operation: 'UPDATE',
      subResource: 'status',
      oldObject: service('status-write-removes-annotation', LB, { annotations: { [GKE_INTERNAL]: 'Internal' } }),
      object: service('status-write-removes-annotation', LB),
    },
    {
      name: 'update-removing-annotation',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-removing-annotation', LB, { annotations: { [GKE_INTERNAL]: 'Internal' } }),
      object: service('update-removing-annotation', LB),
    },
  ],
});
