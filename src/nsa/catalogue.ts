/**
 * The NSA/CISA Kubernetes Hardening Guidance (v1.2) as kubeharden reads it: one entry per recommendation,
 * with kubeharden's own ids (the guide does not number its recommendations), how it can be enforced, and
 * what kubeharden offers for it. Summaries are our own words.
 *
 * `controls` lists the controls planned for a recommendation, including ids not implemented yet: the
 * coverage report shows those as "not covered yet". Controls in the registry that name a recommendation in
 * their `nsa` field are added to it automatically (see `controlsFor`), so this list never has to be kept in
 * step with new control files. Three planned ids are implemented by generated namespace objects rather
 * than control files (`default-deny-network-policy`, `block-cloud-metadata-egress`,
 * `namespace-resource-quota`; see backends/namespaces): the report reads their Kyverno generate policies.
 */
import { controlIds, getControl } from '../controls/index.js';

export type NsaSectionId = 'pod' | 'network' | 'auth' | 'logging' | 'upgrade';

/**
 * How a recommendation can be met. `ADM`: an admission policy on API objects; `GEN`: objects a policy
 * engine generates; `CFG`: control-plane, node or operations configuration; `OPS`: a process, not a setting.
 */
export type EnforceClass = 'ADM' | 'GEN' | 'CFG' | 'OPS';

/** A control-plane file kubeharden writes under `generated/<cluster>/control-plane/`. */
export type ArtifactId = 'audit-policy' | 'encryption-config' | 'admission-config' | 'flags';

export const ARTIFACT_FILES: Readonly<Record<ArtifactId, string>> = {
  'admission-config': 'control-plane/admission-configuration.yaml',
  'audit-policy': 'control-plane/audit-policy.yaml',
  'encryption-config': 'control-plane/encryption-config.yaml',
  flags: 'control-plane/FLAGS.md',
};

export interface NsaSection {
  readonly id: NsaSectionId;
  readonly title: string;
}

export const NSA_SECTIONS: readonly NsaSection[] = [
  { id: 'pod', title: 'Kubernetes Pod security' },
  { id: 'network', title: 'Network separation and hardening' },
  { id: 'auth', title: 'Authentication and authorization' },
  { id: 'logging', title: 'Audit logging and threat detection' },
  { id: 'upgrade', title: 'Upgrading and application security practices' },
];

export interface NsaRecommendation {
  /** kubeharden's id, e.g. `NSA-POD-5`. */
  readonly id: string;
  readonly section: NsaSectionId;
  /** The part of the guide it comes from. */
  readonly guideSection: string;
  readonly title: string;
  /** What the recommendation asks for, in one or two sentences. */
  readonly summary: string;
  readonly enforce: readonly EnforceClass[];
  /** Controls that implement it (some may not exist yet). */
  readonly controls: readonly string[];
  /** Every Pod Security Standards control in the registry counts towards it (NSA-POD-4: a pod security baseline). */
  readonly pssControls?: boolean;
  /** Control-plane files kubeharden generates for it. */
  readonly artifacts: readonly ArtifactId[];
  /**
   * What stays outside kubeharden. When set, the recommendation is never reported as fully covered, and
   * this is the reason shown when nothing in the bundle covers it.
   */
  readonly outside?: string;
}

export const NSA_RECOMMENDATIONS: readonly NsaRecommendation[] = [
  // Pod security
  {
    id: 'NSA-POD-1', section: 'pod', guideSection: 'Non-root containers and rootless container engines',
    title: 'Run containers as a non-root user',
    summary: 'Images should be built to run as an unprivileged user and group, and the cluster should refuse pods that would run as root. Rootless container engines go further on the node.',
    enforce: ['ADM', 'CFG'],
    controls: ['require-run-as-non-root', 'disallow-run-as-root-user', 'require-non-root-groups'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-2', section: 'pod', guideSection: 'Immutable container file systems',
    title: 'Read-only root file systems',
    summary: 'Containers should not be able to modify their own root file system; applications that must write get a dedicated writable volume.',
    enforce: ['ADM'],
    controls: ['require-readonly-root-fs'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-3', section: 'pod', guideSection: 'Building secure container images',
    title: 'Trusted, scanned images',
    summary: 'Pull images only from trusted registries, pin what runs, and scan images for vulnerabilities and misconfiguration in the build pipeline (optionally again at admission).',
    enforce: ['ADM', 'OPS'],
    controls: ['allowed-registries', 'disallow-latest-tag', 'require-image-digest', 'verify-image-signatures'],
    artifacts: [],
    outside: 'Image scanning belongs in the build pipeline.',
  },
  {
    id: 'NSA-POD-4', section: 'pod', guideSection: 'Pod security enforcement (formerly Pod Security Policies)',
    title: 'Enforce a pod security baseline cluster-wide',
    summary: 'An admission controller (the built-in Pod Security Admission or a policy engine) must apply a minimum pod security standard to every namespace, including new ones.',
    enforce: ['ADM', 'CFG'],
    controls: ['enforce-psa-namespace-labels', 'require-current-psa-version', 'block-ephemeral-containers'],
    pssControls: true,
    artifacts: ['admission-config', 'flags'],
  },
  {
    id: 'NSA-POD-5', section: 'pod', guideSection: 'Pod security: privileged containers',
    title: 'No privileged containers',
    summary: 'Containers must not run privileged or as host processes, and their Linux capabilities should be dropped to what the workload needs.',
    enforce: ['ADM'],
    controls: ['disallow-privileged-containers', 'disallow-host-process', 'restrict-capabilities-baseline', 'require-drop-all-capabilities', 'require-drop-net-raw'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-6', section: 'pod', guideSection: 'Pod security: container breakout features',
    title: 'Deny host namespaces, paths and ports',
    summary: 'Features that are commonly used to escape a container (host PID/IPC/network namespaces, host path volumes, host ports, host probes) should be refused.',
    enforce: ['ADM'],
    controls: ['disallow-host-namespaces', 'disallow-host-path', 'restrict-host-ports', 'restrict-volume-types', 'restrict-probe-lifecycle-host'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-7', section: 'pod', guideSection: 'Pod security: root and privilege escalation',
    title: 'No root, no privilege escalation',
    summary: 'Containers must not gain more privileges than their parent process, must not run as UID 0, and should use non-zero group ids.',
    enforce: ['ADM'],
    controls: ['disallow-privilege-escalation', 'require-run-as-non-root', 'disallow-run-as-root-user', 'require-non-root-groups'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-8', section: 'pod', guideSection: 'Pod security: SELinux, AppArmor and seccomp',
    title: 'Kernel security modules and seccomp',
    summary: 'Confine containers with Linux security modules and a seccomp profile; learn the needed syscalls with an audit profile, then enforce it.',
    enforce: ['ADM', 'CFG'],
    controls: ['restrict-seccomp', 'restrict-apparmor', 'restrict-selinux', 'restrict-proc-mount', 'restrict-sysctls'],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-POD-9', section: 'pod', guideSection: 'Protecting Pod service account tokens',
    title: 'Do not mount service account tokens needlessly',
    summary: 'Pods that never call the Kubernetes API should not receive a service account token.',
    enforce: ['ADM'],
    controls: ['disallow-automount-sa-token'],
    artifacts: [],
  },
  {
    id: 'NSA-POD-10', section: 'pod', guideSection: 'Hardening container environments',
    title: 'Sandboxed container runtimes',
    summary: 'Where workloads are untrusted, isolate them further with hypervisor-backed or sandboxed runtimes.',
    enforce: ['CFG'],
    controls: [],
    artifacts: [],
    outside: 'Choosing and installing a sandboxed runtime (and its RuntimeClass) is a node and platform decision.',
  },
  // Network separation and hardening
  {
    id: 'NSA-NET-1', section: 'network', guideSection: 'Namespaces',
    title: 'Separate workloads by namespace',
    summary: 'Give teams and applications their own namespaces, and keep user workloads out of the default and system namespaces.',
    enforce: ['ADM'],
    controls: ['disallow-default-namespace'],
    artifacts: [],
  },
  {
    id: 'NSA-NET-2', section: 'network', guideSection: 'Network policies',
    title: 'Use network policies',
    summary: 'Run a network plugin that implements NetworkPolicy and select the traffic each workload may send and receive.',
    enforce: ['GEN', 'CFG'],
    controls: ['default-deny-network-policy'],
    artifacts: [],
    outside: 'The network plugin (CNI) must implement NetworkPolicy.',
  },
  {
    id: 'NSA-NET-3', section: 'network', guideSection: 'Network policies: explicit deny',
    title: 'Default-deny ingress and egress',
    summary: 'Every namespace starts with a policy denying all ingress and egress, and allowed flows are then opened explicitly.',
    enforce: ['GEN'],
    controls: ['default-deny-network-policy'],
    artifacts: [],
  },
  {
    id: 'NSA-NET-4', section: 'network', guideSection: 'Resource policies',
    title: 'Limit resources per namespace and container',
    summary: 'Use LimitRanges and ResourceQuotas so that one workload cannot starve the others, and require containers to declare requests and limits.',
    enforce: ['GEN', 'ADM'],
    controls: ['namespace-resource-quota', 'require-resource-limits-requests'],
    artifacts: [],
  },
  {
    id: 'NSA-NET-5', section: 'network', guideSection: 'Control plane hardening',
    title: 'Protect the API server',
    summary: 'Keep the API server off the internet behind a firewall, serve it over TLS only, and require strong authentication and RBAC.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['flags'],
    outside: 'Firewalling the API server is network infrastructure.',
  },
  {
    id: 'NSA-NET-6', section: 'network', guideSection: 'Etcd',
    title: 'Isolate and encrypt etcd',
    summary: 'Only the API servers may reach etcd, over mutual TLS with a dedicated CA, and API data stored in etcd is encrypted at rest.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['encryption-config', 'flags'],
  },
  {
    id: 'NSA-NET-7', section: 'network', guideSection: 'Kubeconfig files',
    title: 'Protect kubeconfig files',
    summary: 'Kubeconfig files of users and components hold credentials; only their owners may read or change them.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-NET-8', section: 'network', guideSection: 'Worker node segmentation',
    title: 'Segment and firewall worker nodes',
    summary: 'Nodes expose the kubelet and the NodePort range; firewall them and avoid exposing services on node ports.',
    enforce: ['CFG', 'ADM'],
    controls: ['disallow-nodeport-services', 'disallow-loadbalancer-services', 'restrict-service-external-ips'],
    artifacts: ['flags'],
    outside: 'Node firewalls are network infrastructure.',
  },
  {
    id: 'NSA-NET-9', section: 'network', guideSection: 'Encryption',
    title: 'TLS for all traffic',
    summary: 'All traffic between components, nodes and the control plane uses TLS 1.2 or later, and applications are exposed over TLS.',
    enforce: ['CFG', 'ADM'],
    controls: ['require-ingress-tls'],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-NET-10', section: 'network', guideSection: 'Secrets',
    title: 'Keep and encrypt secrets properly',
    summary: 'Credentials live in Secrets rather than images, config files or environment values; Secrets are encrypted at rest (KMS preferred) and readable only by those who need them.',
    enforce: ['ADM', 'CFG'],
    controls: ['disallow-secrets-in-env-vars', 'restrict-secret-read-roles'],
    artifacts: ['encryption-config', 'flags'],
  },
  {
    id: 'NSA-NET-11', section: 'network', guideSection: 'Protecting sensitive cloud infrastructure',
    title: 'Block access to cloud metadata',
    summary: 'Pods should not reach the cloud provider metadata service, which can hand out node credentials.',
    enforce: ['GEN', 'CFG'],
    controls: ['block-cloud-metadata-egress'],
    artifacts: [],
    outside: 'Metadata service hardening on the cloud side is provider configuration.',
  },
  // Authentication and authorization
  {
    id: 'NSA-AUTH-1', section: 'auth', guideSection: 'Authentication',
    title: 'Strong user authentication',
    summary: 'Authenticate users with a strong method (client certificates, OIDC, an identity provider) and never with static password or token files.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-AUTH-2', section: 'auth', guideSection: 'Authentication: anonymous requests',
    title: 'No anonymous access',
    summary: 'Turn anonymous requests off on the API server and the kubelet, and never grant permissions to anonymous users.',
    enforce: ['CFG', 'ADM'],
    controls: ['disallow-anonymous-bindings'],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-AUTH-3', section: 'auth', guideSection: 'Role-based access control',
    title: 'RBAC on',
    summary: 'The API server authorizes with RBAC (and the Node authorizer for kubelets), never with an allow-all mode.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['flags'],
  },
  {
    id: 'NSA-AUTH-4', section: 'auth', guideSection: 'Role-based access control: least privilege',
    title: 'Least-privilege roles',
    summary: 'Give users, administrators, developers, service accounts and infrastructure teams separate minimal roles; avoid wildcards, cluster-admin bindings and escalation verbs.',
    enforce: ['ADM'],
    controls: ['restrict-rbac-wildcards', 'disallow-cluster-admin-binding', 'restrict-rbac-escalation-verbs', 'restrict-secret-read-roles'],
    artifacts: [],
  },
  {
    id: 'NSA-AUTH-5', section: 'auth', guideSection: 'Role-based access control: review',
    title: 'Review RBAC regularly',
    summary: 'Audit role bindings periodically and after administrative changes, with tools that show who can do what.',
    enforce: ['OPS', 'ADM'],
    controls: [],
    artifacts: ['audit-policy'],
    outside: 'Periodic access reviews are an operational process.',
  },
  // Audit logging and threat detection
  {
    id: 'NSA-LOG-1', section: 'logging', guideSection: 'Kubernetes native audit logging configuration',
    title: 'Enable API audit logging',
    summary: 'Audit logging is off until the API server has an audit policy; define levels per request type and point the API server at it with a rotated log backend.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['audit-policy', 'flags'],
  },
  {
    id: 'NSA-LOG-2', section: 'logging', guideSection: 'Logging and SIEM platforms',
    title: 'Ship logs off the cluster',
    summary: 'Persist logs beyond the life of nodes and pods by forwarding them over TLS to an external, append-only store or SIEM.',
    enforce: ['CFG'],
    controls: [],
    artifacts: [],
    outside: 'Log forwarding (an audit webhook backend or a collector DaemonSet) depends on the logging platform.',
  },
  {
    id: 'NSA-LOG-3', section: 'logging', guideSection: 'Worker node and container logging; seccomp audit mode',
    title: 'Log nodes, containers and syscalls',
    summary: 'Collect node and container logs with an agent, and use seccomp audit profiles to record the system calls workloads make.',
    enforce: ['CFG', 'ADM'],
    controls: [],
    artifacts: [],
    outside: 'Node log agents and seccomp audit profiles are deployed outside the admission bundle.',
  },
  {
    id: 'NSA-LOG-4', section: 'logging', guideSection: 'Alerting and threat detection',
    title: 'Alert on suspicious activity',
    summary: 'Know what normal looks like and alert on deviations such as privileged pod creation, anonymous actions or unusual failed calls.',
    enforce: ['OPS'],
    controls: [],
    artifacts: [],
    outside: 'Alerting rules live in the monitoring platform; policy reports and PSA audit annotations are usable signals.',
  },
  {
    id: 'NSA-LOG-5', section: 'logging', guideSection: 'Fault tolerance',
    title: 'Tolerate logging outages',
    summary: 'Buffer logs locally when the external service is down and rotate them so disks do not fill up.',
    enforce: ['CFG'],
    controls: [],
    artifacts: ['flags'],
    outside: 'Buffering in the log pipeline depends on the logging platform.',
  },
  {
    id: 'NSA-LOG-6', section: 'logging', guideSection: 'Service meshes',
    title: 'Consider a service mesh',
    summary: 'A service mesh can add mutual TLS and per-request logs between services.',
    enforce: ['CFG'],
    controls: [],
    artifacts: [],
    outside: 'A service mesh is an optional platform component.',
  },
  // Upgrading and application security practices
  {
    id: 'NSA-UPG-1', section: 'upgrade', guideSection: 'Upgrading and application security practices',
    title: 'Patch promptly',
    summary: 'Apply updates to Kubernetes, hypervisors, operating systems, container runtimes, plugins and applications as soon as practical.',
    enforce: ['OPS'],
    controls: [],
    artifacts: [],
    outside: 'Patching is an operational process.',
  },
  {
    id: 'NSA-UPG-2', section: 'upgrade', guideSection: 'Upgrading and application security practices',
    title: 'Scan and test regularly',
    summary: 'Run vulnerability scans and penetration tests periodically, and compare the cluster against the CIS benchmarks.',
    enforce: ['OPS', 'ADM'],
    controls: ['verify-image-signatures'],
    artifacts: [],
    outside: 'Scans and penetration tests are an operational process.',
  },
  {
    id: 'NSA-UPG-3', section: 'upgrade', guideSection: 'Upgrading and application security practices',
    title: 'Remove unused components',
    summary: 'Uninstall components, applications and accounts that are no longer needed.',
    enforce: ['OPS'],
    controls: [],
    artifacts: [],
    outside: 'Removing unused components is an operational process.',
  },
];

export function getRecommendation(id: string): NsaRecommendation | undefined {
  return NSA_RECOMMENDATIONS.find((r) => r.id === id);
}

/**
 * The controls of a recommendation: the planned ones, then every registry control that names it (or, for a
 * `pssControls` recommendation, that is a PSS control), without duplicates, planned order first.
 */
export function controlsFor(rec: NsaRecommendation): string[] {
  const out = [...rec.controls];
  for (const id of controlIds()) {
    const c = getControl(id);
    if ((c.nsa.includes(rec.id) || (rec.pssControls && c.pss)) && !out.includes(id)) out.push(id);
  }
  return out;
}
