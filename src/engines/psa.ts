/**
 * The Pod Security Admission oracle: a small Go program (`src/engines/psa/`) that evaluates Pods with the
 * upstream `k8s.io/pod-security-admission/policy` library and reports the failing PSA check IDs.
 *
 * It is built with `go build` into the per-user cache, keyed by a hash of its sources, so an unchanged
 * program builds once. The binary is moved into place only after a successful build.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError, cacheDir, capture, isExecutable, run, type Logger } from './index.js';

/** Environment variable that points to an existing psa-check binary instead. */
export const PSA_CHECK_ENV = 'KUBEHARDEN_PSA_CHECK';

const NAME = 'psa-check';
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'] as const;

export type PsaLevel = 'baseline' | 'restricted';

export interface PsaRequest {
  /** Unique within one `psaEvaluate` call. */
  readonly id: string;
  readonly level: PsaLevel;
  /** PSA policy version, e.g. `v1.37`. */
  readonly version: string;
  /** A Pod manifest (metadata and spec are evaluated; unknown fields are ignored). */
  readonly pod: unknown;
}

export interface PsaReason {
  /** The PSA check ID, e.g. `hostNamespaces`. */
  readonly check: string;
  readonly reason: string;
  readonly detail?: string;
}

export interface PsaResult {
  readonly allowed: boolean;
  /** One entry per failing check, in PSA's order (baseline checks, then restricted, each by ID). */
  readonly reasons: readonly PsaReason[];
  /** The policy version PSA evaluated (requests newer than the library's newest check are clamped). */
  readonly evaluatedVersion?: string;
  /** Check IDs PSA ran for the level and version (overridden baseline checks excluded). */
  readonly checks?: readonly string[];
  /** Fields of the Pod the `core/v1` types do not know (dropped before evaluation). */
  readonly warnings?: readonly string[];
}

/** The folder holding main.go, go.mod and go.sum, from `src/engines/psa.ts` (vitest) or `dist/engines/psa.js` (CLI). */
export function psaSourceDir(): string {
  const candidates = [new URL('./psa/', import.meta.url), new URL('../../src/engines/psa/', import.meta.url)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (SOURCE_FILES.every((f) => existsSync(join(dir, f)))) return dir;
  }
  throw new EngineError(
    'engine_not_found',
    `the psa-check sources (${SOURCE_FILES.join(', ')}) were not found in ${candidates.map((c) => fileURLToPath(c)).join(' or ')}; set ${PSA_CHECK_ENV} to an existing psa-check binary`,
  );
}

/** Hash of the program's sources; the cache key of the binary. */
function sourceHash(dir: string): { hash: string; contents: Map<string, Buffer> } {
  const h = createHash('sha256');
  const contents = new Map<string, Buffer>();
  for (const f of SOURCE_FILES) {
    const buf = readFileSync(join(dir, f));
    contents.set(f, buf);
    h.update(`${f}\0${buf.length}\0`);
    h.update(buf);
  }
  return { hash: h.digest('hex').slice(0, 16), contents };
}

/** Version of the PSA library the program pins (from its go.mod). */
function psaLibraryVersion(goMod: Buffer | undefined): string {
  const m = /k8s\.io\/pod-security-admission\s+(v\S+)/.exec(goMod?.toString('utf8') ?? '');
  return m?.[1] ?? 'unknown';
}

/** Finds the psa-check binary for the current sources or builds it (printing progress through `log`). */
export async function ensurePsaChecker(log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const override = process.env[PSA_CHECK_ENV];
  if (override) {
    if (!isExecutable(override)) throw new EngineError('engine_not_found', `${PSA_CHECK_ENV}=${override} is not an executable file; unset it to let kubeharden build ${NAME}`);
    return override;
  }
  const src = psaSourceDir();
  const { hash, contents } = sourceHash(src);
  const dir = join(cacheDir(), 'engines', NAME, hash);
  const final = join(dir, NAME);
  if (isExecutable(final)) return final;

  const psaVersion = psaLibraryVersion(contents.get('go.mod'));
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new EngineError(
      'go_missing',
      `${NAME} (Pod Security Admission ${psaVersion}) is not built and Go is not available to build it. Install Go 1.26 or newer (https://go.dev/dl/) and re-run, or set ${PSA_CHECK_ENV} to an existing ${NAME} binary.`,
      { cause: go.error },
    );
  }
  const unique = `${process.pid}-${Date.now().toString(36)}`;
  const build = join(dir, `.build-${unique}`);
  const staging = join(dir, `.staging-${unique}`);
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  log(`kubeharden: building ${NAME} (Pod Security Admission ${psaVersion}) into ${dir} with ${go.stdout.trim()} (first run only, about 1.5 minutes cold; later runs reuse it)`);
  const started = Date.now();
  const env = { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: process.env['GOFLAGS'] ?? '' };
  try {
    for (const f of SOURCE_FILES) copyFileSync(join(src, f), join(build, f));
    await run('go', ['build', '-v', '-mod=readonly', '-trimpath', '-o', staging, '.'], build, env, log, NAME, started);
    if (!existsSync(staging)) throw new EngineError('engine_install_failed', `go build finished but ${staging} is missing`);
    renameSync(staging, final);
  } finally {
    rmSync(build, { recursive: true, force: true });
    rmSync(staging, { force: true });
  }
  log(`kubeharden: ${NAME} ready (${Math.round((Date.now() - started) / 1000)} s)`);
  return final;
}

interface WireResult {
  id?: unknown;
  allowed?: unknown;
  reasons?: unknown;
  evaluatedVersion?: unknown;
  checks?: unknown;
  warnings?: unknown;
  error?: unknown;
}

/**
 * Evaluates every request with the real Pod Security Admission library, in one process.
 * Throws when the checker cannot be built or run, or when it rejects a request (invalid Pod, level or version).
 */
export async function psaEvaluate(requests: readonly PsaRequest[], options: { log?: Logger; checker?: string } = {}): Promise<Map<string, PsaResult>> {
  const ids = new Set<string>();
  for (const r of requests) {
    if (ids.has(r.id)) throw new EngineError('psa_check_failed', `duplicate request id ${JSON.stringify(r.id)}`);
    ids.add(r.id);
  }
  const results = new Map<string, PsaResult>();
  if (requests.length === 0) return results;
  const bin = options.checker ?? (await ensurePsaChecker(options.log));
  const input = requests.map((r) => JSON.stringify({ id: r.id, level: r.level, version: r.version, pod: r.pod })).join('\n') + '\n';
  const { stdout, stderr, code } = await capture(bin, [], { input }).catch((e: unknown) => {
    throw new EngineError('psa_check_failed', `could not run ${bin}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  if (code !== 0) throw new EngineError('psa_check_failed', `${bin} exited with code ${code}:\n${stderr.trim()}`);

  const errors: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const w = JSON.parse(line) as WireResult;
    const id = typeof w.id === 'string' ? w.id : '';
    if (typeof w.error === 'string' && w.error) {
      errors.push(`${id || '(no id)'}: ${w.error}`);
      continue;
    }
    if (!ids.has(id) || typeof w.allowed !== 'boolean' || !Array.isArray(w.reasons)) {
      errors.push(`unexpected output line: ${line}`);
      continue;
    }
    results.set(id, {
      allowed: w.allowed,
      reasons: (w.reasons as { check?: unknown; reason?: unknown; detail?: unknown }[]).map((r) => ({
        check: String(r.check ?? ''),
        reason: String(r.reason ?? ''),
        ...(typeof r.detail === 'string' && r.detail ? { detail: r.detail } : {}),
      })),
      ...(typeof w.evaluatedVersion === 'string' ? { evaluatedVersion: w.evaluatedVersion } : {}),
      ...(Array.isArray(w.checks) ? { checks: w.checks.map(String) } : {}),
      ...(Array.isArray(w.warnings) ? { warnings: w.warnings.map(String) } : {}),
    });
  }
  for (const id of ids) if (!results.has(id) && !errors.some((e) => e.startsWith(`${id}: `))) errors.push(`${id}: no result`);
  if (errors.length) {
    const shown = errors.slice(0, 20).join('\n');
    throw new EngineError('psa_check_failed', `${NAME} rejected ${errors.length} of ${requests.length} requests:\n${shown}${errors.length > 20 ? '\n…' : ''}`);
  }
  return results;
}
