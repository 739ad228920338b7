// Oldest supported target, baseline only, audit by default, one extra host-port range; the legacy Kyverno
// ClusterPolicies (Kyverno 1.13–1.16).
import { defineConfig } from 'kubeharden';

export default defineConfig({
  name: 'legacy',
  profile: 'pss-baseline',
  kubernetesVersion: '1.25',
  defaultMode: 'audit',
  kyverno: { policyType: 'ClusterPolicy' },
  controls: {
    'restrict-host-ports': { mode: 'enforce', options: { allowedRanges: [{ min: 9100, max: 9100 }] } },
    'disallow-privileged-containers': 'enforce',
  },
});
