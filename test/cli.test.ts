/** The real CLI (node bin/kubeharden.js, built from src) in temp directories. */
import { existsSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_IDS } from '../src/controls/index.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCli, tempProject, TODAY } from './helpers.js';

const CONFIG = `import { defineConfig } from 'kubeharden';

export default defineConfig({
  name: 'demo',
  profile: 'pss-restricted',
  kubernetesVersion: '1.37',
  namespaces: { legacy: { pss: 'baseline' } },
});
`;

const GOOD_POD = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: apps}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: app
      image: registry.example.com/app:1
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;

const BAD_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: apps}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      hostPID: true
      containers:
        - name: app
          image: registry.example.com/app:1
`;

describe('kubeharden build', () => {
  it('writes the bundle, then --check passes; a stale bundle fails --check with a readable summary', () => {
    const dir = tempProject({ 'policies.config.ts': CONFIG });
    const b = runCli(['build'], dir);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/built demo → generated\/ \(\d+ files: \d+ added, 0 updated, 0 removed\) in \d+ ms/);
    for (const f of ['README.md', 'kyverno/kustomization.yaml', 'gatekeeper/kustomization.yaml', 'gatekeeper/expansion.yaml', 'psa/namespaces.yaml', 'control-plane/admission-configuration.yaml', 'control-plane/audit-policy.yaml', 'control-plane/encryption-config.yaml', 'control-plane/FLAGS.md']) {
      expect(existsSync(join(dir, 'generated/demo', f)), f).toBe(true);
    }
    expect(runCli(['build', '--check'], dir).status).toBe(0);

    // Edit a generated file, add an orphan, delete one: --check reports all three and exits 1.
    const target = join(dir, 'generated/demo/gatekeeper/constraints/restrict-sysctls.yaml');
    writeFileSync(target, readFileSync(target, 'utf8').replace('enforcementAction: deny', 'enforcementAction: dryrun'));
    writeFileSync(join(dir, 'generated/demo/kyverno/old-control.yaml'), readFileSync(join(dir, 'generated/demo/kyverno/kustomization.yaml')));
    writeFileSync(join(dir, 'generated/demo/notes.yaml'), '# my own file, not generated\n');
    const c = runCli(['build', '--check'], dir);
    expect(c.status).toBe(1);
    expect(c.stderr).toContain('is stale: 0 missing, 1 changed, 1 orphaned');
    expect(c.stderr).toContain('restrict-sysctls.yaml:');
    expect(c.stderr).toContain('committed: ');
    expect(c.stderr).toContain('old-control.yaml (no longer generated)');

    // Rebuilding repairs it, prunes only generated files, keeps the user's own file.
    expect(runCli(['build'], dir).status).toBe(0);
    expect(existsSync(join(dir, 'generated/demo/kyverno/old-control.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'generated/demo/notes.yaml'))).toBe(true);
    expect(runCli(['build', '--check'], dir).status).toBe(0);
  });

  it('temp files of a killed build: --check reports them, build removes them; a running writer\'s are kept', () => {
    const dir = tempProject({ 'policies.config.ts': CONFIG });
    expect(runCli(['build'], dir).status).toBe(0);
    // A build killed between write and rename leaves <file>.kubeharden-<pid>.tmp; no process has pid 2^31-1.
    const dead = 'generated/demo/kyverno/restrict-sysctls.yaml.kubeharden-2147483647.tmp';
    const deadTop = 'generated/demo/README.md.kubeharden-2147483646.tmp';
    // This test's own process is running: its temp file belongs to a write in progress.
    const live = `generated/demo/psa/namespaces.yaml.kubeharden-${process.pid}.tmp`;
    for (const f of [dead, deadTop, live]) writeFileSync(join(dir, f), 'partial');
    const c = runCli(['build', '--check'], dir);
    expect(c.status).toBe(1);
    expect(c.stderr).toContain('is stale: 0 missing, 0 changed, 0 orphaned, 2 leftover temporary');
    expect(c.stderr).toContain(`  leftover  ${deadTop} (temporary file of an interrupted build; \`kubeharden build\` removes it)`);
    expect(c.stderr).toContain(`  leftover  ${dead} (`);
    expect(c.stderr).not.toContain(live);
    const b = runCli(['build'], dir);
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/\(\d+ files: 0 added, 0 updated, 0 removed, 2 leftover temporary removed\)/);
    expect([existsSync(join(dir, dead)), existsSync(join(dir, deadTop)), existsSync(join(dir, live))]).toEqual([false, false, true]);
    rmSync(join(dir, live));
    expect(runCli(['build', '--check'], dir).status).toBe(0);
  });

  it('reports config errors with file:line:column, code frame and hint, and writes nothing', () => {
    const bad = CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "controls: { 'disallow-host-namespace': true, 'restrict-sysctls': { options: { allowedSysctls: 'kernel.msgmax' } } },");
    const dir = tempProject({ 'policies.config.ts': bad });
    const r = runCli(['build'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('policies.config.ts:7:15 unknown_control unknown control "disallow-host-namespace" (at controls["disallow-host-namespace"])');
    expect(r.stderr).toContain('> 7 |   controls: {');
    expect(r.stderr).toContain('hint: did you mean "disallow-host-namespaces"?');
    expect(r.stderr).toMatch(/policies\.config\.ts:7:\d+ invalid_option restrict-sysctls option allowedSysctls: expected a list of strings/);
    expect(r.stderr).toContain('2 error(s) in policies.config.ts; nothing was written');
    expect(existsSync(join(dir, 'generated'))).toBe(false);
  });

  it('an allowedIPs entry that is not an IP address is a located error with its option path', () => {
    const bad = CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "controls: {\n    'restrict-service-external-ips': { options: { allowedIPs: ['192.0.2.10', '10.0.0.0/24'] } },\n  },");
    const dir = tempProject({ 'policies.config.ts': bad });
    const r = runCli(['build'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^policies\.config\.ts:8:\d+ invalid_option restrict-service-external-ips option allowedIPs: item 1 "10\.0\.0\.0\/24" is a CIDR range; list each address \(they are compared as exact strings\) \(at controls\["restrict-service-external-ips"\]\.options\.allowedIPs\[1\]\)$/,
    );
    expect(existsSync(join(dir, 'generated'))).toBe(false);
  });

  it('prints and counts a typo in a setting every cluster inherits once, not once per cluster', () => {
    const multi = `import { defineConfig } from 'kubeharden';

export default defineConfig({
  controls: { 'disallow-host-namespace': true },
  clusters: { prod: {}, staging: {}, dev: {} },
});
`;
    const dir = tempProject({ 'policies.config.ts': multi });
    const r = runCli(['build'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.includes('unknown_control'))).toEqual([
      'policies.config.ts:4:15 unknown_control unknown control "disallow-host-namespace" (at controls["disallow-host-namespace"])',
    ]);
    expect(r.stderr).toContain('1 error(s) in policies.config.ts; nothing was written');
  });

  it('leaves an existing bundle untouched when the config becomes invalid', () => {
    const dir = tempProject({ 'policies.config.ts': CONFIG });
    expect(runCli(['build'], dir).status).toBe(0);
    const snapshot = (): string[] => (readdirSync(join(dir, 'generated'), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((e) => e.isFile())
      .map((e) => `${join(e.parentPath, e.name)}\n${readFileSync(join(e.parentPath, e.name), 'utf8')}`)
      .sort();
    const before = snapshot();
    expect(before.length).toBeGreaterThan(100);
    writeFileSync(join(dir, 'policies.config.ts'), CONFIG.replace("'1.37'", "'1.24'"));
    const r = runCli(['build'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unsupported_version');
    expect(snapshot()).toEqual(before);
  });
});

describe('"today"', () => {
  const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const withException = (expires: string): string =>
    CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", `exceptions: [{ control: 'disallow-host-path', namespaces: ['ops'], reason: 'r', expires: '${expires}' }],`);
  const realClock = { KUBEHARDEN_TODAY: undefined };

  it('users keep the real clock: an exception that expired yesterday fails their build, one expiring in 60 days does not', () => {
    const expired = tempProject({ 'policies.config.ts': withException(day(-1)) });
    const r = runCli(['build'], expired, undefined, realClock);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`expired_exception exception for disallow-host-path expired on ${day(-1)}`);
    expect(existsSync(join(expired, 'generated'))).toBe(false);
    const valid = runCli(['build'], tempProject({ 'policies.config.ts': withException(day(60)) }), undefined, realClock);
    expect(valid.status, valid.stderr).toBe(0);
    // KUBEHARDEN_TODAY moves "today" (the repository's own runs pin it): the expired one builds again.
    expect(runCli(['build'], expired, undefined, { KUBEHARDEN_TODAY: day(-2) }).status).toBe(0);
  });

  it("the repository's own runs are pinned to test/helpers.ts TODAY (vitest.config.ts, .ci/run, npm run bench)", () => {
    expect(process.env['KUBEHARDEN_TODAY']).toBe(TODAY);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(new RegExp(`^export KUBEHARDEN_TODAY=${TODAY}$`, 'm'));
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['bench']).toContain(`KUBEHARDEN_TODAY=${TODAY} node dist/bench/run.js`);
  });
});

describe('kubeharden audit', () => {
  it('gives JSON verdicts for Pods and workloads with exit 1 when something is denied', () => {
    const dir = tempProject({ 'in/good.yaml': GOOD_POD, 'in/nested/bad.yaml': BAD_DEPLOYMENT, 'in/notes.txt': 'ignored' });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--kubernetes-version', '1.37', '--format', 'json', 'in'], dir);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ resources: 2, denied: 1, warned: 0, audited: 0, errors: 0 });
    expect(out.summary.namespaces).toEqual({ apps: { resources: 2, denied: 1, warned: 0, audited: 0 } });
    expect(out.summary.controls['disallow-host-namespaces']).toEqual({ deny: 1, warn: 0, audit: 0 });
    expect(out.summary.controls['disallow-privileged-containers']).toEqual({ deny: 0, warn: 0, audit: 0 });
    expect(out.resources[0]).toEqual({ source: 'in/good.yaml', index: 0, line: 1, apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'good', verdict: 'allow', violations: [] });
    const bad = out.resources[1];
    expect(bad).toMatchObject({ source: 'in/nested/bad.yaml', kind: 'Deployment', name: 'bad', verdict: 'deny' });
    const controls = bad.violations.map((v: { control: string }) => v.control);
    expect(controls).toEqual(expect.arrayContaining(['disallow-host-namespaces', 'disallow-privilege-escalation', 'require-drop-all-capabilities', 'require-run-as-non-root', 'require-seccomp-profile']));
    expect(bad.violations.every((v: { action: string }) => v.action === 'deny')).toBe(true);
    expect(bad.violations.find((v: { control: string }) => v.control === 'disallow-host-namespaces').message).toBe('pod must not set spec.hostPID to true');
  });

  it('exits 0 when nothing is denied; reads stdin, kind: List and JSON', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} }] });
    const dir = tempProject({ 'list.json': list });
    const r = runCli(['audit', '--profile', 'pss-baseline', '--format', 'json', 'list.json', '-'], dir, GOOD_POD);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.resources).toBe(2);
    // In the order the inputs were given.
    expect(out.resources.map((x: { source: string; kind: string }) => `${x.source}:${x.kind}`)).toEqual(['list.json:Service', '-:Pod']);
  });

  it('reports a malformed document with file and line, evaluates the rest, exits 2', () => {
    const text = `${GOOD_POD}---\napiVersion: v1\nkind: Pod\nmetadata: {name: broken\n---\n${BAD_DEPLOYMENT}`;
    const dir = tempProject({ 'mixed.yaml': text });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--format', 'json', 'mixed.yaml'], dir);
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ resources: 2, denied: 1, errors: 1 });
    expect(out.errors[0]).toMatchObject({ source: 'mixed.yaml', index: 1, line: 11 });
    expect(out.errors[0].message).toMatch(/^malformed YAML: /);
  });

  it('uses the config: exempt namespaces and namespace levels', () => {
    const dir = tempProject({ 'policies.config.ts': CONFIG, 'm.yaml': BAD_DEPLOYMENT.replace('namespace: apps', 'namespace: kube-system') + '---\n' + BAD_DEPLOYMENT.replace('namespace: apps', 'namespace: legacy') });
    const r = runCli(['audit', '--format', 'json', 'm.yaml'], dir);
    const out = JSON.parse(r.stdout);
    expect(out.resources[0].violations).toEqual([]);
    expect(out.resources[1].violations.map((v: { control: string }) => v.control)).toEqual(['disallow-host-namespaces']);
    expect(r.status).toBe(1);
  });

  it('rejects bad usage with exit 2', () => {
    const dir = tempProject({});
    expect(runCli(['audit', '--profile', 'nsa', 'x.yaml'], dir).status).toBe(2);
    expect(runCli(['audit', '--profile', 'pss-baseline', '--kubernetes-version', '1.24', 'x.yaml'], dir).stderr).toContain('--kubernetes-version must be one of');
    expect(runCli(['audit', '--format', 'xml', '--profile', 'pss-baseline', 'x.yaml'], dir).status).toBe(2);
    expect(runCli(['audit', 'x.yaml'], dir).status).toBe(2);
    expect(runCli(['frobnicate'], dir).status).toBe(2);
  });
});

describe('kubeharden test, list, explain', () => {
  it('runs built-in samples and fixtures through WASM and reports failures', () => {
    const fixture = BAD_DEPLOYMENT;
    const config = CONFIG.replace(
      "namespaces: { legacy: { pss: 'baseline' } },",
      "fixtures: [{ file: 'f.yaml', expect: { 'disallow-host-namespaces': 'deny', 'restrict-sysctls': 'allow' } }, { file: 'f.yaml', expect: 'allow' }, { file: 'f.yaml', expect: { 'disallow-privileged-containers': 'deny', 'disallow-host-namespaces': 'deny' } }],",
    );
    // A bundle directory that is not what the config builds (one file nobody generates).
    const dir = tempProject({ 'policies.config.ts': config, 'f.yaml': fixture, 'generated/stray.yaml': 'kind: ConfigMap\n' });
    const r = runCli(['test'], dir);
    expect(r.status).toBe(1);
    const last = r.stdout.trim().split('\n').pop()!;
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(1000);
    // Messages without Gatekeeper's expansion prefix; an expected deny that did not come names the controls that denied.
    expect(r.stdout).toContain('FAIL fixture f.yaml#0 Deployment/bad: disallow-host-namespaces expected allow, got deny: pod must not set spec.hostPID to true');
    expect(r.stdout).toMatch(/^FAIL fixture f\.yaml#0 Deployment\/bad: disallow-privileged-containers expected deny, got allow \(denied by disallow-host-namespaces, disallow-privilege-escalation, [a-z-, ]+; denies expected from disallow-host-namespaces, disallow-privileged-containers\)$/m);
    // The committed bundle is checked like build --check.
    expect(r.stdout).toMatch(/^FAIL bundle generated\/ is stale \(does not match the config\): [1-9]\d* missing, 0 changed, 0 orphaned; run `kubeharden build` and commit the result$/m);
    expect(r.stderr).toContain('  missing   generated/demo/README.md');
    expect(r.stdout).not.toContain('[Implied by');
    expect(Number(m![2])).toBe(7);
  });

  it('passes on the repository reference config', () => {
    const r = runCli(['test'], ROOT);
    const m = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout);
    expect(m, r.stdout.slice(-2000)).not.toBeNull();
    expect(Number(m![2])).toBe(0);
    // Every built-in sample of the enabled controls and the three fixtures: never an empty run.
    expect(Number(m![1])).toBeGreaterThan(1000);
    expect(r.stdout).not.toMatch(/^FAIL /m);
    expect(r.status).toBe(0);
  });

  it('lists and explains controls', () => {
    const l = runCli(['list'], ROOT);
    expect(l.status).toBe(0);
    expect(l.stdout.trim().split('\n')).toHaveLength(CONTROL_IDS.length + 1);
    const e = runCli(['explain', 'restrict-sysctls', '--kubernetes-version', '1.29'], ROOT);
    const defaults = e.stdout.split('\n').find((l) => l.trim().startsWith('default:'))!;
    expect(defaults).toContain('net.ipv4.tcp_keepalive_probes');
    expect(defaults).not.toContain('tcp_rmem');
    expect(runCli(['explain', 'nope'], ROOT).status).toBe(2);
    // Controls beyond PSS: their profile, and no PSS level; block-ephemeral-containers is in none.
    const row = (id: string) => l.stdout.split('\n').find((x) => x.startsWith(`${id} `))!.split(/\s{2,}/);
    expect(row('require-readonly-root-fs')).toEqual(['require-readonly-root-fs', '—', 'NSA-POD-2', 'nsa-cisa', 'enforce']);
    expect(row('block-ephemeral-containers')[3]).toBe('—');
    // A control with its own default mode shows it (an old PSA version pin warns).
    expect(row('require-current-psa-version')).toEqual(['require-current-psa-version', '—', 'NSA-POD-4', 'nsa-cisa', 'warn']);
    expect(runCli(['explain', 'require-current-psa-version'], ROOT).stdout).toContain('Default mode: warn');
    expect(runCli(['explain', 'enforce-psa-namespace-labels'], ROOT).stdout).not.toContain('Default mode:');
    expect(row('restrict-volume-types')[3]).toBe('pss-restricted,nsa-cisa');
    const a = runCli(['explain', 'allowed-registries'], ROOT);
    expect(a.stdout).toContain('docker.io/library/nginx');
    expect(a.stdout).toContain('registries: Allowed prefixes');
  });
});

describe('kubeharden audit --engine', () => {
  it('gator and kyverno give the WASM verdicts; JSON names the engine of each violation', () => {
    const dir = tempProject({ 'in.yaml': `${GOOD_POD}---\n${BAD_DEPLOYMENT}` });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--engine', 'all', '--format', 'json', 'in.yaml'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ resources: 2, denied: 1, errors: 0 });
    expect(out.errors).toEqual([]);
    const bad = out.resources[1].violations as { control: string; engine: string }[];
    const by = (e: string) => bad.filter((v) => v.engine === e).map((v) => v.control).sort();
    expect(by('wasm').length).toBeGreaterThan(3);
    expect(by('gator')).toEqual(by('wasm'));
    expect(by('kyverno')).toEqual(by('wasm'));
    expect(out.resources[0].violations).toEqual([]);
  }, 300_000);

  it('objects beyond Pods: every engine names the object as written (not the temporary names the CLIs get)', () => {
    const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: edge\n  namespace: apps\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n';
    const binding =
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: anon\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: Group, name: system:unauthenticated, apiGroup: rbac.authorization.k8s.io}]\n';
    const dir = tempProject({ 'in.yaml': `${service}---\n${binding}` });
    const r = runCli(['audit', '--profile', 'nsa-cisa', '--engine', 'all', '--format', 'json', 'in.yaml'], dir);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    const of = (i: number) => out.resources[i].violations as { control: string; engine: string; message: string }[];
    expect(of(0).map((v) => `${v.engine} ${v.control}`).sort()).toEqual(['gator disallow-nodeport-services', 'kyverno disallow-nodeport-services', 'wasm disallow-nodeport-services']);
    const anon = of(1).filter((v) => v.engine !== 'kyverno' || v.control === 'disallow-anonymous-bindings');
    expect(anon.map((v) => v.message)).toEqual(Array(3).fill('ClusterRoleBinding "anon" binds ClusterRole "view" to "Group:system:unauthenticated"'));
    expect(r.stdout).not.toContain('kubeharden-');
  }, 300_000);

  it('the real engines see objects under their own names: the reference fixtures, Kubernetes’ bootstrap RBAC objects and the bundle’s own Namespaces pass in every engine', () => {
    // Name-based rules (exempt roles, name exceptions, Namespace objects matched by their name) only work
    // when gator and the Kyverno CLI get the objects as written.
    const inputs = ['test/fixtures/reference/compliant.yaml', 'test/fixtures/kubernetes-bootstrap', 'generated/reference/psa/namespaces.yaml'];
    const r = runCli(['audit', '--config', 'policies.config.ts', '--engine', 'all', '--format', 'json', ...inputs], ROOT);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const denied = (out.resources as { kind: string; name: string; verdict: string; violations: { engine: string; control: string; action: string }[] }[]).filter((x) => x.verdict !== 'allow' || x.violations.some((v) => v.action === 'deny'));
    expect(denied).toEqual([]);
    // Every bootstrap object of the fixture (6 Lists) and every Namespace of the bundle was evaluated.
    const kinds = (out.resources as { kind: string }[]).reduce<Record<string, number>>((m, x) => ({ ...m, [x.kind]: (m[x.kind] ?? 0) + 1 }), {});
    expect(kinds).toMatchObject({ ClusterRole: 73, ClusterRoleBinding: 54, Role: 7, RoleBinding: 7, Deployment: 1, Pod: 1, DaemonSet: 1 });
    expect(kinds['Namespace']).toBeGreaterThan(3);
    expect(out.summary).toMatchObject({ denied: 0, errors: 0 });
  }, 600_000);

  it('inputs that share kind, namespace and name each get their own verdict from every engine', () => {
    const privileged = GOOD_POD.replace('allowPrivilegeEscalation: false,', 'allowPrivilegeEscalation: false, privileged: true,');
    const dir = tempProject({ 'in.yaml': `${GOOD_POD}---\n${privileged}---\n${GOOD_POD}` });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--engine', 'all', '--format', 'json', 'in.yaml'], dir);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    expect(r.status).toBe(1);
    const by = (i: number) => (out.resources[i].violations as { control: string; engine: string }[]).map((v) => `${v.engine} ${v.control}`).sort();
    expect(by(0)).toEqual([]);
    expect(by(1)).toEqual(['gator disallow-privileged-containers', 'kyverno disallow-privileged-containers', 'wasm disallow-privileged-containers']);
    expect(by(2)).toEqual([]);
  }, 300_000);

  it('config values containing {{ }} are literals to Kyverno too (the policy is applied, not skipped as having invalid variables)', () => {
    const config = `import { defineConfig } from 'kubeharden';

export default defineConfig({
  name: 'braces',
  profile: 'nsa-cisa',
  kubernetesVersion: '1.37',
  controls: {
    'allowed-registries': { options: { registries: ['registry.example.com/{{team}}/'] } },
    'disallow-loadbalancer-services': { options: { allowedAnnotations: ['example.com/lb={{ internal }}'] } },
  },
});
`;
    const pod = (name: string, image: string) => GOOD_POD.replace('name: good', `name: ${name}`).replace('registry.example.com/app:1', `"${image}"`);
    const lb = (name: string, value?: string) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: apps\n${value ? `  annotations: {example.com/lb: "${value}"}\n` : ''}spec: {type: LoadBalancer, ports: [{port: 443}]}\n`;
    const dir = tempProject({
      'policies.config.ts': config,
      'in.yaml': [pod('braces', 'registry.example.com/{{team}}/app:1'), pod('plain', 'registry.example.com/team/app:1'), lb('internal', '{{ internal }}'), lb('public')].join('---\n'),
    });
    const build = runCli(['build'], dir);
    expect(build.status, build.stderr).toBe(0);
    const text = readFileSync(join(dir, 'generated', 'braces', 'kyverno', 'allowed-registries.yaml'), 'utf8');
    expect(text).not.toContain('{{');
    expect(text).toMatch(/registry\.example\.com\/\\+u007b\\+u007bteam}}\//);
    const r = runCli(['audit', '--config', 'policies.config.ts', '--engine', 'all', '--format', 'json', 'in.yaml'], dir);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    const of = (i: number, control: string) => (out.resources[i].violations as { control: string; engine: string }[]).filter((v) => v.control === control).map((v) => v.engine).sort();
    expect(of(0, 'allowed-registries')).toEqual([]);
    expect(of(1, 'allowed-registries')).toEqual(['gator', 'kyverno', 'wasm']);
    expect(of(2, 'disallow-loadbalancer-services')).toEqual([]);
    expect(of(3, 'disallow-loadbalancer-services')).toEqual(['gator', 'kyverno', 'wasm']);
  }, 600_000);

  it('reports a split between engines as an error', async () => {
    const { disagreements } = await import('../src/audit/compare.js');
    const f = (control: string) => ({ control, action: 'deny' as const, message: 'm' });
    expect(disagreements(['wasm', 'gator', 'kyverno'], [[f('a'), f('b')], [f('a')], [f('a'), f('b')]])).toEqual(['engines disagree on b: wasm deny, gator allow, kyverno deny']);
    expect(disagreements(['wasm', 'gator'], [[f('a')], [f('a')]])).toEqual([]);
  });

  it('rejects an unknown engine', () => {
    expect(runCli(['audit', '--profile', 'pss-baseline', '--engine', 'opa', 'x.yaml'], tempProject({})).status).toBe(2);
  });
});

describe('fixtures', () => {
  it('a missing or malformed fixture file is an error and nothing is written', () => {
    const config = CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "fixtures: [{ file: 'missing.yaml', expect: 'allow' }, { file: 'bad.yaml', expect: 'allow' }],");
    const dir = tempProject({ 'policies.config.ts': config, 'bad.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n' });
    const r = runCli(['build'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fixture_not_found fixture file not found: missing.yaml');
    expect(r.stderr).toMatch(/invalid_fixture bad\.yaml:1: malformed YAML/);
    expect(existsSync(join(dir, 'generated'))).toBe(false);
  });

  it('fixtures are shipped in the engine suites, bound to the bundle’s own constraints and rules', () => {
    const dir = tempProject({
      'policies.config.ts': CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "fixtures: [{ file: 'f.yaml', expect: { 'disallow-host-namespaces': 'deny' } }],"),
      'f.yaml': BAD_DEPLOYMENT,
    });
    expect(runCli(['build'], dir).status).toBe(0);
    // gator: one test for the fixture's control, its own constraint, the fixture expected to be refused.
    const suite = parse(readFileSync(join(dir, 'generated/demo/gatekeeper/suite.yaml'), 'utf8')) as { tests: { name: string; constraint: string; cases: { name: string; object: string; assertions: unknown[] }[] }[] };
    const fixtureTests = suite.tests.filter((t) => t.name.startsWith('fixtures-'));
    expect(fixtureTests.map((t) => t.name)).toEqual(['fixtures-disallow-host-namespaces']);
    expect(fixtureTests[0]!.constraint).toBe('samples/fixtures/constraints/disallow-host-namespaces.yaml');
    expect(fixtureTests[0]!.cases).toHaveLength(1);
    expect(fixtureTests[0]!.cases[0]!.assertions).toEqual([{ violations: 'yes' }]);
    const object = parse(readFileSync(join(dir, 'generated/demo/gatekeeper', fixtureTests[0]!.cases[0]!.object), 'utf8')) as { kind: string; metadata: { name: string } };
    expect([object.kind, object.metadata.name]).toEqual(['Deployment', 'bad']);
    // Kyverno: the fixture's entry for the bundle's ValidatingPolicy (autogen covers the Deployment), expected to fail.
    const ky = parse(readFileSync(join(dir, 'generated/demo/kyverno/samples/fixtures/kyverno-test.yaml'), 'utf8')) as { results: { policy: string; rule: string; resources: string[]; result: string; kind: string }[] };
    expect(ky.results.filter((x) => x.resources.includes('apps/bad'))).toEqual([
      { kind: 'Deployment', policy: 'disallow-host-namespaces', resources: ['apps/bad'], result: 'fail', isValidatingPolicy: true },
    ]);
    // Under the legacy ClusterPolicy: the auto-gen rule of the bundle's policy.
    const legacy = tempProject({
      'policies.config.ts': CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "kyverno: { policyType: 'ClusterPolicy' }, fixtures: [{ file: 'f.yaml', expect: { 'disallow-host-namespaces': 'deny' } }],"),
      'f.yaml': BAD_DEPLOYMENT,
    });
    expect(runCli(['build'], legacy).status).toBe(0);
    const kyLegacy = parse(readFileSync(join(legacy, 'generated/demo/kyverno/samples/fixtures/kyverno-test.yaml'), 'utf8')) as typeof ky;
    expect(kyLegacy.results.filter((x) => x.resources.includes('apps/bad'))).toEqual([
      { kind: 'Deployment', policy: 'disallow-host-namespaces', resources: ['apps/bad'], result: 'fail', rule: 'autogen-disallow-host-namespaces' },
    ]);
  });
});

describe('kubeharden audit reports for CI', () => {
  const WARN_CONFIG = CONFIG.replace("namespaces: { legacy: { pss: 'baseline' } },", "namespaces: { apps: { controls: { 'disallow-host-namespaces': 'warn' } } },");

  it('--fail-on decides which actions fail the run', () => {
    const dir = tempProject({ 'policies.config.ts': WARN_CONFIG, 'p.yaml': `${GOOD_POD.replace('seccompProfile: {type: RuntimeDefault}}', 'seccompProfile: {type: RuntimeDefault}}\n  hostPID: true')}` });
    const run = (...extra: string[]) => runCli(['audit', '--format', 'json', ...extra, 'p.yaml'], dir);
    const base = run();
    expect(JSON.parse(base.stdout).resources[0].violations).toEqual([expect.objectContaining({ control: 'disallow-host-namespaces', action: 'warn', engine: 'wasm' })]);
    expect(base.status).toBe(0);
    expect(run('--fail-on', 'warn').status).toBe(1);
    expect(run('--fail-on', 'audit').status).toBe(1);
    expect(run('--fail-on', 'never').status).toBe(0);
    expect(run('--fail-on', 'sometimes').status).toBe(2);
  });

  it('jsonl: one line per resource, errors, then the summary; --output writes the file', () => {
    const dir = tempProject({ 'in.yaml': `${GOOD_POD}---\n${BAD_DEPLOYMENT}---\nkind: Pod\n`, 'out/.keep': '' });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--format', 'jsonl', '--output', 'out/report.jsonl', 'in.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = readFileSync(join(dir, 'out/report.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => Object.keys(l)[0])).toEqual(['resource', 'resource', 'error', 'summary']);
    expect(lines[1].resource).toMatchObject({ kind: 'Deployment', verdict: 'deny' });
    expect(lines[3].summary).toMatchObject({ resources: 2, denied: 1, warned: 0, audited: 0, errors: 1 });
  });

  it('junit: a testcase per resource × control, denies as failures, input errors as errors', () => {
    const dir = tempProject({ 'in.yaml': `${GOOD_POD}---\n${BAD_DEPLOYMENT}---\nkind: Pod\n` });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--kubernetes-version', '1.37', '--format', 'junit', 'in.yaml'], dir);
    expect(r.status).toBe(2);
    const xml = r.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubeharden audit"')).toBe(true);
    const controls = 15; // pss-restricted at 1.37: 19 controls minus the 4 replaced baseline checks
    expect((xml.match(/<testcase /g) ?? []).length).toBe(2 * controls + 1);
    expect((xml.match(/<failure /g) ?? []).length).toBe(5);
    expect(xml).toMatch(/<testsuites name="kubeharden audit" tests="31" failures="5" errors="1">/);
    expect(xml).toContain('name="Deployment/apps/bad disallow-host-namespaces"');
    expect(xml).toContain('message="pod must not set spec.hostPID to true"');
    expect(xml).toContain('<error message="document has no apiVersion/kind" type="input"/>');
    // Well-formed enough for CI servers: every testcase is closed, attributes are escaped.
    expect((xml.match(/<testcase /g) ?? []).length).toBe((xml.match(/<\/testcase>/g) ?? []).length);
    expect(xml).not.toMatch(/="[^"]*(<|&(?!(lt|gt|amp|quot|apos);))[^"]*"/);
  });
});
