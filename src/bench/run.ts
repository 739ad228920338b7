/**
 * `npm run bench`: the offline audit benchmark. Generates a reproducible corpus, compiles the repository's
 * own policies.config.ts, and measures on this machine, with the same policies and resources:
 * `kubeharden audit` (WASM), `gator test` on the Gatekeeper bundle, `kyverno apply` on the Kyverno bundle,
 * and the floors (reading and parsing the same files with kubeharden's Kubernetes YAML reader, with js-yaml
 * and with the `yaml` package, on block YAML and on JSON; CPU per resource and the ratios, with the start-up
 * of an empty run subtracted). Prints wall time, resources per
 * second, peak RSS and the ratios, checks that the engines returned the same verdicts, and runs the audit
 * again on a 10× corpus to show how memory grows.
 *
 * Options: --resources N (10000), --seed N (1), --kyverno-resources N|all (50: the Kyverno CLI compiles
 * every ValidatingPolicy again for each resource, seconds per resource against the whole bundle, so by
 * default it runs on the first N resources of the same corpus and its rate is compared), --no-scale (skip
 * the 10× memory run), --keep (keep the work directory),
 * --list-items N (20000): the cluster-dump case, a `kind: List` of N items (as `kubectl get -A -o yaml|json`
 * prints it) against the same objects as separate documents; --only list runs that case alone,
 * --no-list skips it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compile } from '../compile.js';
import { findConfig, loadConfig } from '../config/load.js';
import { objectsOf } from '../eval/bundle.js';
import { gatorArgs, kyvernoArgs, kyvernoWarningsAsErrors, parseGatorOutput, parseKyvernoOutput, resourceKey, type EngineFindings } from '../eval/engines.js';
import { ensureEngine, ENGINES } from '../engines/index.js';
import { toYaml } from '../emit/yaml.js';
import { corpusDocuments, writeCorpus, type CorpusStats } from './corpus.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'kubeharden.js');
const FLOOR = join(ROOT, 'dist', 'bench', 'parse-floor.js');

interface Measured {
  readonly label: string;
  readonly resources: number;
  readonly seconds: number;
  readonly rssMB: number;
  readonly rssExact: boolean;
  /** User + system CPU seconds (GNU time), NaN when unknown. */
  readonly cpu: number;
  readonly code: number;
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** Runs a command with stdout to a file; wall time, and peak RSS from GNU time (or /proc polling). */
async function measure(label: string, resources: number, cmd: string, args: readonly string[], stdoutFile: string, cwd = ROOT): Promise<Measured> {
  log(`bench: ${label} on ${resources} resources…`);
  const gnuTime = existsSync('/usr/bin/time');
  const timeFile = `${stdoutFile}.time`;
  const out = openSync(stdoutFile, 'w');
  const err = openSync(`${stdoutFile}.err`, 'w');
  const started = process.hrtime.bigint();
  let peakKB = 0;
  const code = await new Promise<number>((resolve, reject) => {
    const child = gnuTime ? spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, cmd, ...args], { cwd, stdio: ['ignore', out, err] }) : spawn(cmd, [...args], { cwd, stdio: ['ignore', out, err] });
    const poll = gnuTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKB = Math.max(peakKB, Number(m[1]));
          } catch {
            // The process is gone.
          }
        }, 5);
    child.on('error', reject);
    child.on('close', (c) => {
      if (poll) clearInterval(poll);
      resolve(c ?? -1);
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(out);
  closeSync(err);
  let cpu = Number.NaN;
  if (gnuTime) {
    const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    peakKB = kb!;
    cpu = user! + sys!;
  }
  const m: Measured = { label, resources, seconds, rssMB: peakKB / 1024, rssExact: gnuTime, cpu, code };
  log(`bench: ${label}: ${seconds.toFixed(2)} s, ${(resources / seconds).toFixed(0)} resources/s, ${cpu.toFixed(2)} s CPU, peak RSS ${m.rssMB.toFixed(0)} MB`);
  return m;
}

/** Violated controls per resource key, as `key → sorted "control:action" list`. */
type Verdicts = Map<string, string[]>;

function verdictsOf(findings: EngineFindings): Verdicts {
  const out: Verdicts = new Map();
  for (const [key, list] of findings) out.set(key, [...new Set(list.map((f) => `${f.control}:${f.action}`))].sort());
  return out;
}

function oursVerdicts(jsonl: string): { verdicts: Verdicts; resources: number } {
  const verdicts: Verdicts = new Map();
  let resources = 0;
  for (const line of jsonl.split('\n')) {
    if (!line.startsWith('{"resource"')) continue;
    const r = (JSON.parse(line) as { resource: { kind: string; namespace: string | null; name: string; violations: { control: string; action: string; engine: string }[] } }).resource;
    resources++;
    // The policies' verdicts (Pod Security Admission findings have no counterpart in gator or Kyverno).
    const policy = r.violations.filter((v) => v.engine !== 'psa');
    if (policy.length) verdicts.set(resourceKey(r.kind, r.namespace, r.name), [...new Set(policy.map((v) => `${v.control}:${v.action}`))].sort());
  }
  return { verdicts, resources };
}

/** Differences between two engines' verdicts over the given resource keys (all keys of both when absent). */
function compareVerdicts(a: Verdicts, b: Verdicts, keys?: ReadonlySet<string>): string[] {
  const all = keys ?? new Set([...a.keys(), ...b.keys()]);
  const diffs: string[] = [];
  for (const k of [...all].sort()) {
    const x = (a.get(k) ?? []).join(',');
    const y = (b.get(k) ?? []).join(',');
    if (x !== y) diffs.push(`${k}: ${x || 'allow'} vs ${y || 'allow'}`);
  }
  return diffs;
}

function keysOfCorpus(dir: string): Set<string> {
  const keys = new Set<string>();
  for (const f of readdirSync(dir)) {
    for (const doc of readFileSync(join(dir, f), 'utf8').split(/^---$/m)) {
      const kind = /^kind: (.+)$/m.exec(doc)?.[1];
      const meta = /^metadata:\n((?:  .*\n?)*)/m.exec(doc)?.[1] ?? '';
      const name = /^  name: (.+)$/m.exec(meta)?.[1];
      const namespace = /^  namespace: (.+)$/m.exec(meta)?.[1];
      if (kind && name) keys.add(resourceKey(kind, namespace, name));
    }
  }
  return keys;
}

/**
 * The cluster-dump case: the same objects as one `kind: List` (YAML as kubectl prints it, and JSON) and as
 * separate documents; each audited with the same bundle. Rows for the report, and whether every run
 * reported every item with the same verdicts.
 */
async function listCase(items: number, seed: number, configFile: string, work: string): Promise<{ rows: string[]; ok: boolean; runs: Measured[] }> {
  const objects = [...corpusDocuments({ resources: items, seed })];
  const list = { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } };
  const files = { documents: join(work, 'list-docs.yaml'), yaml: join(work, 'list.yaml'), json: join(work, 'list.json') };
  writeFileSync(files.documents, toYaml(objects, { header: false }));
  writeFileSync(files.yaml, toYaml(list, { header: false }));
  writeFileSync(files.json, `${JSON.stringify(list, null, 4)}\n`);
  const audit = (label: string, file: string, out: string): Promise<Measured> =>
    measure(label, items, process.execPath, [BIN, 'audit', '--config', configFile, '--format', 'jsonl', '--output', join(work, out), '--fail-on', 'never', file], join(work, `${out}.out`));
  const docs = await audit(`${items} documents`, files.documents, 'list-docs.jsonl');
  const yaml = await audit(`one List of ${items} items, YAML`, files.yaml, 'list-yaml.jsonl');
  const json = await audit(`one List of ${items} items, JSON`, files.json, 'list-json.jsonl');
  const verdicts = (f: string): string[] =>
    readFileSync(join(work, f), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"resource"'))
      .map((l) => {
        const r = (JSON.parse(l) as { resource: { index: number; kind: string; name: string; verdict: string; violations: { control: string; action: string }[] } }).resource;
        return `${r.index} ${r.kind}/${r.name} ${r.verdict} ${r.violations.map((v) => `${v.control}:${v.action}`).join(',')}`;
      });
  const want = verdicts('list-docs.jsonl');
  const same = (f: string): boolean => {
    const got = verdicts(f);
    return got.length === items && got.every((v, i) => v === want[i]);
  };
  const checks = [
    { what: 'documents', ok: want.length === items },
    { what: 'List, YAML', ok: same('list-yaml.jsonl') },
    { what: 'List, JSON', ok: same('list-json.jsonl') },
  ];
  const row = (m: Measured): string => `| ${m.label} | ${m.resources} | ${m.seconds.toFixed(2)} | ${Math.round(m.resources / m.seconds)} | ${m.rssMB.toFixed(0)}${m.rssExact ? '' : ' (approx.)'} | ${m === docs ? '—' : `${(m.seconds / docs.seconds).toFixed(2)}× the time, ${(m.rssMB / docs.rssMB).toFixed(2)}× the peak RSS of the documents`} |`;
  return {
    rows: [
      `Cluster dump: ${items} objects of the corpus as separate documents and as one kind: List (kubectl get -A -o yaml|json).`,
      '',
      '| run | items | wall s | items/s | peak RSS MB | compared |',
      '|---|---|---|---|---|---|',
      row(docs),
      row(yaml),
      row(json),
      '',
      ...checks.map((c) => `- ${c.what}: ${c.ok ? `${items} items, same verdicts` : 'items missing or verdicts differ'}`),
    ],
    ok: checks.every((c) => c.ok),
    runs: [docs, yaml, json],
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      resources: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      'kyverno-resources': { type: 'string', default: '50' },
      'no-scale': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'list-items': { type: 'string', default: '20000' },
      'no-list': { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const n = Number(values.resources);
  const seed = Number(values.seed);
  const kyvernoN = values['kyverno-resources'] === 'all' ? n : Math.min(n, Number(values['kyverno-resources']));
  const listN = Number(values['list-items']);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(seed) || !Number.isInteger(kyvernoN) || kyvernoN < 1 || !Number.isInteger(listN) || listN < 1 || (values.only !== undefined && values.only !== 'list')) {
    log('usage: npm run bench -- [--resources N] [--seed N] [--kyverno-resources N|all] [--no-scale] [--list-items N] [--no-list | --only list] [--keep]');
    return 2;
  }
  if (values.only === 'list') {
    const configFile = findConfig(ROOT);
    const work = mkdtempSync(join(tmpdir(), 'kubeharden-bench-'));
    // Warm the WASM cache so that the timed runs measure auditing, not `opa build`.
    writeFileSync(join(work, 'warm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warm}\n');
    await measure('warm-up (compile the WASM module)', 1, process.execPath, [BIN, 'audit', '--config', configFile, '--format', 'jsonl', '--fail-on', 'never', join(work, 'warm.yaml')], join(work, 'warm.out'));
    const list = await listCase(listN, seed, configFile, work);
    process.stdout.write(`${list.rows.join('\n')}\n`);
    if (values.keep) log(`bench: results kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
    return list.ok ? 0 : 1;
  }
  const loadStart = loadavg()[0]!;
  const gator = await ensureEngine('gator', log);
  const kyverno = await ensureEngine('kyverno', log);

  // The repository's own bundle.
  const configFile = findConfig(ROOT);
  const cc = compile(await loadConfig(configFile)).clusters[0]!;
  const work = mkdtempSync(join(tmpdir(), 'kubeharden-bench-'));
  const b = objectsOf(cc);
  writeFileSync(join(work, 'gatekeeper.yaml'), toYaml([...b.templates, ...b.constraints, ...b.expansions], { header: false }));
  writeFileSync(join(work, 'kyverno.yaml'), toYaml(b.policies, { header: false }));
  writeFileSync(join(work, 'exceptions.yaml'), toYaml(b.exceptions, { header: false }));
  const hasExceptions = b.exceptions.length > 0;

  log(`bench: writing the corpus (${n} resources, seed ${seed}) to ${work}`);
  const corpus: CorpusStats = writeCorpus(join(work, 'corpus'), { resources: n, seed });
  if (kyvernoN < n) writeCorpus(join(work, 'corpus-kyverno'), { resources: kyvernoN, seed });
  const kyvernoCorpus = kyvernoN < n ? join(work, 'corpus-kyverno') : join(work, 'corpus');

  // Warm the WASM cache so that the timed run measures auditing, not `opa build`.
  const warm = await measure('warm-up (compile the WASM module)', 1, process.execPath, [BIN, 'audit', '--config', configFile, '--format', 'jsonl', '--fail-on', 'never', join(work, 'corpus', 'corpus-0000.yaml')], join(work, 'warm.out'));
  if (warm.code !== 0) throw new Error(`kubeharden audit failed: ${readFileSync(join(work, 'warm.out.err'), 'utf8')}`);

  const floor = await measure('parse floor (kubeharden reader)', n, process.execPath, [FLOOR, join(work, 'corpus')], join(work, 'floor.out'));
  // The parsers' own floors, on block YAML and on JSON (one object per document), and the one-thread audit on JSON.
  writeCorpus(join(work, 'corpus-json'), { resources: n, seed, format: 'json' });
  const floorJs = await measure('js-yaml loadAll', n, process.execPath, [FLOOR, '--parser', 'js-yaml', join(work, 'corpus')], join(work, 'floor-js.out'));
  const floorYaml = await measure('yaml parseAllDocuments', n, process.execPath, [FLOOR, '--parser', 'yaml', join(work, 'corpus')], join(work, 'floor-yaml.out'));
  const floorJson = await measure('parse floor (kubeharden reader), JSON', n, process.execPath, [FLOOR, join(work, 'corpus-json')], join(work, 'floor-json.out'));
  const floorJsJson = await measure('js-yaml loadAll, JSON', n, process.execPath, [FLOOR, '--parser', 'js-yaml', join(work, 'corpus-json')], join(work, 'floor-js-json.out'));
  const floorYamlJson = await measure('yaml parseAllDocuments, JSON', n, process.execPath, [FLOOR, '--parser', 'yaml', join(work, 'corpus-json')], join(work, 'floor-yaml-json.out'));
  // Node's start-up and the policies' WASM load, paid once per run: subtracted to compare per-resource costs.
  const empty = join(work, 'empty.yaml');
  writeFileSync(empty, '');
  const floorStart = await measure('floor start-up', 0, process.execPath, [FLOOR, '--parser', 'js-yaml', empty], join(work, 'floor-start.out'));
  const auditStart = await measure('kubeharden audit --workers 0 start-up', 0, process.execPath, [BIN, 'audit', '--workers', '0', '--config', configFile, '--format', 'jsonl', '--fail-on', 'never', empty], join(work, 'audit-start.out'));
  const ours = await measure('kubeharden audit', n, process.execPath, [BIN, 'audit', '--config', configFile, '--format', 'jsonl', '--output', join(work, 'ours.jsonl'), '--fail-on', 'never', join(work, 'corpus')], join(work, 'ours.out'));
  const ours1 = await measure('kubeharden audit --workers 0', n, process.execPath, [BIN, 'audit', '--workers', '0', '--config', configFile, '--format', 'jsonl', '--output', join(work, 'ours1.jsonl'), '--fail-on', 'never', join(work, 'corpus')], join(work, 'ours1.out'));
  const ours1Json = await measure('kubeharden audit --workers 0, JSON', n, process.execPath, [BIN, 'audit', '--workers', '0', '--config', configFile, '--format', 'jsonl', '--output', join(work, 'ours1-json.jsonl'), '--fail-on', 'never', join(work, 'corpus-json')], join(work, 'ours1-json.out'));
  const gatorRun = await measure('gator test', n, gator, gatorArgs(join(work, 'gatekeeper.yaml'), join(work, 'corpus')), join(work, 'gator.json'));
  const kyvernoRun = await measure('kyverno apply', kyvernoN, kyverno, kyvernoArgs(join(work, 'kyverno.yaml'), kyvernoCorpus, hasExceptions ? join(work, 'exceptions.yaml') : undefined, kyvernoWarningsAsErrors([...b.policies, ...b.exceptions])), join(work, 'kyverno.json'));
  let scaled: Measured | undefined;
  if (!values['no-scale']) {
    writeCorpus(join(work, 'corpus-10x'), { resources: n * 10, seed });
    scaled = await measure('kubeharden audit (10× corpus)', n * 10, process.execPath, [BIN, 'audit', '--config', configFile, '--format', 'jsonl', '--output', join(work, 'ours10.jsonl'), '--fail-on', 'never', join(work, 'corpus-10x')], join(work, 'ours10.out'));
    rmSync(join(work, 'corpus-10x'), { recursive: true, force: true });
  }
  const list = values['no-list'] ? undefined : await listCase(listN, seed, configFile, work);

  // Verdicts: the same per resource and control in every engine.
  const oursOut = oursVerdicts(readFileSync(join(work, 'ours.jsonl'), 'utf8'));
  const ours1Out = oursVerdicts(readFileSync(join(work, 'ours1.jsonl'), 'utf8'));
  const floorOut = JSON.parse(readFileSync(join(work, 'floor.out'), 'utf8')) as { objects: number };
  const read = (f: string): { code: number; stdout: string; stderr: string } => ({ code: 0, stdout: readFileSync(f, 'utf8'), stderr: readFileSync(`${f}.err`, 'utf8') });
  const gatorOut = verdictsOf(parseGatorOutput({ ...read(join(work, 'gator.json')), code: gatorRun.code }));
  const kyvernoOut = verdictsOf(parseKyvernoOutput({ ...read(join(work, 'kyverno.json')), code: kyvernoRun.code }, b.policies));
  const kyvernoKeys = keysOfCorpus(kyvernoCorpus);
  const checks = [
    { what: 'kubeharden audit (1 thread) vs kubeharden audit', diffs: compareVerdicts(oursOut.verdicts, ours1Out.verdicts) },
    { what: `gator test vs kubeharden audit (${n} resources)`, diffs: compareVerdicts(oursOut.verdicts, gatorOut) },
    { what: `kyverno apply vs kubeharden audit (${kyvernoKeys.size} resources)`, diffs: compareVerdicts(oursOut.verdicts, kyvernoOut, kyvernoKeys) },
  ];
  const perResource = (m: Measured, start: Measured): number => Math.max(0, m.cpu - start.cpu) / m.resources;
  const us = (x: number): string => `${(x * 1e6).toFixed(0)} µs`;
  const cpuLines = (what: string, r: { audit: Measured; reader: Measured; js: Measured; yaml: Measured }): string[] => {
    const [audit, reader, js, yaml] = [perResource(r.audit, auditStart), perResource(r.reader, floorStart), perResource(r.js, floorStart), perResource(r.yaml, floorStart)];
    return [
      `- ${what}: audit --workers 0 ${us(audit)}, kubeharden reader ${us(reader)}, js-yaml ${us(js)}, yaml ${us(yaml)}: the reader is ${(reader / js).toFixed(2)}× js-yaml and ${(reader / yaml).toFixed(2)}× yaml; the one-thread audit is ${(audit / js).toFixed(2)}× js-yaml${what === 'block YAML' ? ` (target ≤ 3×: ${audit / js <= 3 ? 'met' : 'NOT met'})` : ''} and ${(audit / yaml).toFixed(2)}× yaml`,
    ];
  };
  const floorJsonOut = JSON.parse(readFileSync(join(work, 'floor-json.out'), 'utf8')) as { objects: number };
  const counts = [
    { what: 'objects parsed by the floor', got: floorOut.objects },
    { what: 'objects parsed by the floor (JSON)', got: floorJsonOut.objects },
    { what: 'objects parsed by js-yaml', got: (JSON.parse(readFileSync(join(work, 'floor-js.out'), 'utf8')) as { objects: number }).objects },
    { what: 'resources reported by kubeharden audit', got: oursOut.resources },
  ];

  // Report.
  const rate = (m: Measured): number => m.resources / m.seconds;
  const row = (m: Measured, vs: string): string =>
    `| ${m.label} | ${m.resources} | ${m.seconds.toFixed(2)} | ${Math.round(rate(m))} | ${m.rssMB.toFixed(0)}${m.rssExact ? '' : ' (approx.)'} | ${vs} |`;
  const speedup = (peer: Measured): number => rate(ours) / rate(peer);
  const lines = [
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; OPA ${ENGINES.opa.version}, gator ${ENGINES.gator.version}, Kyverno CLI ${ENGINES.kyverno.version}.`,
    // Wall times depend on what else runs; the CPU ratios below much less.
    `Load average (1 min) at the start and the end: ${loadStart.toFixed(1)}, ${loadavg()[0]!.toFixed(1)}.`,
    `Corpus: ${corpus.resources} resources in ${corpus.files} files (${(corpus.bytes / 1e6).toFixed(1)} MB, seed ${seed}): ${Object.entries(corpus.kinds).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Bundle: ${cc.cluster.name} (${cc.cluster.profile}, Kubernetes ${cc.cluster.version}): ${b.constraints.length} Gatekeeper constraints, ${b.policies.length} Kyverno policies, ${b.exceptions.length} PolicyExceptions.`,
    '',
    '| run | resources | wall s | resources/s | peak RSS MB | kubeharden audit is |',
    '|---|---|---|---|---|---|',
    row(ours, '—'),
    row(ours1, rate(ours) >= rate(ours1) ? `${(rate(ours) / rate(ours1)).toFixed(1)}× faster with ${availableParallelism()} threads` : `${(rate(ours1) / rate(ours)).toFixed(1)}× slower with ${availableParallelism()} threads`),
    row(gatorRun, `${speedup(gatorRun).toFixed(1)}× faster`),
    row(kyvernoRun, `${speedup(kyvernoRun).toFixed(1)}× faster${kyvernoN < n ? ` (per resource; Kyverno ran on the first ${kyvernoN})` : ''}`),
    row(floor, `${(ours.seconds / floor.seconds).toFixed(2)}× the parse floor`),
    row(floorJs, '—'),
    row(floorYaml, '—'),
    row(ours1Json, '—'),
    row(floorJson, '—'),
    row(floorJsJson, '—'),
    row(floorYamlJson, '—'),
    ...(scaled ? [row(scaled, `peak RSS ${(scaled.rssMB / ours.rssMB).toFixed(2)}× the ${n}-resource run`)] : []),
    '',
    'Targets:',
    `- ≥ 10× faster than kyverno apply: ${speedup(kyvernoRun).toFixed(1)}× — ${speedup(kyvernoRun) >= 10 ? 'met' : 'NOT met'}`,
    `- ≥ 3× faster than gator test: ${speedup(gatorRun).toFixed(1)}× — ${speedup(gatorRun) >= 3 ? 'met' : 'NOT met'}`,
    // The reader is now as fast as js-yaml, so a ratio to it measures evaluation: the parsing yardstick is js-yaml's CPU per resource.
    `- one-thread audit CPU per resource ≤ 3× a bare js-yaml parse (block YAML): ${(perResource(ours1, auditStart) / perResource(floorJs, floorStart)).toFixed(2)}× — ${perResource(ours1, auditStart) <= 3 * perResource(floorJs, floorStart) ? 'met' : 'NOT met'}`,
    `- peak RSS under 300 MB for ${n} resources: ${ours.rssMB.toFixed(0)} MB — ${ours.rssMB < 300 ? 'met' : 'NOT met'}`,
    ...(scaled ? [`- memory flat as input grows 10×: ${ours.rssMB.toFixed(0)} MB → ${scaled.rssMB.toFixed(0)} MB`] : []),
    '',
    `CPU per resource (user + system, start-up of an empty run subtracted: ${floorStart.cpu.toFixed(2)} s for a parser, ${auditStart.cpu.toFixed(2)} s for the audit):`,
    ...cpuLines('block YAML', { audit: ours1, reader: floor, js: floorJs, yaml: floorYaml }),
    ...cpuLines('JSON', { audit: ours1Json, reader: floorJson, js: floorJsJson, yaml: floorYamlJson }),
    '',
    'Verdicts:',
    ...counts.map((c) => `- ${c.what}: ${c.got}${c.got === n ? '' : ` (expected ${n})`}`),
    ...checks.map((c) => `- ${c.what}: ${c.diffs.length === 0 ? 'same verdicts' : `${c.diffs.length} differ, e.g. ${c.diffs.slice(0, 5).join('; ')}`}`),
    ...(list ? ['', ...list.rows] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(work, 'bench.json'), JSON.stringify({ corpus, runs: [ours, ours1, ours1Json, gatorRun, kyvernoRun, floor, floorJs, floorYaml, floorJson, floorJsJson, floorYamlJson, floorStart, auditStart, ...(scaled ? [scaled] : []), ...(list?.runs ?? [])], checks: checks.map((c) => ({ what: c.what, differences: c.diffs.length })) }, null, 2));
  if (values.keep) log(`bench: results kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  const ok = checks.every((c) => c.diffs.length === 0) && counts.every((c) => c.got === n) && (list?.ok ?? true);
  return ok ? 0 : 1;
}

process.exitCode = await main();
