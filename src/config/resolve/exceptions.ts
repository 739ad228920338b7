/** Exceptions: validated one by one, then applied to the settings of the scopes they name. */
import { controlIds, getControl, isControlId, type ControlId } from '../../controls/index.js';
import { isRefusedControl } from './custom.js';
import { describe } from '../../controls/options.js';
import { targetKinds } from '../../controls/types.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import { ALLOW_KEYS, allowKeysOf, allowSuggestions, allowValue, type AllowKey } from '../allow.js';
import type { Allowance, ControlSettings, ResolvedException } from './types.js';
import { checkKeys, daysBetween, hintFor, isObject, isValidDate, listLayers, namespaceList, stableJson, uniqSorted, type Layer } from './util.js';

const EXPIRY_WARNING_DAYS = 30;
/** `exceptionHorizonDays` when the config does not set it: an expiry more than a year away warns. */
export const DEFAULT_EXCEPTION_HORIZON_DAYS = 365;

/** `exceptionHorizonDays`: a whole number of days ≥ 1 (the default when unset or invalid, after an error). */
export function resolveExceptionHorizon(d: Diagnostics, setting: Layer): number {
  const v = setting.value;
  if (v === undefined) return DEFAULT_EXCEPTION_HORIZON_DAYS;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    d.error('invalid_value', setting.path, `exceptionHorizonDays must be a whole number of days ≥ 1, got ${describe(v)}`);
    return DEFAULT_EXCEPTION_HORIZON_DAYS;
  }
  return v;
}

export function resolveException(d: Diagnostics, ex: unknown, path: KeyPath, now: string, horizonDays = DEFAULT_EXCEPTION_HORIZON_DAYS): ResolvedException | undefined {
  if (!isObject(ex)) {
    d.error('invalid_value', path, `an exception must be an object {control, namespaces?, images?, reason, expires}, got ${describe(ex)}`);
    return undefined;
  }
  checkKeys(d, ex, path, ['control', 'namespaces', 'images', 'names', 'allow', 'reason', 'expires']);
  let ok = true;
  const rawControls = Array.isArray(ex['control']) ? (ex['control'] as unknown[]) : [ex['control']];
  const controls: ControlId[] = [];
  rawControls.forEach((c, i) => {
    const p = Array.isArray(ex['control']) ? [...path, 'control', i] : [...path, 'control'];
    if (isControlId(c)) controls.push(c);
    else {
      ok = false;
      // A custom control whose definition was refused: reported there.
      if (!isRefusedControl(c)) d.error('unknown_control', p, `unknown control ${describe(c)}`, typeof c === 'string' ? hintFor(c, controlIds()) : undefined);
    }
  });
  if (rawControls.length === 0) {
    ok = false;
    d.error('invalid_value', [...path, 'control'], 'an exception needs at least one control');
  }
  const reason = ex['reason'];
  if (typeof reason !== 'string' || reason.trim() === '') {
    ok = false;
    d.error('missing_reason', [...path, 'reason'], 'every exception needs a non-empty reason');
  }
  const expires = ex['expires'];
  if (typeof expires !== 'string' || !isValidDate(expires)) {
    ok = false;
    d.error('invalid_date', [...path, 'expires'], `expires must be a date YYYY-MM-DD, got ${describe(expires)}`);
  } else if (expires < now) {
    ok = false;
    d.error('expired_exception', [...path, 'expires'], `exception for ${controls.join(', ') || 'this control'} expired on ${expires} (reason: ${String(reason)})`, 'renew it with a new expiry date or remove it');
  } else if (daysBetween(now, expires) <= EXPIRY_WARNING_DAYS) {
    d.warn('expiring_exception', [...path, 'expires'], `exception for ${controls.join(', ')} expires on ${expires}, in ${daysBetween(now, expires)} day(s)`);
  } else if (daysBetween(now, expires) > horizonDays) {
    // An exception is a deadline to fix something; one years away is a permanent hole under another name.
    d.warn(
      'distant_expiry',
      [...path, 'expires'],
      `exception for ${controls.join(', ') || 'this control'} expires on ${expires}, ${daysBetween(now, expires)} days away: beyond the ${horizonDays}-day exception horizon`,
      'set a nearer expiry date and renew it when it is due, or raise exceptionHorizonDays in the config',
    );
  }
  let namespaces: string[] | undefined;
  if (ex['namespaces'] !== undefined) {
    namespaces = namespaceList(d, ex['namespaces'], [...path, 'namespaces']);
    if (!namespaces) ok = false;
    else if (namespaces.length === 0) {
      ok = false;
      d.error('invalid_value', [...path, 'namespaces'], 'namespaces must not be empty (omit it to mean every namespace)');
    }
  }
  let images: string[] | undefined;
  if (ex['images'] !== undefined) {
    const v = ex['images'];
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '' || (x.includes('*') && !x.endsWith('*')) || x.indexOf('*') !== x.lastIndexOf('*'))) {
      ok = false;
      d.error('invalid_value', [...path, 'images'], 'images must be a non-empty list of image references, each exact or a prefix ending in a single "*"');
    } else images = uniqSorted(v as string[]);
  }
  let names: string[] | undefined;
  if (ex['names'] !== undefined) {
    const v = ex['names'];
    // Lower-case DNS names, plus ":" for RBAC objects (system:… roles).
    const valid = (x: unknown): boolean => typeof x === 'string' && (/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/.test(x) || /^[a-z0-9][-a-z0-9.:]*\*$/.test(x));
    if (!Array.isArray(v) || v.length === 0 || !v.every(valid)) {
      ok = false;
      d.error('invalid_value', [...path, 'names'], 'names must be a non-empty list of object names, each exact or a prefix ending in a single "*"');
    } else names = uniqSorted(v as string[]);
  }
  if (images) {
    const custom = controls.filter((c) => getControl(c).custom);
    if (custom.length) {
      ok = false;
      d.error('images_for_custom_control', [...path, 'images'], `${custom.join(', ')}: custom controls are excepted by names or namespaces, not images (their check is not per container)`, 'scope the exception by namespaces or names');
    }
    const nonPod = controls.filter((c) => targetKinds(getControl(c)) && !getControl(c).custom);
    if (nonPod.length) {
      ok = false;
      d.error('images_for_non_pod_control', [...path, 'images'], `${nonPod.join(', ')} ${nonPod.length > 1 ? 'check' : 'checks'} ${[...new Set(nonPod.flatMap((c) => targetKinds(getControl(c))!.map((k) => k.kind)))].join(', ')} objects, which have no images`, 'scope the exception by namespaces or names');
    }
  }
  if (images && names) {
    ok = false;
    d.error('names_with_images', [...path, 'names'], 'an exception is scoped by images or by names, not both: write two exceptions');
  }
  let allow: Partial<Record<AllowKey, string[]>> | undefined;
  if (ex['allow'] !== undefined) {
    allow = resolveAllow(d, ex['allow'], [...path, 'allow'], controls);
    if (!allow) ok = false;
  }
  if (ex['namespaces'] === undefined && ex['images'] === undefined && ex['names'] === undefined) {
    ok = false;
    d.error('unscoped_exception', path, 'an exception must be scoped by namespaces, images or names (to switch a control off everywhere, set it to false)');
  }
  if (!ok) return undefined;
  return {
    controls: uniqSorted(controls) as ControlId[],
    ...(namespaces ? { namespaces: uniqSorted(namespaces) } : {}),
    ...(images ? { images } : {}),
    ...(names ? { names } : {}),
    ...(allow ? { allow } : {}),
    reason: reason as string,
    expires: expires as string,
  };
}

/**
 * `allow` of an exception: an object of allow keys, each a non-empty list of valid values, and every
 * excepted control must understand every key (a control without sub-checks to allow is an error).
 */
function resolveAllow(d: Diagnostics, value: unknown, path: KeyPath, controls: readonly ControlId[]): Partial<Record<AllowKey, string[]>> | undefined {
  if (!isObject(value) || Object.keys(value).length === 0) {
    d.error('invalid_value', path, `allow must be an object naming what the exception lets through, e.g. { capabilities: ['NET_ADMIN'] }, got ${describe(value)}`);
    return undefined;
  }
  let ok = true;
  const out: Partial<Record<AllowKey, string[]>> = {};
  for (const [key, list] of Object.entries(value)) {
    const kp = [...path, key];
    if (!(ALLOW_KEYS as readonly string[]).includes(key)) {
      ok = false;
      d.error('unknown_allow', kp, `exceptions cannot allow "${key}"; they can allow ${ALLOW_KEYS.join(', ')}`, hintFor(key, ALLOW_KEYS));
      continue;
    }
    const k = key as AllowKey;
    const without = controls.filter((c) => !allowKeysOf(c).includes(k));
    if (without.length) {
      ok = false;
      const own = without.map((c) => (allowKeysOf(c).length ? `${c} allows only ${allowKeysOf(c).join(', ')}` : `${c} has no sub-checks an exception can allow`));
      d.error('allow_not_supported', kp, `${k} cannot be allowed for ${without.join(', ')}: ${own.join('; ')}`, 'write a separate exception for those controls (without allow, it excepts them whole)');
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      ok = false;
      d.error('invalid_value', kp, `allow.${k} must be a non-empty list, got ${describe(list)}`);
      continue;
    }
    const values: string[] = [];
    list.forEach((v: unknown, i: number) => {
      const r = allowValue(k, v);
      if ('problem' in r) {
        ok = false;
        d.error('invalid_allow', [...kp, i], `allow.${k}: ${r.problem}`, hintFor(v, allowSuggestions(k)));
      } else values.push(r.value);
    });
    out[k] = uniqSorted(values);
  }
  return ok ? out : undefined;
}

/** Sorted allowances without duplicates (config order never reaches the output). */
export function sortAllowances(xs: readonly Allowance[]): Allowance[] {
  const byKey = new Map(xs.map((a) => [stableJson(a), a]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** Exceptions add up across base and cluster entry. */
export function resolveExceptions(d: Diagnostics, layers: readonly Layer[], now: string, horizonDays = DEFAULT_EXCEPTION_HORIZON_DAYS): ResolvedException[] {
  const exceptions: ResolvedException[] = [];
  for (const layer of listLayers(d, layers, 'a list')) {
    layer.value.forEach((ex: unknown, i: number) => {
      const r = resolveException(d, ex, [...layer.path, i], now, horizonDays);
      if (r) exceptions.push(r);
    });
  }
  return exceptions;
}

/** A control's settings with the exceptions of its scope applied (cluster-wide: `namespace` undefined). */
export interface ExceptedSettings {
  readonly cluster: ControlSettings;
  readonly ns: ReadonlyMap<string, ControlSettings>;
}

/**
 * Applies exceptions as per-namespace settings (namespace-only ones switch the control off there), in every
 * scope: the cluster default and each namespace in `scopes`.
 */
export function applyExceptions(
  exceptions: readonly ResolvedException[],
  scopes: readonly string[],
  clusterSettings: ReadonlyMap<ControlId, ControlSettings>,
  nsSettings: ReadonlyMap<string, ReadonlyMap<ControlId, ControlSettings>>,
): Map<ControlId, ExceptedSettings> {
  const settingsIn = (id: ControlId, ns: string | undefined): ControlSettings =>
    (ns !== undefined ? nsSettings.get(ns)?.get(id) : undefined) ?? clusterSettings.get(id)!;
  const effective = new Map<ControlId, ExceptedSettings>();
  for (const id of controlIds()) {
    const applyExceptions = (s: ControlSettings, ns: string | undefined): ControlSettings => {
      let out = s;
      for (const ex of exceptions) {
        if (!ex.controls.includes(id)) continue;
        if (ex.namespaces && (ns === undefined || !ex.namespaces.includes(ns))) continue;
        if (ex.allow) {
          const a: Allowance = { ...(ex.images ? { images: ex.images } : {}), ...(ex.names ? { names: ex.names } : {}), values: ex.allow };
          out = { ...out, allowances: sortAllowances([...out.allowances, a]) };
        } else if (ex.images) out = { ...out, exemptImages: uniqSorted([...out.exemptImages, ...ex.images]) };
        else if (ex.names) out = { ...out, exemptNames: uniqSorted([...out.exemptNames, ...ex.names]) };
        else out = { ...out, enabled: false };
      }
      return out;
    };
    const cluster = applyExceptions(settingsIn(id, undefined), undefined);
    const ns = new Map<string, ControlSettings>();
    for (const n of scopes) ns.set(n, applyExceptions(settingsIn(id, n), n));
    effective.set(id, { cluster, ns });
  }
  return effective;
}
