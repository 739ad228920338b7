/** Namespace rules (`namespaces.<ns>`: pss level, controls, network, resources) and infrastructure namespaces. */
import { controlIds, getControl, isControlId, type ControlId } from '../../controls/index.js';
import { isRefusedControl } from './custom.js';
import { describe } from '../../controls/options.js';
import type { PssLevel } from '../../controls/types.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import type { PssLevelName } from '../types.js';
import { applySetting, exampleSetting, explicitlyDisabled, missingOptions, requiredHint } from './settings.js';
import type { ControlSettings, ResolvedNamespace } from './types.js';
import { LEVELS, LEVEL_RANK, checkKeys, hintFor, isDnsLabel, isObject, objectLayers, type Layer } from './util.js';

/** The entries of one namespace, base config first, then the cluster entry's. */
export type NamespaceEntries = Map<string, { value: Record<string, unknown>; path: KeyPath }[]>;

/** Namespaces: base and cluster entries merge per namespace name. */
export function namespaceEntries(
  d: Diagnostics,
  layers: readonly Layer[],
  infra: ReadonlyMap<string, { level: PssLevelName; path: KeyPath }>,
): NamespaceEntries {
  const nsConfigs: NamespaceEntries = new Map();
  for (const layer of objectLayers(d, layers, 'an object keyed by namespace name')) {
    for (const [ns, cfg] of Object.entries(layer.value)) {
      const path = [...layer.path, ns];
      if (!isDnsLabel(ns)) d.error('invalid_name', path, `"${ns}" is not a valid namespace name (DNS label)`);
      if (!isObject(cfg)) {
        d.error('invalid_value', path, `namespace "${ns}" must be an object, got ${describe(cfg)}`);
        continue;
      }
      checkKeys(d, cfg, path, ['pss', 'controls', 'network', 'resources']);
      const list = nsConfigs.get(ns) ?? [];
      list.push({ value: cfg, path });
      nsConfigs.set(ns, list);
    }
  }
  // Infrastructure namespaces: a namespace entry with only a level (no namespace objects).
  for (const [ns, { level: lv, path }] of infra) {
    if (nsConfigs.has(ns)) {
      d.error('infra_namespace_configured', path, `namespace "${ns}" is listed both under namespaces and psa.infraNamespaces`, `set its level with namespaces.${ns}.pss instead`);
      continue;
    }
    nsConfigs.set(ns, [{ value: { pss: lv }, path }]);
  }
  return nsConfigs;
}

/** Each configured namespace with its level, and its control settings over the cluster-wide ones. */
export function resolveNamespaces(
  d: Diagnostics,
  nsConfigs: NamespaceEntries,
  infra: ReadonlyMap<string, unknown>,
  exemptNamespaces: readonly string[],
  level: PssLevel,
  clusterSettings: ReadonlyMap<ControlId, ControlSettings>,
  controlLayers: readonly Layer[],
): { namespaces: ResolvedNamespace[]; nsSettings: Map<string, Map<ControlId, ControlSettings>> } {
  const namespaces: ResolvedNamespace[] = [];
  const nsSettings = new Map<string, Map<ControlId, ControlSettings>>();
  for (const ns of [...nsConfigs.keys()].sort()) {
    const cfgs = nsConfigs.get(ns)!;
    let nsLevel: PssLevelName = level;
    for (const cfg of cfgs) {
      const lv = cfg.value['pss'];
      if (lv === undefined) continue;
      if (LEVELS.includes(lv as PssLevelName)) nsLevel = lv as PssLevelName;
      else d.error('invalid_value', [...cfg.path, 'pss'], `pss must be one of ${LEVELS.join(', ')}, got ${describe(lv)}`, hintFor(lv, LEVELS));
    }
    const exempt = exemptNamespaces.includes(ns);
    if (exempt) d.warn('exempt_namespace_rules', cfgs[0]!.path, `namespace "${ns}" is exempt (exemptNamespaces), so its rules have no effect on policies`);
    namespaces.push({ name: ns, pss: exempt ? 'privileged' : nsLevel, exempt, ...(infra.has(ns) && !nsConfigs.get(ns)!.some((c) => c.path[0] === 'namespaces' || c.path[0] === 'clusters') ? { infra: true as const } : {}) });
    const controlEntries = objectLayers(d, cfgs.map((cfg) => ({ value: cfg.value['controls'], path: [...cfg.path, 'controls'] })), 'an object keyed by control id');
    const per = new Map<ControlId, ControlSettings>();
    for (const id of controlIds()) {
      const c = getControl(id);
      let s = clusterSettings.get(id)!;
      if (c.pss) {
        const rank = LEVEL_RANK[c.pss.level];
        if (rank > LEVEL_RANK[nsLevel]) s = { ...s, enabled: false };
        else if (rank > LEVEL_RANK[level] && !explicitlyDisabled(controlLayers, id)) s = { ...s, enabled: true };
      }
      for (const entry of controlEntries) {
        const setting = entry.value[id];
        if (setting !== undefined) {
          s = applySetting(d, c, s, setting, [...entry.path, id]);
          const missing = missingOptions(c, s);
          if (missing.length) {
            d.error('missing_option', [...entry.path, id], `${id} needs options.${missing.join(', options.')}: ${requiredHint(c, missing)}`, `e.g. ${exampleSetting(c, missing)}`);
            s = { ...s, enabled: false };
          }
        }
      }
      per.set(id, s);
    }
    for (const entry of controlEntries) {
      for (const key of Object.keys(entry.value)) {
        if (!isControlId(key) && !isRefusedControl(key)) d.error('unknown_control', [...entry.path, key], `unknown control "${key}"`, hintFor(key, controlIds()));
      }
    }
    nsSettings.set(ns, per);
  }
  for (const ns of exemptNamespaces) {
    if (!nsConfigs.has(ns)) namespaces.push({ name: ns, pss: 'privileged', exempt: true });
  }
  namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { namespaces, nsSettings };
}
