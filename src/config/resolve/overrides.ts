/** PSS overrides (a restricted check replacing its baseline check), applicability by version, and comparing settings. */
import { controlIds, getControl, type ControlId } from '../../controls/index.js';
import type { AnyControl } from '../../controls/types.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import { minor, type KubernetesVersion } from '../../pss/versions.js';
import type { ExceptedSettings } from './exceptions.js';
import type { ControlSettings, ResolvedControl } from './types.js';
import { isObject, stableJson } from './util.js';

/**
 * Whether restricted control `over` with settings `o` may replace its baseline control with settings `b` in a
 * scope (PSA OverrideCheckIDs): only when it rejects everything the baseline control rejects there. A
 * relaxation of the restricted control (off, a milder mode, image or name exceptions, allowed values, options
 * wider than the baseline's) keeps the baseline control applying, so the baseline floor holds unless the
 * baseline control is relaxed the same way explicitly.
 */
export function replaces(over: ControlId, o: ControlSettings, b: ControlSettings): boolean {
  if (!o.enabled) return false;
  if (o.mode !== 'enforce' && o.mode !== b.mode) return false;
  const within = (xs: readonly string[], ys: readonly string[]): boolean => xs.every((x) => ys.includes(x));
  if (!within(o.exemptImages, b.exemptImages) || !within(o.exemptNames, b.exemptNames)) return false;
  if (!within(o.allowances.map(stableJson), b.allowances.map(stableJson))) return false;
  // Options both controls share (allowed capabilities, seccomp types): the restricted list within the baseline's.
  for (const [k, v] of Object.entries(o.options)) {
    const bv = b.options[k];
    if (Array.isArray(v) && Array.isArray(bv) && !within(v.map(stableJson), bv.map(stableJson))) return false;
  }
  // restrict-volume-types replaces disallow-host-path only while it does not allow hostPath volumes.
  if (over === 'restrict-volume-types') {
    const types = o.options['allowedVolumeTypes'];
    if (Array.isArray(types) && types.includes('hostPath')) return false;
  }
  return true;
}

export function sameSettings(a: ControlSettings, b: ControlSettings): boolean {
  if (!a.enabled && !b.enabled) return true;
  return (
    a.enabled === b.enabled &&
    a.mode === b.mode &&
    stableJson(a.options) === stableJson(b.options) &&
    a.exemptImages.join('\n') === b.exemptImages.join('\n') &&
    a.exemptNames.join('\n') === b.exemptNames.join('\n') &&
    stableJson(a.allowances) === stableJson(b.allowances) &&
    a.pssLevel === b.pssLevel
  );
}

/** Applicability by version, then PSS overrides (a restricted check replaces its baseline check where both apply). */
export function resolveControls(
  d: Diagnostics,
  effective: ReadonlyMap<ControlId, ExceptedSettings>,
  scopes: readonly string[],
  version: KubernetesVersion,
  controlLayers: readonly { value: unknown; path: KeyPath }[],
): ResolvedControl[] {
  const controls: ResolvedControl[] = [];
  const applicable = (c: AnyControl): boolean => c.pss?.since === undefined || minor(version) >= c.pss.since;
  for (const id of controlIds()) {
    const c = getControl(id);
    const eff = effective.get(id)!;
    const ok = applicable(c);
    const overrider = controlIds().find((o) => getControl(o).pss?.overrides === id && applicable(getControl(o)));
    const gate = (s: ControlSettings, ns: string | undefined): ControlSettings => {
      if (!ok) return { ...s, enabled: false };
      if (overrider) {
        const o = effective.get(overrider)!;
        const os = ns === undefined ? o.cluster : o.ns.get(ns) ?? o.cluster;
        if (replaces(overrider, os, s)) return { ...s, enabled: false };
      }
      return s;
    };
    const cluster = gate(eff.cluster, undefined);
    const nsList: { namespace: string; settings: ControlSettings }[] = [];
    for (const n of scopes) {
      const s = gate(eff.ns.get(n)!, n);
      if (!sameSettings(s, cluster)) nsList.push({ namespace: n, settings: s });
    }
    controls.push(overrider ? { id, applicable: ok, cluster, namespaces: nsList, supersededBy: overrider } : { id, applicable: ok, cluster, namespaces: nsList });
    if (!ok) {
      for (const layer of controlLayers) {
        if (isObject(layer.value) && layer.value[id] !== undefined && layer.value[id] !== false) {
          d.warn('not_applicable', [...layer.path, id], `${id} is a PSS check from Kubernetes 1.${c.pss?.since}; the target ${version} skips it`);
        }
      }
    }
  }
  return controls;
}
