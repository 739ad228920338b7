/**
 * Locates or installs the pinned policy engines (Go programs) into a per-user cache, never into the repo.
 * `go install` builds them from the Go module proxy; a binary is moved into place only after a successful
 * build, so an existing path is always a complete install of that version. Installs of one engine are
 * serialized by a lock file in the cache: a second process waits and reuses the result. Every engine, an
 * installed one or one named by an override variable, must report the pinned version (checked once per
 * process).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync, accessSync, constants } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { KubehardenError } from '../diagnostics.js';

export type EngineName = 'opa' | 'gator' | 'kyverno';

export interface EngineSpec {
  readonly name: EngineName;
  readonly version: string;
  /** Environment variable that points to an existing binary instead. */
  readonly envVar: string;
  readonly module: string;
  /** Rough cold build time on 2 cores, for the progress message. */
  readonly coldBuild: string;
}

export const ENGINES: Readonly<Record<EngineName, EngineSpec>> = {
  opa: { name: 'opa', version: 'v1.22.3', envVar: 'KUBEHARDEN_OPA', module: 'github.com/open-policy-agent/opa', coldBuild: 'about 2 minutes' },
  gator: {
    name: 'gator',
    version: 'v3.23.0',
    envVar: 'KUBEHARDEN_GATOR',
    module: 'github.com/open-policy-agent/gatekeeper/v3/cmd/gator',
    coldBuild: 'about 3 minutes',
  },
  kyverno: {
    name: 'kyverno',
    version: 'v1.19.1',
    envVar: 'KUBEHARDEN_KYVERNO',
    module: 'github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno',
    coldBuild: 'about 10 minutes',
  },
};

/** Kyverno's go.mod replaces the PSA module with its fork, so `go install pkg@version` refuses it: build from a wrapper module. */
export const KYVERNO_PSA_REPLACE = 'k8s.io/pod-security-admission=github.com/kyverno/pod-security-admission@v0.0.0-20251031094455-46f20778634f';

export class EngineError extends KubehardenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, [], options);
    this.name = 'EngineError';
  }
}

/** `$KUBEHARDEN_CACHE_DIR`, else `$XDG_CACHE_HOME/kubeharden`, else `~/.cache/kubeharden`. */
export function cacheDir(): string {
  const explicit = process.env['KUBEHARDEN_CACHE_DIR'];
  if (explicit) return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.length ? xdg : join(homedir(), '.cache'), 'kubeharden');
}

export function enginePath(name: EngineName): string {
  const spec = ENGINES[name];
  return join(cacheDir(), 'engines', name, spec.version, name);
}

export type Logger = (line: string) => void;

/** The path of an engine binary if it is available without building, else undefined. */
export function findEngine(name: EngineName): string | undefined {
  const spec = ENGINES[name];
  const override = process.env[spec.envVar];
  if (override) {
    if (!isExecutable(override)) throw new EngineError('engine_not_found', `${spec.envVar}=${override} is not an executable file; unset it to let kubeharden install ${name} ${spec.version}`);
    checkEngineVersion(name, override, true);
    return override;
  }
  const p = enginePath(name);
  if (!isExecutable(p)) return undefined;
  checkEngineVersion(name, p, false);
  return p;
}

/** How each engine reports its version: the command and the line that carries it. */
const VERSION_PROBES: Readonly<Record<EngineName, { readonly args: readonly string[]; readonly pattern: RegExp }>> = {
  opa: { args: ['version'], pattern: /^Version: *v?(\S+)$/m },
  gator: { args: ['version'], pattern: /^GitVersion:\s*v?(\S+)$/m },
  kyverno: { args: ['version'], pattern: /^Version: *v?(\S+)$/m },
};

/** Binaries whose version this process has checked. */
const checkedVersions = new Set<string>();

/**
 * Asks the binary for its version and throws unless it is the pinned one: an override can name any
 * executable (another engine, another release), and results are only comparable with the pinned engines.
 */
export function checkEngineVersion(name: EngineName, path: string, override: boolean): void {
  if (checkedVersions.has(path)) return;
  const spec = ENGINES[name];
  const probe = VERSION_PROBES[name];
  const r = spawnSync(path, [...probe.args], { encoding: 'utf8', timeout: 60_000 });
  const fix = override ? `point ${spec.envVar} to ${name} ${spec.version} or unset it to let kubeharden install it` : `remove ${join(path, '..')} and run \`kubeharden engines install ${name}\``;
  const shown = `\`${path} ${probe.args.join(' ')}\``;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 500)}` : ''}`;
    throw new EngineError('engine_version', `${shown} failed (${why}); kubeharden needs ${name} ${spec.version}: ${fix}`, { cause: r.error });
  }
  const found = probe.pattern.exec(r.stdout)?.[1];
  if (found === undefined) throw new EngineError('engine_version', `${shown} prints no ${name} version (output: ${JSON.stringify(r.stdout.trim().slice(0, 200))}); kubeharden needs ${name} ${spec.version}: ${fix}`);
  if (`v${found}` !== spec.version) throw new EngineError('engine_version', `${shown} reports version ${found}; kubeharden needs ${name} ${spec.version}: ${fix}`);
  checkedVersions.add(path);
}

/** `go version`, or an error that says why Go cannot be used (never hides the underlying failure). */
/** `go version`'s line, or an error saying that `name` cannot be built and what to do instead. */
export function goVersionFor(name: string, spec: { readonly version: string; readonly envVar: string }): string {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    const why = go.error
      ? (go.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no `go` on PATH'
        : go.error.message
      : `\`go version\` exited ${go.status ?? go.signal}${go.stderr.trim() ? `: ${go.stderr.trim().slice(0, 1000)}` : ''}`;
    throw new EngineError(
      'go_missing',
      `${name} ${spec.version} is not installed and Go is not available to build it (${why}). Install Go 1.26 or newer (https://go.dev/dl/) and re-run, or set ${spec.envVar} to an existing ${name} binary.`,
      { cause: go.error },
    );
  }
  return go.stdout.trim();
}

/** Finds the engine or installs it (printing progress through `log`). */
export async function ensureEngine(name: EngineName, log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const found = findEngine(name);
  if (found) return found;
  const goVersionLine = goVersionFor(name, ENGINES[name]);
  const final = enginePath(name);
  const dir = join(final, '..');
  mkdirSync(dir, { recursive: true });
  return withInstallLock(join(dir, '.install.lock'), `${name} ${ENGINES[name].version}`, log, async () => {
    // Another process may have installed it while this one waited.
    if (isExecutable(final)) {
      log(`kubeharden: ${name} ${ENGINES[name].version} was installed by another process; using it`);
      checkEngineVersion(name, final, false);
      return final;
    }
    await install(name, goVersionLine, log);
    checkEngineVersion(name, final, false);
    return final;
  });
}

async function install(name: EngineName, goVersionLine: string, log: Logger): Promise<void> {
  const spec = ENGINES[name];
  const final = enginePath(name);
  const dir = join(final, '..');
  const staging = join(dir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`kubeharden: installing ${name} ${spec.version} into ${dir} with ${goVersionLine} (first run only, ${spec.coldBuild} cold; later runs reuse it)`);
  const started = Date.now();
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: process.env['GOFLAGS'] ?? '' };
  try {
    if (name === 'kyverno') {
      const src = join(dir, 'src');
      mkdirSync(src, { recursive: true });
      if (!existsSync(join(src, 'go.mod'))) writeFileSync(join(src, 'go.mod'), 'module local/kyverno-cli-build\n\ngo 1.26\n');
      await run('go', ['mod', 'edit', `-replace=${KYVERNO_PSA_REPLACE}`], src, env, log, name, started);
      await run('go', ['get', '-tool', `${spec.module}@${spec.version}`], src, env, log, name, started);
      await run('go', ['build', '-v', '-o', join(staging, name), spec.module], src, env, log, name, started);
    } else {
      await run('go', ['install', '-v', `${spec.module}@${spec.version}`], dir, { ...env, GOBIN: staging }, log, name, started);
      const built = join(staging, name === 'gator' ? 'gator' : 'opa');
      if (!existsSync(built)) throw new EngineError('engine_install_failed', `go install finished but ${built} is missing`);
    }
    renameSync(join(staging, name), final);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`kubeharden: ${name} ${spec.version} ready (${Math.round((Date.now() - started) / 1000)} s)`);
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly started: number;
}

/** A lock older than this is taken over whoever holds it (a cold Kyverno build takes about 10 minutes). */
const LOCK_MAX_AGE_MS = 2 * 60 * 60 * 1000;

/**
 * Runs `fn` holding the lock file `path` (created exclusively, holding the owner's pid and host). While
 * another live process holds it, waits with a progress line every 15 s. A lock left by a dead process on
 * this host, or older than LOCK_MAX_AGE_MS, is taken over. The install itself stays safe without the lock
 * (per-process staging, atomic rename): the lock saves a second build and its confusing failures.
 */
export async function withInstallLock<T>(path: string, what: string, log: Logger, fn: () => Promise<T>, pollMs = 250): Promise<T> {
  const me: LockOwner = { pid: process.pid, host: hostname(), started: Date.now() };
  const text = `${JSON.stringify(me)}\n`;
  let waitingSince: number | undefined;
  let lastLine = 0;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new EngineError('engine_install_failed', `cannot create the install lock ${path}: ${(err as Error).message}`, { cause: err });
    }
    const held = readLock(path);
    if (held === undefined) continue; // released meanwhile
    const stale = staleReason(held.owner, held.mtime);
    if (stale) {
      if (takeOver(path, held.raw)) log(`kubeharden: taking over the install lock of ${what} (${stale})`);
      continue;
    }
    const now = Date.now();
    if (waitingSince === undefined) {
      waitingSince = now;
      lastLine = now;
      log(`kubeharden: another kubeharden process (pid ${held.owner?.pid ?? '?'}) is installing ${what}; waiting for it (lock ${path})`);
    } else if (now - lastLine >= 15_000) {
      lastLine = now;
      log(`kubeharden: still waiting for the install of ${what} by pid ${held.owner?.pid ?? '?'}… ${Math.round((now - waitingSince) / 1000)} s`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    // Release only a lock that is still ours.
    if (readLock(path)?.raw === text) rmSync(path, { force: true });
  }
}

function readLock(path: string): { raw: string; owner: LockOwner | undefined; mtime: number } | undefined {
  let raw: string;
  let mtime: number;
  try {
    raw = readFileSync(path, 'utf8');
    mtime = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  let owner: LockOwner | undefined;
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.started === 'number') owner = o as LockOwner;
  } catch {
    owner = undefined;
  }
  return { raw, owner, mtime };
}

/** Why a held lock is stale, or undefined while its owner may still be working. */
function staleReason(owner: LockOwner | undefined, mtime: number): string | undefined {
  const age = Date.now() - mtime;
  if (age > LOCK_MAX_AGE_MS) return `it is ${Math.round(age / 60_000)} minutes old`;
  // An empty or partial lock is being written right now; one that stays unreadable is debris.
  if (!owner) return age > 10_000 ? 'it is unreadable' : undefined;
  if (owner.host !== hostname()) return undefined;
  try {
    process.kill(owner.pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? `process ${owner.pid} no longer runs` : undefined;
  }
}

/**
 * Removes a stale lock if it still has the content seen; a lock another process created meanwhile is put
 * back (link fails rather than overwrite a newer one). True when this process removed the stale lock.
 */
function takeOver(path: string, seen: string): boolean {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return false;
  }
  let content = '';
  try {
    content = readFileSync(aside, 'utf8');
  } catch {
    // Gone: nothing to restore.
  }
  if (content !== seen) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone holds a newer lock; the install stays safe (per-process staging, atomic rename).
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Already gone.
  }
  return content === seen;
}

/** Runs a build command, printing a progress line every 15 s and the output tail on failure. */
export function run(cmd: string, args: string[], cwd: string, env: Readonly<Record<string, string | undefined>>, log: Logger, name: string, started: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let packages = 0;
    const tail: string[] = [];
    const onData = (buf: Buffer): void => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (!line.startsWith('go: ')) packages++;
        else if (line.startsWith('go: downloading')) packages += 0;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      log(`kubeharden: building ${name}… ${Math.round((Date.now() - started) / 1000)} s, ${packages} packages compiled`);
    }, 15_000);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(new EngineError('engine_install_failed', `could not run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new EngineError('engine_install_failed', `\`${cmd} ${args.join(' ')}\` failed (exit ${code}) while installing ${name}:\n${tail.join('\n')}`));
    });
  });
}

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs an engine and captures its output. stdin gets `input`, or is closed (gator reads objects from a
 * non-TTY stdin). Resolves with the exit code; rejects only when the program cannot be started.
 */
export function capture(cmd: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) {
      // The exit code and stderr explain a program that stopped reading.
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.input);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new EngineError('engine_failed', `could not run ${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
