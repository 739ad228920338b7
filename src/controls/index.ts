/**
 * The control registry. Its keys are the `ControlId` union the DSL uses, so a typo in a control id is a
 * type error in policies.config.ts. Order here is the display order (PSS baseline, then restricted, then the NSA/CISA controls beyond PSS).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AnyControl } from './types.js';
import disallowHostProcess from './disallow-host-process/index.js';
import disallowHostNamespaces from './disallow-host-namespaces/index.js';
import disallowPrivilegedContainers from './disallow-privileged-containers/index.js';
import restrictCapabilitiesBaseline from './restrict-capabilities-baseline/index.js';
import disallowHostPath from './disallow-host-path/index.js';
import restrictHostPorts from './restrict-host-ports/index.js';
import restrictProbeLifecycleHost from './restrict-probe-lifecycle-host/index.js';
import restrictApparmor from './restrict-apparmor/index.js';
import restrictSelinux from './restrict-selinux/index.js';
import restrictProcMount from './restrict-proc-mount/index.js';
import restrictSeccomp from './restrict-seccomp/index.js';
import restrictSysctls from './restrict-sysctls/index.js';
import restrictVolumeTypes from './restrict-volume-types/index.js';
import disallowPrivilegeEscalation from './disallow-privilege-escalation/index.js';
import requireRunAsNonRoot from './require-run-as-non-root/index.js';
import disallowRunAsRootUser from './disallow-run-as-root-user/index.js';
import requireSeccompProfile from './require-seccomp-profile/index.js';
import requireDropAllCapabilities from './require-drop-all-capabilities/index.js';
import requireDefaultProcMount from './require-default-proc-mount/index.js';
import requireNonRootGroups from './require-non-root-groups/index.js';
import requireReadonlyRootFs from './require-readonly-root-fs/index.js';
import disallowAutomountSaToken from './disallow-automount-sa-token/index.js';
import requireDropNetRaw from './require-drop-net-raw/index.js';
import blockEphemeralContainers from './block-ephemeral-containers/index.js';
import allowedRegistries from './allowed-registries/index.js';
import disallowLatestTag from './disallow-latest-tag/index.js';
import requireImageDigest from './require-image-digest/index.js';
import verifyImageSignatures from './verify-image-signatures/index.js';
import requireResourceLimitsRequests from './require-resource-limits-requests/index.js';
import disallowSecretsInEnvVars from './disallow-secrets-in-env-vars/index.js';
import disallowDefaultNamespace from './disallow-default-namespace/index.js';
import enforcePsaNamespaceLabels from './enforce-psa-namespace-labels/index.js';
import requireCurrentPsaVersion from './require-current-psa-version/index.js';
import disallowNodeportServices from './disallow-nodeport-services/index.js';
import disallowLoadbalancerServices from './disallow-loadbalancer-services/index.js';
import restrictServiceExternalIps from './restrict-service-external-ips/index.js';
import requireIngressTls from './require-ingress-tls/index.js';
import disallowServiceaccountTokenAutomount from './disallow-serviceaccount-token-automount/index.js';
import restrictRbacWildcards from './restrict-rbac-wildcards/index.js';
import restrictRbacEscalationVerbs from './restrict-rbac-escalation-verbs/index.js';
import restrictSecretReadRoles from './restrict-secret-read-roles/index.js';
import disallowClusterAdminBinding from './disallow-cluster-admin-binding/index.js';
import disallowAnonymousBindings from './disallow-anonymous-bindings/index.js';

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
/**
 * Every built-in control id. Custom controls (a config's `customControls`) have ids outside this union; at
 * run time they are control ids like these while their config is compiled or evaluated (see `withControls`).
 */
export type ControlId = keyof Controls;

/** The built-in control ids, in display order. */
export const CONTROL_IDS = Object.keys(controls) as ControlId[];

/**
 * The custom controls in force for the current asynchronous context: set by `withControls` around one
 * config's resolve, compile, test or audit, and seen by nothing else. The built-in registry is never
 * changed, so controls of one config never reach another compile, even one running concurrently.
 */
const scope = new AsyncLocalStorage<ReadonlyMap<string, AnyControl>>();

/**
 * Runs `fn` with `custom` added to the registry (for `fn` and everything it awaits). Throws when a custom id
 * is a built-in id or repeats (resolve reports both as located errors before this is reached).
 */
export function withControls<T>(custom: readonly AnyControl[], fn: () => T): T {
  const map = new Map<string, AnyControl>();
  addControls(map, custom);
  return scope.run(map, fn);
}

/** Adds custom controls to a scope's map: never a built-in id, never a second definition of an id. */
function addControls(map: Map<string, AnyControl>, custom: readonly AnyControl[]): void {
  for (const c of custom) {
    if (Object.hasOwn(controls, c.id)) throw new Error(`custom control ${c.id}: the id of a built-in control`);
    if (map.has(c.id) && map.get(c.id) !== c) throw new Error(`custom control ${c.id}: another definition is already in force`);
    map.set(c.id, c);
  }
}

/** Scopes opened by `withControlScope`: `enterControls` may add to these (and only these). */
const open = new WeakSet<ReadonlyMap<string, AnyControl>>();

/**
 * Runs `fn` in a scope of its own, without custom controls until `enterControls` adds those of the config it
 * loads (one CLI invocation: the config is found and loaded inside the command).
 */
export function withControlScope<T>(fn: () => T): T {
  const map = new Map<string, AnyControl>();
  open.add(map);
  return scope.run(map, fn);
}

/**
 * Adds a config's custom controls to the scope `withControlScope` opened, for the rest of that scope. Throws
 * outside such a scope (the registry itself is never changed), for a built-in id, and for an id the scope
 * already holds with another definition.
 */
export function enterControls(custom: readonly AnyControl[]): void {
  const map = scope.getStore() as Map<string, AnyControl> | undefined;
  if (!map || !open.has(map)) {
    if (custom.length) throw new Error('custom controls can only be entered inside withControlScope');
    return;
  }
  addControls(map, custom);
}

/** The custom controls in force (see `withControls`), in config order. */
export function customControls(): readonly AnyControl[] {
  return [...(scope.getStore()?.values() ?? [])];
}

/** Every control id in force: the built-in ones, then the config's custom controls. */
export function controlIds(): ControlId[] {
  const custom = scope.getStore();
  return custom?.size ? [...CONTROL_IDS, ...(custom.keys() as Iterable<ControlId>)] : CONTROL_IDS;
}

/** Whether `id` is a built-in control id. */
export function isBuiltinControlId(id: unknown): id is ControlId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(controls, id);
}

export function getControl(id: ControlId): AnyControl {
  if (Object.prototype.hasOwnProperty.call(controls, id)) return controls[id] as unknown as AnyControl;
  const c = scope.getStore()?.get(id);
  if (!c) throw new Error(`unknown control ${JSON.stringify(id)} (a custom control is known only while its config is compiled or evaluated)`);
  return c;
}

/** Whether `id` is a control in force: built-in, or a custom control of the config being worked on. */
export function isControlId(id: unknown): id is ControlId {
  return isBuiltinControlId(id) || (typeof id === 'string' && scope.getStore()?.has(id) === true);
}
