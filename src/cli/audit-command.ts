/** `kubeharden audit`: evaluate arbitrary manifests offline through the bundle's WASM policies. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { resolveConfig, PROFILES } from '../config/resolve.js';
import { compileResolved, type CompiledCluster } from '../compile.js';
import { loadEvaluator, objectsOf } from '../eval/bundle.js';
import { displayPath, expandPaths, parseManifests, readManifestFile, type ParseError, type ParsedResource } from '../eval/manifests.js';
import { podsOf, type Action, type Obj } from '../eval/review.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFinding, type EngineName } from '../eval/engines.js';
import type { Logger } from '../engines/index.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../pss/versions.js';
import { compileConfigFile, parse, UsageError, type Io } from './main.js';
import { table } from './output.js';
import type { ProfileName } from '../config/types.js';

export interface ResourceResult {
  source: string;
  index: number;
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  verdict: 'deny' | 'allow';
  violations: { control: string; action: Action; message: string; engine: EngineName }[];
}

/**
 * Findings per resource (same order as `objects`) from one engine. The real engines get each resource under
 * a unique name and, for Pods and workloads without a namespace, in `default` (as kubectl would create them),
 * so their results map back to the input exactly.
 */
async function findingsBy(engine: EngineName, cc: CompiledCluster, objects: readonly Obj[], log: Logger): Promise<EngineFinding[][]> {
  if (engine === 'wasm') {
    const ev = await loadEvaluator(cc, log);
    return objects.map((o) => ev.evaluate(o).map((f) => ({ control: f.control, action: f.action, message: f.message })));
  }
  const renamed = objects.map((o, i) => {
    const md = (o['metadata'] ?? {}) as Obj;
    const namespaced = podsOf(o, 'default').length > 0;
    return { ...o, metadata: { ...md, name: `kubeharden-${i}`, ...(namespaced && !md['namespace'] ? { namespace: 'default' } : {}) } };
  });
  const b = objectsOf(cc);
  const found =
    engine === 'gator'
      ? await gatorFindings([...b.templates, ...b.constraints, ...b.expansions], renamed, log)
      : await kyvernoFindings(b.policies, renamed, log, b.exceptions);
  return renamed.map((o) => found.get(keyOf(o)) ?? []);
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
    },
  });
  if (!positionals.length) throw new UsageError('give one or more files, directories, or - for stdin');
  const format = values.format;
  if (!FORMATS.includes(format as Format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
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

  // Read inputs.
  const resources: ParsedResource[] = [];
  const errors: ParseError[] = [];
  const paths = positionals.filter((p) => p !== '-');
  if (positionals.includes('-')) {
    const parsed = parseManifests(await io.readStdin(), '-');
    resources.push(...parsed.resources);
    errors.push(...parsed.errors);
  }
  const { files, missing } = expandPaths(paths, io.cwd);
  for (const m of missing) errors.push({ source: m, index: 0, line: 0, message: 'no such file or directory' });
  for (const f of files) {
    const source = displayPath(f, io.cwd);
    try {
      const parsed = readManifestFile(f, source);
      resources.push(...parsed.resources);
      errors.push(...parsed.errors);
    } catch (err) {
      errors.push({ source, index: 0, line: 0, message: err instanceof Error ? err.message : String(err) });
    }
  }

  const perEngine = await Promise.all(engines.map((e) => findingsBy(e, cc, resources.map((r) => r.object), (l) => io.err(l))));
  const results: ResourceResult[] = resources.map((r, i) => {
    const md = (r.object['metadata'] ?? {}) as Obj;
    const findings = engines.flatMap((engine, e) => perEngine[e]![i]!.map((f) => ({ ...f, engine })));
    if (engines.length > 1) {
      for (const d of disagreements(engines, perEngine.map((p) => p[i]!))) errors.push({ source: r.source, index: r.index, line: r.line, message: d });
    }
    return {
      source: r.source,
      index: r.index,
      apiVersion: String(r.object['apiVersion']),
      kind: String(r.object['kind']),
      namespace: typeof md['namespace'] === 'string' ? md['namespace'] : null,
      name: typeof md['name'] === 'string' ? md['name'] : '',
      verdict: findings.some((f) => f.action === 'deny') ? 'deny' : 'allow',
      violations: findings.map((f) => ({ control: f.control, action: f.action, message: f.message, engine: f.engine })),
    };
  });
  const summary = {
    resources: results.length,
    denied: results.filter((r) => r.verdict === 'deny').length,
    warned: results.filter((r) => r.violations.some((v) => v.action === 'warn')).length,
    audited: results.filter((r) => r.violations.some((v) => v.action === 'audit')).length,
    errors: errors.length,
  };
  const errorList = errors.map((e) => ({ source: e.source, index: e.index, line: e.line, message: e.message }));
  const chunks: string[] = [];
  const emit = (s: string): void => void (values.output ? chunks.push(`${s}\n`) : io.out(s));
  if (format === 'json') {
    emit(JSON.stringify({ summary, resources: results, errors: errorList }, null, 2));
  } else if (format === 'jsonl') {
    for (const r of results) emit(JSON.stringify({ resource: r }));
    for (const e of errorList) emit(JSON.stringify({ error: e }));
    emit(JSON.stringify({ summary }));
  } else if (format === 'junit') {
    emit(junit(results, errorList, cc.ir.controls.map((c) => c.control)));
  } else {
    for (const e of errors) io.err(`${e.source}${e.line ? `:${e.line}` : ''}: ${e.message}`);
    const rows: string[][] = [];
    for (const r of results) {
      const what = `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
      if (!r.violations.length) rows.push([r.verdict.toUpperCase(), what, '', '', `${r.source}#${r.index}`]);
      for (const v of r.violations) rows.push([r.verdict.toUpperCase(), what, v.control, `${engines.length > 1 ? `[${v.engine}] ` : ''}${v.action}: ${v.message}`, `${r.source}#${r.index}`]);
    }
    if (rows.length) emit(table(['VERDICT', 'RESOURCE', 'CONTROL', 'MESSAGE', 'SOURCE'], rows));
    emit(`${summary.resources} resources: ${summary.denied} denied, ${summary.warned} warned, ${summary.audited} audited, ${summary.errors} errors (${cc.cluster.profile}, Kubernetes ${cc.cluster.version})`);
  }
  if (values.output) writeAtomically(resolvePath(io.cwd, values.output), chunks.join(''));
  if (errors.length) return 2;
  const failing: readonly string[] = failOn === 'never' ? [] : FAIL_ON.slice(0, FAIL_ON.indexOf(failOn as FailOn) + 1);
  return results.some((r) => r.violations.some((v) => failing.includes(v.action))) ? 1 : 0;
}

const FORMATS = ['table', 'json', 'jsonl', 'junit'] as const;
type Format = (typeof FORMATS)[number];
/** Thresholds in order: `--fail-on X` fails on X and every action before it (`never` never fails). */
const FAIL_ON = ['deny', 'warn', 'audit', 'never'] as const;
type FailOn = (typeof FAIL_ON)[number];

function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.kubeharden-${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/**
 * JUnit XML: one testsuite per source file, one testcase per resource × enabled control. A deny is a
 * failure; warn/audit findings pass and are listed in system-out; input errors are error testcases.
 */
export function junit(results: readonly ResourceResult[], errors: readonly { source: string; index: number; line: number; message: string }[], controls: readonly string[]): string {
  const esc = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
  const sources = [...new Set([...results.map((r) => r.source), ...errors.map((e) => e.source)])];
  let tests = 0;
  let failures = 0;
  const suites = sources.map((source) => {
    const cases: string[] = [];
    let suiteFailures = 0;
    let suiteErrors = 0;
    for (const r of results.filter((x) => x.source === source)) {
      const what = `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
      for (const control of controls) {
        const vs = r.violations.filter((v) => v.control === control);
        const denied = vs.filter((v) => v.action === 'deny');
        const head = `    <testcase classname="${esc(`${source}#${r.index}`)}" name="${esc(`${what} ${control}`)}">`;
        if (denied.length) {
          suiteFailures++;
          cases.push(`${head}\n      <failure message="${esc(denied[0]!.message)}" type="deny">${esc(denied.map((v) => v.message).join('\n'))}</failure>\n    </testcase>`);
        } else if (vs.length) cases.push(`${head}\n      <system-out>${esc(vs.map((v) => `${v.action}: ${v.message}`).join('\n'))}</system-out>\n    </testcase>`);
        else cases.push(`${head}</testcase>`);
      }
    }
    for (const e of errors.filter((x) => x.source === source)) {
      suiteErrors++;
      cases.push(`    <testcase classname="${esc(`${source}#${e.index}`)}" name="${esc(`document at line ${e.line}`)}">\n      <error message="${esc(e.message)}" type="input"/>\n    </testcase>`);
    }
    tests += cases.length;
    failures += suiteFailures;
    return `  <testsuite name="${esc(source)}" tests="${cases.length}" failures="${suiteFailures}" errors="${suiteErrors}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubeharden audit" tests="${tests}" failures="${failures}" errors="${errors.length}">\n${suites.join('\n')}\n</testsuites>`;
}
