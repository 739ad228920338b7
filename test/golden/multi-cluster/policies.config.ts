// Two environments sharing one base: namespace rules, exceptions, per-cluster overrides, legacy Rego field,
// namespace NetworkPolicies and quotas in prod only (with per-namespace overrides).
import { defineConfig } from 'kubeharden';

export default defineConfig({
  profile: 'pss-restricted',
  exemptNamespaces: ['kube-system', 'gatekeeper-system', 'kyverno'],
  namespaces: {
    monitoring: { pss: 'baseline', controls: { 'restrict-host-ports': { options: { allowedRanges: [{ min: 9100, max: 9102 }] } } } },
    tenants: { controls: { 'disallow-privilege-escalation': 'audit' } },
  },
  exceptions: [
    { control: 'restrict-volume-types', namespaces: ['tenants'], reason: 'NFS shares until the CSI migration (STOR-7)', expires: '2027-03-31' },
    { control: 'require-drop-all-capabilities', images: ['registry.example.com/net/*'], reason: 'network tooling images need NET_ADMIN (NET-12)', expires: '2027-02-28' },
  ],
  clusters: {
    staging: { kubernetesVersion: '1.33', defaultMode: 'warn', gatekeeper: { regoVersion: 'v0' } },
    prod: {
      kubernetesVersion: '1.37',
      namespaces: {
        tenants: {
          controls: { 'disallow-privilege-escalation': 'enforce' },
          // Tenants get smaller quotas and no DNS exception of their own (they run resolvers in-namespace).
          network: { allowDns: false },
          resources: { quota: { hard: { 'requests.cpu': '2', 'requests.memory': '4Gi', pods: '20' } }, limitRange: { max: { cpu: '1', memory: '2Gi' } } },
        },
        monitoring: { network: { defaultDeny: false, blockCloudMetadata: true } },
      },
      // Only prod gets the namespace objects.
      network: { defaultDeny: true },
      resources: { quota: true, limitRange: true },
    },
  },
});
