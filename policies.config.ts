/**
 * kubeharden's reference config: the NSA/CISA Kubernetes Hardening Guidance, expressed once.
 * `npx kubeharden build` compiles it into generated/reference/ (Kyverno, Gatekeeper, PSA, namespace objects,
 * control-plane files, README and coverage report).
 */
import { defineConfig } from 'kubeharden';

export default defineConfig({
  name: 'reference',
  // Every Pod Security Standards check, baseline and restricted (NSA-POD-1 … NSA-POD-8), plus the NSA/CISA
  // controls beyond PSS: read-only root filesystems, non-root groups, no automounted service account
  // tokens, NET_RAW dropped, trusted and signed images, no latest tags, digests, resource requests and
  // limits, no Secrets in environment variables, nothing in the default namespace; and beyond Pods:
  // Services (no NodePort), and more as the profile grows.
  profile: 'nsa-cisa',
  // Pins the PSS version (v1.37) in every policy and PSA label.
  kubernetesVersion: '1.37',
  defaultMode: 'enforce',
  // `observe` builds the same bundle without rejecting anything (first step of a rollout, see the bundle
  // README's "Rolling out"); this cluster has been through it.
  rollout: 'enforce',
  // Gatekeeper templates carry a CEL block (K8sNativeValidation, which Gatekeeper runs) beside the Rego block,
  // both from the same checks; generateVAP stays off (gatekeeper.generateVAP, see the bundle README).
  gatekeeper: { engines: ['Rego', 'CEL'] },
  // Control-plane namespaces: no control applies here (listed so reviewers see them). The policy engines'
  // namespaces (kyverno, gatekeeper-system) are exempt too, by default (policyEngines.namespaces).
  exemptNamespaces: ['kube-node-lease', 'kube-public', 'kube-system'],
  // The namespaces listed below, and those their owners label kubeharden.io/isolate=true, get default-deny
  // NetworkPolicies (DNS to kube-dns stays open) and a ResourceQuota + LimitRange with the default amounts
  // (NSA-NET-3, NSA-NET-4). No other namespace gets any of them.
  network: { defaultDeny: true },
  resources: { quota: true, limitRange: true },
  namespaceObjects: { optInLabel: 'kubeharden.io/isolate=true' },
  // Native ValidatingAdmissionPolicies (vap/): the same CEL checks, run by the API server itself, for
  // clusters without a policy engine (or as a second line beside one).
  vap: { enabled: true },
  psa: {
    // Unlabeled namespaces: PSA audits and warns at restricted, and enforces nothing (the policies do).
    defaultEnforce: 'privileged',
    // The node exporter reads host metrics (hostPID, hostNetwork, hostPath): privileged, no namespace objects.
    infraNamespaces: { monitoring: 'privileged' },
  },
  controls: {
    // The team registry, and upstream Kubernetes components (NSA-POD-3). Entries end in "/" so that
    // look-alike hosts (registry.example.com.evil.io) do not match.
    'allowed-registries': { options: { registries: ['registry.example.com/', 'registry.k8s.io/'] } },
    // Team images are signed keyless by the CI pipeline; Kyverno checks the signature (and the Rekor
    // entry) at admission and pins the verified digest. Gatekeeper cannot check signatures (see REPORT.md).
    'verify-image-signatures': {
      options: {
        images: ['registry.example.com/*'],
        keyless: ['https://token.actions.githubusercontent.com https://github.com/example-org/*'],
      },
    },
    // Debug containers are allowed (they must still pass the other controls); switch on to block them.
    'block-ephemeral-containers': false,
  },
  namespaces: {
    // Application namespaces: restricted everywhere.
    apps: { pss: 'restricted' },
    // Applications still being migrated: baseline enforced, restricted reported (audit/warn labels).
    'legacy-apps': {
      pss: 'baseline',
    },
    // Node agents (log shippers, CNI helpers) need host access; keep them out of application namespaces.
    // They also talk to the API server, so they keep their service account token.
    'node-agents': {
      pss: 'privileged',
      controls: { 'disallow-automount-sa-token': false },
      // Agents ship to many destinations: no default-deny here, but the cloud metadata service stays blocked.
      network: { defaultDeny: false, blockCloudMetadata: true },
    },
    // The team's operator serves an admission webhook and watches the API: default-deny with both flows
    // open (the API server endpoints, and the control-plane nodes it calls webhooks from).
    operators: {
      network: { apiServerEgress: { cidrs: ['10.0.0.10/32', '10.0.0.11/32', '10.0.0.12/32'] }, webhookIngress: { cidrs: ['10.0.0.0/24'], ports: [9443] } },
    },
    // Batch jobs: restricted, but seccomp violations are only warned about while profiles are rolled out.
    batch: {
      controls: { 'require-seccomp-profile': 'warn' },
      // Batch runs need a larger share of the cluster.
      resources: { quota: { hard: { 'requests.cpu': '16', 'requests.memory': '32Gi', 'limits.cpu': '32', 'limits.memory': '64Gi', pods: '200' } } },
    },
  },
  exceptions: [
    // Each exception lets through what its reason names, and no more: the capabilities the mesh init container
    // adds (its containers may still add nothing else, in any container list; NET_RAW only by that exact name),
    // and the host PID namespace for the metrics agent (hostNetwork and hostIPC stay denied). Excepting a
    // restricted control never lifts the baseline one (restrict-capabilities-baseline is listed here on
    // purpose, for the same two capabilities).
    {
      control: ['require-drop-all-capabilities', 'require-drop-net-raw', 'restrict-capabilities-baseline'],
      namespaces: ['apps'],
      images: ['registry.example.com/mesh/proxy-init:*'],
      allow: { capabilities: ['NET_ADMIN', 'NET_RAW'] },
      reason: 'The service-mesh init container programs iptables (NET_ADMIN, NET_RAW) as root; tracked in PLAT-142.',
      expires: '2027-05-31',
    },
    // Running as root is a single check: no `allow` narrows it, so the exception excepts it whole for this image.
    {
      control: 'require-run-as-non-root',
      namespaces: ['apps'],
      images: ['registry.example.com/mesh/proxy-init:*'],
      reason: 'The service-mesh init container programs iptables (NET_ADMIN, NET_RAW) as root; tracked in PLAT-142.',
      expires: '2027-05-31',
    },
    {
      control: 'disallow-host-namespaces',
      namespaces: ['apps'],
      // The DaemonSet itself and the Pods its controller creates.
      names: ['metrics-agent', 'metrics-agent-*'],
      allow: { hostNamespaces: ['hostPID'] },
      reason: 'The metrics agent reads per-process statistics from the host PID namespace; tracked in OBS-31.',
      expires: '2027-04-30',
    },
  ],
  fixtures: [
    { file: 'test/fixtures/reference/compliant.yaml', expect: 'allow' },
    {
      file: 'test/fixtures/reference/privileged-debug.yaml',
      expect: {
        'disallow-privileged-containers': 'deny',
        'disallow-privilege-escalation': 'deny',
        'require-drop-all-capabilities': 'deny',
        'require-run-as-non-root': 'allow',
        'require-readonly-root-fs': 'deny',
        'allowed-registries': 'allow',
      },
    },
    {
      file: 'test/fixtures/reference/unpinned-public-image.yaml',
      expect: {
        'disallow-default-namespace': 'deny',
        'allowed-registries': 'deny',
        'disallow-latest-tag': 'deny',
        'require-image-digest': 'deny',
        'disallow-secrets-in-env-vars': 'deny',
        'require-resource-limits-requests': 'deny',
      },
    },
  ],
});
