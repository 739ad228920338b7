/**
 * Locates or installs the pinned policy engines (Go programs) into a per-user cache, never into the repo.
 * `go install` builds them from the Go module proxy; a binary is moved into place only after a successful
 * build, so an existing path is always a complete install of that version.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
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
    version: 'v1.19.0',
    envVar: 'KUBEHARDEN_KYVERNO',
    module: 'github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno',
    coldBuild: 'about 10 minutes',
  },
};

/** Kyverno's go.mod replaces the PSA module with its fork, so `go install pkg@version` refuses it: build from a wrapper module. */
const KYVERNO_PSA_REPLACE = 'k8s.io/pod-security-admission=github.com/kyverno/pod-security-admission@v0.0.0-20251031094455-46f20778634f';

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
    return override;
  }
  const p = enginePath(name);
  return isExecutable(p) ? p : undefined;
}

/** Finds the engine or installs it (printing progress through `log`). */
export async function ensureEngine(name: EngineName, log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const found = findEngine(name);
  if (found) return found;
  const spec = ENGINES[name];
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new EngineError(
      'go_missing',
      `${name} ${spec.version} is not installed and Go is not available to build it. Install Go 1.26 or newer (https://go.dev/dl/) and re-run, or set ${spec.envVar} to an existing ${name} binary.`,
      { cause: go.error },
    );
  }
  const final = enginePath(name);
  const dir = join(final, '..');
  const staging = join(dir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`kubeharden: installing ${name} ${spec.version} into ${dir} with ${go.stdout.trim()} (first run only, ${spec.coldBuild} cold; later runs reuse it)`);
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
  return final;
}

/** Runs a build command, printing a progress line every 15 s and the output tail on failure. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: Logger, name: string, started: number): Promise<void> {
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
