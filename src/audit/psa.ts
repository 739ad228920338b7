/**
 * Pod Security Admission in the offline audit. A namespace's PSA labels come from a Namespace object in
 * the audited input when there is one, otherwise from the bundle (psa/namespaces.yaml), otherwise from the
 * AdmissionConfiguration defaults; exempt namespaces are skipped, as PSA does. Pods and workload templates
 * are checked against the Pod Security Standards at each mode's level and version, with the same PSS
 * templates the policies use (proven equal to PSA by the oracle tests), and a finding is reported only when
 * PSA would act where the bundle's policies do not already (e.g. a Namespace labelled stricter than the
 * config). A Namespace whose labels enforce less than the bundle gives it is reported too: applying it
 * would weaken the bundle.
 */
import type { CompiledCluster } from '../compile.js';
import type { Constraint, ConstraintTemplate } from '../backends/gatekeeper/types.js';
import { constraint, constraintTemplate } from '../backends/gatekeeper/emitters.js';
import { PSA_LABEL_PREFIX } from '../backends/psa/index.js';
import { psaDefaults, psaLevels } from '../ir/psa.js';
import { sampleInstance } from '../backends/engine-suites/index.js';
import { CONTROL_IDS, getControl, type ControlId } from '../controls/index.js';
import type { PssLevelName } from '../config/types.js';
import { isSupportedVersion, minor, SUPPORTED_VERSIONS, type KubernetesVersion } from '../pss/versions.js';
import { PACKAGE_VERSION } from '../version.js';
import { PSA_MODES, type NamespacePsa, type PsaMode, type PsaSpec } from '../eval/psa-spec.js';

export { psaIn, PSA_MODES, type NamespacePsa, type PsaMode, type PsaSpec } from '../eval/psa-spec.js';

const RANK: Record<PssLevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };

/** The PSS controls PSA runs at a level and version (restricted checks replace the baseline ones they override). */
export function pssControls(level: PssLevelName, version: KubernetesVersion): ControlId[] {
  if (level === 'privileged') return [];
  const m = minor(version);
  const applicable = CONTROL_IDS.filter((id) => {
    const pss = getControl(id).pss;
    return pss && RANK[pss.level] <= RANK[level] && (pss.since === undefined || m >= pss.since);
  });
  const overridden = new Set(applicable.map((id) => getControl(id).pss?.overrides).filter((x): x is string => !!x));
  return applicable.filter((id) => !overridden.has(id));
}

/** PSS templates for every PSS control, in the bundle's Rego flavour (added to the audit's WASM module). */
export function pssTemplates(cc: CompiledCluster): ConstraintTemplate[] {
  return CONTROL_IDS.filter((id) => getControl(id).pss).map((id) => constraintTemplate(id, cc.cluster.regoVersion, PACKAGE_VERSION));
}

function versionOf(label: string | undefined, fallback: KubernetesVersion): KubernetesVersion {
  if (!label || label === 'latest') return fallback;
  const v = label.replace(/^v/, '');
  if (isSupportedVersion(v)) return v;
  // Older pinned versions are evaluated at the oldest version kubeharden models.
  return /^1\.\d+$/.test(v) && Number(v.split('.')[1]) < minor(SUPPORTED_VERSIONS[0]!) ? SUPPORTED_VERSIONS[0]! : fallback;
}

function levelOf(label: string | undefined): PssLevelName | undefined {
  return label === 'privileged' || label === 'baseline' || label === 'restricted' ? label : undefined;
}

/** PSA settings of every namespace: input Namespace labels over the bundle's labels over the defaults. */
export function psaSpec(cc: CompiledCluster, inputNamespaces: ReadonlyMap<string, { labels: Readonly<Record<string, string>>; source: string }>): PsaSpec {
  const cluster = cc.cluster;
  const version = cluster.version;
  const d = psaDefaults(cluster);
  const defaults: NamespacePsa = {
    modes: { enforce: { level: d.enforce, version }, warn: { level: d.warn, version }, audit: { level: d.audit, version } },
    from: 'the AdmissionConfiguration defaults',
  };
  const namespaces: Record<string, NamespacePsa> = {};
  for (const ns of cluster.namespaces) {
    if (ns.exempt) continue;
    const l = psaLevels(cluster, ns.name, ns.pss);
    namespaces[ns.name] = { modes: { enforce: { level: l.enforce, version }, warn: { level: l.warn, version }, audit: { level: l.audit, version } }, from: 'psa/namespaces.yaml' };
  }
  for (const [name, { labels, source }] of inputNamespaces) {
    const modes = {} as Record<PsaMode, { level: PssLevelName; version: KubernetesVersion }>;
    for (const mode of PSA_MODES) {
      // An unlabelled mode falls back to the cluster defaults, as in PSA.
      const level = levelOf(labels[`${PSA_LABEL_PREFIX}${mode}`]) ?? defaults.modes[mode].level;
      modes[mode] = { level, version: versionOf(labels[`${PSA_LABEL_PREFIX}${mode}-version`], version) };
    }
    namespaces[name] = { modes, from: `the Namespace in ${source}` };
  }
  const sets: Record<string, Constraint[]> = {};
  for (const p of [defaults, ...Object.values(namespaces)]) {
    for (const mode of PSA_MODES) {
      const { level, version: v } = p.modes[mode];
      const key = `${level}@${v}`;
      if (level === 'privileged' || sets[key]) continue;
      sets[key] = pssControls(level, v).map((id) => {
        const c = constraint(id, sampleInstance(id, v));
        return { ...c, metadata: { ...c.metadata, name: `psa-${level}-${v}-${id}` } };
      });
    }
  }
  return { sets, namespaces, defaults, exempt: [...cluster.exemptNamespaces] };
}

/**
 * A Namespace object of the input whose labels enforce less than the bundle gives that namespace: applying
 * it would overwrite the bundle's labels. Undefined when it agrees (or sets no enforce label).
 */
export function namespaceDrift(cc: CompiledCluster, name: string, labels: Readonly<Record<string, string>>): string | undefined {
  const configured = cc.cluster.namespaces.find((n) => n.name === name);
  if (!configured || configured.exempt) return undefined;
  const bundle = psaLevels(cc.cluster, configured.name, configured.pss).enforce;
  const given = levelOf(labels[`${PSA_LABEL_PREFIX}enforce`]);
  if (!given || RANK[given] >= RANK[bundle]) return undefined;
  return `namespace ${name} sets ${PSA_LABEL_PREFIX}enforce=${given}, below the ${bundle} the bundle gives it (psa/namespaces.yaml); applying it would weaken Pod Security Admission there`;
}
