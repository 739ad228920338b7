/**
 * `kubeharden audit`: evaluate manifests offline. The WASM engine streams the input through worker
 * threads (src/audit/pipeline.ts); gator and the Kyverno CLI get the whole input at once.
 */
import { closeSync, createWriteStream, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resolveConfig, PROFILES } from '../config/resolve.js';
import { compileResolved, type CompiledCluster } from '../compile.js';
import { evaluatorSpec, objectsOf } from '../eval/bundle.js';
import { displayPath, expandPaths } from '../eval/manifests.js';
import { prescan } from '../audit/prescan.js';
import { namespaceDrift, psaSpec, pssTemplates } from '../audit/psa.js';
import type { ItemFinding } from '../audit/job.js';
import type { EvaluatorSpec } from '../eval/evaluator-spec.js';
import { CLUSTER_SCOPED_KINDS, type Obj } from '../eval/review.js';
import { loadPolicyModule, sourcesOf } from '../eval/wasm.js';
import { auditInputs, defaultWorkers, type AuditedItem, type AuditedResource } from '../audit/pipeline.js';
import { fileInput, type AuditInput } from '../audit/input.js';
import {
  jsonlReporter,
  jsonReporter,
  junitReporter,
  sarifReporter,
  SummaryCounter,
  tableReporter,
  type InputError,
  type ReportContext,
  type Reporter,
  type ResourceResult,
  type Violation,
} from '../audit/report.js';
import { getControl, type ControlId } from '../controls/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFinding, type EngineName } from '../eval/engines.js';
import type { Logger } from '../engines/index.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../pss/versions.js';
import { parse, UsageError } from './args.js';
import { compileConfigFile } from './compile-config.js';
import type { Io } from './io.js';
import type { ProfileName } from '../config/types.js';

/**
 * Findings per resource (same order as `objects`) from one engine. The real engines see each resource under
 * its own name and namespace (name-based rules such as exempt roles, name exceptions and Namespace objects
 * depend on them); a namespaced object without a namespace is evaluated in `default`, as kubectl would create
 * it. Inputs that share kind, namespace and name go to separate runs, so every result maps back to exactly
 * one input. An object without a name gets a temporary one, put back in the messages.
 */
async function findingsBy(engine: 'gator' | 'kyverno', cc: CompiledCluster, objects: readonly Obj[], log: Logger): Promise<EngineFinding[][]> {
  const runs: { object: Obj; index: number }[][] = [];
  const seen = new Map<string, number>();
  const temporary = new Map<number, string>();
  objects.forEach((o, index) => {
    const md = (o['metadata'] ?? {}) as Obj;
    const namespaced = !CLUSTER_SCOPED_KINDS.has(String(o['kind']));
    const named = typeof md['name'] === 'string' && md['name'] !== '';
    if (!named) temporary.set(index, `kubeharden-unnamed-${index}`);
    const object = named && (!namespaced || md['namespace']) ? o : { ...o, metadata: { ...md, ...(named ? {} : { name: temporary.get(index) }), ...(namespaced && !md['namespace'] ? { namespace: 'default' } : {}) } };
    const key = keyOf(object);
    const run = seen.get(key) ?? 0;
    seen.set(key, run + 1);
    (runs[run] ??= []).push({ object, index });
  });
  const b = objectsOf(cc);
  const out: EngineFinding[][] = objects.map(() => []);
  for (const batch of runs) {
    const resources = batch.map((x) => x.object);
    const found =
      engine === 'gator'
        ? await gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources, log)
        : await kyvernoFindings(b.policies, resources, log, b.exceptions);
    for (const { object, index } of batch) {
      const name = temporary.get(index);
      const findings = found.get(keyOf(object)) ?? [];
      out[index] = name === undefined ? findings : findings.map((f) => ({ ...f, message: f.message.split(name).join('') }));
    }
  }
  return out;
}

/** Per control, whether each engine found a violation; a split is reported. */
export function disagreements(engines: readonly EngineName[], findings: readonly (readonly EngineFinding[])[]): string[] {
  const controls = [...new Set(findings.flatMap((f) => f.map((x) => x.control)))].sort();
  const out: string[] = [];
  for (const c of controls) {
    const verdicts = engines.map((e, i) => `${e} ${findings[i]!.some((f) => f.control === c) ? 'deny' : 'allow'}`);
    if (new Set(verdicts.map((v) => v.split(' ')[1])).size > 1) out.push(`engines disagree on ${c}: ${verdicts.join(', ')}`);
  }
  return out;
}

export async function runAudit(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args: [...args],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      profile: { type: 'string' },
      'kubernetes-version': { type: 'string' },
      cluster: { type: 'string' },
      format: { type: 'string', default: 'table' },
      engine: { type: 'string', default: 'wasm' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string', default: 'deny' },
      workers: { type: 'string' },
    },
  });
  if (!positionals.length) throw new UsageError('give one or more files, directories, or - for stdin');
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const failOn = values['fail-on'];
  if (!FAIL_ON.includes(failOn as FailOn)) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}, got "${failOn}"`);
  if (values.config && values.profile) throw new UsageError('use either --config or --profile, not both');
  const engineArg = values.engine;
  if (!['wasm', 'gator', 'kyverno', 'all'].includes(engineArg)) throw new UsageError(`--engine must be wasm, gator, kyverno or all, got "${engineArg}"`);
  const engines = (engineArg === 'all' ? ['wasm', 'gator', 'kyverno'] : [engineArg]) as EngineName[];
  const version = values['kubernetes-version'];
  if (version !== undefined && !isSupportedVersion(version)) {
    throw new UsageError(`--kubernetes-version must be one of ${SUPPORTED_VERSIONS[0]}…${SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]} (e.g. 1.37), got "${version}"`);
  }
  let workers: number | undefined;
  if (values.workers !== undefined) {
    if (!/^\d+$/.test(values.workers)) throw new UsageError(`--workers must be a whole number (0 evaluates on the main thread), got "${values.workers}"`);
    workers = Number(values.workers);
  }

  let clusters: readonly CompiledCluster[];
  if (values.profile !== undefined) {
    if (!(values.profile in PROFILES)) throw new UsageError(`unknown profile "${values.profile}"; built-in profiles: ${Object.keys(PROFILES).join(', ')}`);
    const resolved = resolveConfig({ profile: values.profile as ProfileName, ...(version ? { kubernetesVersion: version } : {}) });
    clusters = compileResolved(resolved.config!).clusters;
  } else {
    if (version !== undefined) throw new UsageError('--kubernetes-version goes with --profile; a config sets kubernetesVersion itself');
    const compiled = await compileConfigFile(io, values.config);
    if (!compiled) return 2;
    clusters = compiled.result.clusters;
  }
  let cc: CompiledCluster;
  if (values.cluster !== undefined) {
    const found = clusters.find((c) => c.cluster.name === values.cluster);
    if (!found) throw new UsageError(`no cluster "${values.cluster}" in the config (clusters: ${clusters.map((c) => c.cluster.name).join(', ')})`);
    cc = found;
  } else if (clusters.length > 1) {
    throw new UsageError(`the config has several clusters; choose one with --cluster (${clusters.map((c) => c.cluster.name).join(', ')})`);
  } else cc = clusters[0]!;

  // Inputs, in the order given; directories expand to their manifest files, sorted.
  const inputs: AuditInput[] = [];
  const missing: string[] = [];
  let totalBytes = 0;
  let sizeKnown = true;
  let spooled: string | undefined;
  for (const p of positionals) {
    if (p === '-') {
      // Standard input is spooled to a file: it is read twice (Namespace labels first), never held in memory.
      if (spooled === undefined) {
        spooled = join(mkdtempSync(join(tmpdir(), 'kubeharden-stdin-')), 'stdin.yaml');
        await pipeline(Readable.from(io.stdin ? io.stdin() : [await io.readStdin()]), createWriteStream(spooled));
      }
      const size = statSync(spooled).size;
      totalBytes += size;
      inputs.push(fileInput(spooled, '-', size));
      continue;
    }
    const found = expandPaths([p], io.cwd);
    missing.push(...found.missing);
    for (const f of found.files) {
      let size: number | undefined;
      try {
        size = statSync(f).size;
        totalBytes += size;
      } catch {
        // Reported when read.
      }
      inputs.push(fileInput(f, displayPath(f, io.cwd), size));
    }
  }

  const log: Logger = (l) => io.err(l);
  const out = values.output ? atomicWriter(resolvePath(io.cwd, values.output)) : { write: io.out, commit: () => {}, abort: () => {} };
  const ctx: ReportContext = {
    rules: cc.ir.controls.map((c) => {
      const def = getControl(c.control as ControlId);
      return { id: def.id, title: def.title, description: def.description, details: def.details, severity: def.severity, nsa: def.nsa };
    }),
    profile: cc.cluster.profile,
    kubernetesVersion: cc.cluster.version,
    cluster: cc.cluster.name,
    engines,
    toolVersion: PACKAGE_VERSION,
  };
  const reporter = reporterFor(format, out.write, (l) => io.err(l), ctx);
  const counter = new SummaryCounter(ctx.rules);
  let failing = false;
  const failingActions: readonly string[] = failOn === 'never' ? [] : FAIL_ON.slice(0, FAIL_ON.indexOf(failOn as FailOn) + 1);
  const report = (r: ResourceResult): void => {
    counter.resource(r);
    reporter.resource(r);
    if (r.violations.some((v) => failingActions.includes(v.action))) failing = true;
  };
  const reportError = (e: InputError): void => {
    counter.error();
    reporter.error(e);
  };
  for (const m of missing) reportError({ source: m, index: 0, line: 0, message: 'no such file or directory' });

  // Progress: only for people (a TTY on stderr, the table format), never in machine formats.
  const progress = format === 'table' ? io.progress : undefined;
  let lastProgress = 0;
  const started = Date.now();
  const onProgress = progress
    ? (bytes: number, items: number): void => {
        const now = Date.now();
        if (now - lastProgress < 100) return;
        lastProgress = now;
        const pct = sizeKnown && totalBytes > 0 ? ` (${Math.min(100, Math.floor((bytes / totalBytes) * 100))}%)` : '';
        const rate = items / Math.max(0.001, (now - started) / 1000);
        progress(`auditing: ${items} resources, ${(bytes / 1e6).toFixed(1)}${sizeKnown ? `/${(totalBytes / 1e6).toFixed(1)}` : ''} MB${pct}, ${Math.round(rate)}/s`);
      }
    : undefined;

  try {
    // Namespace objects of the input give their namespaces' Pod Security Admission labels.
    const inputNamespaces = await scanNamespaces(inputs);
    const drift: Record<string, string> = {};
    for (const [name, ns] of inputNamespaces) {
      const d = namespaceDrift(cc, name, ns.labels);
      if (d) drift[name] = d;
    }
    const bundleSpec = evaluatorSpec(cc);
    const known = new Set(bundleSpec.templates.map(([k]) => k));
    const extra = sourcesOf(pssTemplates(cc).filter((t) => !known.has(t.spec.crd.spec.names.kind)));
    const spec: EvaluatorSpec = {
      ...bundleSpec,
      templates: [...bundleSpec.templates, ...extra.templates.entries()],
      libs: [...new Set([...bundleSpec.libs, ...extra.libs])],
      psa: { ...psaSpec(cc, inputNamespaces), drift },
    };
    // Compile (or find in the cache) before workers start, so that they only load it.
    await loadPolicyModule({ templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 }, log);
    const threads = workers ?? (sizeKnown && totalBytes < SMALL_INPUT ? 0 : defaultWorkers());
    const toResult = (item: AuditedResource, violations: Violation[]): ResourceResult => ({
      source: item.source,
      index: item.index,
      line: item.line,
      apiVersion: item.apiVersion,
      kind: item.kind,
      namespace: item.namespace,
      name: item.name,
      verdict: violations.some((v) => v.action === 'deny') ? 'deny' : 'allow',
      violations,
    });
    if (engines.length === 1 && engines[0] === 'wasm') {
      await auditInputs(
        inputs,
        spec,
        (item) => {
          if ('error' in item) reportError({ source: item.source, index: item.index, line: item.line, message: item.error });
          else report(toResult(item, item.findings.map(violationOf)));
        },
        { workers: threads, ...(onProgress ? { onProgress } : {}) },
      );
    } else {
      // gator and the Kyverno CLI take the whole input at once: collect it (with the WASM findings).
      const items: AuditedItem[] = [];
      await auditInputs(inputs, spec, (item) => items.push(item), { workers: threads, keepObjects: true, ...(onProgress ? { onProgress } : {}) });
      const resources = items.filter((i): i is AuditedResource => !('error' in i));
      const objects = resources.map((r) => r.object!);
      // Findings of the bundle's policies are compared across engines; those from PSA labels and from facts
      // elsewhere in the input (legacy token Secrets) have no engine counterpart and are reported once.
      const policyFindings = resources.map((r) => r.findings.filter((f) => f.source === undefined));
      const perEngine = await Promise.all(engines.map((e) => (e === 'wasm' ? Promise.resolve(policyFindings as EngineFinding[][]) : findingsBy(e, cc, objects, log))));
      let k = 0;
      for (const item of items) {
        if ('error' in item) {
          reportError({ source: item.source, index: item.index, line: item.line, message: item.error });
          continue;
        }
        const i = k++;
        const uncompared = resources[i]!.findings.filter((f) => f.source !== undefined).map(violationOf);
        const violations = [...engines.flatMap((engine, e) => perEngine[e]![i]!.map((f) => ({ control: f.control, action: f.action, message: f.message, engine }))), ...uncompared];
        report(toResult(item, violations));
        if (engines.length > 1) {
          for (const d of disagreements(engines, perEngine.map((p) => p[i]!))) reportError({ source: item.source, index: item.index, line: item.line, message: d });
        }
      }
    }
    progress?.('');
    const summary = counter.final();
    reporter.finish(summary);
    out.commit();
    if (summary.errors) return 2;
    return failing ? 1 : 0;
  } catch (err) {
    progress?.('');
    out.abort();
    throw err;
  } finally {
    if (spooled) rmSync(dirname(spooled), { recursive: true, force: true });
  }
}

function violationOf(f: ItemFinding): Violation {
  return { control: f.control, action: f.action, message: f.message, engine: f.source ?? 'wasm' };
}

const NAMESPACE_DOC = /^[ \t-]*["']?kind["']?[ \t]*:[ \t]*["']?Namespace["']?[ \t]*,?[ \t]*$|"kind"\s*:\s*"Namespace"/m;

/**
 * The Namespace objects of the inputs (a first, cheap pass: only documents that mention `kind: Namespace`
 * are parsed). The last definition of a namespace wins, as when the input is applied in order.
 */
async function scanNamespaces(inputs: readonly AuditInput[]): Promise<Map<string, { labels: Record<string, string>; source: string }>> {
  const found = new Map<string, { labels: Record<string, string>; source: string }>();
  await prescan(inputs, NAMESPACE_DOC, (r, source) => {
    const md = (r.object['metadata'] ?? {}) as { name?: unknown; labels?: unknown };
    if (r.object['kind'] !== 'Namespace' || typeof md.name !== 'string') return;
    const labels = md.labels && typeof md.labels === 'object' ? Object.fromEntries(Object.entries(md.labels).filter(([, v]) => typeof v === 'string')) : {};
    found.set(md.name, { labels: labels as Record<string, string>, source: `${source}:${r.line}` });
  });
  return found;
}

const FORMATS = ['table', 'json', 'jsonl', 'sarif', 'junit'] as const;
type Format = (typeof FORMATS)[number];
/** Thresholds in order: `--fail-on X` fails on X and every action before it (`never` never fails). */
const FAIL_ON = ['deny', 'warn', 'audit', 'never'] as const;
type FailOn = (typeof FAIL_ON)[number];
/** Below this much input, worker threads cost more to start than they save. */
const SMALL_INPUT = 1 << 20;

function reporterFor(format: Format, write: (s: string) => void, writeErr: (s: string) => void, ctx: ReportContext): Reporter {
  switch (format) {
    case 'json':
      return jsonReporter(write);
    case 'jsonl':
      return jsonlReporter(write);
    case 'sarif':
      return sarifReporter(write, ctx);
    case 'junit':
      return junitReporter(write, ctx);
    default:
      return tableReporter(write, writeErr, ctx);
  }
}

/** Lines written to a temporary file next to `path`, renamed over it on commit (never a partial report). */
function atomicWriter(path: string): { write: (s: string) => void; commit: () => void; abort: () => void } {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.kubeharden-${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write: (s) => void writeSync(fd, `${s}\n`),
    commit: () => {
      close();
      renameSync(tmp, path);
    },
    abort: () => {
      close();
      rmSync(tmp, { force: true });
    },
  };
}
