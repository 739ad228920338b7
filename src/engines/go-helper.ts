/**
 * Small Go programs shipped as sources in `src/engines/<dir>/` (main.go, go.mod, go.sum) and built with
 * `go build` into the per-user cache, keyed by a hash of their sources, so an unchanged program builds
 * once. The binary is moved into place only after a successful build.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError, cacheDir, isExecutable, run, withInstallLock, type Logger } from './index.js';

export interface GoHelper {
  /** Binary name, also the cache folder: `<cache>/engines/<name>/<hash>/<name>`. */
  readonly name: string;
  /** Folder under src/engines holding the sources. */
  readonly dir: string;
  /** Environment variable that points to an existing binary instead. */
  readonly envVar: string;
  /** What the program pins, for messages, e.g. `sigs.k8s.io/yaml v1.6.0`. */
  readonly describe: (goMod: string) => string;
}

const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'] as const;

/** The folder holding the sources, from `src/engines/*.ts` (vitest) or `dist/engines/*.js` (CLI). */
export function goHelperSourceDir(h: GoHelper): string {
  const candidates = [new URL(`./${h.dir}/`, import.meta.url), new URL(`../../src/engines/${h.dir}/`, import.meta.url)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (SOURCE_FILES.every((f) => existsSync(join(dir, f)))) return dir;
  }
  throw new EngineError(
    'engine_not_found',
    `the ${h.name} sources (${SOURCE_FILES.join(', ')}) were not found in ${candidates.map((c) => fileURLToPath(c)).join(' or ')}; set ${h.envVar} to an existing ${h.name} binary`,
  );
}

/** The sources, their hash and where the binary built from them lives. */
function goHelperBuild(h: GoHelper): { src: string; contents: Map<string, Buffer>; dir: string; final: string } {
  const src = goHelperSourceDir(h);
  const hash = createHash('sha256');
  const contents = new Map<string, Buffer>();
  for (const f of SOURCE_FILES) {
    const buf = readFileSync(join(src, f));
    contents.set(f, buf);
    hash.update(`${f}\0${buf.length}\0`);
    hash.update(buf);
  }
  const dir = join(cacheDir(), 'engines', h.name, hash.digest('hex').slice(0, 16));
  return { src, contents, dir, final: join(dir, h.name) };
}

function goHelperOverride(h: GoHelper): string | undefined {
  const override = process.env[h.envVar];
  if (!override) return undefined;
  if (!isExecutable(override)) throw new EngineError('engine_not_found', `${h.envVar}=${override} is not an executable file; unset it to let kubeharden build ${h.name}`);
  return override;
}

/** Where the binary for the current sources is (the override, or the cache), or undefined while it is not built. */
export function findGoHelper(h: GoHelper): { path: string | undefined; expected: string } {
  const override = goHelperOverride(h);
  if (override) return { path: override, expected: override };
  const { final } = goHelperBuild(h);
  return { path: isExecutable(final) ? final : undefined, expected: final };
}

/** What the program pins, from its go.mod. */
export function goHelperDescription(h: GoHelper): string {
  return h.describe(readFileSync(join(goHelperSourceDir(h), 'go.mod'), 'utf8'));
}

/**
 * Finds the binary for the current sources or builds it (printing progress through `log`). Builds of one
 * program are serialized by a lock file in its cache folder: a second process waits and reuses the result.
 */
export async function ensureGoHelper(h: GoHelper, log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const override = goHelperOverride(h);
  if (override) return override;
  const { src, contents, dir, final } = goHelperBuild(h);
  if (isExecutable(final)) return final;
  mkdirSync(dir, { recursive: true });
  return withInstallLock(join(dir, '.install.lock'), h.name, log, async () => {
    if (isExecutable(final)) {
      log(`kubeharden: ${h.name} was built by another process; using it`);
      return final;
    }
    return buildGoHelper(h, src, contents, dir, final, log);
  });
}

async function buildGoHelper(h: GoHelper, src: string, contents: Map<string, Buffer>, dir: string, final: string, log: Logger): Promise<string> {

  const what = `${h.name} (${h.describe(contents.get('go.mod')!.toString('utf8'))})`;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new EngineError(
      'go_missing',
      `${what} is not built and Go is not available to build it${go.error ? ` (${go.error.message})` : ''}. Install Go 1.26 or newer (https://go.dev/dl/) and re-run, or set ${h.envVar} to an existing ${h.name} binary.`,
      { cause: go.error },
    );
  }
  const unique = `${process.pid}-${Date.now().toString(36)}`;
  const build = join(dir, `.build-${unique}`);
  const staging = join(dir, `.staging-${unique}`);
  mkdirSync(build, { recursive: true });
  log(`kubeharden: building ${what} into ${dir} with ${go.stdout.trim()} (first run only; later runs reuse it)`);
  const started = Date.now();
  const env = { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: process.env['GOFLAGS'] ?? '' };
  try {
    for (const f of SOURCE_FILES) copyFileSync(join(src, f), join(build, f));
    await run('go', ['build', '-v', '-mod=readonly', '-trimpath', '-o', staging, '.'], build, env, log, h.name, started);
    if (!existsSync(staging)) throw new EngineError('engine_install_failed', `go build finished but ${staging} is missing`);
    // Another process may have finished the same build meanwhile: the rename replaces it with an identical binary.
    renameSync(staging, final);
  } finally {
    rmSync(build, { recursive: true, force: true });
    rmSync(staging, { force: true });
  }
  log(`kubeharden: ${h.name} ready (${Math.round((Date.now() - started) / 1000)} s)`);
  return final;
}

/**
 * `go mod download -json <module>@<version>`: the module's folder in the Go module cache and its go.mod (downloaded
 * from the module proxy when missing). Any failure, or an answer without them, is an error.
 */
export function goModDownload(module: string, version: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { dir: string; goMod: string } {
  const what = `\`go mod download -json ${module}@${version}\``;
  const r = spawnSync('go', ['mod', 'download', '-json', `${module}@${version}`], { ...options, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new EngineError('engine_install_failed', `${what} failed: ${r.error?.message ?? r.stderr.trim().slice(0, 2000)}`);
  const info = JSON.parse(r.stdout) as { Dir?: string; GoMod?: string };
  if (!info.Dir || !existsSync(info.Dir) || !info.GoMod || !existsSync(info.GoMod)) throw new EngineError('engine_install_failed', `${what} names no module folder or go.mod`);
  return { dir: info.Dir, goMod: info.GoMod };
}
