/**
 * The pinned Kubernetes control plane (kube-apiserver and etcd), built from the Go module proxy into the
 * per-user cache like the policy engines (src/engines/index.ts): pinned versions, one lock per binary, a
 * binary moved into place only after a successful build, a version check of every binary used (an installed
 * one or one named by an override variable).
 *
 * Neither program installs with `go install pkg@version`: both modules `replace` their sibling modules with
 * relative paths (k8s.io/kubernetes its 30-odd staging modules under ./staging, etcd's server its siblings
 * under ..). Each is built from a wrapper module that requires the pinned module and replaces every one of
 * those siblings by the published module of the same release. The replace list is read from the pinned
 * module's own go.mod (downloaded from the proxy), never kept by hand.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, cacheDir, goVersionFor, isExecutable, run, withInstallLock, type Logger } from './index.js';
import { goModDownload } from './go-helper.js';

export type ControlPlaneBinary = 'kube-apiserver' | 'etcd';

export interface ControlPlaneSpec {
  readonly name: ControlPlaneBinary;
  readonly version: string;
  /** Environment variable that points to an existing binary instead. */
  readonly envVar: string;
  /** The module the wrapper requires, and the package built from it. */
  readonly module: string;
  readonly pkg: string;
  /** Version of the sibling modules the wrapper replaces the relative replaces with. */
  readonly siblingVersion: string;
  /** Which relative `replace` lines of the module's go.mod name a sibling module (others are left out). */
  readonly sibling: (path: string, target: string) => boolean;
  readonly ldflags: readonly string[];
  readonly versionArgs: readonly string[];
  readonly versionPattern: RegExp;
  /** Rough cold build time on 2 cores, for the progress message. */
  readonly coldBuild: string;
}

export const KUBE_VERSION = 'v1.37.2';
export const ETCD_VERSION = 'v3.6.16';

export const CONTROL_PLANE: Readonly<Record<ControlPlaneBinary, ControlPlaneSpec>> = {
  'kube-apiserver': {
    name: 'kube-apiserver',
    version: KUBE_VERSION,
    envVar: 'KUBEHARDEN_KUBE_APISERVER',
    module: 'k8s.io/kubernetes',
    pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
    // The staging modules are published as k8s.io/<name> v0.<minor>.<patch>.
    siblingVersion: KUBE_VERSION.replace(/^v1\./, 'v0.'),
    sibling: (path, target) => path.startsWith('k8s.io/') && target === `./staging/src/${path}`,
    // What the release build stamps (hack/lib/version.sh): `kube-apiserver --version` and /version report it.
    ldflags: ['-s', '-w', `-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}`, '-X k8s.io/component-base/version.gitMajor=1', `-X k8s.io/component-base/version.gitMinor=${KUBE_VERSION.split('.')[1]}`, '-X k8s.io/component-base/version.gitTreeState=clean'],
    versionArgs: ['--version'],
    versionPattern: /^Kubernetes (v\S+)$/m,
    coldBuild: 'about 6 minutes',
  },
  etcd: {
    name: 'etcd',
    version: ETCD_VERSION,
    envVar: 'KUBEHARDEN_ETCD',
    module: 'go.etcd.io/etcd/server/v3',
    pkg: 'go.etcd.io/etcd/server/v3',
    siblingVersion: ETCD_VERSION,
    // `go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY` guards against a bad import; it is no sibling.
    sibling: (path, target) => path.startsWith('go.etcd.io/etcd/') && target.startsWith('../'),
    ldflags: ['-s', '-w'],
    versionArgs: ['--version'],
    versionPattern: /^etcd Version: (\S+)$/m,
    coldBuild: 'about 1 minute',
  },
};

export const CONTROL_PLANE_BINARIES: readonly ControlPlaneBinary[] = ['etcd', 'kube-apiserver'];

export function controlPlanePath(name: ControlPlaneBinary): string {
  const spec = CONTROL_PLANE[name];
  return join(cacheDir(), 'engines', name, spec.version, name);
}

const checked = new Set<string>();

/** Throws unless `path --version` reports the pinned version. */
export function checkControlPlaneVersion(name: ControlPlaneBinary, path: string, override: boolean): void {
  if (checked.has(path)) return;
  const spec = CONTROL_PLANE[name];
  const r = spawnSync(path, [...spec.versionArgs], { encoding: 'utf8', timeout: 60_000 });
  const fix = override ? `point ${spec.envVar} to ${name} ${spec.version} or unset it to let kubeharden build it` : `remove ${join(path, '..')} and run \`kubeharden engines install apiserver\``;
  const shown = `\`${path} ${spec.versionArgs.join(' ')}\``;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 500)}` : ''}`;
    throw new EngineError('engine_version', `${shown} failed (${why}); kubeharden needs ${name} ${spec.version}: ${fix}`, { cause: r.error });
  }
  const found = spec.versionPattern.exec(r.stdout)?.[1];
  if (found === undefined) throw new EngineError('engine_version', `${shown} prints no ${name} version (output: ${JSON.stringify(r.stdout.trim().slice(0, 200))}); kubeharden needs ${name} ${spec.version}: ${fix}`);
  const normalized = found.startsWith('v') ? found : `v${found}`;
  if (normalized !== spec.version) throw new EngineError('engine_version', `${shown} reports version ${found}; kubeharden needs ${name} ${spec.version}: ${fix}`);
  checked.add(path);
}

/** The binary if it is available without building (override variable or cache), else undefined. */
export function findControlPlaneBinary(name: ControlPlaneBinary): string | undefined {
  const spec = CONTROL_PLANE[name];
  const override = process.env[spec.envVar];
  if (override) {
    if (!isExecutable(override)) throw new EngineError('engine_not_found', `${spec.envVar}=${override} is not an executable file; unset it to let kubeharden build ${name} ${spec.version}`);
    checkControlPlaneVersion(name, override, true);
    return override;
  }
  const p = controlPlanePath(name);
  if (!isExecutable(p)) return undefined;
  checkControlPlaneVersion(name, p, false);
  return p;
}

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
}

/** Both binaries, building what is missing (etcd first: it is the quick one). */
export async function ensureControlPlane(log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<ControlPlaneBinaries> {
  const etcd = await ensureControlPlaneBinary('etcd', log);
  const kubeApiserver = await ensureControlPlaneBinary('kube-apiserver', log);
  return { etcd, kubeApiserver };
}

export async function ensureControlPlaneBinary(name: ControlPlaneBinary, log: Logger = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const found = findControlPlaneBinary(name);
  if (found) return found;
  const spec = CONTROL_PLANE[name];
  const goVersionLine = goVersionFor(name, spec);
  const final = controlPlanePath(name);
  const dir = join(final, '..');
  mkdirSync(dir, { recursive: true });
  return withInstallLock(join(dir, '.install.lock'), `${name} ${spec.version}`, log, async () => {
    if (isExecutable(final)) {
      log(`kubeharden: ${name} ${spec.version} was installed by another process; using it`);
      checkControlPlaneVersion(name, final, false);
      return final;
    }
    await build(spec, goVersionLine, log);
    checkControlPlaneVersion(name, final, false);
    return final;
  });
}

/** Parses the `replace` directives of a go.mod (block and single-line forms): path → target (version dropped). */
export function goModReplaces(goMod: string): { path: string; target: string }[] {
  const out: { path: string; target: string }[] = [];
  let inBlock = false;
  for (const raw of goMod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    let body: string | undefined;
    if (inBlock) {
      if (line === ')') {
        inBlock = false;
        continue;
      }
      body = line;
    } else if (/^replace\s*\($/.test(line)) {
      inBlock = true;
      continue;
    } else if (line.startsWith('replace ')) body = line.slice('replace '.length).trim();
    if (body === undefined) continue;
    const m = /^(\S+)(?:\s+\S+)?\s*=>\s*(\S+)/.exec(body);
    if (m) out.push({ path: m[1]!, target: m[2]! });
  }
  return out;
}

/**
 * The wrapper go.mod: requires the pinned module and replaces each sibling module (a relative replace of
 * the pinned module's go.mod) with the published release. Throws when the go.mod names no sibling (the
 * upstream layout changed: a wrapper without them would resolve the siblings at v0.0.0 and fail obscurely).
 */
export function wrapperGoMod(spec: ControlPlaneSpec, upstreamGoMod: string): string {
  const siblings = goModReplaces(upstreamGoMod)
    .filter((r) => spec.sibling(r.path, r.target))
    .map((r) => r.path)
    .sort();
  if (siblings.length === 0) throw new EngineError('engine_install_failed', `the go.mod of ${spec.module}@${spec.version} has no relative replace of a sibling module; cannot write the wrapper module for ${spec.name}`);
  const goLine = /^go\s+(\S+)\s*$/m.exec(upstreamGoMod)?.[1] ?? '1.26';
  return [
    `// Generated by kubeharden from the go.mod of ${spec.module}@${spec.version}: its ${siblings.length} sibling modules at ${spec.siblingVersion}.`,
    `module local/${spec.name}-build`,
    '',
    `go ${goLine}`,
    '',
    `require ${spec.module} ${spec.version}`,
    '',
    'replace (',
    ...siblings.map((p) => `\t${p} => ${p} ${spec.siblingVersion}`),
    ')',
    '',
  ].join('\n');
}

async function build(spec: ControlPlaneSpec, goVersionLine: string, log: Logger): Promise<void> {
  const final = controlPlanePath(spec.name);
  const dir = join(final, '..');
  const src = join(dir, 'src');
  const staging = join(dir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  mkdirSync(src, { recursive: true });
  log(`kubeharden: building ${spec.name} ${spec.version} into ${dir} with ${goVersionLine} (first run only, ${spec.coldBuild} cold; later runs reuse it)`);
  const started = Date.now();
  // A caller's GOFLAGS (e.g. -mod=vendor) must not change how the wrapper resolves; -buildvcs=false: the
  // wrapper folder is no repository.
  const env = { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false' };
  try {
    const goModPath = goModDownload(spec.module, spec.version, { cwd: dir, env }).goMod;
    // A fresh wrapper each time: go.sum is kept (it only ever gains verified lines).
    writeFileSync(join(src, 'go.mod'), wrapperGoMod(spec, readFileSync(goModPath, 'utf8')));
    await run('go', ['get', '-tool', `${spec.pkg}@${spec.version}`], src, env, log, spec.name, started);
    await run('go', ['build', '-v', '-trimpath', `-ldflags=${spec.ldflags.join(' ')}`, '-o', join(staging, spec.name), spec.pkg], src, env, log, spec.name, started);
    if (!existsSync(join(staging, spec.name))) throw new EngineError('engine_install_failed', `go build finished but ${join(staging, spec.name)} is missing`);
    renameSync(join(staging, spec.name), final);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`kubeharden: ${spec.name} ${spec.version} ready (${Math.round((Date.now() - started) / 1000)} s)`);
}
