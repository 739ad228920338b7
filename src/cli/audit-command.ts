/** `kubeharden audit`: evaluate arbitrary manifests offline through the bundle's WASM policies. */
import { resolveConfig, PROFILES } from '../config/resolve.js';
import { compileResolved, type CompiledCluster } from '../compile.js';
import { loadEvaluator } from '../eval/bundle.js';
import { displayPath, expandPaths, parseManifests, readManifestFile, type ParseError, type ParsedResource } from '../eval/manifests.js';
import { podsOf, type Action, type Obj } from '../eval/review.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFinding, type EngineName } from '../eval/engines.js';
import type { Logger } from '../engines/index.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../pss/versions.js';
import { compileConfigFile, parse, UsageError, type Io } from './main.js';
import { table } from './output.js';
import type { ProfileName } from '../config/types.js';

interface ResourceResult {
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
  const objectsIn = (prefixes: readonly string[]): object[] =>
    cc.files.filter((f) => 'objects' in f && prefixes.some((p) => f.path.startsWith(p))).flatMap((f) => ('objects' in f ? [...f.objects] : []));
  const found =
    engine === 'gator'
      ? await gatorFindings(objectsIn(['gatekeeper/templates/', 'gatekeeper/constraints/', 'gatekeeper/expansion.yaml']), renamed, log)
      : await kyvernoFindings(objectsIn(['kyverno/']).filter((o) => (o as { kind?: string }).kind === 'ClusterPolicy' && !(o as { metadata: { name: string } }).metadata.name.endsWith('-samples')), renamed, log);
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
    },
  });
  if (!positionals.length) throw new UsageError('give one or more files, directories, or - for stdin');
  const format = values.format;
  if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, got "${format}"`);
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
  if (format === 'json') {
    io.out(JSON.stringify({ summary, resources: results, errors: errors.map((e) => ({ source: e.source, index: e.index, line: e.line, message: e.message })) }, null, 2));
  } else {
    for (const e of errors) io.err(`${e.source}${e.line ? `:${e.line}` : ''}: ${e.message}`);
    const rows: string[][] = [];
    for (const r of results) {
      const what = `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
      if (!r.violations.length) rows.push([r.verdict.toUpperCase(), what, '', '', `${r.source}#${r.index}`]);
      for (const v of r.violations) rows.push([r.verdict.toUpperCase(), what, v.control, `${engines.length > 1 ? `[${v.engine}] ` : ''}${v.action}: ${v.message}`, `${r.source}#${r.index}`]);
    }
    if (rows.length) io.out(table(['VERDICT', 'RESOURCE', 'CONTROL', 'MESSAGE', 'SOURCE'], rows));
    io.out(`${summary.resources} resources: ${summary.denied} denied, ${summary.warned} warned, ${summary.audited} audited, ${summary.errors} errors (${cc.cluster.profile}, Kubernetes ${cc.cluster.version})`);
  }
  if (errors.length) return 2;
  return summary.denied ? 1 : 0;
}
