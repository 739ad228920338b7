/**
 * The unit of audit work, run in a worker thread or inline: parse a batch of raw documents of one source
 * and evaluate every object through the bundle's aggregate WebAssembly entrypoint.
 */
import { aggregateEvaluator } from '../eval/aggregate.js';
import type { EvaluatorSpec } from '../eval/evaluator-spec.js';
import { parseDocument } from '../eval/manifests.js';
import { CLUSTER_SCOPED_KINDS, podContainers, podsOf, type Action, type Obj } from '../eval/review.js';
import { matchesPattern } from '../names.js';
import type { Constraint } from '../backends/gatekeeper/types.js';
import { loadPolicyModule, type RegoSources } from '../eval/wasm.js';
import type { RawDocument } from '../eval/split.js';
import { tokenSecretMessages, withAutomount } from './sa-token.js';
import type { SuppressedFinding } from './report.js';

const AUTOMOUNT = 'disallow-automount-sa-token';

/**
 * Findings for pods that use a service-account token Secret of the input, under disallow-automount-sa-token
 * with the action the bundle gives that control for the object: the object is evaluated once more with
 * automountServiceAccountToken forced on, so namespaces, modes and exceptions decide as for the flag itself
 * (no finding then: the control does not apply to the object).
 */
function tokenSecretFindings(
  objects: readonly Obj[],
  tokenSecrets: ReadonlySet<string>,
  many: (resources: readonly Obj[]) => { control: string; action: Action; source?: 'psa' }[][],
): ItemFinding[][] {
  const out: ItemFinding[][] = objects.map(() => []);
  const using = objects.map((o, i) => ({ i, messages: tokenSecretMessages(o, tokenSecrets) })).filter((u) => u.messages.length > 0);
  if (!using.length) return out;
  const probes = many(using.map((u) => withAutomount(objects[u.i]!)));
  using.forEach((u, k) => {
    const hit = probes[k]!.find((f) => f.control === AUTOMOUNT && !f.source);
    if (hit) out[u.i] = u.messages.map((message) => ({ control: AUTOMOUNT, action: hit.action, message, source: 'input' as const }));
  });
  return out;
}

/** What a worker needs to evaluate: the bundle's evaluator and facts of the whole input, as plain data. */
export interface JobSpec extends EvaluatorSpec {
  /** Service-account token Secrets of the input (`namespace/name`, see sa-token.ts). */
  readonly tokenSecrets?: readonly string[];
  /** `audit --namespace`: the namespace of namespaced objects that name none (as `kubectl apply -n`). */
  readonly defaultNamespace?: string;
  /** To tell which exception or exempt namespace let a finding through (see `Suppression`). */
  readonly suppressions?: SuppressionSpec;
}

/** One exception of the config, as the audit names it when it lets a finding through. */
export interface ExceptionInfo {
  readonly controls: readonly string[];
  readonly namespaces?: readonly string[];
  readonly names?: readonly string[];
  readonly images?: readonly string[];
  /** How reports name it: its place in the cluster's exceptions and its scope. */
  readonly label: string;
  readonly reason: string;
  readonly expires: string;
}

export interface SuppressionSpec {
  /** The bundle's constraints without exceptions (no excepted images, names or allowed values) and in exempt namespaces too. */
  readonly constraints: readonly Constraint[];
  readonly exemptNamespaces: readonly string[];
  readonly exceptions: readonly ExceptionInfo[];
}

/** A finding the bundle would make but an exception or an exempt namespace lets through (report.ts). */
export type Suppression = SuppressedFinding;

export interface Job {
  readonly seq: number;
  readonly source: string;
  readonly docs: readonly RawDocument[];
}

export interface ItemFinding {
  readonly control: string;
  readonly action: Action;
  readonly message: string;
  /**
   * Not a policy of the bundle: `psa` is what Pod Security Admission would do; `input` is a finding that
   * needs other objects of the input (a token Secret a Pod mounts), which no admission engine can make.
   */
  readonly source?: 'psa' | 'input';
}

/** One object of the input (or one document that is not a usable object). Index is assigned in order later. */
export type JobItem =
  | {
      readonly line: number;
      readonly apiVersion: string;
      readonly kind: string;
      readonly namespace: string | null;
      readonly name: string;
      readonly findings: readonly ItemFinding[];
      /** Findings that exceptions or exempt namespaces let through (absent when none). */
      readonly suppressed?: readonly Suppression[];
      /** The object itself, only when the caller asked to keep objects (other engines need them). */
      readonly object?: Obj;
    }
  | { readonly line: number; readonly error: string };

export interface JobResult {
  readonly seq: number;
  readonly items: readonly JobItem[];
}

export type JobRunner = (job: Job) => JobResult;

export async function jobRunner(spec: JobSpec, options: { keepObjects?: boolean; evaluate?: boolean } = {}): Promise<JobRunner> {
  const evaluate = options.evaluate ?? true;
  let many: ((resources: readonly Obj[]) => { control: string; action: Action; message: string; source?: 'psa' }[][]) | undefined;
  if (evaluate) {
    const sources: RegoSources = { templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 };
    many = aggregateEvaluator(await loadPolicyModule(sources), spec.constraints, spec.psa);
  }
  let unexcepted: ((resources: readonly Obj[]) => { control: string; action: Action; message: string }[][]) | undefined;
  const sup = spec.suppressions;
  if (evaluate && sup) {
    // A module of its own: a module holds one set of constraint parameters.
    const sources: RegoSources = { templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 };
    unexcepted = aggregateEvaluator(await loadPolicyModule(sources), sup.constraints);
  }
  const tokenSecrets = new Set(spec.tokenSecrets ?? []);
  return (job) => {
    const items: (JobItem & { object?: Obj })[] = [];
    const objects: Obj[] = [];
    const at: number[] = [];
    for (const raw of job.docs) {
      const parsed = parseDocument(raw, job.source);
      // Errors and objects keep the order of the source (a List may mix both).
      const all = [...parsed.resources.map((r) => ({ i: r.index, r })), ...parsed.errors.map((e) => ({ i: e.index, e }))].sort((a, b) => a.i - b.i);
      for (const x of all) {
        if ('e' in x) {
          items.push({ line: x.e.line, error: x.e.message });
          continue;
        }
        let o = x.r.object;
        let md = (o['metadata'] ?? {}) as Obj;
        if (spec.defaultNamespace && !md['namespace'] && !CLUSTER_SCOPED_KINDS.has(String(o['kind']))) {
          md = { ...md, namespace: spec.defaultNamespace };
          o = { ...o, metadata: md };
        }
        at.push(items.length);
        objects.push(o);
        items.push({
          line: x.r.line,
          apiVersion: String(o['apiVersion']),
          kind: String(o['kind']),
          namespace: typeof md['namespace'] === 'string' ? md['namespace'] : null,
          name: typeof md['name'] === 'string' ? md['name'] : '',
          findings: [],
          ...(options.keepObjects ? { object: o } : {}),
        });
      }
    }
    if (many && objects.length) {
      const found: ItemFinding[][] = many(objects).map((f) => f.map((x) => ({ control: x.control, action: x.action, message: x.message, ...(x.source ? { source: x.source } : {}) })));
      if (tokenSecrets.size) tokenSecretFindings(objects, tokenSecrets, many).forEach((f, i) => found[i]!.push(...f));
      const suppressed = unexcepted && sup ? suppressionsOf(objects, found, unexcepted, sup) : [];
      found.forEach((f, i) => {
        const item = items[at[i]!]!;
        const s = suppressed[i];
        if (f.length || s?.length) items[at[i]!] = { ...item, findings: f, ...(s?.length ? { suppressed: s } : {}) } as JobItem;
      });
    }
    return { seq: job.seq, items };
  };
}

/**
 * What exceptions and exempt namespaces let through, per object: the objects an exception or exemption can
 * reach are evaluated once more without any (`unexcepted`); a finding made there and not in the audit is
 * suppressed, and named after the exempt namespace, or the exceptions of its control whose namespaces,
 * names and images cover the object.
 */
function suppressionsOf(
  objects: readonly Obj[],
  found: readonly (readonly ItemFinding[])[],
  unexcepted: (resources: readonly Obj[]) => { control: string; action: Action; message: string }[][],
  sup: SuppressionSpec,
): Suppression[][] {
  const out: Suppression[][] = objects.map(() => []);
  const nsOf = (o: Obj): string | undefined => {
    const ns = ((o['metadata'] ?? {}) as Obj)['namespace'];
    return typeof ns === 'string' && ns !== '' ? ns : undefined;
  };
  const exempt = (ns: string | undefined): boolean => ns !== undefined && sup.exemptNamespaces.some((p) => matchesPattern(p, ns));
  const inScope = (e: ExceptionInfo, ns: string | undefined): boolean => !e.namespaces || (ns !== undefined && e.namespaces.some((p) => matchesPattern(p, ns)));
  // An exception covers an object in its namespaces, by its names and images (when it has them).
  const covers = (e: ExceptionInfo, ns: string | undefined, names: readonly string[], images: readonly string[]): boolean =>
    inScope(e, ns) && (!e.names || e.names.some((p) => names.some((n) => matchesPattern(p, n)))) && (!e.images || e.images.some((p) => images.some((img) => matchesPattern(p, img))));
  // Only objects some exception or exemption covers can have suppressed findings: only those are evaluated again
  // (names and images are read only where an exception's namespaces reach).
  const scopes = objects.map((o) => {
    const ns = nsOf(o);
    const reaching = exempt(ns) ? [] : sup.exceptions.filter((e) => inScope(e, ns));
    return reaching.length ? { ns, names: objectNames(o), images: imagesOf(o) } : { ns, names: [], images: [] };
  });
  const candidates = scopes.flatMap((x, i) => (exempt(x.ns) || sup.exceptions.some((e) => covers(e, x.ns, x.names, x.images)) ? [i] : []));
  if (!candidates.length) return out;
  const without = unexcepted(candidates.map((i) => objects[i]!));
  candidates.forEach((i, k) => {
    const seen = new Set(found[i]!.filter((f) => f.source === undefined).map((f) => `${f.control}\u0000${f.message}`));
    const lifted = without[k]!.filter((f) => !seen.has(`${f.control}\u0000${f.message}`));
    if (!lifted.length) return;
    const { ns, names, images } = scopes[i]!;
    for (const f of lifted) {
      if (exempt(ns)) {
        out[i]!.push({ control: f.control, action: f.action, message: f.message, exception: `exemptNamespaces (${ns})`, reason: `namespace ${ns} is exempt from every control`, expires: null });
        continue;
      }
      const covering = sup.exceptions.filter((e) => e.controls.includes(f.control) && covers(e, ns, names, images));
      for (const e of covering) out[i]!.push({ control: f.control, action: f.action, message: f.message, exception: e.label, reason: e.reason, expires: e.expires });
    }
  });
  return out;
}

/** The names an exception by name matches for an object: its own, and those of the Pods it creates. */
function objectNames(o: Obj): string[] {
  const own = ((o['metadata'] ?? {}) as Obj)['name'];
  return [...new Set([...(typeof own === 'string' ? [own] : []), ...podsOf(o, 'default').map((p) => p.name)])];
}

/** Container images of the object's Pods (init, regular and ephemeral containers). */
function imagesOf(o: Obj): string[] {
  return podsOf(o, 'default').flatMap((p) => podContainers((p.pod['spec'] ?? {}) as Obj).flatMap((c) => (typeof c['image'] === 'string' ? [c['image']] : [])));
}
