/** The kubeharden CLI: build, test, audit, list, explain, engines. */
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { PROFILES, inProfile } from '../config/resolve.js';
import { KubehardenError } from '../diagnostics.js';
import { diffBundle, formatDiff, isClean, writeBundle } from '../emit/write.js';
import { table } from '../table.js';
import { CONTROL_IDS, getControl, isControlId } from '../controls/index.js';
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_VERSIONS, isSupportedVersion } from '../pss/versions.js';
import { ENGINES, ensureEngine, findEngine, enginePath, type EngineName } from '../engines/index.js';
import { CONTROL_PLANE, CONTROL_PLANE_BINARIES, controlPlanePath, ensureControlPlaneBinary, findControlPlaneBinary } from '../engines/control-plane.js';
import { parse, UsageError } from './args.js';
import { compileConfigFile } from './compile-config.js';
import type { Io } from './io.js';
import { runTests } from './test-command.js';
import { runAudit } from './audit-command.js';

export type { Io } from './io.js';

const USAGE = `Usage: kubeharden <command> [options]

Commands:
  build [--config F] [--check]       Compile policies.config.ts into generated/ (--check: fail if stale)
  test [--config F] [--engine wasm|apiserver]
                                     Evaluate built-in samples and your fixtures through the WASM policies
                                     (apiserver: on a real kube-apiserver + etcd with the bundle's
                                     control-plane files, PSA labels and namespaces)
  audit <files|dirs|-> [--config F | --profile NAME] [--kubernetes-version 1.NN] [--cluster NAME]
        [--format table|json|jsonl|sarif|junit] [--output FILE] [--fail-on deny|warn|audit|never]
        [--engine wasm|gator|kyverno|all] [--workers N]
                                     Evaluate manifests offline; exit 1 when something reaches --fail-on
  list                               List every control
  explain <control-id>               Show a control's exact semantics and options
  engines [install] [opa|gator|kyverno|apiserver|all]
                                     Show or install the pinned engines (per-user cache)

Exit codes: 0 success, 1 policy failure (denied, stale, failed tests, invalid config), 2 usage or input error.`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'build':
        return await buildCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      case 'audit':
        return await runAudit(rest, io);
      case 'list':
        return listCommand(io);
      case 'explain':
        return explainCommand(rest, io);
      case 'engines':
        return await enginesCommand(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`kubeharden: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`kubeharden ${command}: ${err.message}`);
      return 2;
    }
    if (err instanceof KubehardenError) {
      io.err(`kubeharden ${command}: ${err.message}`);
      return err.code === 'config_not_found' ? 2 : 1;
    }
    throw err;
  }
}



async function buildCommand(args: readonly string[], io: Io): Promise<number> {
  const started = process.hrtime.bigint();
  const { values } = parse({ args: [...args], options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, out: { type: 'string' } } });
  const compiled = await compileConfigFile(io, values.config);
  if (!compiled) return 1;
  const root = values.out ? resolvePath(io.cwd, values.out) : join(dirname(compiled.file), 'generated');
  const shown = relative(io.cwd, root) || '.';
  const ms = (): string => (Number(process.hrtime.bigint() - started) / 1e6).toFixed(0);
  if (values.check) {
    const diff = diffBundle(root, compiled.result.output);
    if (isClean(diff)) {
      io.out(`kubeharden: ${shown}/ is up to date (${compiled.result.output.size} files, ${ms()} ms)`);
      return 0;
    }
    io.err(`kubeharden: ${shown}/ is stale: ${diff.added.length} missing, ${diff.changed.length} changed, ${diff.removed.length} orphaned`);
    io.err(formatDiff(diff, shown));
    io.err('run `kubeharden build` and commit the result');
    return 1;
  }
  const diff = writeBundle(root, compiled.result.output);
  const clusters = compiled.result.clusters.map((c) => c.cluster.name).join(', ');
  io.out(
    `kubeharden: built ${clusters} → ${shown}/ (${compiled.result.output.size} files: ${diff.added.length} added, ${diff.changed.length} updated, ${diff.removed.length} removed) in ${ms()} ms`,
  );
  return 0;
}

async function testCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parse({ args: [...args], options: { config: { type: 'string', short: 'c' }, engine: { type: 'string' } } });
  const engine = values.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'apiserver') throw new UsageError(`--engine must be wasm or apiserver, got "${engine}"`);
  const compiled = await compileConfigFile(io, values.config);
  if (!compiled) return 1;
  return runTests(compiled.result, dirname(compiled.file), io, engine);
}

function listCommand(io: Io): number {
  const rows = CONTROL_IDS.map((id) => {
    const c = getControl(id);
    const profiles = (Object.keys(PROFILES) as (keyof typeof PROFILES)[]).filter((n) => inProfile(n, id));
    return [id, c.pss ? `${c.pss.level}${c.pss.since ? ` ≥1.${c.pss.since}` : ''}` : '—', c.nsa.join(','), profiles.join(',') || '—', c.defaultMode ?? 'enforce'];
  });
  io.out(table(['CONTROL', 'PSS', 'NSA/CISA', 'PROFILES', 'DEFAULT MODE'], rows));
  return 0;
}

function explainCommand(args: readonly string[], io: Io): number {
  const { positionals, values } = parse({ args: [...args], options: { 'kubernetes-version': { type: 'string' } }, allowPositionals: true });
  const id = positionals[0];
  if (!id) throw new UsageError('usage: kubeharden explain <control-id>');
  if (!isControlId(id)) {
    io.err(`kubeharden explain: unknown control "${id}"; run \`kubeharden list\``);
    return 2;
  }
  const v = values['kubernetes-version'] ?? DEFAULT_KUBERNETES_VERSION;
  if (!isSupportedVersion(v)) throw new UsageError(`--kubernetes-version must be one of ${SUPPORTED_VERSIONS.join(', ')}`);
  const c = getControl(id);
  const lines = [`${c.id}: ${c.title}`, '', c.description, '', c.details, ''];
  lines.push(`Category: ${c.category}`, `Severity: ${c.severity}`, `NSA/CISA: ${c.nsa.join(', ')}`);
  if (c.defaultMode) lines.push(`Default mode: ${c.defaultMode} (where the config's defaultMode is enforce; set the control's mode to change it)`);
  if (c.pss) lines.push(`Pod Security Standards: ${c.pss.level}, PSA check ${c.pss.check}${c.pss.since ? `, from 1.${c.pss.since}` : ''}${c.pss.overrides ? `, replaces ${c.pss.overrides}` : ''}`);
  const defaults = c.defaults(v) as Record<string, unknown>;
  const opts = Object.entries(c.options);
  lines.push('', `Options (defaults for Kubernetes ${v}):`);
  if (!opts.length) lines.push('  none');
  for (const [name, spec] of opts) lines.push(`  ${name}: ${spec.description}`, `    default: ${JSON.stringify(defaults[name])}`);
  lines.push('', `Samples: ${c.samples.length} (${c.samples.filter((s) => s.expect === 'deny').length} deny, ${c.samples.filter((s) => s.expect === 'allow').length} allow)`);
  io.out(lines.join('\n'));
  return 0;
}

async function enginesCommand(args: readonly string[], io: Io): Promise<number> {
  const { positionals } = parse({ args: [...args], options: {}, allowPositionals: true });
  const install = positionals[0] === 'install';
  const which = (install ? positionals[1] : positionals[0]) ?? 'all';
  const names: EngineName[] = which === 'all' ? ['opa', 'gator', 'kyverno'] : which === 'apiserver' ? [] : [which as EngineName];
  for (const n of names) if (!(n in ENGINES)) throw new UsageError(`unknown engine "${n}" (opa, gator, kyverno, apiserver, all)`);
  for (const n of names) {
    const spec = ENGINES[n];
    if (install) {
      const p = await ensureEngine(n, (l) => io.err(l));
      io.out(`${n} ${spec.version}: ${p}`);
    } else {
      const p = findEngine(n);
      io.out(`${n} ${spec.version}: ${p ?? `not installed (kubeharden engines install ${n} → ${enginePath(n)}; or set ${spec.envVar})`}`);
    }
  }
  // The control plane (kube-apiserver + etcd) of `kubeharden test --engine apiserver`.
  if (which === 'all' || which === 'apiserver') {
    for (const n of CONTROL_PLANE_BINARIES) {
      const spec = CONTROL_PLANE[n];
      const p = install ? await ensureControlPlaneBinary(n, (l) => io.err(l)) : findControlPlaneBinary(n);
      io.out(`${n} ${spec.version}: ${p ?? `not installed (kubeharden engines install apiserver → ${controlPlanePath(n)}; or set ${spec.envVar})`}`);
    }
  }
  return 0;
}
