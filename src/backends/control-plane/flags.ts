/**
 * The control-plane checklist (`control-plane/FLAGS.md`): kube-apiserver, kubelet and etcd settings that no
 * admission policy can enforce. Each item names the NSA/CISA recommendation it serves; the coverage
 * report counts these items per recommendation.
 */
import type { ResolvedCluster } from '../../ir/cluster.js';

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
/** The audit log directory (`--audit-log-path` writes into it). */
export const AUDIT_LOG_DIR = '/var/log/kubernetes/audit';
/** kubeadm's static pod manifest of the API server. */
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

export const FLAG_ITEMS: readonly FlagItem[] = [
  { component: 'kube-apiserver', setting: '--anonymous-auth=false', nsa: ['NSA-AUTH-2'], why: 'Unauthenticated requests are rejected instead of running as system:anonymous (probes then need credentials or the /livez, /readyz exemptions of your distribution).' },
  { component: 'kube-apiserver', setting: '--authorization-mode=Node,RBAC', nsa: ['NSA-AUTH-3'], why: 'Kubelets are limited to their own node’s objects and everyone else goes through RBAC; never AlwaysAllow.' },
  { component: 'kube-apiserver', setting: 'no --token-auth-file, no static passwords; use client certificates or OIDC (--oidc-* or --authentication-config)', nsa: ['NSA-AUTH-1'], why: 'Static token files cannot be rotated without a restart and carry long-lived credentials.' },
  { component: 'kube-apiserver', setting: '--tls-min-version=VersionTLS12 (or VersionTLS13)', nsa: ['NSA-NET-9', 'NSA-NET-5'], why: 'No protocol older than TLS 1.2 on the API.' },
  { component: 'kube-apiserver', setting: `--admission-control-config-file=${INSTALL_DIR}/admission-configuration.yaml`, nsa: ['NSA-POD-4'], why: 'Pod Security Admission defaults for unlabeled namespaces and the exempt namespaces (admission-configuration.yaml).' },
  { component: 'kube-apiserver', setting: '--enable-admission-plugins includes NodeRestriction', nsa: ['NSA-AUTH-3'], why: 'Kubelets can only modify their own Node and the Pods bound to it.' },
  { component: 'kube-apiserver', setting: `--audit-policy-file=${INSTALL_DIR}/audit-policy.yaml`, nsa: ['NSA-LOG-1'], why: 'Audit logging stays off until the API server has a policy (audit-policy.yaml).' },
  { component: 'kube-apiserver', setting: `--audit-log-path=${AUDIT_LOG_DIR}/audit.log`, nsa: ['NSA-LOG-1'], why: 'The log backend; ship this file off the node (NSA-LOG-2).' },
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
    'control-plane node, mount them into the API server (see "Mounts" below: a flag naming a file the API server',
    'cannot see makes it crash-loop), and check each item, one control-plane node at a time. Ids refer to the',
    'NSA/CISA recommendations in `../REPORT.md`.',
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
  lines.push(...mountSection(cluster), ...encryptionRollout(cluster), ...rollback());
  return lines.join('\n');
}

/** The socket directory of a KMS endpoint (`unix:///var/run/kms-plugin/socket.sock` → `/var/run/kms-plugin`). */
function kmsSocketDir(endpoint: string): string {
  const path = endpoint.replace(/^unix:\/\//, '');
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** hostPath volumes and mounts the API server needs for the flags above (kubeadm static pod, or ClusterConfiguration). */
function mountSection(cluster: ResolvedCluster): string[] {
  const enc = cluster.controlPlane.encryption;
  const mounts: { name: string; path: string; type: string; readOnly: boolean }[] = [
    { name: 'kubeharden', path: INSTALL_DIR, type: 'DirectoryOrCreate', readOnly: true },
    { name: 'audit-log', path: AUDIT_LOG_DIR, type: 'DirectoryOrCreate', readOnly: false },
    ...(enc.provider === 'kms' ? [{ name: 'kms-plugin', path: kmsSocketDir(enc.kmsEndpoint!), type: 'Directory', readOnly: false }] : []),
  ];
  return [
    '## Mounts',
    '',
    `The API server runs in a container: it only sees host files that are mounted into it. On kubeadm clusters, add to \`${APISERVER_MANIFEST}\` on every control-plane node (the kubelet restarts the API server when the file changes; keep a copy of the original outside \`/etc/kubernetes/manifests/\`, where the kubelet would run it too):`,
    '',
    '```yaml',
    'spec:',
    '  containers:',
    '  - name: kube-apiserver',
    '    volumeMounts:',
    ...mounts.flatMap((m) => [`    - name: ${m.name}`, `      mountPath: ${m.path}`, `      readOnly: ${m.readOnly}`]),
    '  volumes:',
    ...mounts.flatMap((m) => [`  - name: ${m.name}`, '    hostPath:', `      path: ${m.path}`, `      type: ${m.type}`]),
    '```',
    '',
    'With `kubeadm init`/`upgrade`, the same as `ClusterConfiguration.apiServer.extraVolumes` (`name`, `hostPath`, `mountPath`, `readOnly`, `pathType`), so that upgrades keep them. Other distributions have their own way to pass files to the API server (RKE2 `kube-apiserver-extra-mount`, k3s reads host paths directly); managed control planes (EKS, GKE, AKS) take none of these files: use the provider\'s audit and encryption settings instead.',
    '',
  ];
}

/** Enabling encryption without making Secrets unreadable on any API server, and the KMS prerequisites. */
function encryptionRollout(cluster: ResolvedCluster): string[] {
  const enc = cluster.controlPlane.encryption;
  const provider = enc.provider === 'kms' ? 'the `kms` provider' : 'the `aescbc` provider';
  const lines = ['## Encryption at rest: prerequisites and order', ''];
  if (enc.provider === 'kms') {
    lines.push(
      `KMS v2 (Kubernetes ≥ 1.29) needs a KMS plugin for your key service (cloud KMS, Vault, an HSM) running on every control-plane node before any API server uses the file: it listens on \`${enc.kmsEndpoint}\` (the socket directory is mounted above), usually as a static pod or systemd unit that starts before the API server, with credentials for the key service. The API server does not start serving encrypted resources while the plugin is unhealthy: check \`kubectl get --raw='/readyz/kms-providers'\` and the plugin's own health, and keep the key service reachable from every control-plane node (a lost key means lost Secrets: back it up per its own documentation).`,
      '',
    );
  } else {
    lines.push('Put a new 32-byte key into the file on each node (the placeholder fails start-up on purpose); the same key on every control-plane node, kept out of Git and backed up: without it, encrypted Secrets cannot be read.', '');
  }
  lines.push(
    'Every API server must be able to read what any other one writes, so the provider goes in in three steps, one control-plane node at a time, checking `/readyz` on each node before moving on (`curl -ks https://127.0.0.1:6443/readyz?verbose` on the node, or `kubectl get --raw=\'/readyz?verbose\' --server=https://<node>:6443`):',
    '',
    `1. **Read first.** Use the file with the two providers swapped: \`identity: {}\` first, ${provider} second. Every API server can now read encrypted data but still writes plaintext. Roll it to every control-plane node.`,
    '2. **Write encrypted.** Use `encryption-config.yaml` as generated (the new provider first, `identity` second) on every node.',
    `3. **Rewrite.** Store every existing object encrypted: \`kubectl get ${enc.resources.join(',')} --all-namespaces -o json | kubectl replace -f -\`. Only now is everything encrypted.`,
    '',
    'Rotating later works the same way: add the new key or KMS configuration second, then first, then rewrite.',
    '',
  );
  return lines;
}

function rollback(): string[] {
  return [
    '## Rollback',
    '',
    `- **Audit policy, PSA AdmissionConfiguration, other flags:** restore the saved copy of \`${APISERVER_MANIFEST}\` on the node (or remove the flag and its mount) and wait for \`/readyz\`. Nothing is stored differently, so nothing else needs undoing.`,
    '- **Encryption:** never remove the provider while data is encrypted with it: the API server can then no longer read those Secrets. Reverse the steps: put `identity: {}` first and keep the provider second on every node, rewrite every Secret (`kubectl get secrets --all-namespaces -o json | kubectl replace -f -`, now stored plaintext), and only then drop the provider and the flag.',
    '- **Crash-looping API server** after a change: the kubelet keeps restarting it; read `crictl ps -a` and `crictl logs <container>` on the node (usually a file that is not mounted, a typo in a file, or a KMS plugin that is not running), restore the saved manifest, and fix the change on this node before touching the next one.',
    '',
  ];
}
