/**
 * The unit of audit work, run in a worker thread or inline: parse a batch of raw documents of one source
 * and evaluate every object through the bundle's aggregate WebAssembly entrypoint.
 */
import type { Constraint } from '../backends/gatekeeper/types.js';
import { manyEvaluator, type PsaOptions } from '../eval/many.js';
import { parseDocument } from '../eval/manifests.js';
import type { Action, Obj } from '../eval/review.js';
import { loadPolicyModule, type RegoSources } from '../eval/wasm.js';
import type { RawDocument } from './split.js';

/** What a worker needs to evaluate: plain data, so that it crosses a thread boundary. */
export interface EvaluatorSpec {
  readonly templates: readonly (readonly [string, string])[];
  readonly libs: readonly string[];
  readonly v0: boolean;
  readonly constraints: readonly Constraint[];
  /** Pod Security Admission per namespace, when the audit models it. */
  readonly psa?: PsaOptions;
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
  readonly source?: 'psa';
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

export async function jobRunner(spec: EvaluatorSpec, options: { keepObjects?: boolean; evaluate?: boolean } = {}): Promise<JobRunner> {
  const evaluate = options.evaluate ?? true;
  let many: ((resources: readonly Obj[]) => { control: string; action: Action; message: string; source?: 'psa' }[][]) | undefined;
  if (evaluate) {
    const sources: RegoSources = { templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 };
    many = manyEvaluator(await loadPolicyModule(sources), spec.constraints, spec.psa);
  }
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
        const o = x.r.object;
        const md = (o['metadata'] ?? {}) as Obj;
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
      const found = many(objects);
      found.forEach((f, i) => {
        const item = items[at[i]!]!;
        if (f.length) items[at[i]!] = { ...item, findings: f.map((x) => ({ control: x.control, action: x.action, message: x.message, ...(x.source ? { source: x.source } : {}) })) } as JobItem;
      });
    }
    return { seq: job.seq, items };
  };
}
