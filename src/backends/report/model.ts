/**
 * The coverage model behind REPORT.md, report.json and report.html: every NSA/CISA recommendation of the
 * catalogue and how this cluster's bundle covers it. A pure function of the IR and the control definitions:
 * an engine covers a control in the modes of its instances when the control declares an implementation for
 * that engine (the backends write exactly those policies), PSA in the levels of the IR's PSA scopes. The test
 * report-files.test.ts reads the same statuses back from the emitted files of every scenario, so the report
 * cannot claim what the bundle does not contain.
 */
import { getControl, isControlId } from '../../controls/index.js';
import { implementedBy, statedGaps, type StatedGap } from '../../controls/types.js';
import { celBlockWhy, vapUnsupportedReason } from '../cel-support.js';
import { stableJson } from '../../stable-json.js';
import type { ControlSettings } from '../../ir/cluster.js';
import { psaLabeled, type PsaLevels } from '../../ir/psa.js';
import type { BundleIR } from '../../ir/types.js';
import type { Mode, PssLevelName } from '../../config/types.js';
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';
import { ARTIFACT_FILES, NSA_RECOMMENDATIONS, NSA_SECTIONS, controlsFor, type ArtifactId, type EnforceClass, type NsaSectionId } from '../../nsa/catalogue.js';
import { pssVersionLabel } from '../../pss/versions.js';
import { FLAG_ITEMS } from '../control-plane/flags.js';
import { cidrContains, namespaceObjectDifferences } from '../namespaces/coverage.js';
import { DEFAULT_DENY_CONTROL, METADATA_CONTROL, METADATA_IPV4, NAMESPACE_CONTROLS } from '../namespaces/objects.js';

export const STATUSES = ['enforced', 'audit', 'partial', 'artifact', 'checklist', 'not-covered'] as const;
export type CoverageStatus = (typeof STATUSES)[number];

export const STATUS_TEXT: Readonly<Record<CoverageStatus, string>> = {
  enforced: 'enforced at admission',
  audit: 'reported only (audit/warn)',
  partial: 'partly covered',
  artifact: 'control-plane file generated',
  checklist: 'configuration checklist',
  'not-covered': 'not covered',
};

export const ENGINES = ['kyverno', 'gatekeeper', 'psa'] as const;
export type Engine = (typeof ENGINES)[number];
export const ENGINE_TEXT: Readonly<Record<Engine, string>> = { kyverno: 'Kyverno', gatekeeper: 'Gatekeeper', psa: 'PSA' };

/** A control's state in this bundle. */
export type ControlState = 'enforced' | 'reported' | 'off' | 'not-implemented' | 'not-applicable';

export interface ControlCoverage {
  readonly id: string;
  readonly state: ControlState;
  /** Modes in which each engine's objects in the bundle check the control (empty: that engine does not). */
  readonly engines: Readonly<Record<Engine, readonly Mode[]>>;
  /**
   * What the control states an engine does not check (`admission`: none of them), and why: the whole control
   * (`unsupported`, e.g. Gatekeeper and image signatures) or a part of it (`partial`). Only for controls the
   * bundle checks.
   */
  readonly gaps: readonly StatedGap[];
}

export interface ArtifactCoverage {
  readonly id: ArtifactId;
  readonly file: string;
  readonly present: boolean;
  /** Checklist items in FLAGS.md for this recommendation (flags only). */
  readonly items?: number;
}

export interface RecommendationCoverage {
  readonly id: string;
  readonly section: NsaSectionId;
  readonly title: string;
  readonly summary: string;
  readonly enforce: readonly EnforceClass[];
  readonly status: CoverageStatus;
  readonly controls: readonly ControlCoverage[];
  readonly artifacts: readonly ArtifactCoverage[];
  /** Why the status is not full coverage (empty when it is). */
  readonly gaps: readonly string[];
}

export type StatusCounts = Readonly<Record<CoverageStatus, number>>;

export interface NamespaceCoverage {
  readonly namespace: string;
  readonly configured: PssLevelName | 'exempt';
  /** PSA labels the bundle writes (absent: the namespace is not labeled, the AdmissionConfiguration defaults apply). */
  readonly psa?: { readonly enforce: string; readonly audit: string; readonly warn: string; readonly version: string };
  /** Controls whose settings here differ from the cluster-wide ones. */
  readonly differences: readonly { readonly control: string; readonly change: string }[];
  /** Indexes into `exceptions`. */
  readonly exceptions: readonly number[];
}

export interface CoverageReport {
  readonly $comment: string;
  readonly cluster: {
    readonly name: string;
    readonly profile: string;
    readonly kubernetesVersion: string;
    readonly pssVersion: string;
    readonly defaultMode: Mode;
    /** The blocks the Gatekeeper templates carry (config `gatekeeper.engines`), and the controls whose template keeps Rego only, with why. */
    readonly gatekeeper: { readonly engines: readonly string[]; readonly regoOnly: readonly { readonly id: string; readonly why: string }[] };
  };
  readonly totals: StatusCounts;
  readonly sections: readonly { readonly id: NsaSectionId; readonly title: string; readonly counts: StatusCounts }[];
  readonly recommendations: readonly RecommendationCoverage[];
  /**
   * The config's own controls (`customControls`) the cluster turns on, with the NSA/CISA ids they name (they
   * count under those recommendations too): absent when there are none.
   */
  readonly customControls?: readonly (ControlCoverage & { readonly title: string; readonly nsa: readonly string[] })[];
  readonly psaDefaults?: { readonly enforce: string; readonly audit: string; readonly warn: string; readonly version: string };
  readonly namespaces: readonly NamespaceCoverage[];
  readonly exceptions: readonly {
    readonly controls: readonly string[];
    readonly namespaces?: readonly string[];
    readonly images?: readonly string[];
    readonly names?: readonly string[];
    /** What the exception lets through (absent: the controls are excepted whole). */
    readonly allow?: Readonly<Record<string, readonly string[]>>;
    readonly reason: string;
    readonly expires: string;
  }[];
}

const RANK: Record<string, number> = { privileged: 0, baseline: 1, restricted: 2 };
const MODE_ORDER: readonly Mode[] = ['enforce', 'audit', 'warn'];

function sortModes(modes: Iterable<Mode>): Mode[] {
  const s = new Set(modes);
  return MODE_ORDER.filter((m) => s.has(m));
}

/**
 * Engine → control id → modes. A control the engine implements (its definition says so) gets one policy rule
 * or Constraint per instance, in the instance's mode; the Kyverno generate policies of the namespace objects
 * keep them synchronized, counted as enforce.
 */
function engineModes(ir: BundleIR): Record<'kyverno' | 'gatekeeper', Map<string, Mode[]>> {
  const kyverno = new Map<string, Mode[]>();
  const gatekeeper = new Map<string, Mode[]>();
  for (const c of ir.controls) {
    const control = getControl(c.control);
    const modes = sortModes(c.instances.map((i) => i.mode));
    if (implementedBy(control, 'kyverno')) kyverno.set(c.control, modes);
    if (implementedBy(control, 'gatekeeper')) gatekeeper.set(c.control, modes);
  }
  for (const id of generatedNamespaceControls(ir)) kyverno.set(id, ['enforce']);
  // Default-deny egress blocks the metadata service too, whether or not its own policy is written.
  if (metadataBlockedClusterWide(ir)) kyverno.set(METADATA_CONTROL, ['enforce']);
  return { kyverno, gatekeeper };
}

/** The parts of namespace-object settings that decide each control's objects (equal parts: equal objects). */
function objectsOf(control: string, s: NamespaceObjectSettings): string | undefined {
  const n = s.network;
  if (control === DEFAULT_DENY_CONTROL) return n.defaultDeny ? stableJson({ allowDns: n.allowDns, api: n.apiServerEgress ?? null, hooks: n.webhookIngress ?? null }) : undefined;
  if (control === METADATA_CONTROL) return !n.defaultDeny && n.blockCloudMetadata ? 'block' : undefined;
  return s.quota || s.limitRange ? stableJson({ quota: s.quota ?? null, limitRange: s.limitRange ?? null }) : undefined;
}

/**
 * Whether a namespace control's cluster-wide objects reach some namespace: a named namespace without
 * objects of its own for that control, or any namespace through the opt-in label.
 */
function clusterWide(ir: BundleIR, control: string): boolean {
  const no = ir.namespaceObjects;
  const base = objectsOf(control, no.cluster);
  if (base === undefined) return false;
  const own = new Set(no.namespaces.filter((n) => objectsOf(control, n.settings) !== base).map((n) => n.namespace));
  return no.optInLabel !== undefined || no.scopes.some((n) => !own.has(n.namespace));
}

/** The namespace controls whose objects some namespace gets (through a Kyverno generate policy). */
function generatedNamespaceControls(ir: BundleIR): string[] {
  const no = ir.namespaceObjects;
  return NAMESPACE_CONTROLS.filter((control) => clusterWide(ir, control) || no.namespaces.some((n) => objectsOf(control, n.settings) !== undefined && objectsOf(control, n.settings) !== objectsOf(control, no.cluster)));
}

/**
 * Whether the cluster-wide NetworkPolicies block egress to the IPv4 metadata address: the metadata policy
 * does; default-deny does unless the API-server egress it opens reaches the address (no CIDR: everywhere).
 */
function metadataBlockedClusterWide(ir: BundleIR): boolean {
  const n = ir.namespaceObjects.cluster.network;
  if (!n.defaultDeny) return clusterWide(ir, METADATA_CONTROL);
  const api = n.apiServerEgress;
  const reaches = api !== undefined && (!api.cidrs.length || api.cidrs.some((c) => cidrContains(c, METADATA_IPV4.split('/')[0]!)));
  return clusterWide(ir, DEFAULT_DENY_CONTROL) && !reaches;
}

/** The levels of one PSA scope (labels or AdmissionConfiguration defaults) and its version label. */
export interface PsaScope {
  readonly enforce: string;
  readonly audit: string;
  readonly warn: string;
  readonly version: string;
}

/** PSA scopes of the IR: the AdmissionConfiguration defaults and each labeled namespace's levels. */
function psaScopes(ir: BundleIR): { defaults: PsaScope; namespaces: Map<string, PsaScope> } {
  const version = pssVersionLabel(ir.version);
  const scope = (l: PsaLevels): PsaScope => ({ enforce: l.enforce, audit: l.audit, warn: l.warn, version });
  const namespaces = new Map<string, PsaScope>();
  for (const [name, s] of ir.psa.namespaces) if (psaLabeled(name)) namespaces.set(name, scope(s.levels));
  return { defaults: scope(ir.psa.defaults.levels), namespaces };
}

/** Modes in which PSA checks a PSS control in at least one scope (level high enough, check present at the pinned version). */
export function psaModes(id: string, scopes: readonly PsaScope[]): Mode[] {
  if (!isControlId(id)) return [];
  const pss = getControl(id).pss;
  if (!pss) return [];
  const modes = new Set<Mode>();
  for (const s of scopes) {
    const m = /^v1\.(\d+)$/.exec(s.version);
    if (pss.since !== undefined && m && Number(m[1]) < pss.since) continue;
    if (RANK[s.enforce]! >= RANK[pss.level]!) modes.add('enforce');
    if (RANK[s.audit]! >= RANK[pss.level]!) modes.add('audit');
    if (RANK[s.warn]! >= RANK[pss.level]!) modes.add('warn');
  }
  return sortModes(modes);
}

/** One stated gap of control `id` as a line of the report. */
export function gapText(id: string, g: StatedGap): string {
  if (g.engine === 'admission') return `admission cannot check (${id}): ${g.what}; ${g.why}`;
  const engine = ENGINE_TEXT[g.engine];
  return g.extent === 'unsupported' ? `${engine} cannot express ${id}: ${g.why}` : `${engine} checks ${id} only partly, not ${g.what}: ${g.why}`;
}

function emptyCounts(): Record<CoverageStatus, number> {
  return Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<CoverageStatus, number>;
}

export function coverageReport(ir: BundleIR, comment: string): CoverageReport {
  const cluster = ir.cluster;
  const modes = engineModes(ir);
  const psa = psaScopes(ir);
  const psaAll = [psa.defaults, ...psa.namespaces.values()];

  const controlCoverage = (id: string): ControlCoverage => {
    const none = { kyverno: [], gatekeeper: [], psa: [] };
    if (!isControlId(id)) {
      if (!NAMESPACE_CONTROLS.includes(id)) return { id, state: 'not-implemented', engines: none, gaps: [] };
      // Namespace objects: covered when a Kyverno generate policy in the bundle creates them.
      const kyverno = sortModes(modes.kyverno.get(id) ?? []);
      return { id, state: kyverno.length ? 'enforced' : 'off', engines: { ...none, kyverno }, gaps: [] };
    }
    const rc = cluster.controls.find((c) => c.id === id);
    if (rc && !rc.applicable) return { id, state: 'not-applicable', engines: none, gaps: [] };
    const engines = {
      kyverno: sortModes(modes.kyverno.get(id) ?? []),
      gatekeeper: sortModes(modes.gatekeeper.get(id) ?? []),
      psa: psaModes(id, psaAll),
    };
    const all = new Set([...engines.kyverno, ...engines.gatekeeper, ...engines.psa]);
    const state: ControlState = all.has('enforce') ? 'enforced' : all.size ? 'reported' : 'off';
    return { id, state, engines, gaps: state === 'off' ? [] : statedGaps(getControl(id)) };
  };

  const recommendations: RecommendationCoverage[] = NSA_RECOMMENDATIONS.map((rec) => {
    const controls = controlsFor(rec).map(controlCoverage);
    const relevant = controls.filter((c) => c.state !== 'not-applicable');
    const artifacts: ArtifactCoverage[] = rec.artifacts.map((a) => {
      const file = ARTIFACT_FILES[a];
      const items = a === 'flags' ? FLAG_ITEMS.filter((i) => i.nsa.includes(rec.id)).length : undefined;
      // The control-plane stage writes every file of ARTIFACT_FILES; FLAGS.md counts only with items for it.
      return { id: a, file, present: items === undefined || items > 0, ...(items !== undefined ? { items } : {}) };
    });
    const gaps: string[] = [];
    const ids = (st: ControlState): string[] => relevant.filter((c) => c.state === st).map((c) => c.id);
    if (ids('not-implemented').length) gaps.push(`not implemented yet: ${ids('not-implemented').join(', ')}`);
    if (ids('off').length) gaps.push(`off in this cluster: ${ids('off').join(', ')}`);
    if (ids('reported').length) gaps.push(`reported, not enforced: ${ids('reported').join(', ')}`);
    // What the controls state an engine (or admission as a whole) does not check: users of that engine do not get it.
    for (const c of relevant) for (const g of c.gaps) gaps.push(gapText(c.id, g));
    // With `vap/` on: the controls its ValidatingAdmissionPolicies do not check (backends/vap).
    if (cluster.vap.enabled) {
      for (const c of relevant) {
        const why = c.state === 'off' || !isControlId(c.id) ? undefined : vapUnsupportedReason(c.id);
        if (why) gaps.push(`ValidatingAdmissionPolicy cannot express ${c.id}: ${why}`);
      }
    }
    const missingArtifacts = artifacts.filter((a) => !a.present).map((a) => a.file);
    if (missingArtifacts.length) gaps.push(`not generated: ${missingArtifacts.join(', ')}`);
    if (rec.outside) gaps.push(`outside kubeharden: ${rec.outside}`);

    const present = relevant.some((c) => c.state === 'enforced' || c.state === 'reported') || artifacts.some((a) => a.present);
    let status: CoverageStatus;
    if (!present) status = 'not-covered';
    else if (!gaps.length) status = relevant.length ? 'enforced' : artifacts.some((a) => a.id !== 'flags') ? 'artifact' : 'checklist';
    else status = gaps.length === 1 && ids('reported').length && !ids('enforced').length ? 'audit' : 'partial';
    if (status === 'not-covered' && !gaps.length) gaps.push('nothing in kubeharden addresses it yet');
    return { id: rec.id, section: rec.section, title: rec.title, summary: rec.summary, enforce: rec.enforce, status, controls, artifacts, gaps };
  });

  const customControls = ir.controls
    .filter((c) => getControl(c.control).custom !== undefined)
    .map((c) => {
      const def = getControl(c.control);
      return { ...controlCoverage(c.control), title: def.title, nsa: [...def.nsa] };
    });

  const totals = emptyCounts();
  for (const r of recommendations) totals[r.status]++;
  const sections = NSA_SECTIONS.map((s) => {
    const counts = emptyCounts();
    for (const r of recommendations) if (r.section === s.id) counts[r.status]++;
    return { id: s.id, title: s.title, counts };
  });

  const exceptions = cluster.exceptions.map((e) => ({
    controls: [...e.controls],
    ...(e.namespaces ? { namespaces: [...e.namespaces] } : {}),
    ...(e.images ? { images: [...e.images] } : {}),
    ...(e.names ? { names: [...e.names] } : {}),
    ...(e.allow ? { allow: Object.fromEntries(Object.entries(e.allow).map(([k, v]) => [k, [...v!]])) } : {}),
    reason: e.reason,
    expires: e.expires,
  }));

  const nsNames = new Set(cluster.namespaces.map((n) => n.name));
  for (const rc of cluster.controls) for (const n of rc.namespaces) nsNames.add(n.namespace);
  for (const e of cluster.exceptions) for (const n of e.namespaces ?? []) nsNames.add(n);
  const namespaces: NamespaceCoverage[] = [...nsNames].sort().map((name) => {
    const ns = cluster.namespaces.find((n) => n.name === name);
    const exempt = ns?.exempt ?? cluster.exemptNamespaces.includes(name);
    const differences: { control: string; change: string }[] = [];
    if (!exempt) {
      for (const rc of cluster.controls) {
        const s = rc.namespaces.find((n) => n.namespace === name)?.settings;
        if (s) {
          const change = describeChange(rc.cluster, s);
          if (change) differences.push({ control: rc.id, change });
        }
      }
      differences.push(...namespaceObjectDifferences(cluster, name));
    }
    const label = psa.namespaces.get(name);
    return {
      namespace: name,
      configured: exempt ? 'exempt' : ns?.pss ?? cluster.level,
      ...(label ? { psa: label } : {}),
      differences,
      exceptions: exceptions.flatMap((e, i) => (!e.namespaces || e.namespaces.includes(name) ? [i] : [])),
    };
  });

  return {
    $comment: comment,
    cluster: {
      name: cluster.name,
      profile: cluster.profile,
      kubernetesVersion: cluster.version,
      pssVersion: pssVersionLabel(cluster.version),
      defaultMode: cluster.defaultMode,
      gatekeeper: {
        engines: [...cluster.gatekeeperEngines],
        regoOnly: cluster.gatekeeperEngines.includes('CEL')
          ? ir.controls
              .filter((x) => x.instances.length && implementedBy(getControl(x.control), 'gatekeeper') && celBlockWhy(x.control) !== undefined)
              .map((x) => ({ id: x.control, why: celBlockWhy(x.control)! }))
          : [],
      },
    },
    totals,
    sections,
    recommendations,
    ...(customControls.length ? { customControls } : {}),
    psaDefaults: psa.defaults,
    namespaces,
    exceptions,
  };
}

function describeChange(base: ControlSettings, s: ControlSettings): string | undefined {
  if (base.enabled && !s.enabled) return 'off';
  if (!s.enabled) return undefined;
  const parts: string[] = [];
  if (!base.enabled) parts.push(`on (${s.mode})`);
  else if (s.mode !== base.mode) parts.push(`${s.mode} instead of ${base.mode}`);
  const added = (a: readonly string[], b: readonly string[]): string[] => b.filter((x) => !a.includes(x));
  const imgs = added(base.exemptImages, s.exemptImages);
  const names = added(base.exemptNames, s.exemptNames);
  if (imgs.length) parts.push(`images excepted: ${imgs.join(', ')}`);
  if (names.length) parts.push(`names excepted: ${names.join(', ')}`);
  const allowed = added(base.allowances.map(stableJson), s.allowances.map(stableJson));
  for (const a of s.allowances.filter((x) => allowed.includes(stableJson(x)))) {
    const values = Object.entries(a.values).map(([k, v]) => `${k} ${v!.join(', ')}`).join('; ');
    parts.push(`allowed: ${values}${a.images ? ` for images ${a.images.join(', ')}` : a.names ? ` for names ${a.names.join(', ')}` : ''}`);
  }
  if (stableJson(base.options) !== stableJson(s.options)) parts.push('options changed');
  return parts.length ? parts.join('; ') : undefined;
}
