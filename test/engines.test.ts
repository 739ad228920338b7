/**
 * The engine installer: overrides and their version check, the missing-Go message, the listing, and two
 * processes installing the same engine at once (a real `go install` of opa into a temporary cache; Go's
 * module and build caches make it a link step).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture, ENGINES, ensureEngine } from '../src/engines/index.js';
import { GATEKEEPER_MANAGER, KYVERNO_ADMISSION, ensureWebhookEngine } from '../src/engines/webhooks.js';
import { compile } from '../src/compile.js';
import { objectsOf } from '../src/eval/bundle.js';
import { gatorArgs, gatorFindings, kyvernoArgs, kyvernoFindings, kyvernoGroups, kyvernoWarningsAsErrors, parseGatorOutput, parseKyvernoOutput } from '../src/eval/engines.js';
import { toYaml } from '../src/emit/yaml.js';
import { CONTROL_IDS } from '../src/controls/index.js';
import { inProfile } from '../src/config/resolve/profiles.js';
import { BIN, runCli, tempProject, type CliResult } from './helpers.js';

/** The real CLI, asynchronously (so that two can run at once). */
function runCliAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

const count = (text: string, re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length;

describe('kubeharden engines', () => {
  it('lists the pinned engines and where they are', () => {
    const r = runCli(['engines'], tempProject({}));
    expect(r.status).toBe(0);
    for (const e of Object.values(ENGINES)) expect(r.stdout).toContain(`${e.name} ${e.version}: /`);
  });

  it('without Go, says so and names the fixes instead of failing obscurely', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { PATH: '/nonexistent', KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('opa v1.22.3 is not installed and Go is not available to build it (no `go` on PATH)');
    expect(r.stderr).toContain('Install Go 1.26 or newer');
    expect(r.stderr).toContain('set KUBEHARDEN_OPA to an existing opa binary');
  });

  it('an override that is not an executable is an error naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-bin-'));
    writeFileSync(join(dir, 'opa'), 'not a program');
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_OPA: join(dir, 'opa') });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`KUBEHARDEN_OPA=${join(dir, 'opa')} is not an executable file`);
  });

  it('when Go is there but fails, shows why', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '', GOTOOLCHAIN: 'no-such-toolchain' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('opa v1.22.3 is not installed and Go is not available to build it (`go version` exited 1: go: invalid GOTOOLCHAIN "no-such-toolchain")');
  });

  describe('an override must report the pinned version (another program or release is refused)', () => {
    it('the pinned binary is accepted', async () => {
      const opa = await ensureEngine('opa', () => {});
      const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_OPA: opa });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`opa v1.22.3: ${opa}`);
    });

    it('another engine, another version, or a program without a version is an error naming the variable', async () => {
      const opa = await ensureEngine('opa', () => {});
      const cases: [string, string, string][] = [
        ['gator', opa, `\`${opa} version\` prints no gator version`],
        ['kyverno', opa, `\`${opa} version\` reports version 1.22.3; kubeharden needs kyverno v1.19.1: point KUBEHARDEN_KYVERNO to kyverno v1.19.1 or unset it`],
        ['opa', '/bin/true', '`/bin/true version` prints no opa version (output: "")'],
        ['opa', '/bin/false', '`/bin/false version` failed (exit 1); kubeharden needs opa v1.22.3: point KUBEHARDEN_OPA to opa v1.22.3'],
      ];
      for (const [engine, path, message] of cases) {
        const r = runCli(['engines', 'install', engine], tempProject({}), undefined, { [ENGINES[engine as 'opa'].envVar]: path });
        expect(r.status, `${engine} ${path}`).toBe(1);
        expect(r.stderr, `${engine} ${path}`).toContain(message);
        expect(r.stdout).toBe('');
      }
    });
  });

  it('the Gatekeeper manager run as a webhook (engines install apiserver) must be the pinned release\'s manager: gator, built from the same module, is refused', async () => {
    const manager = await ensureWebhookEngine(GATEKEEPER_MANAGER, () => {});
    const gator = await ensureEngine('gator', () => {});
    const ok = runCli(['engines', 'apiserver'], tempProject({}), undefined, { KUBEHARDEN_GATEKEEPER: manager });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`gatekeeper (manager) v3.23.0: ${manager}`);
    const bad = runCli(['engines', 'apiserver'], tempProject({}), undefined, { KUBEHARDEN_GATEKEEPER: gator });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${gator} is github.com/open-policy-agent/gatekeeper/v3/cmd/gator (module github.com/open-policy-agent/gatekeeper/v3 v3.23.0); kubeharden needs gatekeeper v3.23.0 (github.com/open-policy-agent/gatekeeper/v3): point KUBEHARDEN_GATEKEEPER to`);
    const notGo = runCli(['engines', 'apiserver'], tempProject({}), undefined, { KUBEHARDEN_GATEKEEPER: '/bin/true' });
    expect(notGo.status).toBe(1);
    expect(notGo.stderr).toContain('`go version -m /bin/true` failed');
  });

  it('the Kyverno admission controller (engines install apiserver) must be the pinned release\'s: the Kyverno CLI, built from the same module, is refused', async () => {
    const controller = await ensureWebhookEngine(KYVERNO_ADMISSION, () => {});
    const cli = await ensureEngine('kyverno', () => {});
    const ok = runCli(['engines', 'apiserver'], tempProject({}), undefined, { KUBEHARDEN_KYVERNO_ADMISSION: controller });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`kyverno (admission controller) v1.19.1: ${controller}`);
    const bad = runCli(['engines', 'apiserver'], tempProject({}), undefined, { KUBEHARDEN_KYVERNO_ADMISSION: cli });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${cli} is github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno (module github.com/kyverno/kyverno v1.19.1); kubeharden needs kyverno-admission v1.19.1 (github.com/kyverno/kyverno/cmd/kyverno): point KUBEHARDEN_KYVERNO_ADMISSION to`);
  });

  it('two processes installing the same engine at once: one builds, the other waits and reuses it; a dead process’s lock is taken over', async () => {
    await ensureEngine('opa', () => {}); // warms Go's module and build caches
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const dir = join(cache, 'engines', 'opa', 'v1.22.3');
    mkdirSync(dir, { recursive: true });
    // The lock of an install that was killed: its process no longer runs.
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(join(dir, '.install.lock'), `${JSON.stringify({ pid: dead, host: hostname(), started: Date.now() })}\n`);
    const env = { KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '' };
    const cwd = tempProject({});
    const [a, b] = await Promise.all([runCliAsync(['engines', 'install', 'opa'], cwd, env), runCliAsync(['engines', 'install', 'opa'], cwd, env)]);
    const both = `${a.stderr}\n${b.stderr}`;
    expect([a.status, b.status], both).toEqual([0, 0]);
    expect(a.stdout).toBe(`opa v1.22.3: ${join(dir, 'opa')}\n`);
    expect(b.stdout).toBe(a.stdout);
    expect(count(both, new RegExp(`^kubeharden: taking over the install lock of opa v1\\.22\\.3 \\(process ${dead} no longer runs\\)$`)), both).toBe(1);
    expect(count(both, /^kubeharden: installing opa v1\.22\.3 into /), both).toBe(1);
    expect(count(both, /^kubeharden: another kubeharden process \(pid \d+\) is installing opa v1\.22\.3; waiting for it/), both).toBe(1);
    expect(count(both, /^kubeharden: opa v1\.22\.3 was installed by another process; using it$/), both).toBe(1);
    expect(both).not.toContain('Go is not available');
    expect(existsSync(join(dir, '.install.lock'))).toBe(false);
    expect(spawnSync(join(dir, 'opa'), ['version'], { encoding: 'utf8' }).stdout).toMatch(/^Version: 1\.22\.3$/m);
  }, 600_000);
});

/**
 * Engine output: anything but a well-formed answer is an error, never an allow or a default deny. Real
 * engine runs on crafted policies and resources; a parsed output is constructed only where no real run can
 * produce the case (gator printing nothing with exit 0).
 */
describe('kyvernoFindings: one run per group of resources the same policies can reach', () => {
  const names = (ps: readonly object[]) => ps.map((p) => (p as { metadata: { name: string } }).metadata.name);
  const keys = (os: readonly object[]) => os.map((o) => `${(o as { kind: string }).kind}/${(o as { metadata: { name: string } }).metadata.name}`);
  const obj = (kind: string, name = kind.toLowerCase()) => ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'apps' } });
  const objects = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Role', 'ClusterRole', 'Namespace', 'Service', 'ConfigMap'].map((k) => obj(k));
  const groups = (config: object) => {
    const b = objectsOf(compile(config as never, { today: '2026-11-26' }).clusters[0]!);
    return kyvernoGroups(b.policies, objects as never).map((g) => [names(g.policies), keys(g.resources)]);
  };
  // Every baseline check off but one, and three controls of other kinds.
  const baselineOff = Object.fromEntries(CONTROL_IDS.filter((id) => inProfile('pss-baseline', id) && id !== 'disallow-privileged-containers').map((id) => [id, false]));
  const controls = { ...baselineOff, 'restrict-rbac-wildcards': true, 'disallow-nodeport-services': true, 'enforce-psa-namespace-labels': true };

  it('ClusterPolicies: Pod policies reach every Pod controller; RBAC, Service and Namespace policies their kinds only; a ConfigMap no run', () => {
    const workloads = ['Pod/pod', 'Deployment/deployment', 'StatefulSet/statefulset', 'DaemonSet/daemonset', 'ReplicaSet/replicaset', 'ReplicationController/replicationcontroller', 'Job/job', 'CronJob/cronjob'];
    expect(groups({ profile: 'pss-baseline', kubernetesVersion: '1.37', controls, kyverno: { policyType: 'ClusterPolicy' } })).toEqual([
      [['disallow-privileged-containers'], workloads],
      [['restrict-rbac-wildcards'], ['Role/role', 'ClusterRole/clusterrole']],
      [['enforce-psa-namespace-labels'], ['Namespace/namespace']],
      [['disallow-nodeport-services'], ['Service/service']],
    ]);
  });

  it('ValidatingPolicies: the Pod policy reaches the controllers autogen covers; ReplicationControllers and ephemeral containers have their own', () => {
    expect(groups({ profile: 'pss-baseline', kubernetesVersion: '1.37', controls, kyverno: { policyType: 'ValidatingPolicy' } })).toEqual([
      [['disallow-privileged-containers', 'disallow-privileged-containers.ephemeralcontainers'], ['Pod/pod']],
      [['disallow-privileged-containers'], ['Deployment/deployment', 'StatefulSet/statefulset', 'DaemonSet/daemonset', 'ReplicaSet/replicaset', 'Job/job', 'CronJob/cronjob']],
      [['disallow-privileged-containers.replicationcontrollers'], ['ReplicationController/replicationcontroller']],
      [['restrict-rbac-wildcards'], ['Role/role', 'ClusterRole/clusterrole']],
      [['enforce-psa-namespace-labels'], ['Namespace/namespace']],
      [['disallow-nodeport-services'], ['Service/service']],
    ]);
  });

  it('a policy whose reach is not read (no kinds, a wildcard, another kind of policy) reaches every resource', () => {
    const cp = (kinds?: string[]) => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: `cp-${kinds?.join() ?? 'none'}` }, spec: { rules: [{ name: 'r', match: { any: [{ resources: kinds ? { kinds } : {} }] }, validate: {} }] } });
    const vp = (resources: string[]) => ({ apiVersion: 'policies.kyverno.io/v1', kind: 'ValidatingPolicy', metadata: { name: `vp-${resources.join()}` }, spec: { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE'], resources }] } } });
    const other = { apiVersion: 'policies.kyverno.io/v1', kind: 'ImageValidatingPolicy', metadata: { name: 'ivp' }, spec: {} };
    for (const p of [cp(), cp(['*']), cp(['Ro*']), vp(['*']), vp(['*/status']), other]) expect(kyvernoGroups([p], objects as never).map((g) => g.resources.length), names([p])[0]).toEqual([objects.length]);
    // Group/version prefixes and subresources name the kind they are about.
    expect(kyvernoGroups([cp(['rbac.authorization.k8s.io/v1/Role'])], objects as never).map((g) => keys(g.resources))).toEqual([['Role/role']]);
    expect(kyvernoGroups([vp(['pods/ephemeralcontainers'])], objects as never).map((g) => keys(g.resources))).toEqual([['Pod/pod']]);
    // A Pod policy without an autogen list: Kyverno's default controllers, which leave out ReplicationController.
    expect(kyvernoGroups([vp(['pods'])], objects as never).map((g) => keys(g.resources))).toEqual([['Pod/pod', 'Deployment/deployment', 'StatefulSet/statefulset', 'DaemonSet/daemonset', 'ReplicaSet/replicaset', 'Job/job', 'CronJob/cronjob']]);
  });
});

describe('engine output that is not an answer is an error', () => {
  // ClusterPolicies: their rules are edited below.
  const cc = compile({ profile: 'nsa-cisa', kubernetesVersion: '1.37', controls: { 'disallow-nodeport-services': true }, kyverno: { policyType: 'ClusterPolicy' } }, { today: '2026-11-26' }).clusters[0]!;
  const b = objectsOf(cc);
  const gatekeeper = [...b.templates, ...b.constraints, ...b.expansions];
  const nodePort = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np', namespace: 'apps' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
  const clusterIp = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ok', namespace: 'apps' }, spec: { ports: [{ port: 80 }] } };
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'apps' }, data: { a: 'b' } };
  const nodePortPolicy = b.policies.find((p) => (p as { metadata: { name: string } }).metadata.name === 'disallow-nodeport-services')!;

  it('gator: a real deny, a real nothing-violates (`null`), an out-of-scope object', async () => {
    const found = await gatorFindings(gatekeeper, [nodePort, clusterIp, configMap] as never);
    expect([...found.keys()]).toEqual(['Service/apps/np']);
    expect(found.get('Service/apps/np')!.map((f) => [f.control, f.action])).toEqual([['disallow-nodeport-services', 'deny']]);
    expect((await gatorFindings(gatekeeper, [clusterIp, configMap] as never)).size).toBe(0);
  });

  it('gator: an enforcement action kubeharden does not know is an error, not a deny', async () => {
    const bogus = gatekeeper.map((o) => ((o as { spec?: { enforcementAction?: string } }).spec?.enforcementAction ? { ...o, spec: { ...(o as { spec: object }).spec, enforcementAction: 'audit' } } : o));
    await expect(gatorFindings(bogus, [nodePort] as never)).rejects.toThrow(/gator test reported enforcement action "audit" for KhDisallowNodeportServices\/disallow-nodeport-services; kubeharden knows deny, warn, dryrun/);
  });

  it('gator: a violation of a constraint that was not given, nothing on stdout, stderr, an unexpected exit code', async () => {
    const gator = await ensureEngine('gator', () => {});
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-gator-'));
    writeFileSync(join(dir, 'policies.yaml'), toYaml(gatekeeper, { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml([nodePort], { header: false }));
    const real = await capture(gator, gatorArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')));
    expect(real.code).toBe(1);
    expect(parseGatorOutput(real, gatekeeper).size).toBe(1);
    // The same output read against a bundle without that constraint.
    expect(() => parseGatorOutput(real, b.templates)).toThrow(/reported a violation of KhDisallowNodeportServices\/disallow-nodeport-services, which is not a constraint of the bundle/);
    // A broken input: gator fails and says why on stderr.
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
    const broken = await capture(gator, gatorArgs(join(dir, 'policies.yaml'), join(dir, 'broken.yaml')));
    expect(broken.code).not.toBe(0);
    expect(() => parseGatorOutput(broken, gatekeeper)).toThrow(/^gator test (failed|wrote to stderr|printed)/);
    // Not producible by a real run: silence with exit 0, and a deny with exit 0.
    expect(() => parseGatorOutput({ code: 0, stdout: '', stderr: '' }, gatekeeper)).toThrow(/gator test printed nothing \(it prints null when nothing violates\) \(exit 0\)/);
    expect(() => parseGatorOutput({ ...real, code: 0 }, gatekeeper)).toThrow(/found a deny violation but exited 0/);
  });

  const kyvernoRun = async (policies: readonly object[], resources: readonly object[]) => {
    const kyverno = await ensureEngine('kyverno', () => {});
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-kyverno-'));
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policies, { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml(resources, { header: false }));
    return capture(kyverno, kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')));
  };
  type Policy = { metadata: { name: string }; spec: { rules: { validate: { cel: { expressions: { expression: string }[] } } }[] } };
  const withExpression = (expression: string): object => {
    const p = structuredClone(nodePortPolicy) as Policy;
    p.spec.rules[0]!.validate.cel.expressions[0]!.expression = expression;
    return p;
  };

  it('kyverno: a real fail, a real pass, and an out-of-scope object with no result', async () => {
    const found = await kyvernoFindings([nodePortPolicy], [nodePort, clusterIp, configMap] as never);
    expect([...found.keys()]).toEqual(['Service/apps/np']);
    expect(found.get('Service/apps/np')!.map((f) => [f.control, f.action])).toEqual([['disallow-nodeport-services', 'deny']]);
    expect((await kyvernoFindings([nodePortPolicy], [clusterIp, configMap] as never)).size).toBe(0);
  }, 300_000);

  it('kyverno: a rule that fails to evaluate is an error, not a deny', async () => {
    // Indexing past the end of the list fails at evaluation time; Kyverno reports that as a failed rule.
    const erroring = withExpression('object.spec.ports[5].port != 80');
    await expect(kyvernoFindings([erroring], [clusterIp] as never)).rejects.toThrow(
      /kyverno apply could not evaluate rule disallow-nodeport-services\/disallow-nodeport-services: expression 'object.spec.ports\[5\].port != 80' resulted in error: index out of bounds: 5/,
    );
  }, 300_000);

  it('kyverno: a policy Kyverno skips (a {{ }} it reads as a variable) is an error, not an allow', async () => {
    const skipped = withExpression("object.?spec.?type.orValue('') != 'NodePort' || '{{ team }}' == ''");
    const run = kyvernoFindings([skipped], [nodePort, clusterIp] as never);
    await expect(run).rejects.toThrow(/kyverno apply reported: Policies Skipped:\n1\. disallow-nodeport-services: policy contains invalid variables/);
  }, 300_000);

  it('kyverno: --warnings-as-errors for the policies.kyverno.io types; a legacy kind runs without it and only its deprecation warning is accepted', async () => {
    const generating = { apiVersion: 'policies.kyverno.io/v1', kind: 'GeneratingPolicy', metadata: { name: 'g' } };
    const legacyException = { apiVersion: 'kyverno.io/v2', kind: 'PolicyException', metadata: { name: 'e' } };
    const v1Exception = { apiVersion: 'policies.kyverno.io/v1', kind: 'PolicyException', metadata: { name: 'e' } };
    expect([kyvernoWarningsAsErrors([nodePortPolicy]), kyvernoWarningsAsErrors([generating]), kyvernoWarningsAsErrors([generating, legacyException]), kyvernoWarningsAsErrors([generating, v1Exception])]).toEqual([false, true, false, true]);
    // Kyverno 1.19.1 warns on every ClusterPolicy: with the flag the run is refused on the deprecation itself.
    const kyverno = await ensureEngine('kyverno', () => {});
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-kyverno-warn-'));
    writeFileSync(join(dir, 'policies.yaml'), toYaml([nodePortPolicy], { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml([nodePort], { header: false }));
    const strict = await capture(kyverno, kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml'), undefined, true));
    expect(strict.code).not.toBe(0);
    expect(strict.stdout + strict.stderr).toContain('found 1 deprecation warning(s) and --warnings-as-errors is set');
    // Without it, the warning is printed and accepted, and the verdict is read as usual...
    const real = await capture(kyverno, kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')));
    expect(real.stdout).toMatch(/^Warning: \S+policies\.yaml: kyverno\.io\/v1 ClusterPolicy is deprecated and will be removed in a future release; /m);
    expect([...parseKyvernoOutput(real, [nodePortPolicy]).keys()]).toEqual(['Service/apps/np']);
    // ...but any other warning is still an error.
    const other = { ...real, stdout: real.stdout.replace(/^Warning: .*$/m, 'Warning: policies.yaml: spec.rules[0].validate.failureAction: Validation failure actions enforce/audit are deprecated, use Enforce/Audit instead.') };
    expect(() => parseKyvernoOutput(other, [nodePortPolicy])).toThrow(/kyverno apply reported: Warning: policies\.yaml: spec\.rules\[0\]/);
  }, 300_000);

  it('kyverno: a policy that gave no result for a resource in its scope is an error', async () => {
    const lbPolicy = b.policies.find((p) => (p as { metadata: { name: string } }).metadata.name === 'disallow-loadbalancer-services')!;
    const real = await kyvernoRun([nodePortPolicy], [nodePort, configMap]);
    expect(parseKyvernoOutput(real, [nodePortPolicy], [nodePort, configMap] as never).size).toBe(1);
    // The same output read as the answer for two policies: the second one was silent on the Service.
    expect(() => parseKyvernoOutput(real, [nodePortPolicy, lbPolicy], [nodePort, configMap] as never)).toThrow(
      /kyverno apply gave no result for 1 policy\/resource pair\(s\) in scope \(was a policy dropped\?\): disallow-loadbalancer-services on Service\/apps\/np/,
    );
    // A result for a rule or resource that was not given.
    const renamed = structuredClone(nodePortPolicy) as Policy & { spec: { rules: { name: string }[] } };
    renamed.spec.rules[0]!.name = 'other-rule';
    expect(() => parseKyvernoOutput(real, [renamed], [nodePort, configMap] as never)).toThrow(/reported a result for rule disallow-nodeport-services\/disallow-nodeport-services, which the policy does not have/);
    expect(() => parseKyvernoOutput(real, [nodePortPolicy], [configMap] as never)).toThrow(/reported a result for Service\/apps\/np, which was not given/);
    // Output on stderr, and an exit code that does not match the results.
    expect(() => parseKyvernoOutput({ ...real, stderr: 'E1130 something went wrong' }, [nodePortPolicy])).toThrow(/kyverno apply wrote to stderr \(exit 1\): E1130 something went wrong/);
    expect(() => parseKyvernoOutput({ ...real, code: 0 }, [nodePortPolicy])).toThrow(/found violations but exited 0/);
  }, 300_000);
});
