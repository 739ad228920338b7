/** The PSA enforce level of each scope, for the controls that follow it. */
import { getControl } from '../../controls/index.js';
import { psaLevels } from '../../ir/psa.js';
import type { ControlSettings, ResolvedCluster, ResolvedControl } from './types.js';
import { sameSettings } from './overrides.js';

/**
 * Controls that follow the PSA level (enforce-psa-namespace-labels) get each scope's enforce level, as the
 * PSA backend computes it for the labels it writes: the configured level where the policies fully enforce
 * it, lower where exceptions or relaxed controls keep PSA from mirroring them.
 */
export function withPsaLevels(cluster: ResolvedCluster): ResolvedCluster {
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
