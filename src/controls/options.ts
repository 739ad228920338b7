/**
 * Option schemas for controls: one declaration gives the DSL its TypeScript type, the resolver its
 * runtime validation, and the docs their text.
 */
import { isIP } from 'node:net';

/** An inclusive range of port numbers. */
export interface PortRange {
  /** Lowest allowed port (1–65535). */
  readonly min: number;
  /** Highest allowed port (1–65535, ≥ min). */
  readonly max: number;
}

export interface BooleanOption {
  readonly kind: 'boolean';
  readonly description: string;
}

export interface StringListOption<V extends string = string> {
  readonly kind: 'strings';
  readonly description: string;
  /** When given, every item must be one of these values. */
  readonly values?: readonly V[];
  /** Well-known values offered in docs and "did you mean" hints (not enforced). */
  readonly suggestions?: readonly string[];
  /** `ip`: every item must be an IPv4 or IPv6 address as Kubernetes parses one (no CIDR, no zone). */
  readonly format?: 'ip';
}

export interface PortRangesOption {
  readonly kind: 'portRanges';
  readonly description: string;
}

export type OptionSpec = BooleanOption | StringListOption<string> | PortRangesOption;

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S> = S extends BooleanOption
  ? boolean
  : S extends { kind: 'strings'; values: readonly (infer V)[] }
    ? readonly V[]
    : S extends StringListOption
      ? readonly string[]
      : S extends PortRangesOption
        ? readonly PortRange[]
        : never;

/** The resolved option values of a control. */
export type OptionsOf<S extends OptionSpecs> = { readonly [K in keyof S]: ValueOf<S[K]> };

export const opt = {
  boolean(description: string): BooleanOption {
    return { kind: 'boolean', description };
  },
  strings(description: string, suggestions?: readonly string[]): StringListOption<string> {
    return suggestions ? { kind: 'strings', description, suggestions } : { kind: 'strings', description };
  },
  oneOf<const V extends string>(description: string, values: readonly V[]): StringListOption<V> & { readonly values: readonly V[] } {
    return { kind: 'strings', description, values };
  },
  /** A list of IP addresses (IPv4 dotted quads without leading zeros, IPv6 without a zone). */
  ips(description: string): StringListOption<string> {
    return { kind: 'strings', description, format: 'ip' };
  },
  portRanges(description: string): PortRangesOption {
    return { kind: 'portRanges', description };
  },
};

/** Checks one option value; returns a problem description or undefined. */
export function checkOptionValue(spec: OptionSpec, value: unknown): { message: string; index?: number; hintFrom?: readonly string[] } | undefined {
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : { message: `expected a boolean, got ${describe(value)}` };
    case 'strings': {
      if (!Array.isArray(value)) return { message: `expected a list of strings, got ${describe(value)}` };
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'string' || item === '') {
          return { message: `item ${i} must be a non-empty string, got ${describe(item)}`, index: i };
        }
        if (spec.values && !spec.values.includes(item)) {
          return { message: `item ${i} "${item}" is not one of ${spec.values.join(', ')}`, index: i, hintFrom: spec.values };
        }
        if (spec.format === 'ip') {
          const problem = ipProblem(item);
          if (problem) return { message: `item ${i} "${item}" ${problem}`, index: i };
        }
      }
      return undefined;
    }
    case 'portRanges': {
      if (!Array.isArray(value)) return { message: `expected a list of {min, max} port ranges, got ${describe(value)}` };
      for (let i = 0; i < value.length; i++) {
        const r: unknown = value[i];
        if (typeof r !== 'object' || r === null) return { message: `item ${i} must be {min, max}`, index: i };
        const { min, max } = r as { min?: unknown; max?: unknown };
        const keys = Object.keys(r).filter((k) => k !== 'min' && k !== 'max');
        if (keys.length) return { message: `item ${i} has unknown key "${keys[0]}"`, index: i };
        if (!isPort(min) || !isPort(max)) return { message: `item ${i} needs integer min and max between 1 and 65535`, index: i };
        if (min > max) return { message: `item ${i} has min ${min} greater than max ${max}`, index: i };
      }
      return undefined;
    }
  }
}

/**
 * Why `s` is not an IP address as Go's net.ParseIP (and so the API server) reads one, or undefined: IPv4
 * with a leading zero in an octet, an IPv6 zone (`%eth0`), a CIDR range or a host name are not addresses.
 */
function ipProblem(s: string): string | undefined {
  if (s.includes('/')) return 'is a CIDR range; list each address (they are compared as exact strings)';
  if (s.includes('%')) return 'has an IPv6 zone, which Kubernetes does not accept in an address';
  return isIP(s) ? undefined : 'is not an IPv4 or IPv6 address';
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string "${value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** A canonical absolute path: no empty, `.` or `..` segment, no trailing `/` (lib.rego.hbs `canonical_path`). */
export const CANONICAL_PATH = '^(/([^/]*[^/.][^/]*|[.][.][.]+))+$';
