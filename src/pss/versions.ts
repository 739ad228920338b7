/**
 * Kubernetes minors kubeharden can target, and the Pod Security Standards facts that depend on them.
 * Source of every fact: the Pod Security Admission check code (`policy/check_*.go`), as summarised in
 * the project's control catalog. Each knob is one function so that all backends read the same table.
 */

/** Kubernetes minor versions a bundle can target (Pod Security Admission is GA from 1.25). */
export const SUPPORTED_VERSIONS = [
  '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31',
  '1.32', '1.33', '1.34', '1.35', '1.36', '1.37',
] as const;

/** A Kubernetes minor version the bundle targets, e.g. `'1.37'`. */
export type KubernetesVersion = (typeof SUPPORTED_VERSIONS)[number];

export const DEFAULT_KUBERNETES_VERSION: KubernetesVersion = '1.37';

export function isSupportedVersion(v: unknown): v is KubernetesVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** The minor number of a version: `'1.37'` → 37. */
export function minor(v: KubernetesVersion): number {
  return Number(v.split('.')[1]);
}

/** The PSA label value for a version: `'1.37'` → `v1.37` (never `latest`). */
export function pssVersionLabel(v: KubernetesVersion): string {
  return `v${v}`;
}

/** Sysctls the baseline profile allows, cumulative by version (check `sysctls`). */
export function baselineSysctls(v: KubernetesVersion): string[] {
  const m = minor(v);
  const list = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
  ];
  if (m >= 27) list.push('net.ipv4.ip_local_reserved_ports');
  if (m >= 29) {
    list.push(
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
    );
  }
  if (m >= 32) list.push('net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem');
  if (m >= 37) list.push('net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat');
  return list;
}

/** SELinux types the baseline profile allows besides the empty string (check `seLinuxOptions`). */
export function baselineSelinuxTypes(v: KubernetesVersion): string[] {
  const list = ['container_t', 'container_init_t', 'container_kvm_t'];
  if (minor(v) >= 31) list.push('container_engine_t');
  return list;
}

/** Capabilities the baseline profile allows in `capabilities.add` (check `capabilities_baseline`). */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;

/**
 * Volume sources the restricted profile allows (check `restrictedVolumes`). `image` was added in place in
 * Kubernetes 1.33, so it is allowed whenever the target apiserver is 1.33 or newer, whatever the pinned version.
 */
export function restrictedVolumeTypes(v: KubernetesVersion): string[] {
  const list = [
    'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral',
    'persistentVolumeClaim', 'projected', 'secret',
  ];
  if (minor(v) >= 33) list.push('image');
  return list.sort();
}

/**
 * Every volume source field of `core/v1 Volume` that is not in the restricted allow-list, used for
 * docs and autocompletion. The check itself is an allow-list, so unknown future sources fail closed.
 */
export const KNOWN_VOLUME_TYPES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi',
  'downwardAPI', 'emptyDir', 'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk',
  'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi', 'nfs', 'persistentVolumeClaim',
  'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO', 'secret',
  'storageos', 'vsphereVolume',
] as const;

/** AppArmor field checks (`appArmorProfile.type`) exist in the apiserver's PSA code from 1.30. */
export function checksAppArmorFields(v: KubernetesVersion): boolean {
  return minor(v) >= 30;
}

/** From PSS v1.35, `spec.hostUsers: false` relaxes runAsNonRoot, runAsUser and baseline procMount. */
export function userNamespaceRelaxation(v: KubernetesVersion): boolean {
  return minor(v) >= 35;
}
