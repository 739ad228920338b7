/**
 * The PSA part of the IR: the Pod Security Admission levels of every scope, computed once from the resolved
 * settings before any backend runs. PSA's `enforce` level is the highest level the policies fully enforce in
 * that scope, so PSA never rejects what the config allows (relaxed controls, image exceptions, audit mode);
 * `audit` and `warn` carry the configured level.
 */
import { getControl, type ControlId } from '../controls/index.js';
import type { PssLevel } from '../controls/types.js';
import type { PssLevelName } from '../config/types.js';
import { minor, type KubernetesVersion } from '../pss/versions.js';
import type { ControlSettings, ResolvedCluster, ResolvedControl } from './cluster.js';

const RANK: Record<PssLevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };

export interface PsaLevels {
  readonly enforce: PssLevelName;
  readonly audit: PssLevelName;
  readonly warn: PssLevelName;
}

/** The levels of one scope, and the controls of its configured level that keep PSA enforce below it. */
export interface PsaScope {
  readonly levels: PsaLevels;
  /** Not mirrored by PSA enforce: the configured level's controls that are not fully enforced there. */
  readonly gaps: readonly ControlId[];
}

export interface PsaIR {
  /** Namespaces without labels: the AdmissionConfiguration defaults, with the cluster-wide gaps. */
  readonly defaults: PsaScope;
  /** Every non-exempt namespace of the config, by name (the labels of psa/namespaces.yaml). */
  readonly namespaces: ReadonlyMap<string, PsaScope>;
}

/**
 * Whether the bundle writes PSA labels for a namespace of `PsaIR.namespaces` (psa/namespaces.yaml): never
 * for a `kube-*` namespace.
 */
export function psaLabeled(namespace: string): boolean {
  return !namespace.startsWith('kube-');
}

/** The PSA levels of every scope of a cluster. */
export function psaOf(cluster: ResolvedCluster): PsaIR {
  const gapsAt = (namespace: string | undefined, level: PssLevelName): ControlId[] => (level === 'privileged' ? [] : psaGaps(cluster, namespace, level));
  const namespaces = new Map<string, PsaScope>();
  for (const ns of cluster.namespaces) {
    if (!ns.exempt) namespaces.set(ns.name, { levels: psaLevels(cluster, ns.name, ns.pss), gaps: gapsAt(ns.name, ns.pss) });
  }
  return { defaults: { levels: psaDefaults(cluster), gaps: gapsAt(undefined, cluster.level) }, namespaces };
}

/**
 * The AdmissionConfiguration's levels for namespaces without labels: `enforce` is `psa.defaultEnforce`
 * (default privileged, so unlabeled infrastructure namespaces keep working), never above what the policies
 * enforce cluster-wide; `audit` and `warn` carry the cluster's level.
 */
export function psaDefaults(cluster: ResolvedCluster): PsaLevels {
  const l = psaLevels(cluster, undefined, cluster.level);
  return { ...l, enforce: RANK[cluster.psa.defaultEnforce] < RANK[l.enforce] ? cluster.psa.defaultEnforce : l.enforce };
}

/** The PSA levels for a namespace (or the cluster default when `namespace` is undefined). */
export function psaLevels(cluster: ResolvedCluster, namespace: string | undefined, configured: PssLevelName): PsaLevels {
  let enforce: PssLevelName = 'privileged';
  for (const level of ['baseline', 'restricted'] as const) {
    if (RANK[level] > RANK[configured]) break;
    if (fullyEnforced(cluster, namespace, level)) enforce = level;
    else break;
  }
  return { enforce, audit: configured, warn: configured };
}

/** Why PSA enforces less than configured in a scope: the controls that are not fully enforced there. */
export function psaGaps(cluster: ResolvedCluster, namespace: string | undefined, level: PssLevel): ControlId[] {
  return cluster.controls
    .filter((rc) => isPssUpTo(rc, level, cluster.version) && !covered(cluster, rc, namespace))
    .map((rc) => rc.id);
}

function fullyEnforced(cluster: ResolvedCluster, namespace: string | undefined, level: PssLevel): boolean {
  return psaGaps(cluster, namespace, level).length === 0;
}

function isPssUpTo(rc: ResolvedControl, level: PssLevel, version: KubernetesVersion): boolean {
  const pss = getControl(rc.id).pss;
  if (!pss) return false;
  if (pss.since !== undefined && minor(version) < pss.since) return false;
  return RANK[pss.level] <= RANK[level];
}

export function settingsIn(rc: ResolvedControl, namespace: string | undefined): ControlSettings {
  if (namespace === undefined) return rc.cluster;
  return rc.namespaces.find((n) => n.namespace === namespace)?.settings ?? rc.cluster;
}

function covered(cluster: ResolvedCluster, rc: ResolvedControl, namespace: string | undefined): boolean {
  const s = settingsIn(rc, namespace);
  if (strict(cluster, rc.id, s)) return true;
  if (!s.enabled && rc.supersededBy) {
    const over = cluster.controls.find((c) => c.id === rc.supersededBy)!;
    return strict(cluster, over.id, settingsIn(over, namespace));
  }
  return false;
}

/** Enabled, enforced, no exceptions (whole or `allow`), and options no more permissive than the PSS defaults. */
function strict(cluster: ResolvedCluster, id: ControlId, s: ControlSettings): boolean {
  if (!s.enabled || s.mode !== 'enforce' || s.exemptImages.length || s.exemptNames.length || s.allowances.length) return false;
  const defaults = getControl(id).defaults(cluster.version) as Record<string, unknown>;
  for (const [k, v] of Object.entries(s.options)) {
    const d = defaults[k];
    if (Array.isArray(v) && Array.isArray(d)) {
      const allowed = new Set(d.map((x) => JSON.stringify(x)));
      if (v.some((x) => !allowed.has(JSON.stringify(x)))) return false;
    } else if (JSON.stringify(v) !== JSON.stringify(d)) return false;
  }
  return true;
}
