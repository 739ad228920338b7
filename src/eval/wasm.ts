/**
 * Compiles the bundle's Gatekeeper Rego to one WebAssembly module with the real `opa build -t wasm`
 * (cached by content hash: an unchanged bundle compiles nothing) and evaluates it with
 * @open-policy-agent/opa-wasm. One module holds every template, one entrypoint per template.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { cacheDir, ENGINES, ensureEngine, type Logger } from '../engines/index.js';
import { KubehardenError } from '../diagnostics.js';
import type { ConstraintTemplate } from '../backends/gatekeeper/types.js';

const exec = promisify(execFile);

export interface RegoSources {
  /** Template kind → its Rego module. */
  readonly templates: ReadonlyMap<string, string>;
  /** Library modules (deduplicated). */
  readonly libs: readonly string[];
  /** Legacy v0 sources (the `targets[].rego` field); built with --v0-compatible. */
  readonly v0: boolean;
}

export interface Violation {
  readonly msg: string;
}

/** One review in an aggregate call: the admission review and, per template kind, the constraints to check. */
export interface AggregateReview {
  readonly review: unknown;
  /** Template kind → indices into the constraint parameters given to `setConstraints`. */
  readonly checks: Readonly<Record<string, readonly number[]>>;
}

/** A violation from an aggregate call: which review, which constraint. */
export interface AggregateViolation {
  readonly review: number;
  readonly constraint: number;
  readonly msg: string;
}

export interface PolicyModule {
  /** The template kinds the module evaluates. */
  readonly kinds: ReadonlySet<string>;
  evaluate(kind: string, input: unknown): Violation[];
  /** Stores the parameters of the constraints that `evaluateAll` refers to by index. */
  setConstraints(parameters: readonly unknown[]): void;
  /** Every check of every review in one WebAssembly call (the aggregate entrypoint). */
  evaluateAll(reviews: readonly AggregateReview[]): AggregateViolation[];
  /** True when this run compiled the module (false: loaded from the cache). */
  readonly compiled: boolean;
  readonly wasmPath: string;
}

export function regoOf(t: ConstraintTemplate): { rego: string; libs: readonly string[] } {
  const target = t.spec.targets[0]!;
  if ('code' in target) {
    const src = target.code.find((c) => c.engine === 'Rego')!.source;
    return { rego: src.rego, libs: src.libs };
  }
  return { rego: target.rego, libs: target.libs };
}

export function sourcesOf(templates: readonly ConstraintTemplate[]): RegoSources {
  const map = new Map<string, string>();
  const libs: string[] = [];
  const v0 = templates.some((t) => !('code' in t.spec.targets[0]!));
  for (const t of templates) {
    const { rego, libs: l } = regoOf(t);
    map.set(t.spec.crd.spec.names.kind, rego);
    for (const lib of l) if (!libs.includes(lib)) libs.push(lib);
  }
  return { templates: map, libs, v0 };
}

export function packageOf(rego: string): string {
  const m = /^package\s+([\w.]+)/m.exec(rego);
  if (!m) throw new KubehardenError('invalid_rego', 'Rego module without a package line');
  return m[1]!;
}

/** Compiles (or loads from cache) and instantiates the module for these sources. */
export async function loadPolicyModule(sources: RegoSources, log?: Logger): Promise<PolicyModule> {
  const kinds = [...sources.templates.keys()].sort();
  const aggregate = aggregateModule(sources, kinds);
  const hash = createHash('sha256');
  hash.update(`opa ${ENGINES.opa.version}${sources.v0 ? ' v0' : ''}\n${aggregate}\n`);
  for (const k of kinds) hash.update(`template ${k}\n${sources.templates.get(k)}\n`);
  for (const lib of [...sources.libs].sort()) hash.update(`lib\n${lib}\n`);
  const key = hash.digest('hex').slice(0, 32);
  const dir = join(cacheDir(), 'wasm');
  const wasmPath = join(dir, `${key}.wasm`);
  let compiled = false;
  if (!existsSync(wasmPath)) {
    const opa = await ensureEngine('opa', log);
    await buildWasm(opa, sources, kinds, [AGGREGATE_ENTRYPOINT, SINGLE_ENTRYPOINT], aggregate, wasmPath);
    compiled = true;
  }
  const policy = await loadPolicy(readFileSync(wasmPath));
  /** Constraint index → index of its parameters among the distinct ones. */
  let parameterIndex: number[] = [];
  /** The groups of a review's checks (cached per checks object: callers reuse one per scope). */
  let groupsOf = new WeakMap<object, CheckGroup[]>();
  const groups = (checks: Readonly<Record<string, readonly number[]>>): CheckGroup[] => {
    let g = groupsOf.get(checks);
    if (!g) {
      const byParameters = new Map<number, Record<string, number[]>>();
      for (const kind of Object.keys(checks).sort()) {
        for (const k of checks[kind]!) {
          const p = parameterIndex[k]!;
          let kinds = byParameters.get(p);
          if (!kinds) byParameters.set(p, (kinds = {}));
          (kinds[kind] ??= []).push(k);
        }
      }
      g = [...byParameters].map(([p, kinds]) => ({ p, c: kinds }));
      groupsOf.set(checks, g);
    }
    return g;
  };
  return {
    setConstraints(parameters) {
      // Constraints with equal parameters share one evaluation context (see aggregateModule).
      const distinct = new Map<string, number>();
      const values: unknown[] = [];
      parameterIndex = parameters.map((p) => {
        const value = p ?? {};
        const key = canonicalJson(value);
        let i = distinct.get(key);
        if (i === undefined) {
          distinct.set(key, (i = values.length));
          values.push(value);
        }
        return i;
      });
      groupsOf = new WeakMap();
      policy.setData({ [AGGREGATE_DATA]: values });
    },
    evaluateAll(reviews) {
      const input = { reviews: reviews.map((r) => ({ review: r.review, groups: groups(r.checks) })) };
      const result = policy.evaluate(input, AGGREGATE_ENTRYPOINT) as { result?: unknown }[] | undefined;
      const value = result?.[0]?.result;
      if (!Array.isArray(value)) return [];
      return value.map((v) => {
        const [review, constraint, msg] = v as [number, number, unknown];
        return { review, constraint, msg: String(msg ?? '') };
      });
    },
    kinds: new Set(kinds),
    compiled,
    wasmPath,
    evaluate(kind, input) {
      if (!sources.templates.has(kind)) throw new KubehardenError('unknown_template', `no compiled template for ${kind}`);
      const result = policy.evaluate({ kind, input }, SINGLE_ENTRYPOINT) as { result?: unknown }[] | undefined;
      const value = result?.[0]?.result;
      if (!Array.isArray(value)) return [];
      return value.map((v) => ({ msg: String((v as { msg?: unknown }).msg ?? '') }));
    },
  };
}

const AGGREGATE_PACKAGE = 'kubeharden_audit';
const AGGREGATE_ENTRYPOINT = `${AGGREGATE_PACKAGE}/results`;
/** One template's violations for one input: `{"kind", "input"}` in, the violation set out. */
const SINGLE_ENTRYPOINT = `${AGGREGATE_PACKAGE}/single`;
/** The data key holding the distinct constraint parameters for the aggregate entrypoint. */
const AGGREGATE_DATA = 'kubeharden_parameters';
/** The data key naming, inside one group's evaluation, the template kinds to evaluate. */
const GROUP_DATA = 'kubeharden_group';

/** Checks of one review that share parameters: index of the parameters, template kind → constraint indices. */
interface CheckGroup {
  readonly p: number;
  readonly c: Readonly<Record<string, readonly number[]>>;
}

/** JSON with object keys sorted, so that equal parameters give equal text. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The aggregate entrypoint: for every review, every template's violations under each constraint listed for
 * it, as `[review index, constraint index, message]`. It is not part of the Gatekeeper bundle; it only
 * exists in the WebAssembly build, so that a batch of resources costs one call instead of one per
 * constraint and resource. A review's checks come in groups of constraints with equal parameters: the
 * templates of one group run under one `with input as {"review", "parameters"}` (the input Gatekeeper
 * gives each of them), so the library rules they share (the containers, the checked containers, the
 * images) are computed once per group, not once per constraint. Within a group only the templates it names
 * run: `violations(kind)` dispatches on the kind (a failed match is a string comparison, where a rule per
 * kind guarded by a lookup in the group hashed the kind once per template and group). The `single`
 * entrypoint evaluates one template for one input through the same dispatch: the module has these two
 * entrypoints only (OPA 1.22 refuses a wasm build that calls a function from one entrypoint while another
 * entrypoint is a template's own rule). Results are arrays, not sets: a set hashes every value it holds.
 * Written in syntax that both the v1 and the v0-compatible compilers accept.
 */
export function aggregateModule(sources: RegoSources, kinds: readonly string[]): string {
  const results = `results := [[i, k, msg] |
	some i, r in input.reviews
	some g in r.groups
	vs := group with input as {"review": r.review, "parameters": data.${AGGREGATE_DATA}[g.p]} with data.${GROUP_DATA} as g.c
	some [kind, v] in vs
	some k in g.c[kind]
	msg := object.get(v, "msg", "")
]`;
  const group = `group := [[kind, v] |
	some kind, _ in data.${GROUP_DATA}
	some v in violations(kind)
]`;
  const single = `single := vs if {
	kind := input.kind
	vs := violations(kind) with input as input.input
}`;
  const dispatch = kinds.map((kind) => `violations(${JSON.stringify(kind)}) := data.${packageOf(sources.templates.get(kind)!)}.violation`);
  return `package ${AGGREGATE_PACKAGE}\n\nimport future.keywords.contains\nimport future.keywords.if\nimport future.keywords.in\n\n${[results, group, single, ...dispatch].join('\n\n')}\n`;
}

async function buildWasm(opa: string, sources: RegoSources, kinds: string[], entrypoints: string[], aggregate: string, out: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kubeharden-opa-'));
  try {
    const files: string[] = [];
    kinds.forEach((k, i) => {
      const f = join(work, `t${i}-${k.toLowerCase()}.rego`);
      writeFileSync(f, sources.templates.get(k)!);
      files.push(f);
    });
    const agg = join(work, 'aggregate.rego');
    writeFileSync(agg, aggregate);
    files.push(agg);
    sources.libs.forEach((lib, i) => {
      const f = join(work, `lib${i}.rego`);
      writeFileSync(f, lib);
      files.push(f);
    });
    const bundle = join(work, 'bundle.tar.gz');
    const args = ['build', '-t', 'wasm', ...(sources.v0 ? ['--v0-compatible'] : []), ...entrypoints.flatMap((e) => ['-e', e]), '-o', bundle, ...files];
    try {
      await exec(opa, args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      // opa prints compile errors on stdout.
      throw new KubehardenError('opa_build_failed', `opa build -t wasm failed:\n${e.stderr || e.stdout || e.message}`, [], { cause: err });
    }
    const wasm = extractFromTarGz(readFileSync(bundle), 'policy.wasm');
    mkdirSync(join(out, '..'), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, wasm);
    renameSync(tmp, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads one file out of a gzipped tar (the OPA bundle stores `/policy.wasm`, with a leading slash). */
export function extractFromTarGz(gz: Uint8Array, name: string): Uint8Array {
  const tar = gunzipSync(gz);
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const entry = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    const body = off + 512;
    if (entry.replace(/^\/+/, '') === name) return Buffer.from(tar.subarray(body, body + size));
    off = body + Math.ceil(size / 512) * 512;
  }
  throw new KubehardenError('opa_build_failed', `opa bundle has no ${name}`);
}
