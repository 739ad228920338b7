/**
 * What an exception may allow instead of excepting a whole control (`allow`): per control, the sub-checks it
 * can relax and the values each takes. An exception with `allow` lets through exactly those values (for its
 * images, names or namespaces) and keeps every other check of the control.
 */
import type { ControlId } from '../controls/index.js';
import { KNOWN_VOLUME_TYPES } from '../pss/versions.js';

/** Host namespaces of a Pod spec (disallow-host-namespaces). */
export type HostNamespace = 'hostNetwork' | 'hostPID' | 'hostIPC';
export const HOST_NAMESPACES: readonly HostNamespace[] = ['hostIPC', 'hostNetwork', 'hostPID'];

/** Every value an exception can allow, by key. */
export interface AllowValues {
  /**
   * Capabilities containers of the excepted images (or every container of the excepted objects) may add,
   * exact upper-case names without the `CAP_` prefix, e.g. `['NET_ADMIN', 'NET_RAW']`. `ALL` is refused:
   * name what is needed.
   */
  readonly capabilities: readonly string[];
  /** Host namespaces the excepted Pods may share, e.g. `['hostPID']`. */
  readonly hostNamespaces: readonly HostNamespace[];
  /** Volume source fields the excepted Pods may use beyond the allowed ones, e.g. `['nfs']`. */
  readonly volumeTypes: readonly string[];
  /** Sysctl names the excepted Pods may set beyond the allowed ones (exact names). */
  readonly sysctls: readonly string[];
}
export type AllowKey = keyof AllowValues;

/** Which `allow` keys each control understands (controls not listed have no sub-checks to allow). */
export const CONTROL_ALLOW = {
  'restrict-capabilities-baseline': ['capabilities'],
  'require-drop-all-capabilities': ['capabilities'],
  'disallow-host-namespaces': ['hostNamespaces'],
  'restrict-volume-types': ['volumeTypes'],
  'restrict-sysctls': ['sysctls'],
} as const satisfies Partial<Record<ControlId, readonly AllowKey[]>>;

export type AllowingControlId = keyof typeof CONTROL_ALLOW;
/** The `allow` keys of a control (never for controls without sub-checks to allow). */
export type AllowKeysOf<Id extends ControlId> = Id extends AllowingControlId ? (typeof CONTROL_ALLOW)[Id][number] : never;
/** The controls that understand an `allow` key. */
export type ControlsAllowing<K extends AllowKey> = { [Id in AllowingControlId]: K extends AllowKeysOf<Id> ? Id : never }[AllowingControlId];

export function allowKeysOf(id: ControlId): readonly AllowKey[] {
  return (CONTROL_ALLOW as Partial<Record<ControlId, readonly AllowKey[]>>)[id] ?? [];
}

export const ALLOW_KEYS: readonly AllowKey[] = ['capabilities', 'hostNamespaces', 'sysctls', 'volumeTypes'];

/** Why an allowed value is invalid, or undefined. */
export function checkAllowValue(key: AllowKey, value: string): string | undefined {
  switch (key) {
    case 'capabilities':
      if (value.toUpperCase() === 'ALL') return 'ALL would allow every capability; name the capabilities that are needed';
      if (/^CAP_/i.test(value)) return `write capabilities without the CAP_ prefix ("${value.replace(/^CAP_/i, '')}"); containerd would read "${value}" as CAP_${value}`;
      if (!/^[A-Z][A-Z0-9_]*$/.test(value)) return `"${value}" is not a capability name (upper-case letters, digits and "_", e.g. NET_ADMIN); Pod Security Admission compares names exactly`;
      return undefined;
    case 'hostNamespaces':
      return (HOST_NAMESPACES as readonly string[]).includes(value) ? undefined : `"${value}" is not one of ${HOST_NAMESPACES.join(', ')}`;
    case 'volumeTypes':
      return (KNOWN_VOLUME_TYPES as readonly string[]).includes(value) ? undefined : `"${value}" is not a volume source field (${KNOWN_VOLUME_TYPES.join(', ')})`;
    case 'sysctls':
      return /^[a-z0-9]([-_a-z0-9]*[a-z0-9])?([./][a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$/.test(value) ? undefined : `"${value}" is not a sysctl name (e.g. net.ipv4.ip_local_port_range)`;
  }
}

/** Suggestions for "did you mean" hints. */
export function allowSuggestions(key: AllowKey): readonly string[] {
  return key === 'hostNamespaces' ? HOST_NAMESPACES : key === 'volumeTypes' ? KNOWN_VOLUME_TYPES : [];
}
