/**
 * The streaming audit pipeline. Sources are read in chunks and split into raw documents on the main
 * thread; batches of documents go to a pool of worker threads that parse and evaluate them; results come
 * back out of order and are handed on in input order. At most a few batches per worker are in flight, so
 * memory does not grow with the size of the input.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KubehardenError } from '../diagnostics.js';
import { jobRunner, type JobSpec, type Job, type JobItem, type JobResult } from './job.js';
import { DocumentSplitter, type RawDocument } from '../eval/split.js';
import { listItems } from '../eval/manifests.js';
import { scanTokenSecrets } from './sa-token.js';
import type { AuditInput } from './input.js';

/** An item with its place in the input: source and position (documents and List items, from 0). */
export type AuditedItem = JobItem & { readonly source: string; readonly index: number };
/** An audited object (not an input error). */
export type AuditedResource = Exclude<JobItem, { error: string }> & { readonly source: string; readonly index: number };

export interface PipelineOptions {
  /** Worker threads; 0 evaluates on the main thread. Default: one per available core. */
  readonly workers?: number;
  /** Keep each object on its item (for engines that need the objects themselves). */
  readonly keepObjects?: boolean;
  /** Called as input is consumed (bytes read so far, items handed on so far). */
  readonly onProgress?: (bytes: number, items: number) => void;
  readonly batchDocs?: number;
  readonly batchBytes?: number;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

interface Pool {
  run(job: Job): Promise<JobResult>;
  readonly capacity: number;
  close(): Promise<void>;
}

function workerUrl(): URL {
  // Under a TypeScript loader (tests) this module is src/audit/pipeline.ts; the worker runs from dist.
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/audit/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);
}

async function workerPool(spec: JobSpec, size: number, keepObjects: boolean): Promise<Pool> {
  const workers: { w: Worker; pending: Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }> }[] = [];
  await Promise.all(
    Array.from({ length: size }, () => {
      // A small young generation keeps each worker's garbage (parsed documents) from piling up between collections.
      const w = new Worker(workerUrl(), { workerData: { spec, keepObjects }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      const entry = { w, pending: new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>() };
      workers.push(entry);
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: { ready?: true; ok?: JobResult; failed?: string; seq?: number }) => {
          if (m.ready) return resolve();
          if (m.ok) {
            entry.pending.get(m.ok.seq)?.resolve(m.ok);
            entry.pending.delete(m.ok.seq);
            return;
          }
          const err = new KubehardenError('audit_worker_failed', `audit worker failed: ${m.failed}`);
          if (m.seq === undefined) return reject(err);
          entry.pending.get(m.seq)?.reject(err);
          entry.pending.delete(m.seq);
        });
        w.on('error', (e) => {
          reject(e);
          for (const p of entry.pending.values()) p.reject(e);
          entry.pending.clear();
        });
      });
    }),
  );
  return {
    capacity: size * 2,
    run(job) {
      const entry = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      return new Promise((resolve, reject) => {
        entry.pending.set(job.seq, { resolve, reject });
        entry.w.postMessage(job);
      });
    },
    async close() {
      await Promise.all(workers.map((x) => x.w.terminate()));
    },
  };
}

async function inlinePool(spec: JobSpec, keepObjects: boolean): Promise<Pool> {
  const run = await jobRunner(spec, { keepObjects });
  return { capacity: 1, run: async (job) => run(job), close: async () => {} };
}

/** Raw documents with every `kind: *List` replaced by its items (a cluster dump is batched like separate documents). */
function* documents(docs: readonly RawDocument[]): Generator<RawDocument> {
  for (const d of docs) {
    const items = listItems(d);
    if (items) yield* items;
    else yield d;
  }
}

/** Runs every input through the pool, calling `onItem` in input order. */
export async function auditInputs(inputs: readonly AuditInput[], given: JobSpec, onItem: (item: AuditedItem) => void, options: PipelineOptions = {}): Promise<void> {
  // Token Secrets of the input, for the findings that need them (sa-token.ts): a first, cheap pass.
  const spec: JobSpec = given.tokenSecrets ? given : { ...given, tokenSecrets: await scanTokenSecrets(inputs) };
  const size = options.workers ?? defaultWorkers();
  const keep = options.keepObjects ?? false;
  const pool = size > 0 ? await workerPool(spec, size, keep) : await inlinePool(spec, keep);
  const batchDocs = options.batchDocs ?? 200;
  const batchBytes = options.batchBytes ?? 512 * 1024;
  let seq = 0;
  let next = 0;
  let handed = 0;
  let bytesRead = 0;
  const done = new Map<number, { source: string; items: readonly JobItem[] }>();
  const indexBySource = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const drain = (): void => {
    for (let r = done.get(next); r; r = done.get(next)) {
      done.delete(next++);
      let index = indexBySource.get(r.source) ?? 0;
      for (const item of r.items) {
        onItem({ ...item, source: r.source, index: index++ });
        handed++;
      }
      indexBySource.set(r.source, index);
    }
    options.onProgress?.(bytesRead, handed);
  };
  const dispatch = async (source: string, docs: RawDocument[]): Promise<void> => {
    while (inFlight.size >= pool.capacity) await Promise.race(inFlight);
    if (failure) throw failure;
    const job: Job = { seq: seq++, source, docs };
    const p = pool
      .run(job)
      .then((r) => {
        done.set(r.seq, { source, items: r.items });
        drain();
      })
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  /** A source that cannot be read becomes an error item in its place. */
  const failed = (source: string, message: string): void => {
    const s = seq++;
    done.set(s, { source, items: [{ line: 0, error: message }] });
    drain();
  };

  try {
    for (const input of inputs) {
      const splitter = new DocumentSplitter();
      let batch: RawDocument[] = [];
      let batchSize = 0;
      const base = bytesRead;
      try {
        const decoder = new TextDecoder('utf-8', { fatal: false });
        // Every document goes into bounded batches, the last ones of the source (a whole List) too.
        const take = async (docs: readonly RawDocument[]): Promise<void> => {
          for (const d of documents(docs)) {
            batch.push(d);
            batchSize += d.text.length;
            bytesRead = base + d.offset;
            if (batch.length >= batchDocs || batchSize >= batchBytes) {
              await dispatch(input.source, batch);
              batch = [];
              batchSize = 0;
            }
          }
        };
        for await (const chunk of input.open()) await take(splitter.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
        await take([...splitter.push(decoder.decode()), ...splitter.end()]);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (batch.length) await dispatch(input.source, batch);
        await Promise.all(inFlight);
        failed(input.source, e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EISDIR' ? 'is a directory' : `cannot read: ${e.message}`);
        continue;
      }
      if (batch.length) await dispatch(input.source, batch);
      if (input.size !== undefined) bytesRead = base + input.size;
    }
    while (inFlight.size) await Promise.race(inFlight);
    if (failure) throw failure;
    drain();
  } finally {
    await pool.close();
  }
}
