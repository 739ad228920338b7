/** Small checks and helpers shared by the resolve steps. */
import { describe } from '../../controls/options.js';
import { didYouMean, type Diagnostics, type KeyPath } from '../../diagnostics.js';
import type { Mode, PssLevelName } from '../types.js';

export const MODES: readonly Mode[] = ['enforce', 'audit', 'warn'];
export const LEVELS: readonly PssLevelName[] = ['privileged', 'baseline', 'restricted'];
export const LEVEL_RANK: Record<PssLevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type { Json };

export function namespaceList(d: Diagnostics, value: unknown, path: KeyPath): string[] | undefined {
  if (!Array.isArray(value)) {
    d.error('invalid_value', path, `expected a list of namespace names, got ${describe(value)}`);
    return undefined;
  }
  let ok = true;
  value.forEach((ns, i) => {
    if (typeof ns !== 'string' || !isDnsLabel(ns)) {
      ok = false;
      d.error('invalid_name', [...path, i], `${describe(ns)} is not a valid namespace name (DNS label)`);
    }
  });
  return ok ? (value as string[]) : undefined;
}

export function checkKeys(d: Diagnostics, obj: Record<string, unknown>, path: KeyPath, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) d.error('unknown_key', [...path, key], `unknown key "${key}"`, hintFor(key, allowed, `allowed keys: ${allowed.join(', ')}`));
  }
}

export function hintFor(value: unknown, candidates: readonly string[], fallback?: string): string | undefined {
  if (typeof value === 'string') {
    const m = didYouMean(value, candidates);
    if (m) return `did you mean "${m}"?`;
  }
  return fallback;
}

export { stableJson } from '../../stable-json.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isDnsLabel(s: unknown): boolean {
  return typeof s === 'string' && s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

export function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === s;
}

export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

export function uniqSorted<T extends string>(xs: readonly T[]): T[] {
  return [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One place a setting is written: its value there (undefined when absent) and that key path. */
export interface Layer {
  readonly value: unknown;
  readonly path: KeyPath;
}

/**
 * Where one cluster's settings come from: the config's top level (`base`), then, in a multi-cluster config,
 * the cluster's own entry under `clusters.<name>` (`entry`, at `entryPath`).
 */
export class ClusterSource {
  constructor(
    readonly base: Record<string, unknown>,
    readonly entry: Record<string, unknown> | undefined,
    readonly entryPath: KeyPath,
  ) {}

  /** Every layer of a setting, base first; an absent value stays in the list (its path still locates a warning). */
  layers(key: string): Layer[] {
    const out: Layer[] = [{ value: this.base[key], path: [key] }];
    if (this.entry) out.push({ value: this.entry[key], path: [...this.entryPath, key] });
    return out;
  }

  /** The setting that applies: the cluster entry's when it has one, else the base's, with the path of whichever was used. */
  pick(key: string): Layer {
    if (this.entry && this.entry[key] !== undefined) return { value: this.entry[key], path: [...this.entryPath, key] };
    return { value: this.base[key], path: [key] };
  }
}

/** The layers that hold an object; a layer holding anything else is an error (`<key> must be <expected>`). */
export function objectLayers(d: Diagnostics, layers: readonly Layer[], expected: string): { value: Record<string, unknown>; path: KeyPath }[] {
  return layersOfShape(d, layers, isObject, expected);
}

/** The layers that hold a list; a layer holding anything else is an error (`<key> must be <expected>`). */
export function listLayers(d: Diagnostics, layers: readonly Layer[], expected: string): { value: unknown[]; path: KeyPath }[] {
  return layersOfShape(d, layers, (v): v is unknown[] => Array.isArray(v), expected);
}

function layersOfShape<T>(d: Diagnostics, layers: readonly Layer[], is: (v: unknown) => v is T, expected: string): { value: T; path: KeyPath }[] {
  const out: { value: T; path: KeyPath }[] = [];
  for (const layer of layers) {
    if (layer.value === undefined) continue;
    if (is(layer.value)) out.push({ value: layer.value, path: layer.path });
    else d.error('invalid_value', layer.path, `${String(layer.path[layer.path.length - 1])} must be ${expected}, got ${describe(layer.value)}`);
  }
  return out;
}
