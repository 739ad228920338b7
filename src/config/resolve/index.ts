/**
 * Resolve: profiles, defaults, cluster overrides, namespace rules and exceptions → a validated, deeply
 * readonly ResolvedConfig. Nothing after this pass reads the user's config object.
 *
 * One file per concern: profiles, cluster (the steps of one cluster), controls (cluster-wide settings),
 * settings (one control's setting), namespaces, exceptions, overrides (PSS overrides, applicability),
 * fixtures, rollout (observe mode, policy engines, psa), control-plane, psa-levels, util.
 */
import { Diagnostics, type Diagnostic } from '../../diagnostics.js';
import { describe } from '../../controls/options.js';
import { resolveCluster } from './cluster.js';
import { resolveCustomControls, withRefusedControls } from './custom.js';
import { withControls } from '../../controls/index.js';
import type { AnyControl } from '../../controls/types.js';
import type { ResolvedCluster, ResolveResult } from './types.js';
import { ClusterSource, checkKeys, isDnsLabel, isObject } from './util.js';

export * from './types.js';
export { DEFAULT_EXEMPT_NAMESPACES } from './cluster.js';
export { PROFILES, inProfile, type Profile } from './profiles.js';
export { controlDefaultMode } from './settings.js';
export { DEFAULT_ENGINE_NAMESPACES } from './rollout.js';
export { DEFAULT_KMS_ENDPOINT } from './control-plane.js';
export { isObject, stableJson } from './util.js';

const TOP_KEYS = ['name', 'clusters', 'customControls'] as const;
const CLUSTER_KEYS = [
  'profile', 'kubernetesVersion', 'defaultMode', 'exemptNamespaces', 'controls', 'namespaces',
  'exceptions', 'exceptionHorizonDays', 'fixtures', 'gatekeeper', 'kyverno', 'vap', 'controlPlane', 'network', 'resources',
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
  const { controls: custom, refused } = resolveCustomControls(d, raw['customControls']);
  return withRefusedControls(refused, () => withControls(custom, () => resolveClusters(d, raw, now, custom)));
}

function resolveClusters(d: Diagnostics, raw: Record<string, unknown>, now: string, customControls: readonly AnyControl[]): ResolveResult {
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
        clusters.push(resolveCluster(d, name, new ClusterSource(raw, entry, path), now));
      }
    }
  } else {
    const name = raw['name'] ?? 'cluster';
    if (typeof name !== 'string' || !isDnsLabel(name)) {
      d.error('invalid_name', ['name'], `name must be a DNS label (lower-case letters, digits, "-"), got ${describe(name)}`);
    }
    clusters.push(resolveCluster(d, typeof name === 'string' ? name : 'cluster', new ClusterSource(raw, undefined, []), now));
  }
  const diagnostics = oncePerProblem(d.list());
  return d.hasErrors ? { diagnostics } : { config: { clusters, multiCluster, customControls }, diagnostics };
}


/**
 * Each problem once: every cluster resolves the settings it inherits from the base config, so a problem
 * there is found once per cluster with the same code, place, message and hint; it is reported (and counted)
 * once. A problem whose message differs per cluster (e.g. one naming the cluster's version) stays apart.
 */
function oncePerProblem(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((x) => {
    const key = JSON.stringify([x.severity, x.code, x.path, x.message, x.hint ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
