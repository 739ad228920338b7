/** The `rollout`, `policyEngines` and `psa` settings, and observe mode. */
import { describe } from '../../controls/options.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import type { PssLevelName, Rollout } from '../types.js';
import { DEFAULT_NETWORK } from '../namespace-objects.js';
import type { ControlSettings, ResolvedCluster } from './types.js';
import { LEVELS, checkKeys, hintFor, isDnsLabel, isObject, namespaceList, uniqSorted } from './util.js';

/** The namespaces the Gatekeeper and Kyverno Helm charts install into. */
export const DEFAULT_ENGINE_NAMESPACES = ['gatekeeper-system', 'kyverno'] as const;
const ROLLOUTS: readonly Rollout[] = ['enforce', 'observe'];

export function resolveRollout(d: Diagnostics, r: { value: unknown; path: KeyPath }): Rollout {
  if (r.value === undefined) return 'enforce';
  if (ROLLOUTS.includes(r.value as Rollout)) return r.value as Rollout;
  d.error('invalid_value', r.path, `rollout must be one of ${ROLLOUTS.join(', ')}, got ${describe(r.value)}`, hintFor(r.value, ROLLOUTS));
  return 'enforce';
}

export function resolvePolicyEngines(d: Diagnostics, e: { value: unknown; path: KeyPath }): string[] {
  if (e.value === undefined) return [...DEFAULT_ENGINE_NAMESPACES];
  if (!isObject(e.value)) {
    d.error('invalid_value', e.path, `policyEngines must be an object {namespaces?}, got ${describe(e.value)}`);
    return [...DEFAULT_ENGINE_NAMESPACES];
  }
  checkKeys(d, e.value, e.path, ['namespaces']);
  if (e.value['namespaces'] === undefined) return [...DEFAULT_ENGINE_NAMESPACES];
  return uniqSorted(namespaceList(d, e.value['namespaces'], [...e.path, 'namespaces']) ?? [...DEFAULT_ENGINE_NAMESPACES]);
}

export function resolvePsa(
  d: Diagnostics,
  p: { value: unknown; path: KeyPath },
  exempt: readonly string[],
): { defaultEnforce: PssLevelName; infra: Map<string, { level: PssLevelName; path: KeyPath }> } {
  const out = { defaultEnforce: 'privileged' as PssLevelName, infra: new Map<string, { level: PssLevelName; path: KeyPath }>() };
  if (p.value === undefined) return out;
  if (!isObject(p.value)) {
    d.error('invalid_value', p.path, `psa must be an object {defaultEnforce?, infraNamespaces?}, got ${describe(p.value)}`);
    return out;
  }
  checkKeys(d, p.value, p.path, ['defaultEnforce', 'infraNamespaces']);
  const de = p.value['defaultEnforce'];
  if (de !== undefined) {
    if (LEVELS.includes(de as PssLevelName)) out.defaultEnforce = de as PssLevelName;
    else d.error('invalid_value', [...p.path, 'defaultEnforce'], `defaultEnforce must be one of ${LEVELS.join(', ')}, got ${describe(de)}`, hintFor(de, LEVELS));
  }
  const infra = p.value['infraNamespaces'];
  if (infra !== undefined) {
    const ip = [...p.path, 'infraNamespaces'];
    if (!isObject(infra)) d.error('invalid_value', ip, `infraNamespaces must be an object of namespace → level, got ${describe(infra)}`);
    else {
      for (const ns of Object.keys(infra).sort()) {
        const lv = infra[ns];
        const path = [...ip, ns];
        if (!isDnsLabel(ns)) d.error('invalid_name', path, `"${ns}" is not a valid namespace name (DNS label)`);
        else if (!LEVELS.includes(lv as PssLevelName)) d.error('invalid_value', path, `the level must be one of ${LEVELS.join(', ')}, got ${describe(lv)}`, hintFor(lv, LEVELS));
        else if (exempt.includes(ns)) d.warn('exempt_namespace_rules', path, `namespace "${ns}" is exempt (exemptNamespaces or policyEngines), so its level has no effect`);
        else out.infra.set(ns, { level: lv as PssLevelName, path });
      }
    }
  }
  return out;
}

/** Observe mode: every control that would reject warns instead; namespace objects (no audit mode) are left out. */
export function observe<T extends Pick<ResolvedCluster, 'controls' | 'namespaceObjects'>>(c: T): T {
  const soften = (s: ControlSettings): ControlSettings => (s.mode === 'enforce' ? { ...s, mode: 'warn' } : s);
  return {
    ...c,
    controls: c.controls.map((rc) => ({ ...rc, cluster: soften(rc.cluster), namespaces: rc.namespaces.map((n) => ({ ...n, settings: soften(n.settings) })) })),
    namespaceObjects: { cluster: { network: DEFAULT_NETWORK }, namespaces: [] },
  };
}
