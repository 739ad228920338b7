/**
 * `kubeharden test --engine apiserver`: the bundle on a real kube-apiserver + etcd (src/engines/apiserver.ts).
 *
 * Per cluster of the config: the API server starts with the bundle's control-plane files (admission
 * configuration, audit policy, encryption configuration), the bundle's psa/ namespaces and the config's
 * namespaces are created, and every built-in sample of every enabled control (see apiserverCases) and every
 * fixture resource is sent: creates as dry-run creates, UPDATE samples as dry-run updates of their old object
 * stored for real. Checked per request:
 * - the API server accepts the object as valid (strict field validation) unless PSA rejects it, or, for a
 *   sample whose attack the API server's validation blocks (Sample.apiServerRejects), refuses it for that reason;
 * - a fixture the config expects to be allowed is admitted in its namespace;
 * - Pod Security Admission's verdict (rejection, warning) is exactly the one the PSA library predicts for
 *   the namespace's labels and the admission configuration's defaults and exemptions;
 * - PSA never rejects what the bundle's policies (WASM, enforce mode) admit in that namespace;
 * - for a Pod Security Standards control's sample, PSA reports the control's check in a namespace whose PSA
 *   level covers the control iff the sample is expected to be denied.
 * Then the bundle's Gatekeeper and Kyverno policies run as real webhooks of the same API server, with its vap/
 * applied too, and the cases are sent again through all of them at once (webhookCases, webhookPhase).
 */
import { resolve as resolvePath } from 'node:path';
import type { CompiledCluster, CompileResult } from '../compile.js';
import { getControl } from '../controls/index.js';
import { targetKinds } from '../controls/types.js';
import { startControlPlane, type ControlPlaneFiles, type RunningControlPlane } from '../engines/apiserver.js';
import { mapLimit } from '../eval/map-limit.js';
import {
  Discovery,
  admit,
  admitUpdate,
  bundleControlPlaneFiles,
  ensureStored,
  objectPath,
  comparePsa,
  podOf,
  predictPsa,
  setUpNamespaces,
  statusMessage,
  updatedObject,
  type Admission,
  type NamespacePolicy,
  type PsaPrediction,
} from '../eval/apiserver.js';
import type { FixtureConfig } from '../config/types.js';
import { loadEvaluator, objectsOf, sampleApplies, workloadVariants, type BundleEvaluator } from '../eval/bundle.js';
import { applyGatekeeperObjects, gatekeeperQuiet, gatekeeperVerdict, startGatekeeper, type RunningGatekeeper } from '../eval/gatekeeper-webhook.js';
import { applyKyvernoObjects, kyvernoActionsAs, kyvernoVerdict, startKyverno } from '../eval/kyverno-webhook.js';
import { waitFor, type WebhookVerdict } from '../eval/webhook-process.js';
import { PROBE, applyPolicies, vapActionsAs, vapVerdict, waitUntilEnforced } from '../eval/vap-apply.js';
import { vapObjectsOf } from '../eval/vap.js';
import { EngineError, type Logger } from '../engines/index.js';
import type { Finding } from '../eval/review.js';
import type { ConstraintTemplate } from '../backends/gatekeeper/types.js';
import { readManifestFile } from '../eval/manifests.js';
import { CLUSTER_SCOPED_KINDS, shortName, type Obj } from '../eval/review.js';

/** A namespace no config names: PSA applies the admission configuration's defaults there. */
export const UNLISTED_NAMESPACE = 'kubeharden-unlisted';

const LEVEL_RANK = { privileged: 0, baseline: 1, restricted: 2 } as const;

export interface PssExpectation {
  readonly control: string;
  readonly check: string;
  readonly level: 'baseline' | 'restricted';
  readonly expect: 'allow' | 'deny';
}

export interface ApiserverCase {
  /** e.g. `disallow-privileged-containers sample privileged (Deployment) in apps`. */
  readonly label: string;
  readonly object: Obj;
  /** The namespace it is sent to (cluster-scoped objects: the unlisted namespace's policy, unused). */
  readonly ns: NamespacePolicy;
  readonly clusterScoped?: boolean;
  /** UPDATE: `oldObject` is stored first (for real), then `object` is sent as a dry-run update over it. */
  readonly operation: 'CREATE' | 'UPDATE';
  readonly oldObject?: Obj;
  /** The subresource the UPDATE goes through (`ephemeralcontainers`, `status`, `finalize`). */
  readonly subResource?: string;
  /** The Pod Security Standards check whose PSA verdict a PSS control's sample expects. */
  readonly pss?: readonly PssExpectation[];
  /** For a built-in sample: the control and sample names. */
  readonly sample?: { readonly control: string; readonly name: string; readonly expect: 'allow' | 'deny' };
  /** For a built-in sample the API server's validation refuses: a part of its message (Sample.apiServerRejects). */
  readonly rejects?: string;
  /** For a fixture: what the config expects (`allow`, or verdicts per control). */
  readonly fixture?: { readonly file: string; readonly expect: FixtureConfig['expect']; readonly moved?: boolean };
}

export interface WebhookOutcome {
  readonly verdict?: WebhookVerdict;
  /** Why the request did not reach the webhook (the API server refused it first). */
  readonly notReached?: string;
}

export interface ApiserverCaseResult {
  readonly case: ApiserverCase;
  readonly admission: Admission;
  /**
   * The webhook pass (see webhookPhase), per engine: what its webhook said (Gatekeeper: `constraint: message`
   * per denial and warning; Kyverno: the policies), or why the request did not reach it; absent when that
   * pass did not run or left the case out (validation proofs).
   */
  readonly gatekeeper?: WebhookOutcome;
  readonly kyverno?: WebhookOutcome;
  /** The bundle's vap/ (bindings in Warn), in the same round. */
  readonly vap?: WebhookOutcome;
  readonly prediction: PsaPrediction;
  /** The bundle's enforced findings for the object in the namespace (WASM; CREATE cases only). */
  readonly policyDenies: readonly string[];
  readonly problems: readonly string[];
  /** How many PSA verdicts were compared with a PSS sample's expectation. */
  readonly pssVerdicts: number;
}

export interface ApiserverClusterRun {
  readonly cluster: string;
  readonly results: readonly ApiserverCaseResult[];
  /** Errors outside any one request (unreadable fixture, an old object the API server would not store). */
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

/** An object renamed (metadata.name), the rest kept. */
function renamed(o: Obj, name: string): Obj {
  return { ...o, metadata: { ...((o['metadata'] ?? {}) as Obj), name } };
}

/** A sample's own namespace (keepNamespace samples of namespaced kinds), or undefined. */
function ownNamespace(o: Obj): string | undefined {
  const ns = ((o['metadata'] ?? {}) as Obj)['namespace'];
  return typeof ns === 'string' && ns ? ns : undefined;
}

/** The namespaces the samples of the enabled non-Pod controls keep (they are created before the requests). */
export function sampleOwnNamespaces(cc: CompiledCluster): string[] {
  const out = new Set<string>();
  for (const c of cc.ir.controls) {
    const control = getControl(c.control);
    if (!targetKinds(control)) continue;
    for (const s of control.samples) {
      if (!s.keepNamespace || !sampleApplies(s, cc.cluster.version) || CLUSTER_SCOPED_KINDS.has(String(s.object['kind']))) continue;
      const ns = ownNamespace(s.object as Obj);
      if (ns) out.add(ns);
    }
  }
  return [...out].sort();
}

/**
 * The requests of one cluster: samples of the enabled controls and the fixtures.
 * - Pod controls: each CREATE sample as a Pod (every Pod namespace of sampleNamespaces) and in each workload
 *   controller (every workload namespace); each UPDATE sample (ephemeral containers, changes to a running Pod)
 *   as an update of the stored old Pod in every Pod namespace.
 * - Other controls (Namespaces, RBAC, Services, Ingresses, ServiceAccounts): each sample once, a CREATE or an
 *   update of its stored old object, in the unlisted namespace unless the sample keeps its own.
 * Objects sent as updates are renamed `<control>-<sample>` (they are stored for real), unless the name is
 * what the sample tests.
 */
export function apiserverCases(cc: CompiledCluster, namespaces: ReadonlyMap<string, NamespacePolicy>, configDir: string, samples = true): { cases: ApiserverCase[]; errors: string[] } {
  const cases: ApiserverCase[] = [];
  const errors: string[] = [];
  const targets = sampleNamespaces(namespaces);
  const unlisted = namespaces.get(UNLISTED_NAMESPACE)!;
  for (const c of samples ? cc.ir.controls : []) {
    const control = getControl(c.control);
    for (const sample of control.samples) {
      if (!sampleApplies(sample, cc.cluster.version)) continue;
      const operation = sample.operation ?? 'CREATE';
      const kind = String(sample.object['kind']);
      const common = {
        operation,
        sample: { control: c.control, name: sample.name, expect: sample.expect },
        ...(sample.apiServerRejects !== undefined ? { rejects: sample.apiServerRejects } : {}),
      } as const;
      const storedName = sample.keepName ? undefined : shortName(`${c.control}-${sample.name}`, 63);
      const forUpdate = (o: Obj): Obj => (operation === 'UPDATE' && storedName ? renamed(o, storedName) : o);
      const old = sample.oldObject ? forUpdate(sample.oldObject as Obj) : undefined;
      // An ephemeral container is added through the Pod's ephemeralcontainers subresource only.
      const subResource = sample.subResource ?? (operation === 'UPDATE' && kind === 'Pod' && addsEphemeral(sample.object as Obj, sample.oldObject as Obj | undefined) ? 'ephemeralcontainers' : undefined);
      const how = `${operation === 'UPDATE' ? ` UPDATE${subResource ? ` ${subResource}` : ''}` : ''}`;
      if (targetKinds(control)) {
        const clusterScoped = CLUSTER_SCOPED_KINDS.has(kind);
        const own = sample.keepNamespace && !clusterScoped ? ownNamespace(sample.object as Obj) : undefined;
        const ns = (own && namespaces.get(own)) || unlisted;
        cases.push({
          ...common,
          label: `${c.control} sample ${sample.name} (${kind}${how})${clusterScoped ? '' : ` in ${ns.name}`}`,
          object: forUpdate(sample.object as Obj),
          ns,
          ...(clusterScoped ? { clusterScoped } : {}),
          ...(old ? { oldObject: old } : {}),
          ...(subResource ? { subResource } : {}),
        });
        continue;
      }
      const pss = control.pss ? [{ control: c.control, check: control.pss.check, level: control.pss.level, expect: sample.expect }] : undefined;
      const variants: { label: string; object: Obj }[] = [{ label: kind, object: forUpdate(sample.object as Obj) }];
      if (!sample.podOnly && operation === 'CREATE') for (const w of workloadVariants(sample.object as Obj)) variants.push({ label: w.kind, object: w.object });
      for (const v of variants) {
        for (const ns of String(v.object['kind']) === 'Pod' ? targets.pods : targets.workloads) {
          cases.push({
            ...common,
            label: `${c.control} sample ${sample.name} (${v.label}${how}) in ${ns.name}`,
            object: v.object,
            ns,
            ...(old ? { oldObject: old } : {}),
            ...(subResource ? { subResource } : {}),
            ...(pss && podOf(v.object) ? { pss } : {}),
          });
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
      const clusterScoped = CLUSTER_SCOPED_KINDS.has(String(r.object['kind']));
      const nsName = typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
      const ns = clusterScoped ? unlisted : namespaces.get(nsName);
      if (!ns) {
        errors.push(`fixture ${fx.file}#${r.index}: namespace ${nsName} was not created`);
        continue;
      }
      const what = `fixture ${fx.file}#${r.index} ${String(r.object['kind'])}/${String(md['name'] ?? '')}`;
      const fixture = { file: fx.file, expect: fx.expect };
      cases.push({ label: `${what}${clusterScoped ? '' : ` in ${nsName}`}`, object: r.object, ns, operation: 'CREATE', fixture, ...(clusterScoped ? { clusterScoped } : {}) });
      // What the config expects to be admitted must also get past PSA wherever PSA enforces a level.
      if (fx.expect === 'allow' && podOf(r.object) && !clusterScoped) {
        for (const other of targets.pods) {
          if (other.name === nsName || other.exempt || other.enforce.level === 'privileged') continue;
          cases.push({ label: `${what} moved to ${other.name}`, object: r.object, ns: other, operation: 'CREATE', fixture: { ...fixture, moved: true } });
        }
      }
    }
  }
  return { cases, errors };
}

/**
 * Workload kinds whose pod template sits where Deployment's does (`spec.template`) and that no engine gives
 * policies of their own (Kyverno's ReplicationController and the CronJob path have theirs).
 */
const SHARED_TEMPLATE_KINDS: ReadonlySet<string> = new Set(['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/**
 * The cases the webhook round sends (webhookPhase): all but the validation proofs (they never reach a
 * webhook), and of a built-in sample's StatefulSet, DaemonSet, ReplicaSet and Job copies only one denied and
 * one admitted sample per control, kind and namespace. Every engine matches those kinds by name and reads the
 * pod template at the path Deployment's copies are sent with for every sample; the first pass (PSA and the
 * API server's validation) still sends every copy.
 */
export function webhookCases(cases: readonly ApiserverCase[]): ApiserverCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => {
    if (c.rejects !== undefined) return false;
    const kind = String(c.object['kind']);
    if (!c.sample || c.operation !== 'CREATE' || !SHARED_TEMPLATE_KINDS.has(kind)) return true;
    const key = `${c.sample.control}|${kind}|${c.ns.name}|${c.sample.expect}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** True when `after` has an ephemeral container `before` has not. */
function addsEphemeral(after: Obj, before: Obj | undefined): boolean {
  const names = (o: Obj | undefined): string[] => ((((o?.['spec'] ?? {}) as Obj)['ephemeralContainers'] ?? []) as Obj[]).map((c) => String(c['name']));
  const old = new Set(names(before));
  return names(after).some((n) => !old.has(n));
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
  if (c.rejects !== undefined) {
    // A validation proof: the API server refuses the object as invalid, with the sample's stated reason.
    if (a.allowed || (a.status !== 422 && a.status !== 400) || !a.message.includes(c.rejects)) problems.push(`expected the API server to refuse it as invalid (${JSON.stringify(c.rejects)}), got ${a.allowed ? 'admitted' : `HTTP ${a.status}: ${a.message}`}`);
    return { problems, pssVerdicts };
  }
  if (!a.allowed && !/violates PodSecurity/.test(a.message)) problems.push(`the API server rejected it (HTTP ${a.status}): ${a.message}`);
  else problems.push(...comparePsa(a, p));
  if (!a.allowed && denies.length === 0) problems.push(`PSA rejects what the bundle's policies admit here: ${a.message}`);
  // A fixture the config expects to be allowed is admitted in its namespace (moved copies: where the policies
  // admit them, as checked above). Its verdicts per control are the policy engines' (`kubeharden test`): PSA
  // has no exceptions and no options, so it need not agree with them control by control.
  if (c.fixture?.expect === 'allow' && !c.fixture.moved && !a.allowed) problems.push(`the fixture expects allow, the API server rejected it: ${a.message}`);
  if (c.pss && !c.ns.exempt) {
    for (const want of c.pss) {
      // The verdict at each level PSA reports for this request type (enforce only rejects Pods).
      for (const [lv, reasons, checks] of [
        [c.object['kind'] === 'Pod' ? c.ns.enforce : undefined, p.enforceReasons, p.enforceChecks],
        [c.ns.warn, p.warnReasons, p.warnChecks],
      ] as const) {
        // Where PSA runs the control's check: its level or above, unless a restricted check overrides it there.
        if (!lv || LEVEL_RANK[lv.level] < LEVEL_RANK[want.level] || !checks.includes(want.check)) continue;
        pssVerdicts++;
        const fails = reasons.some((r) => r.check === want.check);
        if (fails !== (want.expect === 'deny')) problems.push(`PSA at ${lv.level}:${lv.version} ${fails ? 'fails' : 'passes'} check ${want.check} (${want.control}), the sample expects ${want.expect}`);
      }
    }
  }
  return { problems, pssVerdicts };
}

export interface ApiserverRunOptions {
  readonly log: Logger;
  /** Requests in flight (default 8). */
  readonly concurrency?: number;
  /** False: the fixtures only, not the built-in samples (default true). */
  readonly samples?: boolean;
  /**
   * False: PSA and the API server only. Default: the bundle's Gatekeeper objects, then its Kyverno policies,
   * are applied to a webhook of the engine on this API server and every case is sent again through each
   * (see webhookPhase).
   */
  readonly webhooks?: boolean;
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

/** The bundle's and the config's namespaces, the unlisted one, the samples' own and the fixtures' namespaces. */
export function setUpClusterNamespaces(cp: RunningControlPlane, cc: CompiledCluster, files: ControlPlaneFiles, configDir: string): Promise<Map<string, NamespacePolicy>> {
  return setUpNamespaces(cp, cc, files, [UNLISTED_NAMESPACE, ...sampleOwnNamespaces(cc), ...fixtureNamespaces(cc, configDir)]);
}

const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
const WARN_LABEL = 'pod-security.kubernetes.io/warn';

/**
 * Sends every case of the cluster to a running API server and checks each response. CREATE cases are
 * dry-run creates. For UPDATE cases the old object is first stored for real — an old Pod in a namespace
 * where PSA enforces a level is stored while the namespace's enforce label is lifted, as a Pod admitted before
 * the namespace was labelled — and the change is sent as a dry-run update over it, so admission sees the
 * stored object as the old object.
 */
export async function runCases(cp: RunningControlPlane, cc: CompiledCluster, ev: BundleEvaluator, namespaces: ReadonlyMap<string, NamespacePolicy>, configDir: string, options: ApiserverRunOptions): Promise<ApiserverClusterRun> {
  const { cases, errors } = apiserverCases(cc, namespaces, configDir, options.samples ?? true);
  const limit = options.concurrency ?? 8;
  const discovery = new Discovery(cp);
  const nsOf = (c: ApiserverCase): string | undefined => (c.clusterScoped ? undefined : c.ns.name);
  // PSA judges the object as the API server holds it after decoding, defaulting and the mutating plugins
  // (e.g. the AppArmor annotations copied into the securityContext fields): each distinct object PSA looks at
  // is first sent (dry run) where PSA looks at nothing, and the prediction is made from what comes back.
  await ensureNamespace(cp, STORED_NAMESPACE, PRIVILEGED_LABELS);
  // The ServiceAccount admission plugin refuses a Pod whose ServiceAccount does not exist: those a Pod names (a
  // fixture's `gatekeeper-admin`) are created for real where it is sent, as its manifest would have created them.
  const accounts = new Set<string>();
  for (const c of cases) {
    const sa = c.object['kind'] === 'Pod' && !c.clusterScoped ? (((c.object['spec'] ?? {}) as Obj)['serviceAccountName'] ?? ((c.object['spec'] ?? {}) as Obj)['serviceAccount']) : undefined;
    if (typeof sa === 'string' && sa && sa !== 'default') for (const ns of [c.ns.name, STORED_NAMESPACE]) accounts.add(`${ns}/${sa}`);
  }
  await mapLimit([...accounts].sort(), limit, async (key) => {
    const [ns, name] = key.split('/') as [string, string];
    const r = await cp.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    if (r.status !== 201 && r.status !== 409) errors.push(`creating ServiceAccount ${key} for the Pods that name it: HTTP ${r.status}: ${statusMessage(r)}`);
  });
  const creates = [...new Set(cases.filter((c) => c.operation === 'CREATE' && podOf(c.object)).map((c) => c.object))];
  const storedList = await mapLimit(creates, limit, async (o) => {
    const a = await admit(cp, discovery, o, STORED_NAMESPACE);
    return a.allowed && a.body && typeof a.body === 'object' ? (a.body as Obj) : o;
  });
  const stored = new Map(creates.map((o, i) => [o, storedList[i]!]));

  // The creates first: the old objects stored next take names and node ports a dry-run create would then collide with.
  const createCases = cases.filter((c) => c.operation === 'CREATE');
  const createAdmissions = await mapLimit(createCases, limit, async (c): Promise<Admission> => {
    const a = await admit(cp, discovery, c.object, c.ns.name);
    if (a.status !== 409 || (!c.sample && !c.fixture)) return a;
    // An object the API server keeps itself (a bootstrap ClusterRole) or a fixture's namespace, created before
    // the requests: it arrives as an update of it (as `kubectl apply` would send it).
    const existing = await cp.request('GET', (await objectPath(discovery, c.object, nsOf(c)))!);
    if (existing.status !== 200) return a;
    return admitUpdate(cp, discovery, existing.body as Obj, existing.body as Obj, c.object, nsOf(c));
  });

  // The old objects, stored for real: per case (its namespace), and for Pods also in STORED_NAMESPACE.
  const updates = cases.filter((c) => c.operation === 'UPDATE' && c.oldObject);
  const olds = new Map<ApiserverCase, Obj>();
  const storeOld = async (c: ApiserverCase): Promise<void> => {
    try {
      olds.set(c, await ensureStored(cp, discovery, c.oldObject!, nsOf(c)));
    } catch (err) {
      errors.push(`${c.label}: the old object: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const byNamespace = new Map<string, ApiserverCase[]>();
  for (const c of updates) {
    const key = c.object['kind'] === 'Pod' && !c.clusterScoped ? c.ns.name : '';
    byNamespace.set(key, [...(byNamespace.get(key) ?? []), c]);
  }
  for (const [name, group] of byNamespace) {
    const ns = name ? namespaces.get(name) : undefined;
    const lift = ns !== undefined && !ns.exempt && ns.enforce.level !== 'privileged';
    if (lift) await relabel(cp, name, 'privileged', true);
    try {
      await mapLimit(group, limit, storeOld);
    } finally {
      if (lift) await relabel(cp, name, ns.labels[ENFORCE_LABEL] ?? null, false);
    }
  }
  const podUpdates = updates.filter((c) => c.object['kind'] === 'Pod' && olds.has(c));
  const storedOlds = new Map<Obj, Obj>();
  const storedNews = new Map<Obj, Obj>();
  await mapLimit([...new Set(podUpdates.map((c) => c.oldObject!))], limit, async (o) => {
    try {
      storedOlds.set(o, await ensureStored(cp, discovery, o, STORED_NAMESPACE));
    } catch {
      // Reported through the case's own request.
    }
  });
  await mapLimit(podUpdates, limit, async (c) => {
    const so = storedOlds.get(c.oldObject!);
    if (!so || storedNews.has(c.object)) return;
    const a = await admitUpdate(cp, discovery, so, c.oldObject!, c.object, STORED_NAMESPACE, c.subResource);
    if (a.allowed && a.body && typeof a.body === 'object') storedNews.set(c.object, a.body as Obj);
  });

  // Validation proofs (objects the API server refuses as invalid, some not even decodable) get no PSA prediction.
  const predicted = cases.filter((c) => c.rejects === undefined);
  const predictedList = await predictPsa(
    predicted.map((c) =>
      c.operation === 'UPDATE'
        ? { object: storedNews.get(c.object) ?? c.object, ns: c.ns, oldObject: storedOlds.get(c.oldObject!) ?? c.oldObject ?? {} }
        : { object: stored.get(c.object) ?? c.object, ns: c.ns },
    ),
    options.log,
  );
  const byCase = new Map(predicted.map((c, i) => [c, predictedList[i]!]));
  const predictions = cases.map((c) => byCase.get(c) ?? NO_PREDICTION);
  const admissions: Admission[] = new Array<Admission>(cases.length);
  const index = new Map(cases.map((c, i) => [c, i]));
  for (const [i, a] of (await mapLimit(updates, limit, async (c): Promise<Admission> => {
    const old = olds.get(c);
    if (!old) return { status: 0, allowed: false, message: 'the old object could not be stored', warnings: [], request: '' };
    return admitUpdate(cp, discovery, old, c.oldObject!, c.object, nsOf(c), c.subResource);
  })).entries()) admissions[index.get(updates[i]!)!] = a;
  for (const [i, a] of createAdmissions.entries()) admissions[index.get(createCases[i]!)!] = a;
  const checked = cases.map((c, i) => {
    const denies = ev
      .evaluate(c.clusterScoped ? c.object : withNamespace(c.object, c.ns.name))
      .filter((f) => f.action === 'deny')
      .map((f) => `${f.control}: ${f.message}`);
    return { denies, ...checkCase(c, admissions[i]!, predictions[i]!, denies) };
  });
  const webhooks = options.webhooks === false ? new Map<ApiserverCase, WebhookResults>() : await webhookPhase(cp, cc, ev, discovery, cases, namespaces, stored, olds, options);
  const results = cases.map((c, i): ApiserverCaseResult => {
    const w = webhooks.get(c) ?? {};
    const { denies, problems, pssVerdicts } = checked[i]!;
    const engineProblems = [w.gatekeeper, w.kyverno, w.vap].flatMap((x) => x?.problems ?? []);
    const own = (x: WebhookCase | undefined): WebhookOutcome | undefined => (x ? { ...(x.verdict ? { verdict: x.verdict } : {}), ...(x.notReached ? { notReached: x.notReached } : {}) } : undefined);
    const gk = own(w.gatekeeper);
    const ky = own(w.kyverno);
    const vp = own(w.vap);
    return { case: c, admission: admissions[i]!, prediction: predictions[i]!, policyDenies: denies, problems: [...problems, ...engineProblems], pssVerdicts, ...(gk ? { gatekeeper: gk } : {}), ...(ky ? { kyverno: ky } : {}), ...(vp ? { vap: vp } : {}) };
  });
  return { cluster: cc.cluster.name, results, errors };
}

interface WebhookCase extends WebhookOutcome {
  readonly problems: readonly string[];
}

interface WebhookResults {
  gatekeeper?: WebhookCase;
  kyverno?: WebhookCase;
  vap?: WebhookCase;
}

/** One engine in the webhook round: how it starts with the bundle applied, and how its verdict compares. */
interface WebhookEngineRun {
  readonly name: 'Gatekeeper' | 'Kyverno' | 'ValidatingAdmissionPolicy';
  readonly key: keyof WebhookResults;
  /** Starts the engine, applies the bundle's objects; returns how to stop it. */
  start(): Promise<() => Promise<void>>;
  /** Waits until the engine answers with the bundle in force, once every engine of the round has started. */
  ready?(): Promise<void>;
  /**
   * `true` makes the engine's policies audit only (nothing in the response), `false` deny or warn again as in
   * the round; resolves once the change is in force.
   */
  quiet?(on: boolean): Promise<void>;
  verdict(a: Admission): WebhookVerdict;
  /** What the offline evaluator's findings say this engine must deny and warn (in the verdict's terms). */
  expected(findings: readonly Finding[]): { denies: string[]; warns: string[] };
  /**
   * Where the verdict and the offline evaluator's expectation differ (each a problem); `cut`: the API server cut
   * the response's warnings to their first 256 characters, so warnings compare by the names they start with.
   */
  differences(verdict: WebhookVerdict, expected: { denies: readonly string[]; warns: readonly string[] }, cut?: boolean): string[];
}

/** Starts an engine and applies the bundle to it (stopping it again when that fails); returns how to stop it. */
async function startWithBundle<T extends { stop(): Promise<void> }>(start: () => Promise<T>, apply: (engine: T) => Promise<void>): Promise<() => Promise<void>> {
  const engine = await start();
  try {
    await apply(engine);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return () => engine.stop();
}

/** Starts every engine at once; when one fails, stops those that started and throws its error. */
async function startAll(engines: readonly WebhookEngineRun[]): Promise<() => Promise<void>> {
  const started = await Promise.allSettled(engines.map((e) => e.start()));
  const stops = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  return stopAll;
}

/** The differences of two lists as sets: what only the webhook has, what only the offline evaluator has. */
function setDifferences(what: string, got: readonly string[], offline: readonly string[]): string[] {
  const [g, o] = [new Set(got), new Set(offline)];
  const extra = [...g].filter((x) => !o.has(x));
  const missing = [...o].filter((x) => !g.has(x));
  return extra.length || missing.length ? [`${what}${extra.length ? ` ${JSON.stringify(extra)}, which the offline evaluator does not` : ''}${extra.length && missing.length ? ';' : ''}${missing.length ? ` not ${JSON.stringify(missing)}, which the offline evaluator does` : ''}`] : [];
}

/** The API server's limits on a response's warnings (k8s.io/apiserver endpoints/filters/warning.go). */
const WARNINGS_TOTAL_RUNES = 4096;
const WARNING_ITEM_RUNES = 256;

/**
 * What the API server may have done to a response's warnings. Past 4,096 characters in all it cuts every
 * warning to its first 256 characters (`cut`: the engines' names at their start stay readable), and once the
 * cut warnings reach 4,096 characters it drops the rest (`dropped`: possible only with 16 or more). A complete
 * set has a total under the limit and no warning of exactly 256 characters (one that long by itself is counted
 * as cut, to be safe).
 */
export function warningsState(warnings: readonly string[]): 'complete' | 'cut' | 'dropped' {
  const runes = warnings.map((w) => [...w].length);
  if (runes.reduce((a, b) => a + b, 0) < WARNINGS_TOTAL_RUNES && !runes.some((n) => n === WARNING_ITEM_RUNES)) return 'complete';
  return warnings.length * WARNING_ITEM_RUNES >= WARNINGS_TOTAL_RUNES ? 'dropped' : 'cut';
}

/**
 * The bundle's policies in real admission: every case is sent again, once, with every engine of the bundle in
 * force on this API server at the same time, and each engine's denials and warnings must be exactly what the
 * offline evaluator (WASM) finds in deny and warn mode for the object as the API server holds it: a CREATE's
 * object after defaulting and the mutating plugins (as created in STORED_NAMESPACE), an UPDATE's new object
 * over the stored old object.
 * - Gatekeeper (src/eval/gatekeeper-webhook.ts), applied as generated: denials and warnings name the
 *   constraint (`[name] message`); with a CEL block Gatekeeper runs the CEL, which reports once per
 *   constraint: for those the constraints must be the same, for Rego-only templates the messages too.
 * - Kyverno (src/eval/kyverno-webhook.ts): the policies are applied as generated, then their Deny actions
 *   are turned into Warn, because Kyverno serves its policies through several webhooks and a denial names
 *   only those of the first to answer; the policies that warn (a policy stands for the control instance of
 *   its name, `.replicationcontrollers` and `.ephemeralcontainers` policies too) must be exactly the
 *   instances the offline evaluator finds in deny or warn mode, and none may deny.
 * - The bundle's vap/ (src/eval/vap-apply.ts): applied as generated, then every binding's Deny turned into
 *   Warn, because the API server names only the first denying policy and runs the policies before the
 *   webhooks (a denial would keep the request from them); the policies that warn (`.workloads` and
 *   `.cronjobs` policies stand for their instance) must be exactly the offline deny and warn instances.
 * Gatekeeper's denial carries every failing constraint; the API server collects every webhook's and policy's
 * warnings whatever the outcome, so one request shows all three verdicts. Where the API server cut the warnings
 * (over 4,096 characters in all) they compare by the names they start with; where it may have dropped some,
 * the request is sent again once per engine, that engine alone denying or warning and the others set to audit
 * only (quiet: Gatekeeper's constraints to dryrun, Kyverno's policies and the VAP bindings to Audit), and
 * where even that leaves too many warnings the request is a failure, never a partial comparison.
 * PSA rejects before webhooks are called, so first every namespace's enforce and warn labels are set to
 * privileged (PSA has been checked above); cases the API server's validation refuses never reach a webhook and
 * are left out.
 */
async function webhookPhase(
  cp: RunningControlPlane,
  cc: CompiledCluster,
  ev: BundleEvaluator,
  discovery: Discovery,
  cases: readonly ApiserverCase[],
  namespaces: ReadonlyMap<string, NamespacePolicy>,
  stored: ReadonlyMap<Obj, Obj>,
  olds: ReadonlyMap<ApiserverCase, Obj>,
  options: ApiserverRunOptions,
): Promise<Map<ApiserverCase, WebhookResults>> {
  const out = new Map<ApiserverCase, WebhookResults>();
  const objects = objectsOf(cc);
  const engines: WebhookEngineRun[] = [];
  const toSend = webhookCases(cases);
  // The offline findings of each request, the same for every engine: the creates in batches (one WebAssembly
  // call each), the updates one by one when sent.
  const createFindings = new Map<ApiserverCase, Finding[]>();
  const creates = toSend.filter((c) => c.operation === 'CREATE');
  for (let i = 0; i < creates.length; i += 500) {
    const batch = creates.slice(i, i + 500);
    const seen = batch.map((c) => {
      const o = stored.get(c.object) ?? c.object;
      return c.clusterScoped ? o : withNamespace(o, c.ns.name);
    });
    ev.evaluateMany(seen).forEach((f, j) => createFindings.set(batch[j]!, f));
  }
  /**
   * Waits until a create the offline evaluator flags for an engine gets exactly that engine's expected warnings
   * (`silent`: none of them).
   */
  const warnsAsExpected = async (engine: WebhookEngineRun, timeoutMs: number, detail?: () => string, silent = false): Promise<void> => {
    const probe = creates.find((c) => engine.expected(createFindings.get(c) ?? []).warns.length > 0);
    if (!probe) return;
    const want = silent ? { denies: [], warns: [] } : engine.expected(createFindings.get(probe)!);
    await waitFor(
      `${engine.name} ${silent ? 'silent' : 'warning as the offline evaluator predicts'} (${probe.label})`,
      timeoutMs,
      async () => {
        const a = await admit(cp, discovery, probe.object, probe.ns.name);
        const v = engine.verdict(a.allowed ? a : { ...a, allowed: true });
        return engine.differences({ denies: [], warns: v.warns }, { denies: [], warns: want.warns }).length === 0 ? true : undefined;
      },
      detail,
    );
  };
  if (objects.templates.length > 0) {
    const constraints = new Set(objects.constraints.map((c) => c.metadata.name));
    const celKinds = new Set(objects.templates.filter((t) => templateHasCel(t)).map((t) => t.spec.crd.spec.names.kind));
    const celConstraints = new Set(objects.constraints.filter((c) => celKinds.has(c.kind)).map((c) => c.metadata.name));
    const want = (findings: readonly Finding[], action: string): string[] => findings.filter((f) => f.action === action && constraints.has(f.constraint)).map((f) => `${f.constraint}: ${f.message}`);
    const nameOf = (l: string): string => l.slice(0, l.indexOf(': '));
    let running: RunningGatekeeper | undefined;
    engines.push({
      name: 'Gatekeeper',
      key: 'gatekeeper',
      start: () =>
        startWithBundle(
          () => startGatekeeper(cp, options.log),
          async (gk) => {
            running = gk;
            await applyGatekeeperObjects(cp, gk, objects, options.log);
          },
        ),
      // Constraints set to dryrun (quiet) or back to their generated action, in force once the webhook has seen each.
      quiet: (on) => gatekeeperQuiet(cp, running!, objects.constraints, on),
      verdict: (a) => gatekeeperVerdict(a, constraints),
      expected: (findings) => ({ denies: want(findings, 'deny'), warns: want(findings, 'warn') }),
      differences: (v, e, cut) => {
        const compared = (lines: readonly string[], byName = false): string[] => lines.map((l) => (byName || celConstraints.has(nameOf(l)) ? `${nameOf(l)}: (${byName ? 'cut' : 'CEL'})` : l));
        return [...setDifferences('denies', compared(v.denies), compared(e.denies)), ...setDifferences('warns', compared(v.warns, cut), compared(e.warns, cut))];
      },
    });
  }
  // ValidatingPolicies only: ClusterPolicies (deprecated; Kyverno 1.20 no longer runs them) keep the CLI's proof.
  if (objects.policies.length > 0 && objects.policies.every((p) => (p as Obj)['kind'] === 'ValidatingPolicy')) {
    const policies = new Set(objects.policies.map((p) => String(((p as Obj)['metadata'] as Obj)['name'])));
    const instance = (policy: string): string => policy.replace(/\.(replicationcontrollers|ephemeralcontainers)$/, '');
    const instances = new Set([...policies].map(instance));
    const want = (findings: readonly Finding[], action: string): string[] => findings.filter((f) => f.action === action && instances.has(f.constraint)).map((f) => f.constraint);
    let output: () => string = () => '';
    const kyverno: WebhookEngineRun = {
      name: 'Kyverno',
      key: 'kyverno',
      // Applied as generated, then every Deny turned into Warn (kyvernoActionsAs: a denial names only the
      // policies of the first of Kyverno's webhooks to answer, warnings name them all).
      start: () =>
        startWithBundle(
          () => startKyverno(cp, options.log),
          async (ky) => {
            output = ky.output;
            await applyKyvernoObjects(cp, ky, objects, options.log);
            await kyvernoActionsAs(cp, objects.policies, 'Warn');
          },
        ),
      // In force once a request the offline evaluator flags through Kyverno's policies gets their warnings.
      ready: () => warnsAsExpected(kyverno, 60_000, () => output()),
      quiet: async (on) => {
        await kyvernoActionsAs(cp, objects.policies, on ? 'Audit' : 'Warn');
        await warnsAsExpected(kyverno, 60_000, () => output(), on);
      },
      verdict: (a) => kyvernoVerdict(a, policies),
      expected: (findings) => ({ denies: [], warns: [...want(findings, 'deny'), ...want(findings, 'warn')] }),
      differences: (v, e) => [...setDifferences('denies', v.denies.map(instance), e.denies), ...setDifferences('warns', v.warns.map(instance), e.warns)],
    };
    engines.push(kyverno);
  }
  const vap = vapObjectsOf(cc);
  let probes = 0;
  if (vap) {
    if (vap.params.length || vap.paramKinds.length) throw new EngineError('vap_apply', 'vap/ holds parameter objects or kinds, which test --engine apiserver does not apply');
    const policies = new Set(vap.policies.map((p) => String(((p as Obj)['metadata'] as Obj)['name'])));
    const instance = (policy: string): string => policy.replace(/\.(workloads|cronjobs)$/, '');
    const instances = new Set([...policies].map(instance));
    const want = (findings: readonly Finding[], action: string): string[] => findings.filter((f) => f.action === action && instances.has(f.constraint)).map((f) => f.constraint);
    const vapRun: WebhookEngineRun = {
      name: 'ValidatingAdmissionPolicy',
      key: 'vap',
      // Applied as generated, then every binding's Deny turned into Warn; a probe policy created after them is
      // enforced once the API server's policy source holds them all (its informers deliver in order).
      start: async () => {
        await applyPolicies(cp, [...vap.policies, ...vap.bindings] as Obj[]);
        await vapActionsAs(cp, vap.bindings as Obj[], 'Warn');
        await waitUntilEnforced(cp, PROBE, STORED_NAMESPACE);
        return async () => undefined;
      },
      // A new probe policy after the bindings' change: enforced once they are.
      quiet: async (on) => {
        await vapActionsAs(cp, vap.bindings as Obj[], on ? 'Audit' : 'Warn');
        await waitUntilEnforced(cp, `${PROBE}-${++probes}`, STORED_NAMESPACE);
      },
      verdict: (a) => vapVerdict(a, policies),
      expected: (findings) => ({ denies: [], warns: [...want(findings, 'deny'), ...want(findings, 'warn')] }),
      differences: (v, e) => [...setDifferences('denies', v.denies.map(instance), e.denies), ...setDifferences('warns', v.warns.map(instance), e.warns)],
    };
    engines.push(vapRun);
  }
  if (engines.length === 0) return out;
  const updateFindings = new Map<string, Finding[]>();
  const lifted = [...namespaces.values()].filter((ns) => !ns.exempt && (ns.enforce.level !== 'privileged' || ns.warn.level !== 'privileged'));
  for (const ns of lifted) await relabel(cp, ns.name, 'privileged', true, 'privileged');
  try {
    const started = Date.now();
    const stop = await startAll(engines);
    try {
      for (const e of engines) await e.ready?.();
      options.log(`kubeharden: ${engines.map((e) => e.name).join(', ')} in force on the API server (${Math.round((Date.now() - started) / 1000)} s)`);
      const dropped = await sendThrough(toSend, engines, out);
      // Responses whose warnings the API server may have cut off: sent again once per engine, that engine alone
      // denying or warning, the others audit only.
      const quietable = engines.filter((e) => e.quiet);
      if (dropped.length && quietable.length > 1) {
        const isQuiet = new Map<WebhookEngineRun, boolean>();
        for (const loud of quietable) {
          for (const e of quietable) {
            if ((isQuiet.get(e) ?? false) === (e !== loud)) continue;
            await e.quiet!(e !== loud);
            isQuiet.set(e, e !== loud);
          }
          await sendThrough(dropped, engines.filter((e) => e === loud || !e.quiet), out);
        }
      }
    } finally {
      await stop();
    }
  } finally {
    for (const ns of lifted) await relabel(cp, ns.name, ns.labels[ENFORCE_LABEL] ?? null, ns.enforce.level === 'privileged', ns.labels[WARN_LABEL] ?? null);
  }
  return out;

  /** Sends the cases and compares the engines' verdicts; returns the cases whose warnings may have been dropped. */
  async function sendThrough(batch: readonly ApiserverCase[], compared: readonly WebhookEngineRun[], results: Map<ApiserverCase, WebhookResults>): Promise<ApiserverCase[]> {
    const dropped = new Set<ApiserverCase>();
    const started = Date.now();
    const nsOf = (c: ApiserverCase): string | undefined => (c.clusterScoped ? undefined : c.ns.name);
    const sendUpdate = async (old: Obj, before: Obj, c: ApiserverCase): Promise<{ a: Admission; findings: Finding[] }> => {
      const a = await admitUpdate(cp, discovery, old, before, c.object, nsOf(c), c.subResource);
      const key = `${c.label}|${String(((old['metadata'] ?? {}) as Obj)['resourceVersion'])}`;
      let findings = updateFindings.get(key);
      if (!findings) updateFindings.set(key, (findings = ev.evaluate(updatedObject(old, before, c.object), { operation: 'UPDATE', oldObject: old })));
      return { a, findings };
    };
    const record = (c: ApiserverCase, verdicts: Partial<Record<keyof WebhookResults, WebhookCase>>): void => {
      results.set(c, { ...(results.get(c) ?? {}), ...verdicts });
    };
    await mapLimit(batch, options.concurrency ?? 8, async (c) => {
      let sent: { a: Admission; findings: Finding[] };
      if (c.operation === 'UPDATE') {
        const old = olds.get(c);
        if (!old) return;
        sent = await sendUpdate(old, c.oldObject!, c);
      } else {
        sent = { a: await admit(cp, discovery, c.object, c.ns.name), findings: createFindings.get(c)! };
        if (sent.a.status === 409 && (c.sample || c.fixture)) {
          // An object the API server keeps itself (a bootstrap ClusterRole) or a fixture's namespace: it arrives as an update of it.
          const existing = await cp.request('GET', (await objectPath(discovery, c.object, nsOf(c)))!);
          if (existing.status === 200) sent = await sendUpdate(existing.body as Obj, existing.body as Obj, c);
        }
      }
      // A node port a stored old object holds (the old objects of the UPDATE cases are stored for real since
      // the first pass): the API server refuses the create before any webhook is called.
      if (sent.a.status === 422 && /provided port is already allocated/.test(sent.a.message)) {
        record(c, Object.fromEntries(compared.map((e) => [e.key, { problems: [], notReached: sent.a.message }])));
        return;
      }
      const a = sent.a;
      // Who denied: the engine whose verdict reads the denial as its own; the others read only their warnings.
      const deniedBy = a.allowed ? undefined : engines.find((e) => e.verdict(a).other === undefined);
      const said = `${a.allowed ? 'admitted' : a.message}${a.warnings.length ? `; warnings: ${a.warnings.join(' | ')}` : ''}`;
      const warnings = warningsState(a.warnings);
      if (warnings === 'dropped') dropped.add(c);
      const verdicts: Partial<Record<keyof WebhookResults, WebhookCase>> = {};
      for (const engine of compared) {
        const verdict = engine.verdict(deniedBy && deniedBy !== engine ? { ...a, allowed: true } : a);
        const problems: string[] = [];
        if (a.status === 0 || verdict.other !== undefined) problems.push(`${engine.name} webhook: the request failed: ${verdict.other ?? a.message}`);
        else if (warnings === 'dropped') problems.push(`${engine.name} webhook: the API server may have dropped warnings of this response (${a.warnings.length} warnings over ${WARNINGS_TOTAL_RUNES} characters in all): they cannot be compared (the response: ${JSON.stringify(said.slice(0, 1500))})`);
        else for (const d of engine.differences(verdict, engine.expected(sent.findings), warnings === 'cut')) problems.push(`${engine.name} webhook ${d} (the response: ${JSON.stringify(said.slice(0, 1500))})`);
        verdicts[engine.key] = { verdict, problems };
      }
      record(c, verdicts);
    });
    options.log(`kubeharden: ${batch.length} requests through ${engines.map((e) => e.name).join(', ')}${compared.length < engines.length ? ` (compared: ${compared.map((e) => e.name).join(', ')})` : ''} in ${Math.round((Date.now() - started) / 1000)} s`);
    return batch.filter((c) => dropped.has(c));
  }
}

/**
 * Sets (or, with null, removes) a namespace's PSA enforce label (and the warn label when given), then waits until PSA enforces what the label
 * now says: PSA reads namespaces from an informer cache, so a request right after the change may still see
 * the old labels. A privileged probe Pod (dry run) is admitted once PSA lets everything in (`admits`), and
 * rejected once it enforces a level again.
 */
async function relabel(cp: RunningControlPlane, name: string, level: string | null, admits: boolean, warn?: string | null): Promise<void> {
  const labels = { [ENFORCE_LABEL]: level, ...(warn !== undefined ? { [WARN_LABEL]: warn } : {}) };
  const r = await cp.request('PATCH', `/api/v1/namespaces/${name}`, { metadata: { labels } });
  if (r.status !== 200) throw new Error(`setting the enforce label of namespace ${name} to ${String(level)}: HTTP ${r.status}: ${statusMessage(r)}`);
  const probe = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kubeharden-psa-probe' }, spec: { hostPID: true, containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }] } };
  const started = Date.now();
  for (;;) {
    const p = await cp.request('POST', `/api/v1/namespaces/${name}/pods?dryRun=All`, probe);
    if (admits ? p.status === 201 : p.status === 403 && /violates PodSecurity/.test(statusMessage(p))) return;
    if (Date.now() - started > 30_000) throw new Error(`PSA in namespace ${name} did not ${admits ? 'lift' : 'restore'} its enforce level within 30 s (last probe: HTTP ${p.status}: ${statusMessage(p)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a validation proof gets in place of a PSA prediction (it is never compared with PSA). */
const NO_PREDICTION: PsaPrediction = { enforceReasons: [], warnReasons: [], enforceChecks: [], warnChecks: [] };

/** Where objects are created (dry run) to see them as the API server holds them: PSA privileged at every mode. */
export const STORED_NAMESPACE = 'kubeharden-stored';
const PRIVILEGED_LABELS = { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged', 'pod-security.kubernetes.io/audit': 'privileged' };

async function ensureNamespace(cp: RunningControlPlane, name: string, labels: Record<string, string>): Promise<void> {
  const r = await cp.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating namespace ${name}: HTTP ${r.status}: ${statusMessage(r)}`);
  const sa = await cp.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  if (sa.status !== 201 && sa.status !== 409) throw new Error(`creating the default ServiceAccount of ${name}: HTTP ${sa.status}: ${statusMessage(sa)}`);
}

/** True when the template carries a CEL (K8sNativeValidation) block, which Gatekeeper runs in its place of the Rego. */
function templateHasCel(t: ConstraintTemplate): boolean {
  const target = t.spec.targets[0];
  return target !== undefined && 'code' in target && target.code.some((c) => c.engine === 'K8sNativeValidation');
}

function withNamespace(o: Obj, ns: string): Obj {
  return { ...o, metadata: { ...((o['metadata'] ?? {}) as Obj), namespace: ns } };
}

/** `kubeharden test --engine apiserver`: one line per failure through `onFailure`, counts returned. */
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
    for (const r of run.results) {
      if (r.problems.length === 0) passed++;
      else {
        failed++;
        onFailure(`${prefix}apiserver: ${r.case.label}: ${r.problems.join('; ')}`);
      }
    }
  }
  return { passed, failed };
}
