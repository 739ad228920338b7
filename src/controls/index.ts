/**
 * The control registry. Its keys are the `ControlId` union the DSL uses, so a typo in a control id is a
 * type error in policies.config.ts. Order here is the display order (PSS baseline, then restricted, then the NSA/CISA controls beyond PSS).
 */
import type { AnyControl } from './types.js';
import disallowHostProcess from './disallow-host-process.js';
import disallowHostNamespaces from './disallow-host-namespaces.js';
import disallowPrivilegedContainers from './disallow-privileged-containers.js';
import restrictCapabilitiesBaseline from './restrict-capabilities-baseline.js';
import disallowHostPath from './disallow-host-path.js';
import restrictHostPorts from './restrict-host-ports.js';
import restrictProbeLifecycleHost from './restrict-probe-lifecycle-host.js';
import restrictApparmor from './restrict-apparmor.js';
import restrictSelinux from './restrict-selinux.js';
import restrictProcMount from './restrict-proc-mount.js';
import restrictSeccomp from './restrict-seccomp.js';
import restrictSysctls from './restrict-sysctls.js';
import restrictVolumeTypes from './restrict-volume-types.js';
import disallowPrivilegeEscalation from './disallow-privilege-escalation.js';
import requireRunAsNonRoot from './require-run-as-non-root.js';
import disallowRunAsRootUser from './disallow-run-as-root-user.js';
import requireSeccompProfile from './require-seccomp-profile.js';
import requireDropAllCapabilities from './require-drop-all-capabilities.js';
import requireDefaultProcMount from './require-default-proc-mount.js';
import requireNonRootGroups from './require-non-root-groups.js';
import requireReadonlyRootFs from './require-readonly-root-fs.js';
import disallowAutomountSaToken from './disallow-automount-sa-token.js';
import requireDropNetRaw from './require-drop-net-raw.js';
import blockEphemeralContainers from './block-ephemeral-containers.js';
import allowedRegistries from './allowed-registries.js';
import disallowLatestTag from './disallow-latest-tag.js';
import requireImageDigest from './require-image-digest.js';
import verifyImageSignatures from './verify-image-signatures.js';
import requireResourceLimitsRequests from './require-resource-limits-requests.js';
import disallowSecretsInEnvVars from './disallow-secrets-in-env-vars.js';
import disallowDefaultNamespace from './disallow-default-namespace.js';
import enforcePsaNamespaceLabels from './enforce-psa-namespace-labels.js';
import requireCurrentPsaVersion from './require-current-psa-version.js';
import disallowNodeportServices from './disallow-nodeport-services.js';
import disallowLoadbalancerServices from './disallow-loadbalancer-services.js';
import restrictServiceExternalIps from './restrict-service-external-ips.js';
import requireIngressTls from './require-ingress-tls.js';
import disallowServiceaccountTokenAutomount from './disallow-serviceaccount-token-automount.js';
import restrictRbacWildcards from './restrict-rbac-wildcards.js';
import restrictRbacEscalationVerbs from './restrict-rbac-escalation-verbs.js';
import restrictSecretReadRoles from './restrict-secret-read-roles.js';
import disallowClusterAdminBinding from './disallow-cluster-admin-binding.js';
import disallowAnonymousBindings from './disallow-anonymous-bindings.js';

export const controls = {
  'disallow-host-process': disallowHostProcess,
  'disallow-host-namespaces': disallowHostNamespaces,
  'disallow-privileged-containers': disallowPrivilegedContainers,
  'restrict-capabilities-baseline': restrictCapabilitiesBaseline,
  'disallow-host-path': disallowHostPath,
  'restrict-host-ports': restrictHostPorts,
  'restrict-probe-lifecycle-host': restrictProbeLifecycleHost,
  'restrict-apparmor': restrictApparmor,
  'restrict-selinux': restrictSelinux,
  'restrict-proc-mount': restrictProcMount,
  'restrict-seccomp': restrictSeccomp,
  'restrict-sysctls': restrictSysctls,
  'restrict-volume-types': restrictVolumeTypes,
  'disallow-privilege-escalation': disallowPrivilegeEscalation,
  'require-run-as-non-root': requireRunAsNonRoot,
  'disallow-run-as-root-user': disallowRunAsRootUser,
  'require-seccomp-profile': requireSeccompProfile,
  'require-drop-all-capabilities': requireDropAllCapabilities,
  'require-default-proc-mount': requireDefaultProcMount,
  // NSA/CISA hardening beyond the Pod Security Standards.
  'require-non-root-groups': requireNonRootGroups,
  'require-readonly-root-fs': requireReadonlyRootFs,
  'disallow-automount-sa-token': disallowAutomountSaToken,
  'require-drop-net-raw': requireDropNetRaw,
  'block-ephemeral-containers': blockEphemeralContainers,
  'allowed-registries': allowedRegistries,
  'disallow-latest-tag': disallowLatestTag,
  'require-image-digest': requireImageDigest,
  'verify-image-signatures': verifyImageSignatures,
  'require-resource-limits-requests': requireResourceLimitsRequests,
  'disallow-secrets-in-env-vars': disallowSecretsInEnvVars,
  'disallow-default-namespace': disallowDefaultNamespace,
  'enforce-psa-namespace-labels': enforcePsaNamespaceLabels,
  'require-current-psa-version': requireCurrentPsaVersion,
  // Objects other than Pods: Services, Ingresses, RBAC, ServiceAccounts.
  'disallow-nodeport-services': disallowNodeportServices,
  'disallow-loadbalancer-services': disallowLoadbalancerServices,
  'restrict-service-external-ips': restrictServiceExternalIps,
  'require-ingress-tls': requireIngressTls,
  'disallow-serviceaccount-token-automount': disallowServiceaccountTokenAutomount,
  'restrict-rbac-wildcards': restrictRbacWildcards,
  'restrict-rbac-escalation-verbs': restrictRbacEscalationVerbs,
  'restrict-secret-read-roles': restrictSecretReadRoles,
  'disallow-cluster-admin-binding': disallowClusterAdminBinding,
  'disallow-anonymous-bindings': disallowAnonymousBindings,
} satisfies { [K in string]: AnyControl & { id: K } };

export type Controls = typeof controls;
/** Every control id kubeharden knows. */
export type ControlId = keyof Controls;

export const CONTROL_IDS = Object.keys(controls) as ControlId[];

export function getControl(id: ControlId): AnyControl {
  return controls[id] as unknown as AnyControl;
}

export function isControlId(id: unknown): id is ControlId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(controls, id);
}
