/**
 * `customControls`: the config's own controls (defineControl, src/custom/control.ts). Each must be made by
 * defineControl, well-formed, with an id no built-in control has and no other custom control repeats, and
 * every sample must get the verdict it expects from the check (evaluated here, offline, with the option
 * defaults): a sample that contradicts the check is an error at the sample's `expect`, so a control that
 * does not do what its author says never reaches a bundle.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isBuiltinControlId } from '../../controls/index.js';
import type { AnyControl } from '../../controls/types.js';
import { isCustomControl } from '../../custom/control.js';
import { OfflineUnsupported } from '../../custom/evaluate.js';
import { NSA_RECOMMENDATIONS } from '../../nsa/catalogue.js';
import type { Diagnostics } from '../../diagnostics.js';
import { describe } from '../../controls/options.js';

/** The ids of the custom controls whose definition was refused, during the resolve that refused them. */
const refusedScope = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` with these ids known as custom controls whose definition was refused (and reported there): a
 * setting, exception or fixture naming one is then not reported again as an unknown control.
 */
export function withRefusedControls<T>(ids: ReadonlySet<string>, fn: () => T): T {
  return refusedScope.run(ids, fn);
}

/** Whether `id` names a custom control whose definition was refused (see withRefusedControls). */
export function isRefusedControl(id: unknown): boolean {
  return typeof id === 'string' && refusedScope.getStore()?.has(id) === true;
}

/**
 * The valid custom controls of the config (problems reported to `d`), and the ids of those whose definition
 * was refused for a problem of their own (malformed, made by defineControl with an id).
 */
export function resolveCustomControls(d: Diagnostics, raw: unknown): { controls: AnyControl[]; refused: Set<string> } {
  const refused = new Set<string>();
  if (raw === undefined) return { controls: [], refused };
  if (!Array.isArray(raw)) {
    d.error('invalid_value', ['customControls'], `customControls must be a list of controls made by defineControl, got ${describe(raw)}`);
    return { controls: [], refused };
  }
  const out: AnyControl[] = [];
  const seen = new Set<string>();
  raw.forEach((c: unknown, i) => {
    const at = ['customControls', i] as const;
    if (!isCustomControl(c)) {
      d.error('invalid_custom_control', at, `customControls[${i}] is not a control made by defineControl (import { defineControl } from 'kubeharden')`);
      return;
    }
    if (c.problem) {
      d.add({ code: 'invalid_custom_control', severity: 'error', path: [...at, ...c.problem.path], message: `custom control ${c.id || `#${i}`}: ${c.problem.message}`, ...(c.problem.literal ? { literal: c.problem.literal } : {}) });
      if (c.id && !isBuiltinControlId(c.id)) refused.add(c.id);
      return;
    }
    if (isBuiltinControlId(c.id)) {
      d.error('custom_control_id_taken', [...at, 'id'], `custom control id "${c.id}" is the id of a built-in control`, 'choose another id (`kubeharden list` shows the built-in ones)');
      return;
    }
    if (seen.has(c.id)) {
      d.error('custom_control_id_taken', [...at, 'id'], `custom control id "${c.id}" is defined twice`);
      return;
    }
    seen.add(c.id);
    c.nsa.forEach((n, j) => {
      if (!NSA_RECOMMENDATIONS.some((r) => r.id === n)) {
        d.error('unknown_nsa_id', [...at, 'nsa', j], `custom control ${c.id}: "${n}" is no NSA/CISA recommendation id of the catalogue (NSA-POD-1 …)`);
      }
    });
    const defaults = { ...(c.defaults('1.37' as never) as Record<string, readonly string[]>), ...(c.sampleOptions as Record<string, readonly string[]>) };
    c.samples.forEach((s, j) => {
      let holds: boolean;
      try {
        holds = c.custom!.holds(s.object, defaults);
      } catch (e) {
        if (e instanceof OfflineUnsupported) {
          d.warn('custom_sample_unchecked', [...at, 'samples', j], `custom control ${c.id}: sample ${s.name} cannot be checked at build time (${e.message}); \`kubeharden test\` checks it`);
          return;
        }
        throw e;
      }
      const got = holds ? 'allow' : 'deny';
      if (got !== s.expect) {
        d.error(
          'custom_sample_contradicts_check',
          [...at, 'samples', j, 'expect'],
          `custom control ${c.id}: sample ${s.name} expects ${s.expect}, but the check ${holds ? 'holds' : 'fails'} for its object (${got})`,
          'fix the check or the sample',
        );
      }
    });
    // In the registry even with errors above (they stop the build): its settings are then still checked.
    out.push(c);
  });
  // A refused id that another, valid definition has is known: settings for it are that control's.
  for (const c of out) refused.delete(c.id);
  return { controls: out, refused };
}
