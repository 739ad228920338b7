/**
 * Pod Security Admission: namespace labels, and the AdmissionConfiguration (written by the control-plane
 * backend). PSA's `enforce` level is the highest level the policies fully enforce in that scope, so PSA
 * never rejects what the config allows (relaxed controls, image exceptions, audit mode); `audit` and `warn`
 * carry the configured level.
 */
import { getControl, type ControlId } from '../../controls/index.js';
import type { PssLevel } from '../../controls/types.js';
import type { ControlSettings, ResolvedCluster, ResolvedControl } from '../../config/resolve.js';
import type { PssLevelName } from '../../config/types.js';
import { minor, pssVersionLabel, type KubernetesVersion } from '../../pss/versions.js';
import type { BackendFile } from '../types.js';

const RANK: Record<PssLevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };
export const PSA_LABEL_PREFIX = 'pod-security.kubernetes.io/';

export interface PsaLevels {
  readonly enforce: PssLevelName;
  readonly audit: PssLevelName;
  readonly warn: PssLevelName;
}

/**
 * Keeps GitOps tools from pruning or deleting a Namespace they did not create: Argo CD (sync options) and
 * Flux (kustomize-controller) skip objects annotated so.
 */
export const KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/**
 * `psa/namespaces.yaml`: the PSA labels of each namespace the config names, as label-only Namespace objects
 * for server-side apply (`kubectl apply --server-side --field-manager=kubeharden-psa`), which then owns the
 * six labels and nothing else of the Namespace. Never the exempt namespaces (the AdmissionConfiguration
 * exempts them) nor any `kube-*` namespace, and no kustomization: `kubectl delete -k` has nothing to
 * delete, and the annotations keep Argo CD and Flux from pruning or deleting the namespaces.
 */
export function psaBackend(cluster: ResolvedCluster): BackendFile[] {
  const version = pssVersionLabel(cluster.version);
  const namespaces = cluster.namespaces
    .filter((ns) => !ns.exempt && !ns.name.startsWith('kube-'))
    .map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: psaLabels(psaLevels(cluster, ns.name, ns.pss), version), annotations: { ...KEEP_ANNOTATIONS } } }));
  return namespaces.length ? [{ path: PSA_NAMESPACES_FILE, objects: namespaces }] : [];
}

export const PSA_NAMESPACES_FILE = 'psa/namespaces.yaml';
/** The field manager that owns the PSA labels (README, rollback). */
export const PSA_FIELD_MANAGER = 'kubeharden-psa';

/**
 * The kube-apiserver `--admission-control-config-file`: PSA defaults for namespaces without labels and the
 * exempt namespaces. Written once, by the control-plane backend (`control-plane/admission-configuration.yaml`).
 */
export function psaAdmissionConfiguration(cluster: ResolvedCluster): object {
  const version = pssVersionLabel(cluster.version);
  const defaults = psaDefaults(cluster);
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: {
            enforce: defaults.enforce,
            'enforce-version': version,
            audit: defaults.audit,
            'audit-version': version,
            warn: defaults.warn,
            'warn-version': version,
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: [...cluster.exemptNamespaces] },
        },
      },
    ],
  };
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

export function psaLabels(levels: PsaLevels, version: string): Record<string, string> {
  return {
    [`${PSA_LABEL_PREFIX}enforce`]: levels.enforce,
    [`${PSA_LABEL_PREFIX}enforce-version`]: version,
    [`${PSA_LABEL_PREFIX}audit`]: levels.audit,
    [`${PSA_LABEL_PREFIX}audit-version`]: version,
    [`${PSA_LABEL_PREFIX}warn`]: levels.warn,
    [`${PSA_LABEL_PREFIX}warn-version`]: version,
  };
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
