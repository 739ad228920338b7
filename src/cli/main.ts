/** The kubeharden CLI: init, build, test, audit, exempt, vap-check, list, explain, engines. */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { PROFILES, inProfile } from '../config/resolve.js';
import { KubehardenError } from '../diagnostics.js';
import { diffBundle, formatDiff, isClean, writeBundle } from '../emit/write.js';
import { table } from '../table.js';
import { controlIds, getControl, isControlId, withControlScope, type ControlId } from '../controls/index.js';
import { implementedBy } from '../controls/types.js';
import { celBlockWhy, vapUnsupportedReason } from '../backends/cel-support.js';
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_VERSIONS, isSupportedVersion } from '../pss/versions.js';
import { ENGINES, ensureEngine, findEngine, enginePath, type EngineName } from '../engines/index.js';
import { ensureGoHelper, findGoHelper, goHelperDescription } from '../engines/go-helper.js';
import { VAP_CHECK } from '../engines/vap.js';
import { CONTROL_PLANE, CONTROL_PLANE_BINARIES, controlPlanePath, ensureControlPlaneBinary, findControlPlaneBinary } from '../engines/control-plane.js';
import { GATEKEEPER_MANAGER, KYVERNO_ADMISSION, ensureWebhookEngine, findWebhookEngine, webhookEnginePath } from '../engines/webhooks.js';
import { parse, UsageError } from './args.js';
import { compileConfigFile } from './compile-config.js';
import type { Io } from './io.js';
import { runTests } from './test-command.js';
import { runAudit } from './audit-command.js';
import { INIT_USAGE, initCommand } from './init.js';
import { EXEMPT_USAGE, runExempt } from './exempt-command.js';
import { VAP_CHECK_USAGE, runVapCheck } from './vap-check-command.js';
import { ConfigLoadError } from '../config/load.js';
import { PACKAGE_VERSION } from '../version.js';

export type { Io } from './io.js';

const USAGE = `Usage: kubeharden <command> [options]

Commands:
  init [--force] [--name NAME]       Write a commented policies.config.ts, a tsconfig.json and package.json scripts
  build [--config F] [--check]       Compile policies.config.ts into generated/ (--check: fail if stale)
  test [--config F] [--engine wasm|apiserver]
                                     Evaluate built-in samples and your fixtures through the WASM policies
                                     (apiserver: on a real kube-apiserver + etcd with the bundle's
                                     control-plane files, PSA labels and namespaces); fail if the
                                     committed bundle is stale
  audit <files|dirs|-> [--config F | --profile NAME] [--kubernetes-version 1.NN] [--cluster NAME] [--namespace NS]
        [--format table|json|jsonl|sarif|junit] [--output FILE] [--fail-on deny|warn|audit|never]
        [--allow-empty] [--engine wasm|gator|kyverno|vap|all] [--workers N]
                                     Evaluate manifests offline; exit 1 when something reaches --fail-on
  exempt <files|dirs|-> --reason TEXT --expires YYYY-MM-DD [--config F] [--cluster NAME] [--namespace NS]
         [--dry-run]
                                     Write exceptions into the config for everything the inputs have denied
  vap-check [--config F] [--cluster NAME] [--kubernetes-version 1.NN] [--items N,N…] [--format table|json]
                                     Type-check vap/ for the cluster's Kubernetes minor against its API
                                     schemas and report each policy's estimated CEL cost (no cluster)
  list [--format table|json]         List every control
  explain <control-id> [--format text|json] [--kubernetes-version 1.NN]
                                     Show a control's exact semantics and options
  engines [install] [opa|gator|kyverno|vap|apiserver|all]
                                     Show or install the pinned engines (per-user cache)

\`kubeharden <command> --help\` shows a command's options; \`kubeharden --version\` the version.
Exit codes: 0 success, 1 policy failure (denied, stale, failed tests, invalid config), 2 usage or input error.`;

const EXIT_CODES = 'Exit codes: 0 success, 1 policy failure, 2 usage or input error.';

/** Each command's own usage (`kubeharden <command> --help`). */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  init: INIT_USAGE,
  build: `Usage: kubeharden build [--config F] [--check] [--out DIR]

Compiles the config (policies.config.ts, found in the working directory) into generated/<cluster>/ next to it.

Options:
  -c, --config F   the config file (default: policies.config.ts, .mts, .js or .mjs in the working directory)
  --check          write nothing; exit 1 when the committed bundle differs from what the config builds
  --out DIR        the bundle directory (default: generated/ beside the config)
  -h, --help       this text

Exit codes: 0 built (or up to date), 1 invalid config or stale bundle, 2 usage error or unusable config file.`,
  test: `Usage: kubeharden test [--config F] [--engine wasm|apiserver] [--out DIR]

Evaluates every enabled control's built-in samples and the config's fixtures through the WASM policies, and
checks that the committed bundle is what the config builds (as build --check does).

Options:
  -c, --config F   the config file (default: policies.config.ts in the working directory)
  --engine E       wasm (default), or apiserver: the samples and fixtures as dry-run creates (UPDATE samples
                   as dry-run updates of a stored old object) on a real kube-apiserver + etcd started with
                   the bundle's control-plane files, PSA labels and namespaces; then again through
                   Gatekeeper and Kyverno webhooks of that API server with the bundle's objects applied
  --out DIR        the bundle directory (default: generated/ beside the config)
  -h, --help       this text

Exit codes: 0 all passed, 1 a failure (a stale or missing bundle too) or an invalid config, 2 usage error or
unusable config file.`,
  audit: `Usage: kubeharden audit <files|dirs|-> [options]

Evaluates manifests (YAML or JSON, several documents, kind: List) offline against the config's bundle.

Options:
  -c, --config F               the config file (default: policies.config.ts in the working directory)
  --profile NAME               a built-in profile instead of a config (pss-baseline, pss-restricted, nsa-cisa)
  --kubernetes-version 1.NN    with --profile: the Kubernetes minor (default ${DEFAULT_KUBERNETES_VERSION})
  --cluster NAME               which cluster of a multi-cluster config
  -n, --namespace NS           objects without a namespace are in NS (as kubectl apply -n NS); default: default
  --format F                   table (default), json, jsonl, sarif or junit
  -o, --output FILE            write the report to FILE (atomically) instead of standard output
  --fail-on A                  deny (default), warn, audit or never: what makes the exit code 1; an input
                               with no resources at all also does (a warning is printed), except under never
  --allow-empty                accept an input with no resources (still warned about) as a pass
  --engine E                   wasm (default), gator, kyverno, vap (the bundle's vap/ ValidatingAdmissionPolicies
                               through the API server's own admission code; needs \`vap: { enabled: true }\`),
                               or all (compares their verdicts; includes vap when the bundle has a vap/ target)
  --workers N                  worker threads (0: the main thread)
  -h, --help                   this text

${EXIT_CODES}`,
  exempt: EXEMPT_USAGE,
  'vap-check': VAP_CHECK_USAGE,
  list: `Usage: kubeharden list [--format table|json] [--config FILE]

Lists every control: its Pod Security Standards level, NSA/CISA sections, profiles and default mode.

Options:
  --format F      table (default) or json
  --config FILE   also the custom controls of this config (customControls)
  -h, --help      this text`,
  explain: `Usage: kubeharden explain <control-id> [--format text|json] [--kubernetes-version 1.NN] [--config FILE]

Shows a control's exact semantics, options and their defaults.

Options:
  --format F                  text (default) or json
  --config FILE               also the custom controls of this config (customControls)
  --kubernetes-version 1.NN   the defaults for this Kubernetes minor (default ${DEFAULT_KUBERNETES_VERSION})
  -h, --help                  this text`,
  engines: `Usage: kubeharden engines [install] [opa|gator|kyverno|vap|apiserver|all]

Shows where the pinned engines are, or installs them into the per-user cache (~/.cache/kubeharden);
vap is vap-check, the ValidatingAdmissionPolicy oracle built on the API server's admission code
(k8s.io/apiserver); apiserver is kube-apiserver, etcd, and the Gatekeeper manager and Kyverno admission
controller (run as its webhooks).

Options:
  -h, --help   this text`,
};

/** Whether the arguments ask for help (before a \`--\` that ends the options). */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  // Each invocation sees only the custom controls of the config it loads.
  return withControlScope(() => run(argv, io));
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    checkToday();
    if (command !== undefined && command in COMMAND_USAGE && wantsHelp(rest)) {
      io.out(COMMAND_USAGE[command]!);
      return 0;
    }
    switch (command) {
      case 'init':
        return initCommand(rest, io);
      case 'build':
        return await buildCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      case 'audit':
        return await runAudit(rest, io);
      case 'exempt':
        return await runExempt(rest, io);
      case 'vap-check':
        return await runVapCheck(rest, io);
      case 'list':
        return await listCommand(rest, io);
      case 'explain':
        return await explainCommand(rest, io);
      case 'engines':
        return await enginesCommand(rest, io);
      case '--version':
      case '-v':
      case 'version':
        io.out(PACKAGE_VERSION);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        if (command === 'help' && rest[0] !== undefined) {
          const usage = COMMAND_USAGE[rest[0]];
          if (!usage) throw new UsageError(`unknown command "${rest[0]}"`);
          io.out(usage);
          return 0;
        }
        if (command === undefined) {
          io.err(USAGE);
          return 2;
        }
        io.out(USAGE);
        return 0;
      default:
        io.err(`kubeharden: unknown command "${command}"${suggestion(command, Object.keys(COMMAND_USAGE))}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    const name = command ?? 'kubeharden';
    if (err instanceof UsageError) {
      io.err(`kubeharden ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof ConfigLoadError) {
      io.err(`kubeharden ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof KubehardenError) {
      io.err(`kubeharden ${name}: ${err.message}`);
      return err.code === 'config_not_found' ? 2 : 1;
    }
    throw err;
  }
}

/** KUBEHARDEN_TODAY pins "today" (exception expiry); anything but a real YYYY-MM-DD date is a usage error. */
function checkToday(): void {
  const v = process.env['KUBEHARDEN_TODAY'];
  if (v === undefined || v === '') return;
  if (!isRealDate(v)) throw new UsageError(`KUBEHARDEN_TODAY must be a date YYYY-MM-DD (e.g. 2026-11-26), got "${v}"`);
}

export function isRealDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** "; did you mean …?" for the closest of `known` (edit distance ≤ a third of the word), else ''. */
export function suggestion(word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean "${best}"?` : '';
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
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
    io.err(`kubeharden: ${shown}/ is stale: ${diff.added.length} missing, ${diff.changed.length} changed, ${diff.removed.length} orphaned${diff.leftovers.length ? `, ${diff.leftovers.length} leftover temporary` : ''}`);
    io.err(formatDiff(diff, shown));
    io.err('run `kubeharden build` and commit the result');
    return 1;
  }
  const diff = writeBundle(root, compiled.result.output);
  const clusters = compiled.result.clusters.map((c) => c.cluster.name).join(', ');
  io.out(
    `kubeharden: built ${clusters} → ${shown}/ (${compiled.result.output.size} files: ${diff.added.length} added, ${diff.changed.length} updated, ${diff.removed.length} removed${diff.leftovers.length ? `, ${diff.leftovers.length} leftover temporary removed` : ''}) in ${ms()} ms`,
  );
  return 0;
}

async function testCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parse({ args: [...args], options: { config: { type: 'string', short: 'c' }, engine: { type: 'string' }, out: { type: 'string' } } });
  const engine = values.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'apiserver') throw new UsageError(`--engine must be wasm or apiserver, got "${engine}"`);
  const compiled = await compileConfigFile(io, values.config);
  if (!compiled) return 1;
  // The samples and fixtures prove the policies the config builds; the committed bundle must be those
  // policies (as `build --check` checks), or the proof is about files that are not deployed.
  const root = values.out ? resolvePath(io.cwd, values.out) : join(dirname(compiled.file), 'generated');
  const shown = relative(io.cwd, root) || '.';
  const diff = diffBundle(root, compiled.result.output);
  let bundle: string | undefined;
  if (!existsSync(root)) bundle = `bundle ${shown}/ does not exist: run \`kubeharden build\` and commit the result`;
  else if (!isClean(diff)) {
    bundle = `bundle ${shown}/ is stale (does not match the config): ${diff.added.length} missing, ${diff.changed.length} changed, ${diff.removed.length} orphaned${diff.leftovers.length ? `, ${diff.leftovers.length} leftover temporary` : ''}; run \`kubeharden build\` and commit the result`;
    io.err(formatDiff(diff, shown));
  }
  return runTests(compiled.result, dirname(compiled.file), io, engine, bundle);
}

/** With `--config`: the config's custom controls join the built-in ones (false when the config has errors). */
async function withConfigControls(io: Io, config: string | undefined): Promise<boolean> {
  if (config === undefined) return true;
  return (await compileConfigFile(io, config)) !== undefined;
}

async function listCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parse({ args: [...args], options: { format: { type: 'string', default: 'table' }, config: { type: 'string' } } });
  if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`--format must be table or json, got "${values.format}"`);
  if (!(await withConfigControls(io, values.config))) return 1;
  if (values.format === 'json') {
    const controls = controlIds().map((id) => {
      const c = getControl(id);
      return {
        id,
        title: c.title,
        category: c.category,
        severity: c.severity,
        pss: c.pss ? { level: c.pss.level, check: c.pss.check, ...(c.pss.since ? { since: `1.${c.pss.since}` } : {}) } : null,
        nsa: c.nsa,
        profiles: (Object.keys(PROFILES) as (keyof typeof PROFILES)[]).filter((n) => inProfile(n, id)),
        defaultMode: c.defaultMode ?? 'enforce',
      };
    });
    io.out(JSON.stringify(controls, null, 2));
    return 0;
  }
  const rows = controlIds().map((id) => {
    const c = getControl(id);
    const profiles = (Object.keys(PROFILES) as (keyof typeof PROFILES)[]).filter((n) => inProfile(n, id));
    return [id, c.pss ? `${c.pss.level}${c.pss.since ? ` ≥1.${c.pss.since}` : ''}` : '—', c.nsa.join(','), profiles.join(',') || '—', c.defaultMode ?? 'enforce'];
  });
  io.out(table(['CONTROL', 'PSS', 'NSA/CISA', 'PROFILES', 'DEFAULT MODE'], rows));
  return 0;
}

async function explainCommand(args: readonly string[], io: Io): Promise<number> {
  const { positionals, values } = parse({ args: [...args], options: { 'kubernetes-version': { type: 'string' }, format: { type: 'string', default: 'text' }, config: { type: 'string' } }, allowPositionals: true });
  const id = positionals[0];
  if (!id) throw new UsageError('usage: kubeharden explain <control-id> (kubeharden list shows them)');
  if (positionals.length > 1) throw new UsageError(`explain takes one control id, got ${positionals.length}`);
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format must be text or json, got "${values.format}"`);
  if (!(await withConfigControls(io, values.config))) return 1;
  if (!isControlId(id)) {
    io.err(`kubeharden explain: unknown control "${id}"${suggestion(id, controlIds())}; run \`kubeharden list\`${values.config === undefined ? ' (with --config FILE for the custom controls of a config)' : ''}`);
    return 2;
  }
  const v = values['kubernetes-version'] ?? DEFAULT_KUBERNETES_VERSION;
  if (!isSupportedVersion(v)) throw new UsageError(`--kubernetes-version must be one of ${SUPPORTED_VERSIONS.join(', ')}`);
  const c = getControl(id);
  const defaults = c.defaults(v) as Record<string, unknown>;
  const opts = Object.entries(c.options);
  if (values.format === 'json') {
    io.out(
      JSON.stringify(
        {
          id: c.id,
          title: c.title,
          description: c.description,
          details: c.details,
          category: c.category,
          severity: c.severity,
          nsa: c.nsa,
          defaultMode: c.defaultMode ?? 'enforce',
          pss: c.pss ? { level: c.pss.level, check: c.pss.check, ...(c.pss.since ? { since: `1.${c.pss.since}` } : {}), ...(c.pss.overrides ? { replaces: c.pss.overrides } : {}) } : null,
          kubernetesVersion: v,
          options: Object.fromEntries(opts.map(([name, spec]) => [name, { description: spec.description, default: defaults[name] ?? null }])),
          samples: { deny: c.samples.filter((s) => s.expect === 'deny').length, allow: c.samples.filter((s) => s.expect === 'allow').length },
          validatingAdmissionPolicy: vapUnsupportedReason(id) === undefined ? true : { unsupported: vapUnsupportedReason(id) },
          gatekeeper: gatekeeperBlocks(id),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const lines = [`${c.id}: ${c.title}`, '', c.description, '', c.details, ''];
  lines.push(`Category: ${c.category}`, `Severity: ${c.severity}`, `NSA/CISA: ${c.nsa.join(', ')}`);
  if (c.defaultMode) lines.push(`Default mode: ${c.defaultMode} (where the config's defaultMode is enforce; set the control's mode to change it)`);
  if (c.pss) lines.push(`Pod Security Standards: ${c.pss.level}, PSA check ${c.pss.check}${c.pss.since ? `, from 1.${c.pss.since}` : ''}${c.pss.overrides ? `, replaces ${c.pss.overrides}` : ''}`);
  const vapGap = vapUnsupportedReason(id);
  lines.push(`ValidatingAdmissionPolicy: ${vapGap === undefined ? 'yes (vap/, with vap.enabled)' : `no: ${vapGap}`}`);
  lines.push('', `Options (defaults for Kubernetes ${v}):`);
  if (!opts.length) lines.push('  none');
  for (const [name, spec] of opts) lines.push(`  ${name}: ${spec.description}`, `    default: ${JSON.stringify(defaults[name])}`);
  const gk = gatekeeperBlocks(id);
  lines.push(
    '',
    gk.template
      ? `Gatekeeper: Rego template${gk.cel === true ? "; with gatekeeper.engines ['Rego', 'CEL'] also a CEL block (K8sNativeValidation, which Gatekeeper then runs)" : `; Rego only with gatekeeper.engines ['Rego', 'CEL']: ${gk.cel}`}`
      : `Gatekeeper: no template (${gk.cel})`,
  );
  lines.push('', `Samples: ${c.samples.length} (${c.samples.filter((s) => s.expect === 'deny').length} deny, ${c.samples.filter((s) => s.expect === 'allow').length} allow)`);
  io.out(lines.join('\n'));
  return 0;
}

/** What a control's ConstraintTemplate carries: a template at all, and a CEL block (true) or why not. */
function gatekeeperBlocks(id: ControlId): { template: boolean; cel: true | string } {
  const why = celBlockWhy(id);
  return { template: implementedBy(getControl(id), 'gatekeeper'), cel: why ?? true };
}

async function enginesCommand(args: readonly string[], io: Io): Promise<number> {
  const { positionals } = parse({ args: [...args], options: {}, allowPositionals: true });
  const install = positionals[0] === 'install';
  const which = (install ? positionals[1] : positionals[0]) ?? 'all';
  const names: EngineName[] = which === 'all' ? ['opa', 'gator', 'kyverno'] : which === 'apiserver' || which === 'vap' ? [] : [which as EngineName];
  for (const n of names) if (!(n in ENGINES)) throw new UsageError(`unknown engine "${n}" (opa, gator, kyverno, vap, apiserver, all)`);
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
  // The ValidatingAdmissionPolicy oracle of `kubeharden audit --engine vap`, built from src/engines/vap/.
  if (which === 'all' || which === 'vap') {
    const pinned = goHelperDescription(VAP_CHECK);
    if (install) io.out(`vap (vap-check, ${pinned}): ${await ensureGoHelper(VAP_CHECK, (l) => io.err(l))}`);
    else {
      const { path, expected } = findGoHelper(VAP_CHECK);
      io.out(`vap (vap-check, ${pinned}): ${path ?? `not built (kubeharden engines install vap → ${expected}; or set ${VAP_CHECK.envVar})`}`);
    }
  }
  // The control plane (kube-apiserver + etcd) of `kubeharden test --engine apiserver`, and the Gatekeeper manager it runs as a webhook.
  if (which === 'all' || which === 'apiserver') {
    for (const n of CONTROL_PLANE_BINARIES) {
      const spec = CONTROL_PLANE[n];
      const p = install ? await ensureControlPlaneBinary(n, (l) => io.err(l)) : findControlPlaneBinary(n);
      io.out(`${n} ${spec.version}: ${p ?? `not installed (kubeharden engines install apiserver → ${controlPlanePath(n)}; or set ${spec.envVar})`}`);
    }
    for (const [w, what] of [
      [GATEKEEPER_MANAGER, 'gatekeeper (manager)'],
      [KYVERNO_ADMISSION, 'kyverno (admission controller)'],
    ] as const) {
      const p = install ? await ensureWebhookEngine(w, (l) => io.err(l)) : findWebhookEngine(w);
      io.out(`${what} ${w.version}: ${p ?? `not installed (kubeharden engines install apiserver → ${webhookEnginePath(w)}; or set ${w.envVar})`}`);
    }
  }
  return 0;
}
