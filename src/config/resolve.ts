/**
 * Resolve: profiles, defaults, cluster overrides, namespace rules and exceptions → a validated, deeply
 * readonly ResolvedConfig. Nothing after this pass reads the user's config object.
 */
import { CONTROL_IDS, getControl, isControlId, type ControlId } from '../controls/index.js';
import { checkOptionValue, describe } from '../controls/options.js';
import { checkableOffline, targetKinds, type AnyControl, type PssLevel } from '../controls/types.js';
import { Diagnostics, didYouMean, type Diagnostic, type KeyPath } from '../diagnostics.js';
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_VERSIONS, isSupportedVersion, minor, type KubernetesVersion } from '../pss/versions.js';
import type { EncryptedResource, Mode, ProfileName, PssLevelName, Rollout } from './types.js';
import { DEFAULT_NETWORK, ISOLATED_NAMESPACE_DEFAULTS, resolveNamespaceObjects, type ResolvedNamespaceObjects } from './namespace-objects.js';
import { psaLevels } from '../backends/psa/index.js';
import { ALLOW_KEYS, allowKeysOf, allowSuggestions, allowValue, type AllowKey } from './allow.js';

export const DEFAULT_EXEMPT_NAMESPACES = ['kube-node-lease', 'kube-public', 'kube-system'] as const;
export interface Profile {
  /** The Pod Security Standards level whose checks the profile turns on. */
  readonly level: PssLevel;
  readonly description: string;
  /** Controls beyond PSS the profile turns on. */
  readonly controls: readonly ControlId[];
}

/** The NSA/CISA controls beyond PSS (block-ephemeral-containers stays opt-in). */
const NSA_CISA_CONTROLS: readonly ControlId[] = [
  'require-non-root-groups',
  'require-readonly-root-fs',
  'disallow-automount-sa-token',
  'require-drop-net-raw',
  'allowed-registries',
  'disallow-latest-tag',
  'require-image-digest',
  'verify-image-signatures',
  'require-resource-limits-requests',
  'disallow-secrets-in-env-vars',
  'disallow-default-namespace',
  'enforce-psa-namespace-labels',
  'require-current-psa-version',
  'disallow-nodeport-services',
  'disallow-loadbalancer-services',
  'restrict-service-external-ips',
  'require-ingress-tls',
  'disallow-serviceaccount-token-automount',
  'restrict-rbac-wildcards',
  'restrict-rbac-escalation-verbs',
  'restrict-secret-read-roles',
  'disallow-cluster-admin-binding',
  'disallow-anonymous-bindings',
];

export const PROFILES: Record<ProfileName, Profile> = {
  'pss-baseline': { level: 'baseline', description: 'Every Pod Security Standards baseline check.', controls: [] },
  'pss-restricted': { level: 'restricted', description: 'Every Pod Security Standards baseline and restricted check.', controls: [] },
  'nsa-cisa': {
    level: 'restricted',
    description:
      'pss-restricted plus the NSA/CISA controls beyond PSS: pods, Services, Ingresses, RBAC, ServiceAccounts (all but the opt-in block-ephemeral-containers; allowed-registries and verify-image-signatures once their registries and signers are listed).',
    controls: NSA_CISA_CONTROLS,
  },
};

/** Does a profile turn this control on? */
export function inProfile(profile: ProfileName, id: ControlId): boolean {
  const c = getControl(id);
  const p = PROFILES[profile];
  return c.pss !== undefined ? LEVEL_RANK[c.pss.level] <= LEVEL_RANK[p.level] : p.controls.includes(id);
}
const MODES: readonly Mode[] = ['enforce', 'audit', 'warn'];
const LEVELS: readonly PssLevelName[] = ['privileged', 'baseline', 'restricted'];
const LEVEL_RANK: Record<PssLevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };
const EXPIRY_WARNING_DAYS = 30;

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type OptionValues = Readonly<Record<string, Json>>;

/** Effective settings of a control in one scope (the cluster default or one namespace). */
export interface ControlSettings {
  readonly enabled: boolean;
  readonly mode: Mode;
  readonly options: OptionValues;
  /** Images excepted in this scope (exact or `prefix*`), sorted. */
  readonly exemptImages: readonly string[];
  /** Pod and workload names excepted in this scope (exact or `prefix*`), sorted. */
  readonly exemptNames: readonly string[];
  /** Values exceptions with `allow` let through in this scope, sorted (see Allowance). */
  readonly allowances: readonly Allowance[];
  /**
   * The Pod Security Admission enforce level the bundle labels this scope with (psa/), kept only for
   * controls that follow it (`followsPssLevel`).
   */
  readonly pssLevel?: PssLevelName;
}

/**
 * What one exception with `allow` lets through: the values per key, for containers of the excepted images,
 * or for the objects excepted by name; with neither, for everything in the scope it applies to.
 */
export interface Allowance {
  readonly images?: readonly string[];
  readonly names?: readonly string[];
  readonly values: Readonly<Partial<Record<AllowKey, readonly string[]>>>;
}

export interface ResolvedControl {
  readonly id: ControlId;
  /** False when the control has no PSS semantics at the target version (e.g. probe hosts before 1.34). */
  readonly applicable: boolean;
  /** Cluster-wide settings. */
  readonly cluster: ControlSettings;
  /** Namespaces whose settings differ from the cluster-wide ones, sorted by name. */
  readonly namespaces: readonly { readonly namespace: string; readonly settings: ControlSettings }[];
  /** Controls that replace this one where they apply (PSS overrides), with where this one still applies. */
  readonly supersededBy?: ControlId;
}

export interface ResolvedException {
  readonly controls: readonly ControlId[];
  readonly namespaces?: readonly string[];
  readonly images?: readonly string[];
  readonly names?: readonly string[];
  /** Only these values are allowed (absent: the controls are excepted whole). */
  readonly allow?: Readonly<Partial<Record<AllowKey, readonly string[]>>>;
  readonly reason: string;
  readonly expires: string;
}

export interface ResolvedNamespace {
  readonly name: string;
  readonly pss: PssLevelName;
  readonly exempt: boolean;
  /** Listed under `psa.infraNamespaces`: PSA labels and PSS levels only, no namespace objects. */
  readonly infra?: true;
}

export interface ResolvedFixture {
  readonly file: string;
  readonly expect: 'allow' | Readonly<Partial<Record<ControlId, 'allow' | 'deny'>>>;
}

export interface ResolvedCluster {
  readonly name: string;
  readonly profile: ProfileName;
  readonly level: PssLevel;
  readonly version: KubernetesVersion;
  readonly defaultMode: Mode;
  readonly exemptNamespaces: readonly string[];
  readonly controls: readonly ResolvedControl[];
  readonly namespaces: readonly ResolvedNamespace[];
  readonly exceptions: readonly ResolvedException[];
  readonly fixtures: readonly ResolvedFixture[];
  readonly regoVersion: 'v1' | 'v0';
  readonly controlPlane: ResolvedControlPlane;
  /** NetworkPolicies, ResourceQuota and LimitRange generated per namespace (config/namespace-objects.ts). */
  readonly namespaceObjects: ResolvedNamespaceObjects;
  // Safe rollout (see the block at the end of this file).
  /** `observe`: nothing is rejected (enforce became warn, PSA enforces nothing, no namespace objects). */
  readonly rollout: Rollout;
  /** The policy engines' namespaces (also in exemptNamespaces), sorted. */
  readonly engineNamespaces: readonly string[];
  readonly psa: ResolvedPsa;
}

export interface ResolvedControlPlane {
  readonly encryption: {
    readonly provider: 'kms' | 'aescbc';
    /** Set for `kms` only. */
    readonly kmsEndpoint?: string;
    /** Sorted. */
    readonly resources: readonly EncryptedResource[];
  };
}

export interface ResolvedConfig {
  readonly clusters: readonly ResolvedCluster[];
  /** True when the config declares `clusters` (otherwise a single cluster named by `name`). */
  readonly multiCluster: boolean;
}

export interface ResolveResult {
  readonly config?: ResolvedConfig;
  readonly diagnostics: readonly Diagnostic[];
}

const TOP_KEYS = ['name', 'clusters'] as const;
const CLUSTER_KEYS = [
  'profile', 'kubernetesVersion', 'defaultMode', 'exemptNamespaces', 'controls', 'namespaces',
  'exceptions', 'fixtures', 'gatekeeper', 'controlPlane', 'network', 'resources',
  'namespaceObjects', 'rollout', 'policyEngines', 'psa',
] as const;

/** Today as `YYYY-MM-DD` (UTC); `KUBEHARDEN_TODAY` pins it for reproducible CI runs. */
export function today(): string {
  const pinned = process.env['KUBEHARDEN_TODAY'];
  if (pinned && /^\d{4}-\d{2}-\d{2}$/.test(pinned)) return pinned;
  return new Date().toISOString().slice(0, 10);
}

export function resolveConfig(raw: unknown, opts: { today?: string } = {}): ResolveResult {
  const d = new Diagnostics();
  const now = opts.today ?? today();
  if (!isObject(raw)) {
    d.error('invalid_config', [], `the config must be an object (export default defineConfig({...})), got ${describe(raw)}`);
    return { diagnostics: d.list() };
  }
  checkKeys(d, raw, [], [...TOP_KEYS, ...CLUSTER_KEYS]);
  const clusters: ResolvedCluster[] = [];
  const multiCluster = raw['clusters'] !== undefined;
  if (multiCluster) {
    const cl = raw['clusters'];
    if (!isObject(cl) || Object.keys(cl).length === 0) {
      d.error('invalid_value', ['clusters'], 'clusters must be an object with at least one cluster, keyed by name');
    } else {
      if (raw['name'] !== undefined) d.warn('ignored_key', ['name'], '`name` is not used when `clusters` is present');
      for (const name of Object.keys(cl).sort()) {
        const entry = cl[name];
        const path = ['clusters', name];
        if (!isDnsLabel(name)) d.error('invalid_name', path, `cluster name "${name}" must be a DNS label (lower-case letters, digits, "-")`);
        if (!isObject(entry)) {
          d.error('invalid_value', path, `cluster "${name}" must be an object, got ${describe(entry)}`);
          continue;
        }
        checkKeys(d, entry, path, CLUSTER_KEYS);
        clusters.push(resolveCluster(d, name, raw, entry, path, now));
      }
    }
  } else {
    const name = raw['name'] ?? 'cluster';
    if (typeof name !== 'string' || !isDnsLabel(name)) {
      d.error('invalid_name', ['name'], `name must be a DNS label (lower-case letters, digits, "-"), got ${describe(name)}`);
    }
    clusters.push(resolveCluster(d, typeof name === 'string' ? name : 'cluster', raw, undefined, [], now));
  }
  const diagnostics = d.list();
  return d.hasErrors ? { diagnostics } : { config: { clusters, multiCluster }, diagnostics };
}

/** Reads one setting: the cluster entry wins over the base, with the path of whichever was used. */
function pick(base: Record<string, unknown>, over: Record<string, unknown> | undefined, overPath: KeyPath, key: string): { value: unknown; path: KeyPath } {
  if (over && over[key] !== undefined) return { value: over[key], path: [...overPath, key] };
  return { value: base[key], path: [key] };
}

function resolveCluster(
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
  const clusterSettings = new Map<ControlId, ControlSettings>();
  for (const id of CONTROL_IDS) {
    const c = getControl(id);
    const onByProfile = inProfile(profile, id);
    let s: ControlSettings = { enabled: onByProfile, mode: controlDefaultMode(c, defaultMode), options: c.defaults(version) as OptionValues, exemptImages: [], exemptNames: [], allowances: [] };
    let setAt: KeyPath | undefined;
    for (const layer of layers) {
      if (layer.value === undefined) continue;
      if (!isObject(layer.value)) continue;
      const setting = layer.value[id];
      if (setting !== undefined) {
        s = applySetting(d, c, s, setting, [...layer.path, id]);
        setAt = [...layer.path, id];
      }
    }
    // Required options (no sane default): a profile leaves the control off until they are given; an
    // explicit setting without them is an error.
    const missing = missingOptions(c, s);
    if (missing.length) {
      if (setAt) d.error('missing_option', setAt, `${id} needs options.${missing.join(', options.')}: ${requiredHint(c, missing)}`, `e.g. ${exampleSetting(c, missing)}`);
      else
        d.warn(
          'missing_option',
          p.value !== undefined ? p.path : [...layers[layers.length - 1]!.path],
          `profile ${profile} includes ${id}, which stays off until options.${missing.join(', options.')} is set`,
          `add controls: { ${exampleSetting(c, missing)} }`,
        );
      s = { ...s, enabled: false };
    }
    clusterSettings.set(id, s);
  }
  for (const layer of layers) {
    if (layer.value === undefined) continue;
    if (!isObject(layer.value)) {
      d.error('invalid_value', layer.path, `controls must be an object keyed by control id, got ${describe(layer.value)}`);
      continue;
    }
    for (const key of Object.keys(layer.value)) {
      if (!isControlId(key)) d.error('unknown_control', [...layer.path, key], `unknown control "${key}"`, hintFor(key, CONTROL_IDS, 'run `kubeharden list` for all control ids'));
    }
  }

  // Namespaces: base and cluster entries merge per namespace name.
  const nsConfigs = new Map<string, { value: Record<string, unknown>; path: KeyPath }[]>();
  for (const layer of [{ value: base['namespaces'], path: ['namespaces'] as KeyPath }, ...(over ? [{ value: over['namespaces'], path: [...overPath, 'namespaces'] }] : [])]) {
    if (layer.value === undefined) continue;
    if (!isObject(layer.value)) {
      d.error('invalid_value', layer.path, `namespaces must be an object keyed by namespace name, got ${describe(layer.value)}`);
      continue;
    }
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
  for (const [ns, { level: lv, path }] of psaSettings.infra) {
    if (nsConfigs.has(ns)) {
      d.error('infra_namespace_configured', path, `namespace "${ns}" is listed both under namespaces and psa.infraNamespaces`, `set its level with namespaces.${ns}.pss instead`);
      continue;
    }
    nsConfigs.set(ns, [{ value: { pss: lv }, path }]);
  }
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
    namespaces.push({ name: ns, pss: exempt ? 'privileged' : nsLevel, exempt, ...(psaSettings.infra.has(ns) && !nsConfigs.get(ns)!.some((c) => c.path[0] === 'namespaces' || c.path[0] === 'clusters') ? { infra: true as const } : {}) });
    const per = new Map<ControlId, ControlSettings>();
    for (const id of CONTROL_IDS) {
      const c = getControl(id);
      let s = clusterSettings.get(id)!;
      if (c.pss) {
        const rank = LEVEL_RANK[c.pss.level];
        if (rank > LEVEL_RANK[nsLevel]) s = { ...s, enabled: false };
        else if (rank > LEVEL_RANK[level] && !explicitlyDisabled(layers, id)) s = { ...s, enabled: true };
      }
      for (const cfg of cfgs) {
        const cc = cfg.value['controls'];
        if (cc === undefined) continue;
        if (!isObject(cc)) {
          if (id === CONTROL_IDS[0]) d.error('invalid_value', [...cfg.path, 'controls'], `controls must be an object keyed by control id, got ${describe(cc)}`);
          continue;
        }
        if (cc[id] !== undefined) {
          s = applySetting(d, c, s, cc[id], [...cfg.path, 'controls', id]);
          const missing = missingOptions(c, s);
          if (missing.length) {
            d.error('missing_option', [...cfg.path, 'controls', id], `${id} needs options.${missing.join(', options.')}: ${requiredHint(c, missing)}`, `e.g. ${exampleSetting(c, missing)}`);
            s = { ...s, enabled: false };
          }
        }
      }
      per.set(id, s);
    }
    for (const cfg of cfgs) {
      const cc = cfg.value['controls'];
      if (!isObject(cc)) continue;
      for (const key of Object.keys(cc)) {
        if (!isControlId(key)) d.error('unknown_control', [...cfg.path, 'controls', key], `unknown control "${key}"`, hintFor(key, CONTROL_IDS));
      }
    }
    nsSettings.set(ns, per);
  }
  for (const ns of exemptNamespaces) {
    if (!nsConfigs.has(ns)) namespaces.push({ name: ns, pss: 'privileged', exempt: true });
  }
  namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Exceptions add up across base and cluster entry.
  const exceptions: ResolvedException[] = [];
  const exLayers = [{ value: base['exceptions'], path: ['exceptions'] as KeyPath }, ...(over ? [{ value: over['exceptions'], path: [...overPath, 'exceptions'] }] : [])];
  for (const layer of exLayers) {
    if (layer.value === undefined) continue;
    if (!Array.isArray(layer.value)) {
      d.error('invalid_value', layer.path, `exceptions must be a list, got ${describe(layer.value)}`);
      continue;
    }
    layer.value.forEach((ex: unknown, i: number) => {
      const r = resolveException(d, ex, [...layer.path, i], now);
      if (r) exceptions.push(r);
    });
  }

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
  const settingsIn = (id: ControlId, ns: string | undefined): ControlSettings =>
    (ns !== undefined ? nsSettings.get(ns)?.get(id) : undefined) ?? clusterSettings.get(id)!;
  const effective = new Map<ControlId, { cluster: ControlSettings; ns: Map<string, ControlSettings> }>();
  for (const id of CONTROL_IDS) {
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

  // Applicability by version, then PSS overrides (a restricted check replaces its baseline check where both apply).
  const controls: ResolvedControl[] = [];
  const applicable = (c: AnyControl): boolean => c.pss?.since === undefined || minor(version) >= c.pss.since;
  for (const id of CONTROL_IDS) {
    const c = getControl(id);
    const eff = effective.get(id)!;
    const ok = applicable(c);
    const overrider = CONTROL_IDS.find((o) => getControl(o).pss?.overrides === id && applicable(getControl(o)));
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
      for (const layer of layers) {
        if (isObject(layer.value) && layer.value[id] !== undefined && layer.value[id] !== false) {
          d.warn('not_applicable', [...layer.path, id], `${id} is a PSS check from Kubernetes 1.${c.pss?.since}; the target ${version} skips it`);
        }
      }
    }
  }

  // Fixtures.
  const fixtures: ResolvedFixture[] = [];
  const fxLayers = [{ value: base['fixtures'], path: ['fixtures'] as KeyPath }, ...(over ? [{ value: over['fixtures'], path: [...overPath, 'fixtures'] }] : [])];
  for (const layer of fxLayers) {
    if (layer.value === undefined) continue;
    if (!Array.isArray(layer.value)) {
      d.error('invalid_value', layer.path, `fixtures must be a list, got ${describe(layer.value)}`);
      continue;
    }
    layer.value.forEach((fx: unknown, i: number) => {
      const path = [...layer.path, i];
      if (!isObject(fx)) return d.error('invalid_value', path, `a fixture must be {file, expect}, got ${describe(fx)}`);
      checkKeys(d, fx, path, ['file', 'expect']);
      if (typeof fx['file'] !== 'string' || fx['file'] === '') return d.error('invalid_value', [...path, 'file'], 'file must be a path relative to the config file');
      const expect = fx['expect'];
      if (expect === 'allow') return void fixtures.push({ file: fx['file'], expect });
      if (!isObject(expect)) return d.error('invalid_value', [...path, 'expect'], `expect must be 'allow' or an object of control id → 'allow' | 'deny', got ${describe(expect)}`);
      const out: Partial<Record<ControlId, 'allow' | 'deny'>> = {};
      for (const [k, val] of Object.entries(expect)) {
        if (!isControlId(k)) d.error('unknown_control', [...path, 'expect', k], `unknown control "${k}"`, hintFor(k, CONTROL_IDS));
        else if (val !== 'allow' && val !== 'deny') d.error('invalid_value', [...path, 'expect', k], `expected 'allow' or 'deny', got ${describe(val)}`);
        else if (!checkableOffline(getControl(k))) d.error('not_checkable_offline', [...path, 'expect', k], `${k} needs an image registry to decide, so fixtures cannot test it offline`, 'test it against a cluster (or a registry) instead');
        else out[k] = val;
      }
      fixtures.push({ file: fx['file'], expect: out });
    });
  }

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

// --- safe rollout: observe mode, the policy engines' namespaces, PSA defaults ---

export interface ResolvedPsa {
  /** The AdmissionConfiguration's enforce level for unlabeled namespaces (capped by what the policies enforce). */
  readonly defaultEnforce: PssLevelName;
}

/** The namespaces the Gatekeeper and Kyverno Helm charts install into. */
export const DEFAULT_ENGINE_NAMESPACES = ['gatekeeper-system', 'kyverno'] as const;
const ROLLOUTS: readonly Rollout[] = ['enforce', 'observe'];

function resolveRollout(d: Diagnostics, r: { value: unknown; path: KeyPath }): Rollout {
  if (r.value === undefined) return 'enforce';
  if (ROLLOUTS.includes(r.value as Rollout)) return r.value as Rollout;
  d.error('invalid_value', r.path, `rollout must be one of ${ROLLOUTS.join(', ')}, got ${describe(r.value)}`, hintFor(r.value, ROLLOUTS));
  return 'enforce';
}

function resolvePolicyEngines(d: Diagnostics, e: { value: unknown; path: KeyPath }): string[] {
  if (e.value === undefined) return [...DEFAULT_ENGINE_NAMESPACES];
  if (!isObject(e.value)) {
    d.error('invalid_value', e.path, `policyEngines must be an object {namespaces?}, got ${describe(e.value)}`);
    return [...DEFAULT_ENGINE_NAMESPACES];
  }
  checkKeys(d, e.value, e.path, ['namespaces']);
  if (e.value['namespaces'] === undefined) return [...DEFAULT_ENGINE_NAMESPACES];
  return uniqSorted(namespaceList(d, e.value['namespaces'], [...e.path, 'namespaces']) ?? [...DEFAULT_ENGINE_NAMESPACES]);
}

function resolvePsa(
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
function observe<T extends Pick<ResolvedCluster, 'controls' | 'namespaceObjects'>>(c: T): T {
  const soften = (s: ControlSettings): ControlSettings => (s.mode === 'enforce' ? { ...s, mode: 'warn' } : s);
  return {
    ...c,
    controls: c.controls.map((rc) => ({ ...rc, cluster: soften(rc.cluster), namespaces: rc.namespaces.map((n) => ({ ...n, settings: soften(n.settings) })) })),
    namespaceObjects: { cluster: { network: DEFAULT_NETWORK }, namespaces: [] },
  };
}

// --- end of safe rollout ---

// --- control plane (audit policy, encryption at rest) ---

export const DEFAULT_KMS_ENDPOINT = 'unix:///var/run/kms-plugin/socket.sock';
const PROVIDERS = ['kms', 'aescbc'] as const;
const ENCRYPTED_RESOURCES: readonly EncryptedResource[] = ['configmaps', 'secrets'];

function resolveControlPlane(d: Diagnostics, value: unknown, path: KeyPath): ResolvedControlPlane {
  const fallback: ResolvedControlPlane = { encryption: { provider: 'kms', kmsEndpoint: DEFAULT_KMS_ENDPOINT, resources: ['secrets'] } };
  if (value === undefined) return fallback;
  if (!isObject(value)) {
    d.error('invalid_value', path, `controlPlane must be an object, got ${describe(value)}`);
    return fallback;
  }
  checkKeys(d, value, path, ['encryption']);
  const enc = value['encryption'];
  const ep = [...path, 'encryption'];
  if (enc === undefined) return fallback;
  if (!isObject(enc)) {
    d.error('invalid_value', ep, `encryption must be an object {provider?, kmsEndpoint?, resources?}, got ${describe(enc)}`);
    return fallback;
  }
  checkKeys(d, enc, ep, ['provider', 'kmsEndpoint', 'resources']);
  let provider: 'kms' | 'aescbc' = 'kms';
  const p = enc['provider'];
  if (p !== undefined) {
    if (p === 'kms' || p === 'aescbc') provider = p;
    else d.error('invalid_value', [...ep, 'provider'], `provider must be one of ${PROVIDERS.join(', ')}, got ${describe(p)}`, hintFor(p, PROVIDERS));
  }
  let kmsEndpoint = DEFAULT_KMS_ENDPOINT;
  const k = enc['kmsEndpoint'];
  if (k !== undefined) {
    if (typeof k === 'string' && /^unix:\/\/\/[^\s]+$/.test(k)) kmsEndpoint = k;
    else d.error('invalid_value', [...ep, 'kmsEndpoint'], `kmsEndpoint must be a unix socket address 'unix:///path', got ${describe(k)}`);
    if (provider !== 'kms') d.warn('ignored_key', [...ep, 'kmsEndpoint'], `kmsEndpoint is only used with provider 'kms' (provider is '${provider}')`);
  }
  let resources: EncryptedResource[] = ['secrets'];
  const r = enc['resources'];
  if (r !== undefined) {
    if (!Array.isArray(r) || r.length === 0) d.error('invalid_value', [...ep, 'resources'], `resources must be a non-empty list of ${ENCRYPTED_RESOURCES.join(', ')}, got ${describe(r)}`);
    else {
      let ok = true;
      r.forEach((x: unknown, i: number) => {
        if (!ENCRYPTED_RESOURCES.includes(x as EncryptedResource)) {
          ok = false;
          d.error('invalid_value', [...ep, 'resources', i], `cannot encrypt ${describe(x)}; supported: ${ENCRYPTED_RESOURCES.join(', ')}`, hintFor(x, ENCRYPTED_RESOURCES));
        }
      });
      if (ok && !r.includes('secrets')) d.warn('secrets_not_encrypted', [...ep, 'resources'], 'secrets are not in resources: Secrets would be stored in etcd unencrypted (NSA-NET-10)');
      if (ok) resources = uniqSorted(r as EncryptedResource[]);
    }
  }
  return { encryption: provider === 'kms' ? { provider, kmsEndpoint, resources } : { provider, resources } };
}

/** Between alternatives of a required option group (`[a, b]`: a or b must be given). */
const OR = ' or options.';

/** Required options of an enabled control that are empty (a group: `a or options.b`, all of them empty). */
function missingOptions(c: AnyControl, s: ControlSettings): string[] {
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

function requiredHint(c: AnyControl, missing: readonly string[]): string {
  return missing.map((m) => m.split(OR).map((k) => c.options[k]?.description ?? k).join(' Or: ')).join(' ');
}

function exampleSetting(c: AnyControl, missing: readonly string[]): string {
  const example = (k: string): string => {
    const spec = c.options[k];
    const values = spec && spec.kind === 'strings' ? (spec.suggestions ?? []).slice(0, 2) : [];
    return `${k}: [${values.map((v) => `'${v}'`).join(', ')}]`;
  };
  return `'${c.id}': { options: { ${missing.map((m) => example(m.split(OR)[0]!)).join(', ')} } }`;
}

function explicitlyDisabled(layers: { value: unknown }[], id: ControlId): boolean {
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

function applySetting(d: Diagnostics, c: AnyControl, s: ControlSettings, setting: unknown, path: KeyPath): ControlSettings {
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

function resolveException(d: Diagnostics, ex: unknown, path: KeyPath, now: string): ResolvedException | undefined {
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
      d.error('unknown_control', p, `unknown control ${describe(c)}`, typeof c === 'string' ? hintFor(c, CONTROL_IDS) : undefined);
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
    const nonPod = controls.filter((c) => targetKinds(getControl(c)));
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
function sortAllowances(xs: readonly Allowance[]): Allowance[] {
  const byKey = new Map(xs.map((a) => [stableJson(a), a]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

function namespaceList(d: Diagnostics, value: unknown, path: KeyPath): string[] | undefined {
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

function checkKeys(d: Diagnostics, obj: Record<string, unknown>, path: KeyPath, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) d.error('unknown_key', [...path, key], `unknown key "${key}"`, hintFor(key, allowed, `allowed keys: ${allowed.join(', ')}`));
  }
}

function hintFor(value: unknown, candidates: readonly string[], fallback?: string): string | undefined {
  if (typeof value === 'string') {
    const m = didYouMean(value, candidates);
    if (m) return `did you mean "${m}"?`;
  }
  return fallback;
}

/**
 * Controls that follow the PSA level (enforce-psa-namespace-labels) get each scope's enforce level, as the
 * PSA backend computes it for the labels it writes: the configured level where the policies fully enforce
 * it, lower where exceptions or relaxed controls keep PSA from mirroring them.
 */
function withPsaLevels(cluster: ResolvedCluster): ResolvedCluster {
  const controls = cluster.controls.map((rc): ResolvedControl => {
    if (!getControl(rc.id).followsPssLevel) return rc;
    const settings = { ...rc.cluster, pssLevel: psaLevels(cluster, undefined, cluster.level).enforce };
    const pss = new Map(cluster.namespaces.map((n) => [n.name, n]));
    const scopes = new Set([...cluster.namespaces.filter((n) => !n.exempt).map((n) => n.name), ...rc.namespaces.map((n) => n.namespace)]);
    const namespaces: { namespace: string; settings: ControlSettings }[] = [];
    for (const ns of [...scopes].sort()) {
      if (pss.get(ns)?.exempt) continue;
      const base = rc.namespaces.find((n) => n.namespace === ns)?.settings ?? rc.cluster;
      const s = { ...base, pssLevel: psaLevels(cluster, ns, pss.get(ns)?.pss ?? cluster.level).enforce };
      if (!sameSettings(s, settings)) namespaces.push({ namespace: ns, settings: s });
    }
    return { ...rc, cluster: settings, namespaces };
  });
  return { ...cluster, controls };
}

/**
 * Whether restricted control `over` with settings `o` may replace its baseline control with settings `b` in a
 * scope (PSA OverrideCheckIDs): only when it rejects everything the baseline control rejects there. A
 * relaxation of the restricted control (off, a milder mode, image or name exceptions, allowed values, options
 * wider than the baseline's) keeps the baseline control applying, so the baseline floor holds unless the
 * baseline control is relaxed the same way explicitly.
 */
function replaces(over: ControlId, o: ControlSettings, b: ControlSettings): boolean {
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

function sameSettings(a: ControlSettings, b: ControlSettings): boolean {
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

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDnsLabel(s: unknown): boolean {
  return typeof s === 'string' && s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === s;
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

function uniqSorted<T extends string>(xs: readonly T[]): T[] {
  return [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
