/**
 * The control-plane checklist (`control-plane/FLAGS.md`): kube-apiserver, kubelet and etcd settings that no
 * admission policy can enforce. Each item names the NSA/CISA recommendation it serves; the coverage
 * report counts these items per recommendation.
 */
import type { ResolvedCluster } from '../../config/resolve.js';

export type Component = 'kube-apiserver' | 'kubelet' | 'etcd' | 'hosts';

export interface FlagItem {
  readonly component: Component;
  /** The flag, config field or action, as written in the checklist. */
  readonly setting: string;
  readonly nsa: readonly string[];
  readonly why: string;
}

/** Where the checklist expects the generated files on control-plane nodes. */
export const INSTALL_DIR = '/etc/kubernetes/kubeharden';

export const FLAG_ITEMS: readonly FlagItem[] = [
  { component: 'kube-apiserver', setting: '--anonymous-auth=false', nsa: ['NSA-AUTH-2'], why: 'Unauthenticated requests are rejected instead of running as system:anonymous (probes then need credentials or the /livez, /readyz exemptions of your distribution).' },
  { component: 'kube-apiserver', setting: '--authorization-mode=Node,RBAC', nsa: ['NSA-AUTH-3'], why: 'Kubelets are limited to their own node’s objects and everyone else goes through RBAC; never AlwaysAllow.' },
  { component: 'kube-apiserver', setting: 'no --token-auth-file, no static passwords; use client certificates or OIDC (--oidc-* or --authentication-config)', nsa: ['NSA-AUTH-1'], why: 'Static token files cannot be rotated without a restart and carry long-lived credentials.' },
  { component: 'kube-apiserver', setting: '--tls-min-version=VersionTLS12 (or VersionTLS13)', nsa: ['NSA-NET-9', 'NSA-NET-5'], why: 'No protocol older than TLS 1.2 on the API.' },
  { component: 'kube-apiserver', setting: `--admission-control-config-file=${INSTALL_DIR}/admission-configuration.yaml`, nsa: ['NSA-POD-4'], why: 'Pod Security Admission defaults for unlabeled namespaces and the exempt namespaces (admission-configuration.yaml).' },
  { component: 'kube-apiserver', setting: '--enable-admission-plugins includes NodeRestriction', nsa: ['NSA-AUTH-3'], why: 'Kubelets can only modify their own Node and the Pods bound to it.' },
  { component: 'kube-apiserver', setting: `--audit-policy-file=${INSTALL_DIR}/audit-policy.yaml`, nsa: ['NSA-LOG-1'], why: 'Audit logging stays off until the API server has a policy (audit-policy.yaml).' },
  { component: 'kube-apiserver', setting: '--audit-log-path=/var/log/kubernetes/audit/audit.log', nsa: ['NSA-LOG-1'], why: 'The log backend; ship this file off the node (NSA-LOG-2).' },
  { component: 'kube-apiserver', setting: '--audit-log-maxage=30 --audit-log-maxbackup=10 --audit-log-maxsize=100', nsa: ['NSA-LOG-1', 'NSA-LOG-5'], why: 'Rotation: days to keep, rotated files to keep, megabytes per file, so the disk never fills up.' },
  { component: 'kube-apiserver', setting: `--encryption-provider-config=${INSTALL_DIR}/encryption-config.yaml`, nsa: ['NSA-NET-6', 'NSA-NET-10'], why: 'Encrypts the resources listed in encryption-config.yaml at rest in etcd.' },
  { component: 'kube-apiserver', setting: '--etcd-cafile, --etcd-certfile, --etcd-keyfile', nsa: ['NSA-NET-6'], why: 'The API server talks to etcd over mutual TLS.' },
  { component: 'kube-apiserver', setting: '--kubelet-certificate-authority, --kubelet-client-certificate, --kubelet-client-key', nsa: ['NSA-NET-9'], why: 'The API server verifies kubelets and authenticates to them.' },
  { component: 'kube-apiserver', setting: '--profiling=false; the API server is not reachable from the internet (firewall port 6443)', nsa: ['NSA-NET-5'], why: 'Less exposed surface on the control plane.' },
  { component: 'kubelet', setting: 'authentication.anonymous.enabled: false', nsa: ['NSA-AUTH-2'], why: 'The kubelet API (port 10250) refuses anonymous requests.' },
  { component: 'kubelet', setting: 'authentication.webhook.enabled: true, authorization.mode: Webhook', nsa: ['NSA-AUTH-2', 'NSA-AUTH-3'], why: 'Kubelet API requests are authenticated and authorized by the API server.' },
  { component: 'kubelet', setting: 'readOnlyPort: 0', nsa: ['NSA-NET-8'], why: 'Closes the unauthenticated read-only port 10255.' },
  { component: 'kubelet', setting: 'seccompDefault: true', nsa: ['NSA-POD-8'], why: 'Containers without a seccomp profile get RuntimeDefault instead of Unconfined.' },
  { component: 'kubelet', setting: 'tlsMinVersion: VersionTLS12, rotateCertificates: true, serverTLSBootstrap: true', nsa: ['NSA-NET-9'], why: 'TLS 1.2+ and rotated, CA-signed certificates on the kubelet API.' },
  { component: 'etcd', setting: '--client-cert-auth=true --trusted-ca-file=<etcd CA>', nsa: ['NSA-NET-6'], why: 'Only clients with a certificate from the etcd CA (the API servers) may connect.' },
  { component: 'etcd', setting: '--peer-client-cert-auth=true --peer-trusted-ca-file=<etcd CA>', nsa: ['NSA-NET-6'], why: 'etcd members authenticate each other.' },
  { component: 'etcd', setting: 'a CA of its own, separate from the cluster CA; listen only where the API servers can reach it', nsa: ['NSA-NET-6'], why: 'A certificate from the cluster CA must not grant access to etcd.' },
  { component: 'hosts', setting: 'kubeconfig files (admin.conf, kubelet.conf, ~/.kube/config) mode 600, owned by their user', nsa: ['NSA-NET-7'], why: 'Kubeconfig files hold credentials.' },
  { component: 'hosts', setting: `${INSTALL_DIR}/ mode 700, files 600, owned by root`, nsa: ['NSA-NET-6', 'NSA-LOG-1'], why: 'The encryption configuration holds (or points at) the key protecting etcd data.' },
];

export function flagsMarkdown(cluster: ResolvedCluster): string {
  const enc = cluster.controlPlane.encryption;
  const lines = [
    `# Control-plane checklist: ${cluster.name}`,
    '',
    'Admission policies cannot set these. Copy the files of this folder to `' + INSTALL_DIR + '/` on every',
    'control-plane node and check each item. Ids refer to the NSA/CISA recommendations in `../REPORT.md`.',
    '',
    '| File | Flag | What it is |',
    '|---|---|---|',
    '| `admission-configuration.yaml` | `--admission-control-config-file` | Pod Security Admission defaults and exemptions (same levels as `../psa/`) |',
    '| `audit-policy.yaml` | `--audit-policy-file` | what the API server records, per request type |',
    `| \`encryption-config.yaml\` | \`--encryption-provider-config\` | encryption at rest of ${enc.resources.join(', ')} (${enc.provider === 'kms' ? `KMS v2 plugin at \`${enc.kmsEndpoint}\`` : 'aescbc: replace the key placeholder on the node, never commit the key'}) |`,
    '',
  ];
  const components: Component[] = ['kube-apiserver', 'kubelet', 'etcd', 'hosts'];
  for (const comp of components) {
    lines.push(`## ${comp === 'kubelet' ? 'kubelet (KubeletConfiguration)' : comp}`, '');
    for (const f of FLAG_ITEMS.filter((i) => i.component === comp)) lines.push(`- [ ] \`${f.setting}\` (${f.nsa.join(', ')}): ${f.why}`);
    lines.push('');
  }
  if (enc.provider === 'aescbc') {
    lines.push('After enabling encryption, rewrite every Secret once so it is stored encrypted:', '', '```sh', 'kubectl get secrets --all-namespaces -o json | kubectl replace -f -', '```', '');
  } else {
    lines.push('After enabling encryption, rewrite every Secret once so it is stored encrypted (`kubectl get secrets --all-namespaces -o json | kubectl replace -f -`).', '');
  }
  return lines.join('\n');
}
