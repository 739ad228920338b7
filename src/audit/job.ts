/**
 * The unit of audit work, run in a worker thread or inline: parse a batch of raw documents of one source
 * and evaluate every object through the bundle's aggregate WebAssembly entrypoint.
 */
import { aggregateEvaluator } from '../eval/aggregate.js';
import type { EvaluatorSpec } from '../eval/evaluator-spec.js';
import { parseDocument } from '../eval/manifests.js';
import { CLUSTER_SCOPED_KINDS, type Action, type Obj } from '../eval/review.js';
import { loadPolicyModule, type RegoSources } from '../eval/wasm.js';
import type { RawDocument } from '../eval/split.js';
import { tokenSecretMessages, withAutomount } from './sa-token.js';

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
}

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
      found.forEach((f, i) => {
        const item = items[at[i]!]!;
        if (f.length) items[at[i]!] = { ...item, findings: f } as JobItem;
      });
    }
    return { seq: job.seq, items };
  };
}
