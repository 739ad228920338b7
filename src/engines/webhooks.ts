/**
 * The policy engines' admission controllers, run as real webhooks of the pinned kube-apiserver
 * (src/engines/apiserver.ts): today Gatekeeper's manager, the same release as gator. Built with `go install`
 * from the Go module proxy into the per-user cache like the other engines (one lock per binary, moved into
 * place only after a successful build); the version is read from the binary's Go build information
 * (`go version -m`), as the manager has no version flag.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, ENGINES, cacheDir, isExecutable, run, withInstallLock, type Logger } from './index.js';

export interface WebhookEngineSpec {
  readonly name: 'gatekeeper';
  readonly version: string;
  readonly envVar: string;
  /** The module `go install` builds (its root package is the manager). */
  readonly module: string;
  /** The binary `go install` writes. */
  readonly binary: string;
  readonly coldBuild: string;
}

export const GATEKEEPER_MANAGER: WebhookEngineSpec = {
  name: 'gatekeeper',
  // The manager and gator come from one module: the same release decides both engines' verdicts.
  version: ENGINES.gator.version,
  envVar: 'KUBEHARDEN_GATEKEEPER',
  module: 'github.com/open-policy-agent/gatekeeper/v3',
  binary: 'gatekeeper',
  coldBuild: 'about 4 minutes',
};

export function webhookEnginePath(spec: WebhookEngineSpec): string {
  return join(cacheDir(), 'engines', spec.name, spec.version, spec.name);
}

const checked = new Set<string>();

/** Throws unless the binary was built from the pinned module version (`go version -m`). */
export function checkWebhookEngineVersion(spec: WebhookEngineSpec, path: string, override: boolean): void {
  if (checked.has(path)) return;
  const fix = override ? `point ${spec.envVar} to ${spec.name} ${spec.version} or unset it to let kubeharden build it` : `remove ${join(path, '..')} and run \`kubeharden engines install apiserver\``;
  const r = spawnSync('go', ['version', '-m', path], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 500)}` : ''}`;
    throw new EngineError('engine_version', `\`go version -m ${path}\` failed (${why}); kubeharden needs ${spec.name} ${spec.version}: ${fix}`, { cause: r.error });
  }
  // The main package (`path`) must be the module's root, the manager: gator is built from the same module.
  const main = /^\s*path\s+(\S+)\s*$/m.exec(r.stdout)?.[1];
  const found = /^\s*mod\s+(\S+)\s+(\S+)/m.exec(r.stdout);
  if (main !== spec.module || found?.[1] !== spec.module || found[2] !== spec.version) {
    const what = main ? `${main}${found ? ` (module ${found[1]} ${found[2]})` : ''}` : 'no Go main package';
    throw new EngineError('engine_version', `${path} is ${what}; kubeharden needs ${spec.name} ${spec.version} (${spec.module}): ${fix}`);
  }
  checked.add(path);
}

/** The binary if it is available without building (override variable or cache), else undefined. */
export function findWebhookEngine(spec: WebhookEngineSpec): string | undefined {
  const override = process.env[spec.envVar];
  if (override) {
    if (!isExecutable(override)) throw new EngineError('engine_not_found', `${spec.envVar}=${override} is not an executable file; unset it to let kubeharden build ${spec.name} ${spec.version}`);
    checkWebhookEngineVersion(spec, override, true);
    return override;
  }
  const p = webhookEnginePath(spec);
  if (!isExecutable(p)) return undefined;
  checkWebhookEngineVersion(spec, p, false);
  return p;
}

export async function ensureWebhookEngine(spec: WebhookEngineSpec, log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const found = findWebhookEngine(spec);
  if (found) return found;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new EngineError(
      'go_missing',
      `${spec.name} ${spec.version} is not installed and Go is not available to build it${go.error ? ` (${go.error.message})` : ''}. Install Go 1.26 or newer (https://go.dev/dl/) and re-run, or set ${spec.envVar} to an existing ${spec.name} binary.`,
      { cause: go.error },
    );
  }
  const final = webhookEnginePath(spec);
  const dir = join(final, '..');
  mkdirSync(dir, { recursive: true });
  return withInstallLock(join(dir, '.install.lock'), `${spec.name} ${spec.version}`, log, async () => {
    if (isExecutable(final)) {
      log(`kubeharden: ${spec.name} ${spec.version} was installed by another process; using it`);
      checkWebhookEngineVersion(spec, final, false);
      return final;
    }
    const staging = join(dir, `.staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    log(`kubeharden: installing ${spec.name} ${spec.version} into ${dir} with ${go.stdout.trim()} (first run only, ${spec.coldBuild} cold; later runs reuse it)`);
    const started = Date.now();
    try {
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: process.env['GOFLAGS'] ?? '', GOBIN: staging };
      await run('go', ['install', '-v', `${spec.module}@${spec.version}`], dir, env, log, spec.name, started);
      const built = join(staging, spec.binary);
      if (!existsSync(built)) throw new EngineError('engine_install_failed', `go install finished but ${built} is missing`);
      renameSync(built, final);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    log(`kubeharden: ${spec.name} ${spec.version} ready (${Math.round((Date.now() - started) / 1000)} s)`);
    checkWebhookEngineVersion(spec, final, false);
    return final;
  });
}
