/**
 * `kubeharden test --engine apiserver`: the bundle on a real kube-apiserver + etcd (src/engines/apiserver.ts).
 *
 * Per cluster of the config: the API server starts with the bundle's control-plane files (admission
 * configuration, audit policy, encryption configuration), the bundle's psa/ namespaces and the config's
 * namespaces are created, and every built-in sample of every enabled control (a Pod and each workload kind)
 * and every fixture resource is sent as a dry-run create into each namespace. Checked per request:
 * - the API server accepts the object as valid (strict field validation) unless PSA rejects it;
 * - Pod Security Admission's verdict (rejection, warning) is exactly the one the PSA library predicts for
 *   the namespace's labels and the admission configuration's defaults and exemptions;
 * - PSA never rejects what the bundle's policies (WASM, enforce mode) admit in that namespace;
 * - for a Pod Security Standards control's sample, PSA reports the control's check in a namespace whose PSA
 *   level covers the control iff the sample is expected to be denied.
 * The bundle's Kyverno and Gatekeeper policies do not run inside this API server yet: their verdicts come from
 * the offline engines (`kubeharden test`, `kubeharden audit --engine …`).
 */
import { resolve as resolvePath } from 'node:path';
import type { CompiledCluster, CompileResult } from '../compile.js';
import { getControl } from '../controls/index.js';
import { targetKinds } from '../controls/types.js';
import { startControlPlane, type ControlPlaneFiles, type RunningControlPlane } from '../engines/apiserver.js';
import type { Logger } from '../engines/index.js';
import {
  Discovery,
  admit,
  bundleControlPlaneFiles,
  comparePsa,
  mapLimit,
  podOf,
  predictPsa,
  setUpNamespaces,
  statusMessage,
  type Admission,
  type NamespacePolicy,
  type PsaPrediction,
} from '../eval/apiserver.js';
import { loadEvaluator, sampleApplies, workloadVariants, type BundleEvaluator } from '../eval/bundle.js';
import { readManifestFile } from '../eval/manifests.js';
import type { Obj } from '../eval/review.js';

/** A namespace no config names: PSA applies the admission configuration's defaults there. */
export const UNLISTED_NAMESPACE = 'kubeharden-unlisted';

const LEVEL_RANK = { privileged: 0, baseline: 1, restricted: 2 } as const;

export interface ApiserverCase {
  /** e.g. `disallow-privileged-containers sample privileged (Deployment) in apps`. */
  readonly label: string;
  readonly object: Obj;
  readonly ns: NamespacePolicy;
  /** For a built-in sample of a Pod Security Standards control: the control's PSA check, level and expectation. */
  readonly pss?: { readonly check: string; readonly level: 'baseline' | 'restricted'; readonly expect: 'allow' | 'deny' };
  /** For a built-in sample: the control and sample names. */
  readonly sample?: { readonly control: string; readonly name: string };
}

export interface ApiserverCaseResult {
  readonly case: ApiserverCase;
  readonly admission: Admission;
  readonly prediction: PsaPrediction;
  /** The bundle's enforced findings for the object in the namespace (WASM). */
  readonly policyDenies: readonly string[];
  readonly problems: readonly string[];
  /** How many PSA verdicts were compared with the sample's expectation (0 for fixtures and non-PSS controls). */
  readonly pssVerdicts: number;
  /** Set when the API server refused a built-in sample as invalid (HTTP 422): not a policy verdict. */
  readonly invalid?: string;
}

export interface ApiserverClusterRun {
  readonly cluster: string;
  readonly results: readonly ApiserverCaseResult[];
  /** Errors outside any one request (unreadable fixture). */
  readonly errors: readonly string[];
}

/**
 * The namespaces each kind of request goes to. Pods: every namespace where PSA enforces a level (where it
 * can reject what the policies allow), and one namespace per other distinct PSA policy (exempt, enforce and
 * warn levels, labelled or left to the admission configuration's defaults). Workloads, which PSA only warns
 * about: one namespace per warn level PSA applies. The same samples in two namespaces of the same PSA policy
 * would give the same verdict.
 */
export function sampleNamespaces(namespaces: ReadonlyMap<string, NamespacePolicy>): { pods: NamespacePolicy[]; workloads: NamespacePolicy[] } {
  const pods: NamespacePolicy[] = [];
  const workloads: NamespacePolicy[] = [];
  const podKeys = new Set<string>();
  const workloadKeys = new Set<string>();
  const lv = (x: { level: string; version: string }): string => `${x.level}:${x.version}`;
  for (const ns of [...namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const enforcing = !ns.exempt && ns.enforce.level !== 'privileged';
    const key = `${ns.exempt}|${lv(ns.enforce)}|${lv(ns.warn)}|${Object.keys(ns.labels).some((l) => l.startsWith('pod-security.kubernetes.io/'))}`;
    if (enforcing || !podKeys.has(key)) pods.push(ns);
    podKeys.add(key);
    if (!ns.exempt && ns.warn.level !== 'privileged' && !workloadKeys.has(lv(ns.warn))) {
      workloadKeys.add(lv(ns.warn));
      workloads.push(ns);
    }
  }
  return { pods, workloads };
}

/** The requests of one cluster: samples of the enabled controls (see sampleNamespaces) and the fixtures. */
export function apiserverCases(cc: CompiledCluster, namespaces: ReadonlyMap<string, NamespacePolicy>, configDir: string): { cases: ApiserverCase[]; errors: string[] } {
  const cases: ApiserverCase[] = [];
  const errors: string[] = [];
  const targets = sampleNamespaces(namespaces);
  for (const c of cc.ir.controls) {
    const control = getControl(c.control);
    for (const sample of control.samples) {
      if (!sampleApplies(sample, cc.cluster.version)) continue;
      // UPDATE samples need the stored old object: a later step (they arrive through UPDATE and subresources).
      if ((sample.operation ?? 'CREATE') !== 'CREATE') continue;
      // Pod controls only: the samples of controls on other kinds (Namespaces, RBAC, Services) are judged by
      // the policy engines, which do not run in this API server yet.
      if (targetKinds(control)) continue;
      const kind = String(sample.object['kind']);
      const variants: { label: string; object: Obj }[] = [{ label: kind, object: sample.object as Obj }];
      if (!sample.podOnly) for (const w of workloadVariants(sample.object as Obj)) variants.push({ label: w.kind, object: dnsLabelName(w.object) });
      const pss = control.pss ? { check: control.pss.check, level: control.pss.level, expect: sample.expect } : undefined;
      for (const v of variants) {
        for (const ns of String(v.object['kind']) === 'Pod' ? targets.pods : targets.workloads) {
          cases.push({ label: `${c.control} sample ${sample.name} (${v.label}) in ${ns.name}`, object: v.object, ns, sample: { control: c.control, name: sample.name }, ...(pss && podOf(v.object) ? { pss } : {}) });
        }
      }
    }
  }
  for (const fx of cc.cluster.fixtures) {
    let parsed;
    try {
      parsed = readManifestFile(resolvePath(configDir, fx.file), fx.file);
    } catch (err) {
      errors.push(`fixture ${fx.file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    for (const e of parsed.errors) errors.push(`fixture ${fx.file}:${e.line}: ${e.message}`);
    for (const r of parsed.resources) {
      const md = (r.object['metadata'] ?? {}) as Obj;
      const nsName = typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
      const ns = namespaces.get(nsName);
      if (!ns) {
        errors.push(`fixture ${fx.file}#${r.index}: namespace ${nsName} was not created`);
        continue;
      }
      cases.push({ label: `fixture ${fx.file}#${r.index} ${String(r.object['kind'])}/${String(md['name'] ?? '')} in ${nsName}`, object: r.object, ns });
      // What the config expects to be admitted must also get past PSA wherever PSA enforces a level.
      if (fx.expect === 'allow' && podOf(r.object)) {
        for (const other of targets.pods) {
          if (other.name === nsName || other.exempt || other.enforce.level === 'privileged') continue;
          cases.push({ label: `fixture ${fx.file}#${r.index} ${String(r.object['kind'])}/${String(md['name'] ?? '')} moved to ${other.name}`, object: r.object, ns: other });
        }
      }
    }
  }
  return { cases, errors };
}

/**
 * The workload variants are named `<pod>.<kind>`; StatefulSet names must not contain dots (they name the
 * Pods' hostnames) and CronJob names are at most 52 characters (the Jobs' names add 11). The API server gets
 * `<pod>-<kind>`, cut to 52 characters, and so does the policy evaluation it is compared with.
 */
function dnsLabelName(o: Obj): Obj {
  const md = (o['metadata'] ?? {}) as Obj;
  if (typeof md['name'] !== 'string') return o;
  const name = md['name'].replace(/\./g, '-').slice(0, 52).replace(/-+$/, '');
  return { ...o, metadata: { ...md, name } };
}

/** Fixture namespaces the config does not name (created unlabelled, like the cluster would have them). */
function fixtureNamespaces(cc: CompiledCluster, configDir: string): string[] {
  const out = new Set<string>();
  for (const fx of cc.cluster.fixtures) {
    try {
      for (const r of readManifestFile(resolvePath(configDir, fx.file), fx.file).resources) {
        const md = (r.object['metadata'] ?? {}) as Obj;
        out.add(typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default');
      }
    } catch {
      // Reported by apiserverCases.
    }
  }
  return [...out].sort();
}

function checkCase(c: ApiserverCase, a: Admission, p: PsaPrediction, denies: readonly string[]): { problems: string[]; pssVerdicts: number } {
  const problems: string[] = [];
  let pssVerdicts = 0;
  if (a.status === 0) return { problems: [a.message], pssVerdicts };
  if (!a.allowed && !/violates PodSecurity/.test(a.message)) problems.push(`the API server rejected it (HTTP ${a.status}): ${a.message}`);
  else problems.push(...comparePsa(a, p));
  if (!a.allowed && denies.length === 0) problems.push(`PSA rejects what the bundle's policies admit here: ${a.message}`);
  if (c.pss && !c.ns.exempt) {
    // The verdict at the highest level PSA reports for this request type (enforce only rejects Pods).
    for (const [lv, reasons, checks] of [
      [c.object['kind'] === 'Pod' ? c.ns.enforce : undefined, p.enforceReasons, p.enforceChecks],
      [c.ns.warn, p.warnReasons, p.warnChecks],
    ] as const) {
      // Where PSA runs the control's check: its level or above, unless a restricted check overrides it there.
      if (!lv || LEVEL_RANK[lv.level] < LEVEL_RANK[c.pss.level] || !checks.includes(c.pss.check)) continue;
      pssVerdicts++;
      const fails = reasons.some((r) => r.check === c.pss!.check);
      if (fails !== (c.pss.expect === 'deny')) problems.push(`PSA at ${lv.level}:${lv.version} ${fails ? 'fails' : 'passes'} check ${c.pss.check}, the sample expects ${c.pss.expect}`);
    }
  }
  return { problems, pssVerdicts };
}

export interface ApiserverRunOptions {
  readonly log: Logger;
  /** Requests in flight (default 8). */
  readonly concurrency?: number;
  /** Called with the running control plane before it stops (tests inspect etcd and the audit log). */
  readonly inspect?: (cp: RunningControlPlane, cc: CompiledCluster) => Promise<void>;
}

/** Runs one cluster's cases on a fresh control plane. */
export async function runCluster(result: CompileResult, cc: CompiledCluster, configDir: string, options: ApiserverRunOptions): Promise<ApiserverClusterRun> {
  const files = bundleControlPlaneFiles(result, cc);
  const ev: BundleEvaluator = await loadEvaluator(cc, options.log);
  const cp = await startControlPlane({ files, log: options.log });
  try {
    const namespaces = await setUpClusterNamespaces(cp, cc, files, configDir);
    const run = await runCases(cp, cc, ev, namespaces, configDir, options);
    if (options.inspect) await options.inspect(cp, cc);
    return run;
  } finally {
    await cp.stop();
  }
}

/** The bundle's and the config's namespaces, the unlisted one and the fixtures' namespaces. */
export function setUpClusterNamespaces(cp: RunningControlPlane, cc: CompiledCluster, files: ControlPlaneFiles, configDir: string): Promise<Map<string, NamespacePolicy>> {
  return setUpNamespaces(cp, cc, files, [UNLISTED_NAMESPACE, ...fixtureNamespaces(cc, configDir)]);
}

/** Sends every case of the cluster to a running API server and checks each response. */
export async function runCases(cp: RunningControlPlane, cc: CompiledCluster, ev: BundleEvaluator, namespaces: ReadonlyMap<string, NamespacePolicy>, configDir: string, options: ApiserverRunOptions): Promise<ApiserverClusterRun> {
  {
    const { cases, errors } = apiserverCases(cc, namespaces, configDir);
    const objects = cases.map((c) => withNamespace(c.object, c.ns.name));
    const discovery = new Discovery(cp);
    // PSA judges the object as the API server holds it after decoding, defaulting and the mutating plugins
    // (e.g. the AppArmor annotations copied into the securityContext fields): each distinct object is first
    // created (dry run) where PSA looks at nothing, and the prediction is made from what comes back.
    await ensureNamespace(cp, STORED_NAMESPACE, PRIVILEGED_LABELS);
    const distinct = [...new Set(cases.map((c) => c.object))];
    const storedList = await mapLimit(distinct, options.concurrency ?? 8, async (o) => {
      const a = await admit(cp, discovery, o, STORED_NAMESPACE);
      return a.allowed && a.body && typeof a.body === 'object' ? (a.body as Obj) : o;
    });
    const stored = new Map(distinct.map((o, i) => [o, storedList[i]!]));
    const predictions = await predictPsa(
      cases.map((c) => ({ object: stored.get(c.object)!, ns: c.ns })),
      options.log,
    );
    const admissions = await mapLimit(cases, options.concurrency ?? 8, (c) => admit(cp, discovery, c.object, c.ns.name));
    const results = cases.map((c, i) => {
      const denies = ev
        .evaluate(objects[i]!)
        .filter((f) => f.action === 'deny')
        .map((f) => `${f.control}: ${f.message}`);
      const a = admissions[i]!;
      const p = predictions[i]!;
      // A built-in sample the API server refuses as invalid cannot exist in a cluster: reported apart.
      if (c.sample && (a.status === 422 || a.status === 400)) return { case: c, admission: a, prediction: p, policyDenies: denies, problems: [], pssVerdicts: 0, invalid: a.message };
      return { case: c, admission: a, prediction: p, policyDenies: denies, ...checkCase(c, a, p, denies) };
    });
    return { cluster: cc.cluster.name, results, errors };
  }
}

/** Where objects are created (dry run) to see them as the API server holds them: PSA privileged at every mode. */
export const STORED_NAMESPACE = 'kubeharden-stored';
const PRIVILEGED_LABELS = { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged', 'pod-security.kubernetes.io/audit': 'privileged' };

async function ensureNamespace(cp: RunningControlPlane, name: string, labels: Record<string, string>): Promise<void> {
  const r = await cp.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating namespace ${name}: HTTP ${r.status}: ${statusMessage(r)}`);
  const sa = await cp.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  if (sa.status !== 201 && sa.status !== 409) throw new Error(`creating the default ServiceAccount of ${name}: HTTP ${sa.status}: ${statusMessage(sa)}`);
}

function withNamespace(o: Obj, ns: string): Obj {
  return { ...o, metadata: { ...((o['metadata'] ?? {}) as Obj), namespace: ns } };
}

/**
 * `kubeharden test --engine apiserver`: one line per failure through `onFailure`, counts returned. Built-in
 * samples the API server refuses as invalid are logged once per sample, not counted.
 */
export async function apiserverSelfTest(result: CompileResult, configDir: string, log: Logger, onFailure: (line: string) => void): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const cc of result.clusters) {
    const prefix = result.clusters.length > 1 ? `[${cc.cluster.name}] ` : '';
    const run = await runCluster(result, cc, configDir, { log });
    for (const e of run.errors) {
      failed++;
      onFailure(`${prefix}${e}`);
    }
    const noted = new Set<string>();
    for (const r of run.results) {
      if (r.invalid !== undefined) {
        const key = `${r.case.sample!.control} sample ${r.case.sample!.name}`;
        if (!noted.has(key)) log(`kubeharden: note: ${prefix}the API server refuses built-in ${key} as invalid (${r.invalid}); it is not counted`);
        noted.add(key);
        continue;
      }
      if (r.problems.length === 0) passed++;
      else {
        failed++;
        onFailure(`${prefix}apiserver: ${r.case.label}: ${r.problems.join('; ')}`);
      }
    }
  }
  return { passed, failed };
}
