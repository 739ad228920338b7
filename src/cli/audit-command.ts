/**
 * `kubeharden audit`: arguments, the cluster to audit, and where the report goes. The audit itself is
 * src/audit/ (run.ts).
 */
import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, relative, resolve as resolvePath } from 'node:path';
import { resolveConfig, PROFILES } from '../config/resolve.js';
import { compileResolved, type CompiledCluster } from '../compile.js';
import { collectInputs, type AuditInput } from '../audit/input.js';
import { auditCluster, reportContext } from '../audit/run.js';
import { FAIL_ON, failingActions, FORMATS, reporterFor, SummaryCounter, type FailOn, type Format, type InputError, type ResourceResult } from '../audit/report.js';
import type { EngineName } from '../eval/engines.js';
import type { Logger } from '../engines/index.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../pss/versions.js';
import { parse, UsageError } from './args.js';
import { compileConfigFile, oneCluster } from './compile-config.js';
import { vapObjectsOf } from '../eval/vap.js';
import type { Io } from './io.js';
import type { ProfileName } from '../config/types.js';
import type { UnreadablePath } from '../eval/manifests.js';

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
      namespace: { type: 'string', short: 'n' },
      'allow-empty': { type: 'boolean', default: false },
    },
  });
  if (!positionals.length) throw new UsageError('give one or more files, directories, or - for stdin');
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const failOn = values['fail-on'];
  if (!FAIL_ON.includes(failOn as FailOn)) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}, got "${failOn}"`);
  if (values.config && values.profile) throw new UsageError('use either --config or --profile, not both');
  const engineArg = values.engine;
  if (!['wasm', 'gator', 'kyverno', 'vap', 'all'].includes(engineArg)) throw new UsageError(`--engine must be wasm, gator, kyverno, vap or all, got "${engineArg}"`);
  const version = values['kubernetes-version'];
  if (version !== undefined && !isSupportedVersion(version)) {
    throw new UsageError(`--kubernetes-version must be one of ${SUPPORTED_VERSIONS[0]}…${SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]} (e.g. 1.37), got "${version}"`);
  }
  let workers: number | undefined;
  if (values.workers !== undefined) {
    if (!/^\d+$/.test(values.workers)) throw new UsageError(`--workers must be a whole number (0 evaluates on the main thread), got "${values.workers}"`);
    workers = Number(values.workers);
  }

  const namespace = values.namespace;
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new UsageError(`--namespace must be a namespace name (DNS label), got "${namespace}"`);

  // --output names a file in an existing directory (a typo in the directory is not silently created).
  const outputPath = values.output !== undefined ? resolvePath(io.cwd, values.output) : undefined;
  if (outputPath !== undefined) {
    const dir = dirname(outputPath);
    if (!isDirectory(dir)) throw new UsageError(`--output ${values.output}: the directory ${relative(io.cwd, dir) || dir} does not exist`);
    if (isDirectory(outputPath)) throw new UsageError(`--output ${values.output} is a directory; give a file name`);
  }

  let clusters: readonly CompiledCluster[];
  let configFile: string | undefined;
  if (values.profile !== undefined) {
    if (!(values.profile in PROFILES)) throw new UsageError(`unknown profile "${values.profile}"; built-in profiles: ${Object.keys(PROFILES).join(', ')}`);
    const resolved = resolveConfig({ profile: values.profile as ProfileName, ...(version ? { kubernetesVersion: version } : {}) });
    clusters = compileResolved(resolved.config!).clusters;
  } else {
    if (version !== undefined) throw new UsageError('--kubernetes-version goes with --profile; a config sets kubernetesVersion itself');
    const compiled = await compileConfigFile(io, values.config);
    if (!compiled) return 2;
    clusters = compiled.result.clusters;
    configFile = relative(io.cwd, compiled.file) || compiled.file;
  }
  const cc = oneCluster(clusters, values.cluster);

  // The ValidatingAdmissionPolicy oracle evaluates the bundle's own vap/ target: without one there is nothing
  // to evaluate (`--engine all` then compares the other engines only).
  const hasVap = vapObjectsOf(cc) !== undefined;
  if (engineArg === 'vap' && !hasVap) {
    throw new UsageError(
      configFile !== undefined
        ? `--engine vap evaluates the bundle's vap/ target, and ${configFile} builds none${values.cluster !== undefined ? ` for cluster ${values.cluster}` : ''}: enable \`vap: { enabled: true }\` in ${configFile}`
        : `--engine vap evaluates the bundle's vap/ target, and --profile builds none: use a config with \`vap: { enabled: true }\``,
    );
  }
  const engines = (engineArg === 'all' ? ['wasm', 'gator', 'kyverno', ...(hasVap ? ['vap'] : [])] : [engineArg]) as EngineName[];

  // Interrupted (Ctrl-C, a CI timeout): remove the temporary report and the spooled standard input, then die
  // of the same signal.
  let abortOutput = (): void => {};
  let cleanupInputs = (): void => {};
  const onSignal = (signal: NodeJS.Signals): void => {
    abortOutput();
    cleanupInputs();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.once(s, onSignal);
  try {
    const { inputs, missing, unreadable, cleanup } = await collectInputs(positionals, io.cwd, () => (io.stdin ? io.stdin() : (async function* () { yield await io.readStdin(); })()));
    cleanupInputs = cleanup;
    const out = outputPath !== undefined ? atomicWriter(outputPath) : { write: io.out, commit: () => {}, abort: () => {} };
    abortOutput = out.abort;
    return await audit(cc, inputs, missing, unreadable, out, cleanup);
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }

  async function audit(cc: CompiledCluster, inputs: readonly AuditInput[], missing: readonly string[], unreadable: readonly UnreadablePath[], out: Output, cleanup: () => void): Promise<number> {
    const totalBytes = inputs.reduce((n, i) => n + (i.size ?? 0), 0);

    // Progress: only for people (a TTY on stderr, the table format), never in machine formats. The status
    // line is cleared before anything else is printed on the terminal, and drawn again on the next update.
    const progress = format === 'table' ? io.progress : undefined;
    let progressShown = false;
    const clearProgress = (): void => {
      if (progressShown) progress?.('');
      progressShown = false;
    };
    const log: Logger = (l) => {
      clearProgress();
      io.err(l);
    };
    const ctx = reportContext(cc, engines);
    const reporter = reporterFor(
      format,
      (l) => {
        clearProgress();
        out.write(l);
      },
      (l) => {
        clearProgress();
        io.err(l);
      },
      ctx,
    );
    const counter = new SummaryCounter(ctx.rules);
    let failing = false;
    const failingOn = failingActions(failOn as FailOn);
    const report = (r: ResourceResult): void => {
      counter.resource(r);
      reporter.resource(r);
      if (r.violations.some((v) => failingOn.includes(v.action))) failing = true;
    };
    const reportError = (e: InputError): void => {
      counter.error();
      reporter.error(e);
    };
    for (const m of missing) reportError({ source: m, index: 0, line: 0, message: 'no such file or directory' });
    for (const u of unreadable) reportError({ source: u.path, index: 0, line: 0, message: u.message });

    let lastProgress = 0;
    const started = Date.now();
    const onProgress = progress
      ? (bytes: number, items: number): void => {
          const now = Date.now();
          if (now - lastProgress < 100) return;
          lastProgress = now;
          const pct = totalBytes > 0 ? ` (${Math.min(100, Math.floor((bytes / totalBytes) * 100))}%)` : '';
          const rate = items / Math.max(0.001, (now - started) / 1000);
          progress(`auditing: ${items} resources, ${(bytes / 1e6).toFixed(1)}/${(totalBytes / 1e6).toFixed(1)} MB${pct}, ${Math.round(rate)}/s`);
          progressShown = true;
        }
      : undefined;

    try {
      await auditCluster(cc, inputs, { resource: report, error: reportError }, { engines, log, ...(namespace ? { defaultNamespace: namespace } : {}), ...(workers !== undefined ? { workers } : {}), ...(onProgress ? { onProgress } : {}) });
      clearProgress();
      const summary = counter.final();
      reporter.finish(summary);
      out.commit();
      // No resources at all is most often a failed generator upstream of a pipe (`helm template … | kubeharden
      // audit -`), not a clean workload: say so, and let it fail like a finding unless it is expected.
      const empty = summary.resources === 0;
      if (empty) io.err(`warning: no resources in the input${values['allow-empty'] || failOn === 'never' ? '' : ` (exit 1 under --fail-on ${failOn}; --allow-empty accepts it)`}`);
      if (summary.errors) return 2;
      return failing || (empty && failOn !== 'never' && !values['allow-empty']) ? 1 : 0;
    } catch (err) {
      clearProgress();
      out.abort();
      throw err;
    } finally {
      cleanup();
    }
  }
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

interface Output {
  write(s: string): void;
  commit(): void;
  abort(): void;
}

/** Lines written to a temporary file next to `path`, renamed over it on commit (never a partial report). */
function atomicWriter(path: string): Output {
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
