// Two environments sharing one base: namespace rules, exceptions, per-cluster overrides, legacy Rego field.
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
      namespaces: { tenants: { controls: { 'disallow-privilege-escalation': 'enforce' } } },
    },
  },
});
