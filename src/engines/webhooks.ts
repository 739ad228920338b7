/**
 * The policy engines' admission controllers, run as real webhooks of the pinned kube-apiserver
 * (src/engines/apiserver.ts): Gatekeeper's manager and Kyverno's admission controller, the releases of gator
 * and of the Kyverno CLI. Built from the Go module proxy into the per-user cache like the other engines (one
 * lock per binary, moved into place only after a successful build): the manager with `go install`, Kyverno
 * from a wrapper module (its go.mod replaces the PSA module, which `go install pkg@version` refuses). The
 * version is read from the binary's Go build information (`go version -m`): neither has a version flag.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, ENGINES, KYVERNO_PSA_REPLACE, cacheDir, goVersionFor, isExecutable, run, withInstallLock, type Logger } from './index.js';

export interface WebhookEngineSpec {
  /** Also the cache folder: `<cache>/engines/<name>/<version>/<name>`. */
  readonly name: 'gatekeeper' | 'kyverno-admission';
  readonly version: string;
  readonly envVar: string;
  /** The module of the program, and its main package. */
  readonly module: string;
  readonly pkg: string;
  /** Set: built from a wrapper module with this `go mod edit -replace` (else `go install pkg@version`). */
  readonly replace?: string;
  readonly coldBuild: string;
}

export const GATEKEEPER_MANAGER: WebhookEngineSpec = {
  name: 'gatekeeper',
  // The manager and gator come from one module: the same release decides both engines' verdicts.
  version: ENGINES.gator.version,
  envVar: 'KUBEHARDEN_GATEKEEPER',
  module: 'github.com/open-policy-agent/gatekeeper/v3',
  pkg: 'github.com/open-policy-agent/gatekeeper/v3',
  coldBuild: 'about 4 minutes',
};

export const KYVERNO_ADMISSION: WebhookEngineSpec = {
  name: 'kyverno-admission',
  version: ENGINES.kyverno.version,
  envVar: 'KUBEHARDEN_KYVERNO_ADMISSION',
  module: 'github.com/kyverno/kyverno',
  pkg: 'github.com/kyverno/kyverno/cmd/kyverno',
  replace: KYVERNO_PSA_REPLACE,
  coldBuild: 'about 6 minutes (1 minute after the Kyverno CLI)',
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
  // The main package (`path`) must be the program's: gator and the Kyverno CLI come from the same modules.
  const main = /^\s*path\s+(\S+)\s*$/m.exec(r.stdout)?.[1];
  const found = /^\s*mod\s+(\S+)\s+(\S+)/m.exec(r.stdout);
  if (main !== spec.pkg || found?.[1] !== spec.module || found[2] !== spec.version) {
    const what = main ? `${main}${found ? ` (module ${found[1]} ${found[2]})` : ''}` : 'no Go main package';
    throw new EngineError('engine_version', `${path} is ${what}; kubeharden needs ${spec.name} ${spec.version} (${spec.pkg}): ${fix}`);
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
  const goVersionLine = goVersionFor(spec.name, spec);
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
    log(`kubeharden: installing ${spec.name} ${spec.version} into ${dir} with ${goVersionLine} (first run only, ${spec.coldBuild} cold; later runs reuse it)`);
    const started = Date.now();
    try {
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: process.env['GOFLAGS'] ?? '' };
      const built = join(staging, spec.name);
      if (spec.replace) {
        const src = join(dir, 'src');
        mkdirSync(src, { recursive: true });
        if (!existsSync(join(src, 'go.mod'))) writeFileSync(join(src, 'go.mod'), `module local/${spec.name}-build\n\ngo 1.26\n`);
        await run('go', ['mod', 'edit', `-replace=${spec.replace}`], src, env, log, spec.name, started);
        await run('go', ['get', '-tool', `${spec.pkg}@${spec.version}`], src, env, log, spec.name, started);
        await run('go', ['build', '-v', '-o', built, spec.pkg], src, env, log, spec.name, started);
      } else {
        await run('go', ['install', '-v', `${spec.pkg}@${spec.version}`], dir, { ...env, GOBIN: staging }, log, spec.name, started);
        // `go install` names the binary after the package path's last element before a major-version suffix.
        const installed = join(staging, spec.pkg.split('/').filter((e) => !/^v\d+$/.test(e)).pop()!);
        if (!existsSync(installed)) throw new EngineError('engine_install_failed', `go install finished but ${installed} is missing`);
        renameSync(installed, built);
      }
      renameSync(built, final);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    log(`kubeharden: ${spec.name} ${spec.version} ready (${Math.round((Date.now() - started) / 1000)} s)`);
    checkWebhookEngineVersion(spec, final, false);
    return final;
  });
}
