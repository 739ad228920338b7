/**
 * Adoption and the CLI's conventions, through the real CLI (node bin/kubeharden.js, built from src) in temp
 * directories: init, exempt, --help/--version/--format json, and bad input (configs that export the wrong
 * thing, syntax errors, a closed stdout, a bad KUBEHARDEN_TODAY).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS } from '../src/controls/index.js';
import { BIN, ROOT, runCli, tempProject, TODAY } from './helpers.js';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** Every file of a directory with its content (to show that a failed command left it alone). */
function snapshot(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => `${join(e.parentPath, e.name)}\n${readFileSync(join(e.parentPath, e.name), 'utf8')}`)
    .sort();
}

describe('kubeharden init', () => {
  it('writes a commented config that builds as written, a tsconfig, next steps; never overwrites without --force', () => {
    const dir = tempProject({});
    const r = runCli(['init'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('policies.config.ts');
    expect(r.stdout).toContain('tsconfig.json');
    expect(r.stdout).toContain('no package.json here, so no scripts were added');
    expect(r.stdout).toContain('Next steps:');
    expect(r.stdout).toContain('kubeharden exempt -');
    const config = readFileSync(join(dir, 'policies.config.ts'), 'utf8');
    // One example of each customization, commented.
    for (const s of ["profile: 'pss-restricted'", "kubernetesVersion: '1.37'", 'exemptNamespaces:', "'restrict-seccomp': 'audit'", 'options: { allowedRanges:', "'legacy-apps': { pss: 'baseline' }", 'reason:', 'expires:', 'exceptionHorizonDays: 365', 'allow: { hostPorts: [9100] }', '// ']) {
      expect(config, s).toContain(s);
    }
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
    // It builds as written, and its bundle carries the example exception.
    const b = runCli(['build'], dir);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(b.stdout).toContain('built cluster → generated/');
    expect(runCli(['test'], dir).status).toBe(0);

    // A second init refuses and changes nothing; --force rewrites the config but keeps the tsconfig.
    writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
    writeFileSync(join(dir, 'policies.config.ts'), `${config}// mine\n`);
    const before = snapshot(dir);
    const again = runCli(['init'], dir);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('policies.config.ts already exists; nothing was written');
    expect(snapshot(dir)).toEqual(before);
    const forced = runCli(['init', '--force'], dir);
    expect(forced.status).toBe(0);
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(config);
    expect(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).toBe('{ "compilerOptions": { "strict": true } }\n');
    expect(forced.stdout).toContain('tsconfig.json exists and was kept');
  });

  it('adds the policies:* scripts to an existing package.json, keeping its keys, indentation and own scripts', () => {
    const pkg = '{\n    "name": "platform",\n    "private": true,\n    "scripts": {\n        "test": "vitest",\n        "policies:test": "my-own-runner"\n    }\n}\n';
    const dir = tempProject({ 'package.json': pkg });
    const r = runCli(['init', '--name', 'prod'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('package.json: scripts policies:build, policies:check');
    expect(r.stdout).toContain('package.json script "policies:test" exists ("my-own-runner") and was kept');
    const after = readFileSync(join(dir, 'package.json'), 'utf8');
    expect(JSON.parse(after)).toEqual({
      name: 'platform',
      private: true,
      scripts: { test: 'vitest', 'policies:test': 'my-own-runner', 'policies:build': 'kubeharden build', 'policies:check': 'kubeharden build --check' },
    });
    expect(after).toContain('\n    "name"');
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toContain('name: "prod"');
    // A broken package.json stops init before anything is written.
    const broken = tempProject({ 'package.json': '{ "name": ' });
    const b = runCli(['init'], broken);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('package.json is not valid JSON');
    expect(existsSync(join(broken, 'policies.config.ts'))).toBe(false);
  });

  it('the packed package: init in a fresh project, then `tsc --noEmit -p .` type-checks the config without skipLibCheck', () => {
    // The tarball npm would install; its dependencies come from this checkout (no registry in tests).
    const packDir = tempProject({});
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'))!;
    const proj = tempProject({ 'package.json': '{\n  "name": "fresh",\n  "version": "1.0.0"\n}\n' });
    const installed = join(proj, 'node_modules', 'kubeharden');
    mkdirSync(installed, { recursive: true });
    expect(spawnSync('tar', ['xzf', join(packDir, tgz), '-C', installed, '--strip-components=1']).status).toBe(0);
    symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
    const init = spawnSync(process.execPath, [join(installed, 'bin', 'kubeharden.js'), 'init'], { cwd: proj, encoding: 'utf8', env: { ...process.env, KUBEHARDEN_TODAY: TODAY } });
    expect(init.status, init.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')).scripts['policies:build']).toBe('kubeharden build');
    expect(readFileSync(join(proj, 'tsconfig.json'), 'utf8')).not.toContain('skipLibCheck');
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.'], { cwd: proj, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    // A typo in the config is a type error there (the check is real).
    writeFileSync(join(proj, 'policies.config.ts'), readFileSync(join(proj, 'policies.config.ts'), 'utf8').replace("'restrict-seccomp': 'audit'", "'restrict-seccomp': 'audti'"));
    const bad = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.'], { cwd: proj, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain('policies.config.ts');
  });
});

const EXEMPT_CONFIG = `import { defineConfig } from 'kubeharden';

// The platform team's config.
export default defineConfig({
  name: 'demo',
  profile: 'pss-restricted',   // restricted everywhere
  kubernetesVersion: '1.37',
  exceptions: [
    // Existing entry: kept as written.
    {
      control: 'require-run-as-non-root',
      namespaces: ['apps'],
      names: ['legacy-*'],
      reason: "legacy images run as root (PLAT-1)",
      expires: '2027-06-30',
    },
  ],
});
`;

function deployment(name: string, ns: string, spec: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
${spec.replace(/^/gm, '      ')}
`;
}

const GOOD_CONTAINER = `- name: app
  image: registry.example.com/app:1
  securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}`;

/** A running cluster's objects: a host-port agent, a hostPID tool, and a Pod of the agent's controller. */
const CLUSTER = [
  deployment('agent', 'monitoring', `securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
containers:
  - name: agent
    image: registry.example.com/agent:2
    ports: [{containerPort: 9100, hostPort: 9100}]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`),
  deployment('debugger', 'tools', `hostPID: true
securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
containers:
${GOOD_CONTAINER}`),
  `apiVersion: v1
kind: Pod
metadata:
  name: agent-5d8f7c9b4-x2x7q
  namespace: monitoring
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: agent-5d8f7c9b4, controller: true, uid: u1}]
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: agent
      image: registry.example.com/agent:2
      ports: [{containerPort: 9100, hostPort: 9100}]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`,
].join('---\n');

describe('kubeharden exempt', () => {
  it('audit → exempt → audit passes; narrow (value-scoped, by name), comments kept, idempotent; new violations still fail', () => {
    const dir = tempProject({ 'policies.config.ts': EXEMPT_CONFIG, 'cluster.yaml': CLUSTER });
    expect(runCli(['audit', 'cluster.yaml'], dir).status).toBe(1);

    // --dry-run: a unified diff, nothing written.
    const args = ['exempt', 'cluster.yaml', '--reason', 'pre-existing (PLAT-7)', '--expires', '2027-03-31'];
    const dry = runCli([...args, '--dry-run'], dir);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/^--- a\/policies\.config\.ts\n\+\+\+ b\/policies\.config\.ts\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    expect(dry.stdout).toContain("+      allow: { hostPorts: [9100] },");
    expect(dry.stderr).toContain('dry run: nothing was written');
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(EXEMPT_CONFIG);

    const r = runCli(args, dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('added 2 exception(s)');
    const edited = readFileSync(join(dir, 'policies.config.ts'), 'utf8');
    // The original text is intact around one insertion (comments, quotes, spacing, order).
    const at = EXEMPT_CONFIG.indexOf("      expires: '2027-06-30',\n    }") + "      expires: '2027-06-30',\n    }".length;
    expect(edited.slice(0, at)).toBe(EXEMPT_CONFIG.slice(0, at));
    expect(edited.endsWith(EXEMPT_CONFIG.slice(at))).toBe(true);
    const added = edited.slice(at, edited.length - (EXEMPT_CONFIG.length - at));
    expect(added).toBe(`,
    {
      control: 'restrict-host-ports',
      namespaces: ['monitoring'],
      names: ['agent', 'agent-*'],
      allow: { hostPorts: [9100] },
      reason: 'pre-existing (PLAT-7)',
      expires: '2027-03-31',
    },
    {
      control: 'disallow-host-namespaces',
      namespaces: ['tools'],
      names: ['debugger', 'debugger-*'],
      allow: { hostNamespaces: ['hostPID'] },
      reason: 'pre-existing (PLAT-7)',
      expires: '2027-03-31',
    }`);

    // The next audit of the same inputs passes, and the bundle builds.
    const a = runCli(['audit', 'cluster.yaml'], dir);
    expect(a.stdout).toContain('0 denied');
    expect(a.status).toBe(0);
    expect(runCli(['build'], dir).status).toBe(0);

    // Idempotent: running again adds nothing (byte-equal file).
    const again = runCli(args, dir);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('nothing is denied');
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(edited);

    // Narrow: another host port of the same agent, or hostNetwork for the debugger, or a new workload still fail.
    const otherPort = CLUSTER.replace('ports: [{containerPort: 9100, hostPort: 9100}]', 'ports: [{containerPort: 9100, hostPort: 9100}, {containerPort: 22, hostPort: 22}]');
    writeFileSync(join(dir, 'next.yaml'), otherPort);
    const p = runCli(['audit', 'next.yaml', '--format', 'json'], dir);
    expect(p.status).toBe(1);
    expect(p.stdout).toContain('hostPort 22');
    writeFileSync(join(dir, 'next.yaml'), CLUSTER.replace('hostPID: true', 'hostPID: true\n      hostNetwork: true'));
    const n = runCli(['audit', 'next.yaml', '--format', 'json'], dir);
    expect(n.status).toBe(1);
    expect(n.stdout).toContain('spec.hostNetwork');
    writeFileSync(join(dir, 'next.yaml'), deployment('newcomer', 'tools', `hostPID: true
securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
containers:
${GOOD_CONTAINER}`));
    expect(runCli(['audit', 'next.yaml'], dir).status).toBe(1);
  });

  it('by image where that is narrower: a sidecar that fails in several workloads, beside containers that stay checked', () => {
    const SIDECAR = `- name: proxy
  image: registry.example.com/mesh/proxy:1.9
  securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsNonRoot: false}`;
    const POD = 'securityContext: {seccompProfile: {type: RuntimeDefault}}';
    const apps = ['web', 'api', 'worker'].map((n) => deployment(n, 'apps', `${POD}\ncontainers:\n${GOOD_CONTAINER}\n${SIDECAR}`));
    // One workload whose only container fails: by name (an image exception would cover as much, and new ones).
    const solo = deployment('batch', 'jobs', `${POD}\ncontainers:\n${SIDECAR}`);
    const dir = tempProject({ 'policies.config.ts': EXEMPT_CONFIG.replace(/ {2}exceptions: \[[^]*\],\n\}\);/, '});'), 'cluster.yaml': [...apps, solo].join('---\n') });
    expect(runCli(['audit', 'cluster.yaml'], dir).status).toBe(1);
    const r = runCli(['exempt', 'cluster.yaml', '--reason', 'mesh sidecar (PLAT-9)', '--expires', '2027-03-31'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  require-run-as-non-root in apps: images registry.example.com/mesh/proxy:1.9');
    expect(r.stdout).toContain('  require-run-as-non-root in jobs: batch, batch-*');
    const edited = readFileSync(join(dir, 'policies.config.ts'), 'utf8');
    expect(edited).toContain(`      control: 'require-run-as-non-root',
      namespaces: ['apps'],
      images: ['registry.example.com/mesh/proxy:1.9'],`);
    expect(edited).not.toMatch(/names: \['api'/);
    expect(runCli(['audit', 'cluster.yaml'], dir).status).toBe(0);
    // The app containers of the same workloads stay checked.
    writeFileSync(join(dir, 'next.yaml'), deployment('web', 'apps', `${POD}\ncontainers:\n${GOOD_CONTAINER.replace('runAsNonRoot: true', 'runAsNonRoot: false')}\n${SIDECAR}`));
    const n = runCli(['audit', 'next.yaml', '--format', 'json'], dir);
    expect(n.status).toBe(1);
    expect(n.stdout).toContain('require-run-as-non-root');
    // Idempotent.
    expect(runCli(['exempt', 'cluster.yaml', '--reason', 'mesh sidecar (PLAT-9)', '--expires', '2027-03-31'], dir).stdout).toContain('nothing is denied');
  });

  it('reads standard input (a kubectl dump); whole-control findings are excepted by name, superseded baseline findings too', () => {
    const pod = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: lone}
    spec:
      containers:
        - name: app
          image: busybox:1
      volumes: [{name: h, hostPath: {path: /var/log}}]
`;
    const dir = tempProject({ 'policies.config.ts': EXEMPT_CONFIG.replace(/ {2}exceptions: \[[^]*\],\n\}\);/, '});') });
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).not.toContain('exceptions');
    const r = runCli(['exempt', '-', '--reason', 'adopted', '--expires', '2027-01-31'], dir, pod);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readFileSync(join(dir, 'policies.config.ts'), 'utf8');
    expect(text).toContain("  exceptions: [\n    {\n      control: 'disallow-host-path',\n      namespaces: ['default'],\n      names: ['lone'],\n      allow: { hostPaths: ['/var/log'] },");
    expect(text).toContain("      control: 'require-run-as-non-root',\n      namespaces: ['default'],\n      names: ['lone'],\n      reason: 'adopted',");
    expect(text).toContain("allow: { volumeTypes: ['hostPath'] }");
    expect(runCli(['audit', '-'], dir, pod).status).toBe(0);
  });

  it('--cluster writes into that cluster’s entry of a multi-cluster config (a new exceptions property), which is required', () => {
    const config = `import { defineConfig } from 'kubeharden';

export default defineConfig({
  profile: 'pss-restricted',
  clusters: {
    staging: { defaultMode: 'warn' },
    // Production enforces.
    prod: {
      defaultMode: 'enforce',
    },
  },
});
`;
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: apps}\nspec:\n  hostIPC: true\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n    - name: app\n      image: r/app:1\n      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n';
    const dir = tempProject({ 'policies.config.ts': config, 'p.yaml': pod });
    const none = runCli(['exempt', 'p.yaml', '--reason', 'r', '--expires', '2027-01-01'], dir);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('choose one with --cluster (prod, staging)');
    expect(runCli(['audit', '--cluster', 'prod', 'p.yaml'], dir).status).toBe(1);
    const r = runCli(['exempt', 'p.yaml', '--cluster', 'prod', '--reason', 'r', '--expires', '2027-01-01'], dir);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(config.replace("      defaultMode: 'enforce',\n", `      defaultMode: 'enforce',
      exceptions: [
        {
          control: 'disallow-host-namespaces',
          namespaces: ['apps'],
          names: ['web'],
          allow: { hostNamespaces: ['hostIPC'] },
          reason: 'r',
          expires: '2027-01-01',
        },
      ],
`));
    expect(runCli(['audit', '--cluster', 'prod', 'p.yaml'], dir).status).toBe(0);
  });

  it('refuses a config it cannot edit safely with a located error, and bad usage with exit 2; nothing is written', () => {
    const config = `import { defineConfig } from 'kubeharden';
const make = () => [];
export default defineConfig({
  profile: 'pss-restricted',
  exceptions: make(),
});
`;
    const dir = tempProject({ 'policies.config.ts': config, 'cluster.yaml': CLUSTER });
    const r = runCli(['exempt', 'cluster.yaml', '--reason', 'x', '--expires', '2027-03-31'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('policies.config.ts:5:15 cannot edit this config: `exceptions` is not an array literal');
    expect(r.stderr).toContain('> 5 |   exceptions: make(),');
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(config);
    for (const bad of [
      ['exempt', 'cluster.yaml', '--expires', '2027-03-31'],
      ['exempt', 'cluster.yaml', '--reason', 'x'],
      ['exempt', 'cluster.yaml', '--reason', 'x', '--expires', '2027-02-30'],
      ['exempt', 'cluster.yaml', '--reason', 'x', '--expires', '2020-01-01'],
      ['exempt', '--reason', 'x', '--expires', '2027-03-31'],
    ]) {
      const u = runCli(bad, dir);
      expect(u.status, bad.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/^kubeharden exempt: /);
    }
    expect(readFileSync(join(dir, 'policies.config.ts'), 'utf8')).toBe(config);
  });
});

describe('audit --namespace', () => {
  const INPUT = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: registry.example.com/app:1
      securityContext: {capabilities: {add: [NET_ADMIN]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
`;
  type Json = { resources: { kind: string; namespace: string | null; violations: { control: string; engine: string }[] }[]; errors: unknown[] };

  it('objects without a namespace are evaluated and reported in NS, by every engine; cluster-scoped ones stay cluster-scoped', () => {
    const dir = tempProject({ 'in.yaml': INPUT });
    const plain = JSON.parse(runCli(['audit', '--profile', 'nsa-cisa', '--format', 'json', 'in.yaml'], dir).stdout) as Json;
    expect(plain.resources.map((r) => r.namespace)).toEqual([null, null]);
    expect(plain.resources[0]!.violations.map((v) => v.control)).toContain('disallow-default-namespace');
    const r = runCli(['audit', '--profile', 'nsa-cisa', '--format', 'json', '--engine', 'all', '--namespace', 'apps', 'in.yaml'], dir);
    const json = JSON.parse(r.stdout) as Json;
    expect(json.errors).toEqual([]);
    expect(json.resources.map((x) => [x.kind, x.namespace])).toEqual([['Pod', 'apps'], ['ClusterRole', null]]);
    const pod = json.resources[0]!.violations;
    expect(pod.map((v) => v.control)).not.toContain('disallow-default-namespace');
    // The other findings are still there, from each of the three engines.
    const byEngine = (engine: string): string[] => [...new Set(pod.filter((v) => v.engine === engine).map((v) => v.control))].sort();
    expect(byEngine('wasm')).toContain('require-drop-all-capabilities');
    expect(byEngine('gator')).toEqual(byEngine('wasm'));
    expect(byEngine('kyverno')).toEqual(byEngine('wasm'));
    expect(runCli(['audit', '--profile', 'nsa-cisa', '-n', 'Apps', 'in.yaml'], dir).status).toBe(2);
  });

  it('exempt --namespace writes the exceptions for NS, and the audit with the same --namespace passes', () => {
    const dir = tempProject({ 'in.yaml': INPUT, 'policies.config.ts': EXEMPT_CONFIG });
    const r = runCli(['exempt', 'in.yaml', '-n', 'apps', '--reason', 'adopted', '--expires', '2027-01-31'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readFileSync(join(dir, 'policies.config.ts'), 'utf8');
    expect(text).toContain("      control: 'restrict-capabilities-baseline',\n      namespaces: ['apps'],\n      names: ['web'],\n      allow: { capabilities: ['NET_ADMIN'] },");
    expect(text).not.toContain("'default'");
    expect(runCli(['audit', '-n', 'apps', 'in.yaml'], dir).status).toBe(0);
    expect(runCli(['audit', 'in.yaml'], dir).status).toBe(1);
  });
});

describe('audit table', () => {
  it('each row has its own finding’s verdict, aligned columns, and messages without the expansion prefix', () => {
    const config = `import { defineConfig } from 'kubeharden';\nexport default defineConfig({ name: 'demo', profile: 'pss-restricted', controls: { 'require-seccomp-profile': 'warn' } });\n`;
    const input = deployment('web', 'apps', `hostPID: true
securityContext: {runAsNonRoot: true}
containers:
  - name: app
    image: registry.example.com/app:1
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`);
    const dir = tempProject({ 'policies.config.ts': config, 'in.yaml': input });
    const r = runCli(['audit', 'in.yaml'], dir);
    expect(r.status).toBe(1);
    const rows = r.stdout.split('\n').slice(0, r.stdout.split('\n').indexOf(''));
    expect(rows[0]).toMatch(/^VERDICT +RESOURCE +CONTROL +MESSAGE \(SOURCE\)$/);
    const find = (control: string): string => rows.find((l) => l.split(/ +/)[2] === control)!;
    expect(find('disallow-host-namespaces')).toMatch(/^DENY +Deployment\/apps\/web +disallow-host-namespaces +pod must not set spec\.hostPID to true \(in\.yaml:1\)$/);
    expect(find('require-seccomp-profile')).toMatch(/^WARN +Deployment\/apps\/web +require-seccomp-profile +container "app" must set/);
    expect(r.stdout).not.toContain('[Implied by');
    // Aligned: every row's control and message start where the header's do.
    const col = (l: string, word: string): number => l.indexOf(word);
    for (const l of rows.slice(1)) {
      expect(l.indexOf('Deployment/')).toBe(col(rows[0]!, 'RESOURCE'));
      expect(l.indexOf(l.split(/ +/)[2]!)).toBe(col(rows[0]!, 'CONTROL'));
    }
  });
});

describe('CLI conventions', () => {
  it('--version, and --help for every command: its own usage, exit 0', () => {
    const dir = tempProject({});
    const v = runCli(['--version'], dir);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(PKG.version);
    for (const cmd of ['init', 'build', 'test', 'audit', 'exempt', 'list', 'explain', 'engines']) {
      for (const flag of ['--help', '-h']) {
        const r = runCli([cmd, flag], dir);
        expect(r.status, `${cmd} ${flag}`).toBe(0);
        expect(r.stdout.startsWith(`Usage: kubeharden ${cmd}`), `${cmd} ${flag}: ${r.stdout.slice(0, 80)}`).toBe(true);
        expect(r.stderr).toBe('');
      }
    }
    expect(runCli(['help', 'audit'], dir).stdout).toContain('--fail-on');
    const unknown = runCli(['biuld'], dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "biuld"; did you mean "build"?');
  });

  it('list --format json and explain --format json; explain suggests the closest control', () => {
    const l = runCli(['list', '--format', 'json'], ROOT);
    expect(l.status).toBe(0);
    const list = JSON.parse(l.stdout) as { id: string; profiles: string[]; defaultMode: string; pss: { level: string } | null }[];
    expect(list.map((c) => c.id)).toEqual([...CONTROL_IDS]);
    expect(list.find((c) => c.id === 'require-readonly-root-fs')).toMatchObject({ pss: null, profiles: ['nsa-cisa'], defaultMode: 'enforce' });
    const e = runCli(['explain', 'restrict-sysctls', '--format', 'json', '--kubernetes-version', '1.29'], ROOT);
    expect(e.status).toBe(0);
    const x = JSON.parse(e.stdout) as { id: string; kubernetesVersion: string; options: Record<string, { default: string[] }> };
    expect(x.id).toBe('restrict-sysctls');
    expect(x.kubernetesVersion).toBe('1.29');
    expect(x.options['allowedSysctls']!.default).toContain('net.ipv4.tcp_keepalive_probes');
    expect(x.options['allowedSysctls']!.default).not.toContain('net.ipv4.tcp_rmem');
    const typo = runCli(['explain', 'restrict-sysctl'], ROOT);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown control "restrict-sysctl"; did you mean "restrict-sysctls"?');
    expect(runCli(['explain', 'zzzzzz'], ROOT).stderr).not.toContain('did you mean');
    expect(runCli(['list', '--format', 'xml'], ROOT).status).toBe(2);
  });
});

describe('README', () => {
  it('the config example runs as written, and the Node version matches package.json', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## The config\n'));
    const example = /```ts\n([^]*?)```/.exec(section)![1]!;
    expect(example).toContain("import { defineConfig } from 'kubeharden';");
    const dir = tempProject({ 'policies.config.ts': example });
    const b = runCli(['build'], dir);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(b.stdout).toContain('built prod → generated/');
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.19');
    expect(readme).toContain('Node ≥ 20.19');
    expect(readme).not.toMatch(/\bNode 20\b(?!\.)/);
  });
});

describe('bad input', () => {
  const GOOD = `import { defineConfig } from 'kubeharden';\n\nexport default defineConfig({ name: 'demo', profile: 'pss-baseline' });\n`;

  it('a config that exports nothing, only a named export, null or a Promise: located error, exit 2, the bundle untouched', () => {
    const dir = tempProject({ 'policies.config.ts': GOOD });
    expect(runCli(['build'], dir).status).toBe(0);
    const before = snapshot(join(dir, 'generated'));
    expect(before.length).toBeGreaterThan(100);
    const cases: [string, RegExp][] = [
      ["import { defineConfig } from 'kubeharden';\nconst config = defineConfig({ profile: 'nsa-cisa' });\n", /policies\.config\.ts:1:1: the config exports nothing; it must `export default defineConfig\(\{\.\.\.\}\)`/],
      ["import { defineConfig } from 'kubeharden';\nexport const config = defineConfig({ profile: 'nsa-cisa' });\n", /policies\.config\.ts:2:1: the config exports only `config` \(named\), no default/],
      ['// nothing yet\nexport default null;\n', /policies\.config\.ts:2:1: the config's default export is null/],
      ["import { defineConfig } from 'kubeharden';\n\nexport default Promise.resolve(defineConfig({}));\n", /policies\.config\.ts:3:1: the config's default export is a Promise/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(dir, 'policies.config.ts'), text);
      for (const cmd of [['build'], ['build', '--check'], ['test']]) {
        const r = runCli(cmd, dir);
        expect(r.status, `${cmd.join(' ')}: ${text}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/^> +\d+ \| /m);
        expect(r.stdout).toBe('');
      }
      expect(snapshot(join(dir, 'generated'))).toEqual(before);
    }
  });

  it('syntax errors and exceptions thrown at import: a code frame at file:line:column', () => {
    const syntax = "import { defineConfig } from 'kubeharden';\n\nexport default defineConfig({\n  profile: 'nsa-cisa'\n  name: 'x',\n});\n";
    const dir = tempProject({ 'policies.config.ts': syntax });
    const r = runCli(['build'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/policies\.config\.ts:5:3: syntax error: Unexpected token, expected ","/);
    expect(r.stderr).toContain("> 5 |   name: 'x',\n    |   ^");
    expect(existsSync(join(dir, 'generated'))).toBe(false);
    const throwing = "import { defineConfig } from 'kubeharden';\n\nconst registries = (process.env['NO_SUCH_VARIABLE'] as string).split(',');\nexport default defineConfig({ profile: 'nsa-cisa', controls: { 'allowed-registries': { options: { registries } } } });\n";
    writeFileSync(join(dir, 'policies.config.ts'), throwing);
    const t = runCli(['build'], dir);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/policies\.config\.ts:3:1: the config threw while loading: Cannot read properties of undefined \(reading 'split'\)/);
    expect(t.stderr).toContain('> 3 | const registries');
    expect(t.stderr).not.toMatch(/^\s+at /m);
  });

  it('`audit … | head` ends quietly with the audit’s exit code', () => {
    const pods = Array.from({ length: 2000 }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: a}\nspec: {containers: [{name: c, image: x}]}\n`).join('---\n');
    const dir = tempProject({ 'pods.yaml': pods });
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" audit --profile nsa-cisa pods.yaml | head -n 2`], { cwd: dir, encoding: 'utf8', env: { ...process.env, KUBEHARDEN_TODAY: TODAY } });
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
  });

  it('--output into a missing directory is a usage error; Ctrl-C during audit --output leaves no temporary file', async () => {
    const pods = Array.from({ length: 3000 }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: a}\nspec: {containers: [{name: c, image: x}]}\n`).join('---\n');
    const dir = tempProject({ 'keep.txt': 'x' });
    const missing = runCli(['audit', '--profile', 'pss-restricted', '--output', 'nope/report.json', '-'], dir, pods);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('kubeharden audit: --output nope/report.json: the directory nope does not exist\n');
    expect(readdirSync(dir)).toEqual(['keep.txt']);

    // Interrupted while it writes the report (standard input spooled under TMPDIR): the temporary report
    // and the spool are removed, and the command dies of the signal.
    const tmp = mkdtempSync(join(tmpdir(), 'kubeharden-tmpdir-'));
    const child = spawn(process.execPath, [BIN, 'audit', '--profile', 'pss-restricted', '--workers', '0', '--format', 'json', '--output', 'report.json', '-'], {
      cwd: dir,
      env: { ...process.env, KUBEHARDEN_TODAY: TODAY, TMPDIR: tmp },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const exited = once(child, 'exit');
    child.stdin.end(pods);
    const writing = (): boolean => readdirSync(dir).some((f) => /^report\.json\.kubeharden-\d+\.tmp$/.test(f));
    for (let waited = 0; !writing() && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(writing()).toBe(true);
    expect(readdirSync(tmp)).toHaveLength(1);
    child.kill('SIGINT');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect([code, signal]).toEqual([null, 'SIGINT']);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  it('KUBEHARDEN_TODAY must be a real date', () => {
    const dir = tempProject({ 'policies.config.ts': GOOD });
    for (const bad of ['2026-13-01', '2026-02-30', 'tomorrow', '20261126']) {
      const r = runCli(['build'], dir, undefined, { KUBEHARDEN_TODAY: bad });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain(`KUBEHARDEN_TODAY must be a date YYYY-MM-DD (e.g. 2026-11-26), got "${bad}"`);
    }
    expect(existsSync(join(dir, 'generated'))).toBe(false);
    expect(runCli(['build'], dir, undefined, { KUBEHARDEN_TODAY: '2028-02-29' }).status).toBe(0);
  });
});
