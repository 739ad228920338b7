/** One control's settings: a setting (`true`, a mode or `{enabled, mode, options}`) applied over another, required options. */
import type { ControlId } from '../../controls/index.js';
import { checkOptionValue, describe } from '../../controls/options.js';
import type { AnyControl } from '../../controls/types.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import type { Mode } from '../types.js';
import type { ControlSettings } from './types.js';
import { MODES, checkKeys, hintFor, isObject, type Json } from './util.js';

/** Between alternatives of a required option group (`[a, b]`: a or b must be given). */
const OR = ' or options.';

/** Required options of an enabled control that are empty (a group: `a or options.b`, all of them empty). */
export function missingOptions(c: AnyControl, s: ControlSettings): string[] {
  if (!s.enabled) return [];
  const empty = (k: string): boolean => {
    const v = s.options[k];
    return !Array.isArray(v) || v.length === 0;
  };
  return (c.requiredOptions ?? []).flatMap((r) => {
    const group: readonly string[] = typeof r === 'string' ? [r] : r;
    return group.every(empty) ? [group.join(OR)] : [];
  });
}

export function requiredHint(c: AnyControl, missing: readonly string[]): string {
  return missing.map((m) => m.split(OR).map((k) => c.options[k]?.description ?? k).join(' Or: ')).join(' ');
}

export function exampleSetting(c: AnyControl, missing: readonly string[]): string {
  const example = (k: string): string => {
    const spec = c.options[k];
    const values = spec && spec.kind === 'strings' ? (spec.suggestions ?? []).slice(0, 2) : [];
    return `${k}: [${values.map((v) => `'${v}'`).join(', ')}]`;
  };
  return `'${c.id}': { options: { ${missing.map((m) => example(m.split(OR)[0]!)).join(', ')} } }`;
}

export function explicitlyDisabled(layers: readonly { value: unknown }[], id: ControlId): boolean {
  let disabled = false;
  for (const l of layers) {
    if (!isObject(l.value)) continue;
    const s = l.value[id];
    if (s === false || (isObject(s) && s['enabled'] === false)) disabled = true;
    else if (s !== undefined) disabled = false;
  }
  return disabled;
}

/** A control's mode before any setting: its own default mode where the config's default is `enforce`. */
export function controlDefaultMode(c: Pick<AnyControl, 'defaultMode'>, defaultMode: Mode): Mode {
  return defaultMode === 'enforce' ? (c.defaultMode ?? 'enforce') : defaultMode;
}

export function applySetting(d: Diagnostics, c: AnyControl, s: ControlSettings, setting: unknown, path: KeyPath): ControlSettings {
  if (typeof setting === 'boolean') return { ...s, enabled: setting };
  if (typeof setting === 'string') {
    if (MODES.includes(setting as Mode)) return { ...s, enabled: true, mode: setting as Mode };
    d.error('invalid_mode', path, `"${setting}" is not a mode; use true, false, one of ${MODES.join(', ')}, or {enabled, mode, options}`, hintFor(setting, MODES));
    return s;
  }
  if (!isObject(setting)) {
    d.error('invalid_value', path, `expected true, false, a mode or {enabled, mode, options}, got ${describe(setting)}`);
    return s;
  }
  checkKeys(d, setting, path, ['enabled', 'mode', 'options']);
  let out: ControlSettings = { ...s, enabled: true };
  if (setting['enabled'] !== undefined) {
    if (typeof setting['enabled'] === 'boolean') out = { ...out, enabled: setting['enabled'] };
    else d.error('invalid_value', [...path, 'enabled'], `enabled must be a boolean, got ${describe(setting['enabled'])}`);
  }
  if (setting['mode'] !== undefined) {
    if (MODES.includes(setting['mode'] as Mode)) out = { ...out, mode: setting['mode'] as Mode };
    else d.error('invalid_mode', [...path, 'mode'], `mode must be one of ${MODES.join(', ')}, got ${describe(setting['mode'])}`, hintFor(setting['mode'], MODES));
  }
  const opts = setting['options'];
  if (opts !== undefined) {
    if (!isObject(opts)) d.error('invalid_value', [...path, 'options'], `options must be an object, got ${describe(opts)}`);
    else {
      const specs = c.options;
      const names = Object.keys(specs);
      const merged: Record<string, Json> = { ...(out.options as Record<string, Json>) };
      for (const [k, val] of Object.entries(opts)) {
        const spec = specs[k];
        if (!spec) {
          d.error(
            'unknown_option',
            [...path, 'options', k],
            names.length ? `${c.id} has no option "${k}"; its options are ${names.join(', ')}` : `${c.id} has no options`,
            hintFor(k, names),
          );
          continue;
        }
        const problem = checkOptionValue(spec, val);
        if (problem) {
          const hint = problem.hintFrom && problem.index !== undefined ? hintFor((val as unknown[])[problem.index], problem.hintFrom) : undefined;
          d.error('invalid_option', problem.index !== undefined ? [...path, 'options', k, problem.index] : [...path, 'options', k], `${c.id} option ${k}: ${problem.message}`, hint);
          continue;
        }
        merged[k] = val as Json;
      }
      for (const w of c.lintOptions?.(opts as never) ?? []) {
        d.warn('risky_option', w.index !== undefined ? [...path, 'options', w.option, w.index] : [...path, 'options', w.option], `${c.id} option ${w.option}: ${w.message}`, w.hint);
      }
      out = { ...out, options: merged };
    }
  }
  return out;
}
