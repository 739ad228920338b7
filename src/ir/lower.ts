/** Lower: resolved settings → engine-neutral control instances, grouped by identical settings. */
import { getControl, type ControlId } from '../controls/index.js';
import type { ControlSettings, ResolvedCluster, ResolvedControl } from './cluster.js';
import { stableJson } from '../stable-json.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { BundleIR, ControlInstance, ControlIR, NamespaceObjectsIR, Params } from './types.js';
import { dnsName } from '../names.js';
import { psaOf } from './psa.js';

export function lowerCluster(cluster: ResolvedCluster): BundleIR {
  const controls: ControlIR[] = [];
  for (const rc of cluster.controls) {
    const instances = lowerControl(rc, cluster.exemptNamespaces, cluster.version);
    if (instances.length) controls.push({ control: rc.id, instances });
  }
  return { cluster, psa: psaOf(cluster), namespaceObjects: namespaceObjectsOf(cluster), version: cluster.version, controls };
}

/** The namespace objects' settings, with the namespaces that get them (see NamespaceObjectsIR). */
function namespaceObjectsOf(cluster: ResolvedCluster): NamespaceObjectsIR {
  const own = new Map(cluster.namespaceObjects.namespaces.map((n) => [n.namespace, n.settings]));
  const scopes = cluster.namespaces.filter((n) => !n.exempt && !n.infra).map((n) => ({ namespace: n.name, settings: own.get(n.name) ?? cluster.namespaceObjects.cluster }));
  return { ...cluster.namespaceObjects, scopes };
}

/** The engine parameters of a control for given options (used for instances and for built-in samples). */
export function paramsFor(id: ControlId, options: ControlSettings['options'], version: KubernetesVersion, level?: ControlSettings['pssLevel']): Params {
  const c = getControl(id);
  return sortKeys(c.lower(options as never, version, level ? { level } : undefined)) as Params;
}

/** Parameters with object keys in code-unit order, so config key order never reaches the output. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

function lowerControl(rc: ResolvedControl, exempt: readonly string[], version: KubernetesVersion): ControlInstance[] {
  const special = rc.namespaces.map((n) => n.namespace);
  const out: ControlInstance[] = [];
  if (rc.cluster.enabled) {
    out.push(instance(rc.id, rc.cluster, { exclude: [...new Set([...exempt, ...special])].sort() }, rc.id, version));
  }
  // Namespaces with identical settings share one instance.
  const groups = new Map<string, { settings: ControlSettings; namespaces: string[] }>();
  for (const { namespace, settings } of rc.namespaces) {
    if (!settings.enabled) continue;
    const key = stableJson(settings);
    const g = groups.get(key) ?? { settings, namespaces: [] };
    g.namespaces.push(namespace);
    groups.set(key, g);
  }
  const sorted = [...groups.values()].sort((a, b) => (a.namespaces[0]! < b.namespaces[0]! ? -1 : 1));
  for (const g of sorted) {
    const nss = g.namespaces.sort();
    const name = dnsName([rc.id, ...(nss.length === 1 ? ['ns', nss[0]!] : ['ns', nss[0]!, `and-${nss.length - 1}`])], nss.join(','));
    out.push(instance(rc.id, g.settings, { include: nss, exclude: [] }, name, version));
  }
  return out;
}

function instance(id: ControlId, s: ControlSettings, scope: ControlInstance['scope'], name: string, version: KubernetesVersion): ControlInstance {
  return { name, mode: s.mode, params: paramsFor(id, s.options, version, s.pssLevel), exemptImages: s.exemptImages, exemptNames: s.exemptNames, allowances: s.allowances, scope };
}
