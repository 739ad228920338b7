import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { SERVICE, object, service } from '../kinds.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-service-external-ips',
  title: 'Restrict Service external IPs',
  description: 'Services may set spec.externalIPs only to listed addresses.',
  details: `NSA/CISA "network separation". A Service's spec.externalIPs makes every node accept traffic for those
addresses and forward it to the Service's endpoints; Kubernetes does not check who owns an address, so a
user allowed to create Services can intercept traffic meant for any IP, inside or outside the cluster
(CVE-2020-8554, a design issue with no fix in Kubernetes itself). Every entry of spec.externalIPs must be
listed in allowedIPs, compared as exact strings (no CIDR ranges, no normalisation: "10.0.0.1" does not allow
"010.0.0.1" or an IPv6 spelling of it). Default: no entries, so any external IP fails; an absent or empty
list passes. The Service's type does not matter (externalIPs work with every type). The message names the
addresses that are not allowed. Kubernetes' own DenyServiceExternalIPs admission plugin (kube-apiserver
--enable-admission-plugins) rejects every new external IP cluster-wide and is the alternative where no
address needs to be allowed. Checked on CREATE and UPDATE; an UPDATE fails only for addresses the Service did
not list before.`,
  category: 'Services and ingress (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-8'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [SERVICE] },
  options: {
    allowedIPs: opt.ips('Addresses Services may list in spec.externalIPs (IPv4 or IPv6 addresses, not CIDR ranges), compared as exact strings. Default: none.'),
  },
  defaults: () => ({ allowedIPs: [] }),
  sampleOptions: { allowedIPs: ['192.0.2.10', '2001:db8::10'] },
  params: { allowedIPs: 'strings' },
  lower: (o) => ({ allowedIPs: [...new Set(o.allowedIPs)].sort() }),
  samples: [
    { name: 'no-external-ips', expect: 'allow', object: service('no-external-ips') },
    { name: 'empty-external-ips', expect: 'allow', object: service('empty-external-ips', { externalIPs: [] }) },
    { name: 'allowed-ip', expect: 'allow', object: service('allowed-ip', { externalIPs: ['192.0.2.10'] }) },
    { name: 'allowed-ipv6', expect: 'allow', object: service('allowed-ipv6', { externalIPs: ['2001:db8::10', '192.0.2.10'] }) },
    { name: 'unlisted-ip', expect: 'deny', object: service('unlisted-ip', { externalIPs: ['203.0.113.5'] }) },
    { name: 'one-unlisted-ip', expect: 'deny', object: service('one-unlisted-ip', { externalIPs: ['192.0.2.10', '203.0.113.5', '198.51.100.7'] }) },
    { name: 'other-spelling', expect: 'deny', object: service('other-spelling', { externalIPs: ['2001:0db8::10'] }) },
    { name: 'load-balancer-unlisted-ip', expect: 'deny', object: service('load-balancer-unlisted-ip', { type: 'LoadBalancer', externalIPs: ['203.0.113.5'] }) },
    {
      name: 'external-name-unlisted-ip',
      expect: 'deny',
      object: object(SERVICE, 'external-name-unlisted-ip', { spec: { type: 'ExternalName', externalName: 'db.example.com', externalIPs: ['203.0.113.5'] } }),
    },
    {
      name: 'update-keeps-unlisted-ip',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-keeps-unlisted-ip', { externalIPs: ['203.0.113.5'] }),
      object: service('update-keeps-unlisted-ip', { externalIPs: ['203.0.113.5'] }, { labels: { team: 'web' } }),
    },
    {
      name: 'update-swaps-unlisted-ip',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-swaps-unlisted-ip', { externalIPs: ['203.0.113.5'] }),
      object: service('update-swaps-unlisted-ip', { externalIPs: ['198.51.100.7'] }),
    },
    {
      name: 'update-adding-ip',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: service('update-adding-ip', { externalIPs: ['192.0.2.10'] }),
      object: service('update-adding-ip', { externalIPs: ['192.0.2.10', '203.0.113.5'] }),
    },
  ],
});
