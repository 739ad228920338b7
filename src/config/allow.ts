/**
 * What an exception may allow instead of excepting a whole control (`allow`): per control, the sub-checks it
 * can relax and the values each takes. An exception with `allow` lets through exactly those values (for its
 * images, names or namespaces) and keeps every other check of the control.
 */
import type { ControlId } from '../controls/index.js';
import { CANONICAL_PATH, describe, type PortRange } from '../controls/options.js';
import { KNOWN_VOLUME_TYPES } from '../pss/versions.js';

/** Host namespaces of a Pod spec (disallow-host-namespaces). */
export type HostNamespace = 'hostNetwork' | 'hostPID' | 'hostIPC';
export const HOST_NAMESPACES: readonly HostNamespace[] = ['hostIPC', 'hostNetwork', 'hostPID'];

/** Seccomp and AppArmor profile types (restrict-seccomp, require-seccomp-profile, restrict-apparmor). */
export type ProfileType = 'Localhost' | 'RuntimeDefault' | 'Unconfined';
export const PROFILE_TYPES: readonly ProfileType[] = ['Localhost', 'RuntimeDefault', 'Unconfined'];

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
  /**
   * Host ports containers of the excepted images (or every container of the excepted objects) may bind:
   * port numbers or inclusive `{ min, max }` ranges, e.g. `[9100]`.
   */
  readonly hostPorts: readonly (number | PortRange)[];
  /**
   * hostPath paths the excepted Pods may mount: an exact absolute path (`/var/log`), or everything below a
   * directory (`/var/log/*`, not `/var/log` itself). Only paths written in canonical form match: `/var/log/`,
   * `/var//log` and `/var/log/../../etc` never do.
   */
  readonly hostPaths: readonly string[];
  /** Seccomp profile types the excepted containers (or Pods) may set beyond the allowed ones, e.g. `['Unconfined']`. */
  readonly seccompTypes: readonly ProfileType[];
  /** AppArmor profile types the excepted containers (or Pods) may set beyond the allowed ones, e.g. `['Unconfined']`. */
  readonly appArmorTypes: readonly ProfileType[];
  /** SELinux types (`seLinuxOptions.type`) the excepted containers (or Pods) may set beyond the allowed ones, e.g. `['spc_t']`. */
  readonly seLinuxTypes: readonly string[];
}
export type AllowKey = keyof AllowValues;

/** Which `allow` keys each control understands (controls not listed have no sub-checks to allow). */
export const CONTROL_ALLOW = {
  'restrict-capabilities-baseline': ['capabilities'],
  'require-drop-all-capabilities': ['capabilities'],
  'require-drop-net-raw': ['capabilities'],
  'disallow-host-namespaces': ['hostNamespaces'],
  'restrict-host-ports': ['hostPorts'],
  'disallow-host-path': ['hostPaths'],
  'restrict-volume-types': ['volumeTypes'],
  'restrict-sysctls': ['sysctls'],
  'restrict-seccomp': ['seccompTypes'],
  'require-seccomp-profile': ['seccompTypes'],
  'restrict-apparmor': ['appArmorTypes'],
  'restrict-selinux': ['seLinuxTypes'],
} as const satisfies Partial<Record<ControlId, readonly AllowKey[]>>;

export type AllowingControlId = keyof typeof CONTROL_ALLOW;
/** The `allow` keys of a control (never for controls without sub-checks to allow). */
export type AllowKeysOf<Id extends ControlId> = Id extends AllowingControlId ? (typeof CONTROL_ALLOW)[Id][number] : never;
/** The controls that understand an `allow` key. */
export type ControlsAllowing<K extends AllowKey> = { [Id in AllowingControlId]: K extends AllowKeysOf<Id> ? Id : never }[AllowingControlId];

export function allowKeysOf(id: ControlId): readonly AllowKey[] {
  return (CONTROL_ALLOW as Partial<Record<ControlId, readonly AllowKey[]>>)[id] ?? [];
}

/** Every `allow` key some control understands, sorted (derived from CONTROL_ALLOW, so it cannot drift). */
export const ALLOW_KEYS: readonly AllowKey[] = [...new Set<AllowKey>(Object.values(CONTROL_ALLOW).flat())].sort();

export { CANONICAL_PATH } from '../controls/options.js';

/**
 * One configured value as the engines compare it (strings; a host port as `"9100"` or `"9000-9100"`), or why
 * it is invalid.
 */
export function allowValue(key: AllowKey, value: unknown): { value: string } | { problem: string } {
  if (key === 'hostPorts') {
    const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
    if (isPort(value)) return { value: String(value) };
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const { min, max, ...rest } = value as { min?: unknown; max?: unknown };
      if (Object.keys(rest).length) return { problem: `unknown key "${Object.keys(rest)[0]}" in a port range (write { min, max })` };
      if (!isPort(min) || !isPort(max)) return { problem: 'a port range needs integer min and max between 1 and 65535' };
      if (min > max) return { problem: `min ${min} is greater than max ${max}` };
      return { value: min === max ? String(min) : `${min}-${max}` };
    }
    return { problem: `expected a port number (1-65535) or a { min, max } range, got ${describe(value)}` };
  }
  if (typeof value !== 'string' || value === '') return { problem: `expected a non-empty string, got ${describe(value)}` };
  const problem = checkAllowValue(key, value);
  return problem ? { problem } : { value };
}

/** A resolved host port value (`"9100"`, `"9000-9100"`) as the range the engines compare against. */
export function portRangeOf(value: string): PortRange {
  const [min, max] = value.split('-').map(Number) as [number, number?];
  return { min, max: max ?? min };
}

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
    case 'hostPorts':
      return /^[0-9]+(-[0-9]+)?$/.test(value) ? undefined : `"${value}" is not a port or port range`;
    case 'hostPaths': {
      const path = value.endsWith('/*') ? value.slice(0, -2) : value;
      if (value.includes('*') && !value.endsWith('/*')) return `"${value}": "*" may only end a path, as "/<directory>/*" (everything below the directory)`;
      if (path === '' || path === '/') return `"${value}" would allow the whole host filesystem; name the paths that are needed`;
      if (!new RegExp(CANONICAL_PATH).test(path) || path.includes('*')) {
        return `"${value}" is not a canonical absolute path (starts with "/", no trailing "/", no empty, "." or ".." segment); only canonical paths can be compared safely`;
      }
      return undefined;
    }
    case 'seccompTypes':
    case 'appArmorTypes':
      return (PROFILE_TYPES as readonly string[]).includes(value) ? undefined : `"${value}" is not one of ${PROFILE_TYPES.join(', ')}`;
    case 'seLinuxTypes':
      return /^[A-Za-z0-9_]+$/.test(value) ? undefined : `"${value}" is not an SELinux type (letters, digits and "_", e.g. spc_t); seLinuxOptions.type is compared exactly`;
  }
}

/** Suggestions for "did you mean" hints. */
export function allowSuggestions(key: AllowKey): readonly string[] {
  return key === 'hostNamespaces' ? HOST_NAMESPACES : key === 'volumeTypes' ? KNOWN_VOLUME_TYPES : key === 'seccompTypes' || key === 'appArmorTypes' ? PROFILE_TYPES : [];
}
