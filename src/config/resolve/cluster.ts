/** One cluster: its settings from the base config and (multi-cluster) its entry under `clusters`, resolved step by step. */
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import { describe } from '../../controls/options.js';
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_VERSIONS, isSupportedVersion, type KubernetesVersion } from '../../pss/versions.js';
import type { Mode, ProfileName } from '../types.js';
import { ISOLATED_NAMESPACE_DEFAULTS, resolveNamespaceObjects } from '../namespace-objects.js';
import { resolveClusterControls } from './controls.js';
import { applyExceptions, resolveExceptions } from './exceptions.js';
import { resolveFixtures } from './fixtures.js';
import { namespaceEntries, resolveNamespaces } from './namespaces.js';
import { resolveControls } from './overrides.js';
import { PROFILES } from './profiles.js';
import { withPsaLevels } from './psa-levels.js';
import { observe, resolvePolicyEngines, resolvePsa, resolveRollout } from './rollout.js';
import { resolveControlPlane } from './control-plane.js';
import type { ResolvedCluster } from './types.js';
import { MODES, checkKeys, hintFor, isObject, namespaceList, uniqSorted } from './util.js';

export const DEFAULT_EXEMPT_NAMESPACES = ['kube-node-lease', 'kube-public', 'kube-system'] as const;

/** Reads one setting: the cluster entry wins over the base, with the path of whichever was used. */
function pick(base: Record<string, unknown>, over: Record<string, unknown> | undefined, overPath: KeyPath, key: string): { value: unknown; path: KeyPath } {
  if (over && over[key] !== undefined) return { value: over[key], path: [...overPath, key] };
  return { value: base[key], path: [key] };
}

export function resolveCluster(
  d: Diagnostics,
  name: string,
  base: Record<string, unknown>,
  over: Record<string, unknown> | undefined,
  overPath: KeyPath,
  now: string,
): ResolvedCluster {
  // profile, version, mode
  const p = pick(base, over, overPath, 'profile');
  let profile: ProfileName = 'pss-restricted';
  if (p.value !== undefined) {
    if (typeof p.value === 'string' && p.value in PROFILES) profile = p.value as ProfileName;
    else d.error('invalid_profile', p.path, `unknown profile ${describe(p.value)}; expected one of ${Object.keys(PROFILES).join(', ')}`, hintFor(p.value, Object.keys(PROFILES)));
  }
  const level = PROFILES[profile].level;

  const v = pick(base, over, overPath, 'kubernetesVersion');
  let version: KubernetesVersion = DEFAULT_KUBERNETES_VERSION;
  if (v.value !== undefined) {
    if (isSupportedVersion(v.value)) version = v.value;
    else
      d.error(
        'unsupported_version',
        v.path,
        `kubernetesVersion ${describe(v.value)} is not supported; kubeharden targets ${SUPPORTED_VERSIONS[0]} to ${SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]} (a string such as '1.37')`,
        typeof v.value === 'number' ? `write it as a string: '${String(v.value)}'` : undefined,
      );
  }

  const m = pick(base, over, overPath, 'defaultMode');
  let defaultMode: Mode = 'enforce';
  if (m.value !== undefined) {
    if (MODES.includes(m.value as Mode)) defaultMode = m.value as Mode;
    else d.error('invalid_mode', m.path, `defaultMode must be one of ${MODES.join(', ')}, got ${describe(m.value)}`, hintFor(m.value, MODES));
  }

  const e = pick(base, over, overPath, 'exemptNamespaces');
  let exemptNamespaces: string[] = [...DEFAULT_EXEMPT_NAMESPACES];
  if (e.value !== undefined) exemptNamespaces = namespaceList(d, e.value, e.path) ?? exemptNamespaces;
  const engines = resolvePolicyEngines(d, pick(base, over, overPath, 'policyEngines'));
  exemptNamespaces = uniqSorted([...exemptNamespaces, ...engines]);
  const rollout = resolveRollout(d, pick(base, over, overPath, 'rollout'));
  const psaSettings = resolvePsa(d, pick(base, over, overPath, 'psa'), exemptNamespaces);

  const g = pick(base, over, overPath, 'gatekeeper');
  let regoVersion: 'v1' | 'v0' = 'v1';
  if (g.value !== undefined) {
    if (!isObject(g.value)) d.error('invalid_value', g.path, `gatekeeper must be an object, got ${describe(g.value)}`);
    else {
      checkKeys(d, g.value, g.path, ['regoVersion']);
      const rv = g.value['regoVersion'];
      if (rv === 'v0' || rv === 'v1') regoVersion = rv;
      else if (rv !== undefined) d.error('invalid_value', [...g.path, 'regoVersion'], `regoVersion must be 'v1' or 'v0', got ${describe(rv)}`);
    }
  }

  const cp = pick(base, over, overPath, 'controlPlane');
  const controlPlane = resolveControlPlane(d, cp.value, cp.path);

  // Cluster-wide control settings: profile defaults, then base controls, then the cluster entry's.
  const layers: { value: unknown; path: KeyPath }[] = [{ value: base['controls'], path: ['controls'] }];
  if (over) layers.push({ value: over['controls'], path: [...overPath, 'controls'] });
  const clusterSettings = resolveClusterControls(d, layers, { name: profile, value: p.value, path: p.path }, defaultMode, version);

  const nsLayers = [{ value: base['namespaces'], path: ['namespaces'] as KeyPath }, ...(over ? [{ value: over['namespaces'], path: [...overPath, 'namespaces'] }] : [])];
  const nsConfigs = namespaceEntries(d, nsLayers, psaSettings.infra);
  const { namespaces, nsSettings } = resolveNamespaces(d, nsConfigs, psaSettings.infra, exemptNamespaces, level, clusterSettings, layers);

  const exLayers = [{ value: base['exceptions'], path: ['exceptions'] as KeyPath }, ...(over ? [{ value: over['exceptions'], path: [...overPath, 'exceptions'] }] : [])];
  const exceptions = resolveExceptions(d, exLayers, now);

  // A namespace named only by an exception is a namespace of the config too (at the cluster's level): it
  // needs PSA labels of its own, since PSA cannot mirror the exception.
  for (const ex of exceptions) {
    for (const ns of ex.namespaces ?? []) if (!namespaces.some((n) => n.name === ns)) namespaces.push({ name: ns, pss: level, exempt: false });
  }
  namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Apply exceptions as per-namespace settings (namespace-only ones switch the control off there).
  const mentioned = new Set<string>(nsSettings.keys());
  for (const ex of exceptions) for (const ns of ex.namespaces ?? []) mentioned.add(ns);
  const scopes = [...mentioned].filter((ns) => !exemptNamespaces.includes(ns)).sort();
  const effective = applyExceptions(exceptions, scopes, clusterSettings, nsSettings);
  const controls = resolveControls(d, effective, scopes, version, layers);

  const fxLayers = [{ value: base['fixtures'], path: ['fixtures'] as KeyPath }, ...(over ? [{ value: over['fixtures'], path: [...overPath, 'fixtures'] }] : [])];
  const fixtures = resolveFixtures(d, fxLayers);

  // Network and resource objects per namespace (NSA-NET-2/3/4/11); the nsa-cisa profile starts every
  // namespace isolated (default-deny with DNS, a quota and a limit range), the PSS profiles with nothing.
  const namespaceObjects = resolveNamespaceObjects(
    d,
    { network: pick(base, over, overPath, 'network'), resources: pick(base, over, overPath, 'resources') },
    nsConfigs,
    exemptNamespaces,
    profile === 'nsa-cisa' ? ISOLATED_NAMESPACE_DEFAULTS : undefined,
    pick(base, over, overPath, 'namespaceObjects'),
  );

  const resolved = { name, profile, level, version, defaultMode, exemptNamespaces, controls, namespaces, exceptions, fixtures, regoVersion, controlPlane, namespaceObjects };
  return withPsaLevels({ ...(rollout === 'observe' ? observe(resolved) : resolved), rollout, engineNamespaces: engines, psa: { defaultEnforce: psaSettings.defaultEnforce } });
}
