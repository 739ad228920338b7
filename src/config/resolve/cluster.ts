/** One cluster: its settings from the base config and (multi-cluster) its entry under `clusters`, resolved step by step. */
import type { Diagnostics } from '../../diagnostics.js';
import { describe } from '../../controls/options.js';
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_VERSIONS, isSupportedVersion, minor, type KubernetesVersion } from '../../pss/versions.js';
import type { Mode, ProfileName } from '../types.js';
import { ISOLATED_NAMESPACE_DEFAULTS, resolveNamespaceObjects } from '../namespace-objects.js';
import { resolveClusterControls } from './controls.js';
import { applyExceptions, resolveExceptionHorizon, resolveExceptions } from './exceptions.js';
import { resolveFixtures } from './fixtures.js';
import { namespaceEntries, resolveNamespaces } from './namespaces.js';
import { resolveControls } from './overrides.js';
import { PROFILES } from './profiles.js';
import { withPsaLevels } from './psa-levels.js';
import { observe, resolvePolicyEngines, resolvePsa, resolveRollout } from './rollout.js';
import { resolveControlPlane } from './control-plane.js';
import type { ResolvedCluster } from './types.js';
import { MODES, checkKeys, hintFor, isObject, namespaceList, uniqSorted, type ClusterSource, type Layer } from './util.js';

export const DEFAULT_EXEMPT_NAMESPACES = ['kube-node-lease', 'kube-public', 'kube-system'] as const;

export function resolveCluster(d: Diagnostics, name: string, source: ClusterSource, now: string): ResolvedCluster {
  const profileSetting = source.pick('profile');
  const profile = resolveProfile(d, profileSetting);
  const level = PROFILES[profile].level;
  const version = resolveVersion(d, source.pick('kubernetesVersion'));
  const defaultMode = resolveDefaultMode(d, source.pick('defaultMode'));

  const exemptSetting = source.pick('exemptNamespaces');
  let exemptNamespaces: string[] = [...DEFAULT_EXEMPT_NAMESPACES];
  if (exemptSetting.value !== undefined) exemptNamespaces = namespaceList(d, exemptSetting.value, exemptSetting.path) ?? exemptNamespaces;
  const engineNamespaces = resolvePolicyEngines(d, source.pick('policyEngines'));
  exemptNamespaces = uniqSorted([...exemptNamespaces, ...engineNamespaces]);
  const rollout = resolveRollout(d, source.pick('rollout'));
  const psaSettings = resolvePsa(d, source.pick('psa'), exemptNamespaces);

  const { regoVersion, engines: gatekeeperEngines, generateVAP: gatekeeperGenerateVAP } = resolveGatekeeper(d, source.pick('gatekeeper'));
  const kyvernoPolicyType = resolveKyvernoPolicyType(d, source.pick('kyverno'));
  const vap = resolveVap(d, source.pick('vap'), version);
  const controlPlaneSetting = source.pick('controlPlane');
  const controlPlane = resolveControlPlane(d, controlPlaneSetting.value, controlPlaneSetting.path);

  // Cluster-wide control settings: profile defaults, then base controls, then the cluster entry's.
  const controlLayers = source.layers('controls');
  const clusterSettings = resolveClusterControls(d, controlLayers, { name: profile, ...profileSetting }, defaultMode, version);

  const entries = namespaceEntries(d, source.layers('namespaces'), psaSettings.infra);
  const { namespaces, nsSettings } = resolveNamespaces(d, entries, psaSettings.infra, exemptNamespaces, level, clusterSettings, controlLayers);

  const exceptions = resolveExceptions(d, source.layers('exceptions'), now, resolveExceptionHorizon(d, source.pick('exceptionHorizonDays')));

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
  const controls = resolveControls(d, effective, scopes, version, controlLayers);

  const fixtures = resolveFixtures(d, source.layers('fixtures'));

  // Network and resource objects per namespace (NSA-NET-2/3/4/11); the nsa-cisa profile starts every
  // namespace isolated (default-deny with DNS, a quota and a limit range), the PSS profiles with nothing.
  const namespaceObjects = resolveNamespaceObjects(
    d,
    { network: source.pick('network'), resources: source.pick('resources') },
    entries,
    exemptNamespaces,
    profile === 'nsa-cisa' ? ISOLATED_NAMESPACE_DEFAULTS : undefined,
    source.pick('namespaceObjects'),
  );

  const resolved = { name, profile, level, version, defaultMode, exemptNamespaces, controls, namespaces, exceptions, fixtures, regoVersion, gatekeeperEngines, gatekeeperGenerateVAP, kyvernoPolicyType, vap, controlPlane, namespaceObjects };
  return withPsaLevels({ ...(rollout === 'observe' ? observe(resolved) : resolved), rollout, engineNamespaces, psa: { defaultEnforce: psaSettings.defaultEnforce } });
}

function resolveProfile(d: Diagnostics, setting: Layer): ProfileName {
  if (setting.value === undefined) return 'pss-restricted';
  if (typeof setting.value === 'string' && setting.value in PROFILES) return setting.value as ProfileName;
  d.error('invalid_profile', setting.path, `unknown profile ${describe(setting.value)}; expected one of ${Object.keys(PROFILES).join(', ')}`, hintFor(setting.value, Object.keys(PROFILES)));
  return 'pss-restricted';
}

function resolveVersion(d: Diagnostics, setting: Layer): KubernetesVersion {
  if (setting.value === undefined) return DEFAULT_KUBERNETES_VERSION;
  if (isSupportedVersion(setting.value)) return setting.value;
  d.error(
    'unsupported_version',
    setting.path,
    `kubernetesVersion ${describe(setting.value)} is not supported; kubeharden targets ${SUPPORTED_VERSIONS[0]} to ${SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]} (a string such as '1.37')`,
    typeof setting.value === 'number' ? `write it as a string: '${String(setting.value)}'` : undefined,
  );
  return DEFAULT_KUBERNETES_VERSION;
}

function resolveDefaultMode(d: Diagnostics, setting: Layer): Mode {
  if (setting.value === undefined) return 'enforce';
  if (MODES.includes(setting.value as Mode)) return setting.value as Mode;
  d.error('invalid_mode', setting.path, `defaultMode must be one of ${MODES.join(', ')}, got ${describe(setting.value)}`, hintFor(setting.value, MODES));
  return 'enforce';
}

const KYVERNO_POLICY_TYPES = ['ValidatingPolicy', 'ClusterPolicy'] as const;
type KyvernoPolicyType = (typeof KYVERNO_POLICY_TYPES)[number];

function resolveKyvernoPolicyType(d: Diagnostics, setting: Layer): KyvernoPolicyType {
  // The policies.kyverno.io/v1 types: the only ones Kyverno 1.20 executes.
  const fallback: KyvernoPolicyType = 'ValidatingPolicy';
  if (setting.value === undefined) return fallback;
  if (!isObject(setting.value)) {
    d.error('invalid_value', setting.path, `kyverno must be an object, got ${describe(setting.value)}`);
    return fallback;
  }
  checkKeys(d, setting.value, setting.path, ['policyType']);
  const t = setting.value['policyType'];
  if (KYVERNO_POLICY_TYPES.includes(t as KyvernoPolicyType)) return t as KyvernoPolicyType;
  if (t !== undefined) d.error('invalid_value', [...setting.path, 'policyType'], `policyType must be one of ${KYVERNO_POLICY_TYPES.map((x) => `'${x}'`).join(', ')}, got ${describe(t)}`, hintFor(t, KYVERNO_POLICY_TYPES));
  return fallback;
}

/** The first minor where admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy is served (GA). */
export const VAP_MIN_VERSION = '1.30';

function resolveVap(d: Diagnostics, setting: Layer, version: KubernetesVersion): { enabled: boolean } {
  const off = { enabled: false };
  if (setting.value === undefined) return off;
  if (!isObject(setting.value)) {
    d.error('invalid_value', setting.path, `vap must be an object, got ${describe(setting.value)}`);
    return off;
  }
  checkKeys(d, setting.value, setting.path, ['enabled']);
  const e = setting.value['enabled'];
  if (e === undefined) return off;
  if (typeof e !== 'boolean') {
    d.error('invalid_value', [...setting.path, 'enabled'], `vap.enabled must be true or false, got ${describe(e)}`);
    return off;
  }
  if (e && minor(version) < minor(VAP_MIN_VERSION)) {
    d.error(
      'unsupported_version',
      [...setting.path, 'enabled'],
      `vap.enabled needs Kubernetes ${VAP_MIN_VERSION} or later (ValidatingAdmissionPolicy v1 is GA in ${VAP_MIN_VERSION}); this cluster targets ${version}`,
      `raise kubernetesVersion to '${VAP_MIN_VERSION}' or later, or set vap.enabled to false`,
    );
    return off;
  }
  return { enabled: e };
}

const GATEKEEPER_ENGINES = ['Rego', 'CEL'] as const;
type GatekeeperEngine = (typeof GATEKEEPER_ENGINES)[number];

interface GatekeeperResolved {
  regoVersion: 'v1' | 'v0';
  engines: GatekeeperEngine[];
  generateVAP: boolean;
}

function resolveGatekeeper(d: Diagnostics, setting: Layer): GatekeeperResolved {
  const out: GatekeeperResolved = { regoVersion: 'v1', engines: ['Rego'], generateVAP: false };
  if (setting.value === undefined) return out;
  if (!isObject(setting.value)) {
    d.error('invalid_value', setting.path, `gatekeeper must be an object, got ${describe(setting.value)}`);
    return out;
  }
  checkKeys(d, setting.value, setting.path, ['regoVersion', 'engines', 'generateVAP']);
  const rv = setting.value['regoVersion'];
  if (rv === 'v0' || rv === 'v1') out.regoVersion = rv;
  else if (rv !== undefined) d.error('invalid_value', [...setting.path, 'regoVersion'], `regoVersion must be 'v1' or 'v0', got ${describe(rv)}`, hintFor(rv, ['v1', 'v0']));
  const engines = setting.value['engines'];
  const enginesPath = [...setting.path, 'engines'];
  if (engines !== undefined) {
    const problem = (msg: string, at: (string | number)[] = enginesPath, hint?: string): void => d.error('invalid_value', at, msg, hint);
    if (!Array.isArray(engines)) problem(`engines must be ['Rego'] or ['Rego', 'CEL'], got ${describe(engines)}`);
    else {
      let ok = true;
      engines.forEach((e, i) => {
        if (!GATEKEEPER_ENGINES.includes(e as GatekeeperEngine)) {
          ok = false;
          problem(`engines[${i}] must be 'Rego' or 'CEL', got ${describe(e)}`, [...enginesPath, i], hintFor(e, GATEKEEPER_ENGINES));
        }
      });
      if (ok) {
        const set = new Set(engines as GatekeeperEngine[]);
        if (set.size !== engines.length) problem(`engines lists an engine twice: ${describe(engines)}`);
        else if (!set.has('Rego'))
          problem(`engines must include 'Rego': the Rego block serves the WASM evaluation, audits and Gatekeeper without CEL; write ['Rego', 'CEL']`);
        else out.engines = GATEKEEPER_ENGINES.filter((e) => set.has(e));
      }
    }
  }
  const vap = setting.value['generateVAP'];
  if (vap !== undefined) {
    if (typeof vap !== 'boolean') d.error('invalid_value', [...setting.path, 'generateVAP'], `generateVAP must be a boolean, got ${describe(vap)}`);
    else if (vap && !out.engines.includes('CEL')) d.error('invalid_value', [...setting.path, 'generateVAP'], `generateVAP needs engines ['Rego', 'CEL']: Gatekeeper generates ValidatingAdmissionPolicies from CEL blocks only`);
    else out.generateVAP = vap;
  }
  if (out.engines.includes('CEL') && out.regoVersion === 'v0') {
    d.error('invalid_value', enginesPath, `engines ['Rego', 'CEL'] needs regoVersion 'v1': the CEL block lives in code[], which the legacy v0 template field has no place for`);
    out.engines = ['Rego'];
    out.generateVAP = false;
  }
  return out;
}
