/**
 * The reference bundle on a real control plane: kube-apiserver v1.37.2 and etcd v3.6.16, built from the Go
 * module proxy by src/engines/control-plane.ts (test/setup/engines.ts builds them before any test; a missing
 * Go toolchain or a failed build fails the suite, never skips it), started once for this file with the
 * bundle's own control-plane files (src/engines/apiserver.ts).
 *
 * Proved here: the API server boots with the files; Secrets are encrypted at rest (the raw etcd value) and
 * nothing else the configuration does not list is; the audit log records every request at the level the
 * audit policy gives it (Secret bodies never); and the built-in samples and the config's fixtures go through
 * real admission (src/audit/apiserver-test.ts): Pod Security Admission with the bundle's labels, defaults
 * and exemptions says exactly what the PSA library predicts, never rejects what the policies allow, and
 * agrees with every Pod Security Standards sample's expectation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compile, type CompiledCluster, type CompileResult } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { fillEncryptionKeys, startControlPlane, type RunningControlPlane } from '../src/engines/apiserver.js';
import { CONTROL_PLANE, ensureControlPlane, goModReplaces, wrapperGoMod } from '../src/engines/control-plane.js';
import { bundleControlPlaneFiles, type NamespacePolicy } from '../src/eval/apiserver.js';
import { loadEvaluator } from '../src/eval/bundle.js';
import { UNLISTED_NAMESPACE, runCases, sampleNamespaces, setUpClusterNamespaces, type ApiserverClusterRun } from '../src/audit/apiserver-test.js';
import type { ControlPlaneFiles } from '../src/engines/apiserver.js';
import { ROOT, TODAY } from './helpers.js';
import { levelOf, type Request } from './support/audit-policy.js';

type Obj = Record<string, any>;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Built-in samples the API server's validation refuses (HTTP 422, or 400 for an unknown field under strict
 * field validation): objects no cluster can hold, which the offline engines evaluate all the same. Each one
 * names the validation message. Changing a sample into a valid object removes it here.
 */
const KNOWN_INVALID_SAMPLES: readonly { readonly sample: string; readonly because: string }[] = [
  { sample: 'disallow-host-process/pod-true-container-false', because: 'pod hostProcess value must be identical if both are specified' },
  { sample: 'disallow-host-process/container-host-process-true-containers', because: 'hostNetwork must be true if pod contains any hostProcess containers' },
  { sample: 'disallow-host-process/container-host-process-true-init-containers', because: 'hostNetwork must be true if pod contains any hostProcess containers' },
  { sample: 'restrict-probe-lifecycle-host/liveness-http-host-init-containers', because: 'may not be set for init containers without restartPolicy=Always' },
  { sample: 'restrict-proc-mount/unmasked-containers', because: '`hostUsers` must be false to use `Unmasked`' },
  { sample: 'restrict-proc-mount/unmasked-init-containers', because: '`hostUsers` must be false to use `Unmasked`' },
  { sample: 'require-default-proc-mount/unmasked-containers', because: '`hostUsers` must be false to use `Unmasked`' },
  { sample: 'require-default-proc-mount/unmasked-init-containers', because: '`hostUsers` must be false to use `Unmasked`' },
  { sample: 'restrict-volume-types/unknown-future-type', because: 'strict decoding error: unknown field' },
];

describe('the wrapper modules the control plane is built from', () => {
  // The shape of k8s.io/kubernetes's and etcd's go.mod replace directives (block and single-line forms).
  const upstream = [
    'module k8s.io/kubernetes',
    '',
    'go 1.26.0',
    '',
    'require k8s.io/api v0.0.0',
    '',
    'replace (',
    '\tk8s.io/api => ./staging/src/k8s.io/api // the API types',
    '\tk8s.io/client-go => ./staging/src/k8s.io/client-go',
    '\texample.com/fork v1.2.0 => example.com/other v1.3.0',
    ')',
    '',
    'replace k8s.io/kms => ./staging/src/k8s.io/kms',
    'replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY',
  ].join('\n');

  it('reads every replace directive, block and single-line, version qualifiers and comments dropped', () => {
    expect(goModReplaces(upstream)).toEqual([
      { path: 'k8s.io/api', target: './staging/src/k8s.io/api' },
      { path: 'k8s.io/client-go', target: './staging/src/k8s.io/client-go' },
      { path: 'example.com/fork', target: 'example.com/other' },
      { path: 'k8s.io/kms', target: './staging/src/k8s.io/kms' },
      { path: 'go.etcd.io/etcd', target: './FORBIDDEN_DEPENDENCY' },
    ]);
  });

  it('replaces each staging module by its published release, and nothing else', () => {
    const mod = wrapperGoMod(CONTROL_PLANE['kube-apiserver'], upstream);
    expect(mod).toContain('require k8s.io/kubernetes v1.37.2\n');
    expect(mod).toContain('go 1.26.0\n');
    const replaced = [...mod.matchAll(/^\t(\S+) => (\S+) (\S+)$/gm)].map((m) => `${m[1]}=${m[2]}@${m[3]}`);
    expect(replaced).toEqual(['k8s.io/api=k8s.io/api@v0.37.2', 'k8s.io/client-go=k8s.io/client-go@v0.37.2', 'k8s.io/kms=k8s.io/kms@v0.37.2']);
    // etcd's forbidden-dependency guard is no sibling module.
    const etcd = wrapperGoMod(CONTROL_PLANE.etcd, 'module go.etcd.io/etcd/server/v3\n\ngo 1.26.0\n\nreplace (\n\tgo.etcd.io/etcd/api/v3 => ../api\n)\n\nreplace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY\n');
    expect([...etcd.matchAll(/^\t(\S+) => (\S+) (\S+)$/gm)].map((m) => m[0].trim())).toEqual(['go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.16']);
    expect(() => wrapperGoMod(CONTROL_PLANE.etcd, 'module x\n')).toThrow(/no relative replace/);
  });
});

describe('fillEncryptionKeys', () => {
  it('turns a KMS provider into aescbc with a fresh 32-byte key and fills aescbc placeholders, keeping order and resources', () => {
    const text = ['apiVersion: apiserver.config.k8s.io/v1', 'kind: EncryptionConfiguration', 'resources:', '  - resources: [secrets, configmaps]', '    providers:', '      - kms: {apiVersion: v2, name: x, endpoint: unix:///k.sock}', '      - aescbc: {keys: [{name: k1, secret: "<REPLACE: base64>"}]}', '      - identity: {}'].join('\n');
    const a = parseYaml(fillEncryptionKeys(text)) as Obj;
    const b = parseYaml(fillEncryptionKeys(text)) as Obj;
    const r = a['resources'][0];
    expect(r['resources']).toEqual(['secrets', 'configmaps']);
    expect(r['providers'].map((p: Obj) => Object.keys(p)[0])).toEqual(['aescbc', 'aescbc', 'identity']);
    for (const p of r['providers'].slice(0, 2)) expect(Buffer.from(p['aescbc']['keys'][0]['secret'], 'base64')).toHaveLength(32);
    expect(r['providers'][1]['aescbc']['keys'][0]['name']).toBe('k1');
    expect(a['resources'][0]['providers'][0]['aescbc']['keys'][0]['secret']).not.toBe(b['resources'][0]['providers'][0]['aescbc']['keys'][0]['secret']);
  });
});

describe('the reference bundle on kube-apiserver v1.37.2 + etcd v3.6.16', () => {
  let result: CompileResult;
  let cc: CompiledCluster;
  let files: ControlPlaneFiles;
  let cp: RunningControlPlane;
  let namespaces: Map<string, NamespacePolicy>;
  let started = 0;

  beforeAll(async () => {
    // Built by test/setup/engines.ts already; this only finds them (and checks their versions).
    const bins = await ensureControlPlane(log);
    result = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: TODAY });
    cc = result.clusters[0]!;
    files = bundleControlPlaneFiles(result, cc);
    started = Date.now();
    cp = await startControlPlane({ files, log, binaries: bins });
    log(`kubeharden tests: kube-apiserver ready in ${Math.round((Date.now() - started) / 1000)} s`);
    namespaces = await setUpClusterNamespaces(cp, cc, files, ROOT);
  }, 600_000);

  afterAll(async () => {
    if (!cp) return;
    const mem = cp.peakMemoryKb();
    log(`kubeharden tests: peak RSS etcd ${Math.round((mem.etcd ?? 0) / 1024)} MiB, kube-apiserver ${Math.round((mem.apiserver ?? 0) / 1024)} MiB; up ${Math.round((Date.now() - started) / 1000)} s`);
    await cp.stop();
  }, 60_000);

  it('boots with the bundle\'s admission configuration, audit policy and encryption configuration', async () => {
    expect(files.admissionConfiguration).toContain('kind: AdmissionConfiguration');
    expect(files.auditPolicy).toContain('kind: Policy');
    expect(files.encryptionConfiguration).toContain('kind: EncryptionConfiguration');
    const v = await cp.request('GET', '/version');
    expect(v.status).toBe(200);
    expect((v.body as Obj)['gitVersion']).toBe('v1.37.2');
    // The reference bundle encrypts with KMS, which cannot run here: the API server runs aescbc in its place.
    expect(files.encryptionConfiguration).toContain('kms:');
    expect(cp.encryptionConfiguration).toContain('aescbc:');
    expect(cp.encryptionConfiguration).not.toContain('kms:');
  });

  it('labels the namespaces as psa/ says, and PSA applies the admission configuration\'s defaults and exemptions', async () => {
    const apps = await cp.request('GET', '/api/v1/namespaces/apps');
    expect((apps.body as Obj)['metadata']['labels']).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/warn-version': 'v1.37' });
    const hostPid = (ns: string): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: ns }, spec: { hostPID: true, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } });
    // Unlabelled: the configuration's defaults (enforce privileged, warn restricted:v1.37).
    const unlisted = await cp.request('POST', `/api/v1/namespaces/${UNLISTED_NAMESPACE}/pods?dryRun=All`, hostPid(UNLISTED_NAMESPACE));
    expect(unlisted.status).toBe(201);
    expect(unlisted.warnings.filter((w) => w.includes('PodSecurity'))).toEqual([expect.stringMatching(/^would violate PodSecurity "restricted:v1\.37": host namespaces \(hostPID=true\)/)]);
    // Exempt by the configuration: no verdict at all.
    const system = await cp.request('POST', '/api/v1/namespaces/kube-system/pods?dryRun=All', hostPid('kube-system'));
    expect(system.status).toBe(201);
    expect(system.warnings.filter((w) => w.includes('PodSecurity'))).toEqual([]);
    // Enforced by the label: rejected.
    const legacy = await cp.request('POST', '/api/v1/namespaces/legacy-apps/pods?dryRun=All', hostPid('legacy-apps'));
    expect(legacy.status).toBe(403);
    expect((legacy.body as Obj)['message']).toMatch(/violates PodSecurity "baseline:v1\.37": host namespaces \(hostPID=true\)/);
    expect(namespaces.get('legacy-apps')!.enforce).toEqual({ level: 'baseline', version: 'v1.37' });
  });

  it('encrypts Secrets at rest with the configured provider (raw etcd value), and only the resources it lists', async () => {
    const marker = `kubeharden-marker-${randomBytes(12).toString('hex')}`;
    const s = await cp.request('POST', '/api/v1/namespaces/apps/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'at-rest' }, stringData: { token: marker } });
    expect(s.status).toBe(201);
    const raw = await cp.etcdGet('/registry/secrets/apps/at-rest');
    expect(raw).toBeDefined();
    expect(raw!.subarray(0, 18).toString('latin1')).toBe('k8s:enc:aescbc:v1:');
    expect(raw!.includes(marker)).toBe(false);
    expect(raw!.includes(Buffer.from(marker).toString('base64'))).toBe(false);
    // The API server decrypts it.
    const back = await cp.request('GET', '/api/v1/namespaces/apps/secrets/at-rest');
    expect(Buffer.from((back.body as Obj)['data']['token'], 'base64').toString()).toBe(marker);
    // ConfigMaps are not in the configuration's resources: stored as plain protobuf.
    const c = await cp.request('POST', '/api/v1/namespaces/apps/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' }, data: { k: marker } });
    expect(c.status).toBe(201);
    const plain = await cp.etcdGet('/registry/configmaps/apps/plain');
    expect(plain!.subarray(0, 4).toString('latin1')).toBe('k8s\0');
    expect(plain!.includes(marker)).toBe(true);
  });

  it('records every request at the level the audit policy gives it, and never a Secret or ConfigMap body', async () => {
    const marker = `kubeharden-audit-${randomBytes(12).toString('hex')}`;
    const steps: [string, string, unknown?][] = [
      ['POST', '/api/v1/namespaces/apps/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'audited' }, stringData: { password: marker } }],
      ['GET', '/api/v1/namespaces/apps/secrets/audited'],
      ['PATCH', '/api/v1/namespaces/apps/secrets/audited', { stringData: { password: `${marker}-2` } }],
      ['POST', '/api/v1/namespaces/apps/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited' }, data: { v: marker } }],
      ['POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'audit-probe' } }],
      ['POST', '/api/v1/namespaces/apps/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'audited' } }],
      ['POST', '/apis/apps/v1/namespaces/apps/deployments?dryRun=All', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'audited' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } } }],
      ['GET', '/api/v1/namespaces/apps/pods'],
      ['GET', '/readyz'],
      ['GET', '/version'],
      ['DELETE', '/api/v1/namespaces/apps/secrets/audited'],
    ];
    for (const [method, path, body] of steps) expect((await cp.request(method, path, body)).status).toBeLessThan(300);
    const text = readFileSync(cp.auditLogPath, 'utf8');
    expect(text).not.toContain(marker);
    expect(text).not.toContain(Buffer.from(marker).toString('base64'));
    const events = text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Obj);
    const policy = parseYaml(files.auditPolicy!) as Obj;
    const mismatches: string[] = [];
    const levels = new Map<string, number>();
    for (const e of events) {
      const o = e['objectRef'] as Obj | undefined;
      const path = String(e['requestURI']).split('?')[0]!;
      const r: Request = o
        ? { user: e['user']['username'], groups: e['user']['groups'] ?? [], verb: e['verb'], group: o['apiGroup'] ?? '', resource: o['resource'], subresource: o['subresource'], name: o['name'] ?? '', namespace: o['namespace'] ?? '' }
        : { user: e['user']['username'], groups: e['user']['groups'] ?? [], verb: e['verb'], path };
      const want = levelOf(policy, r);
      if (want !== e['level']) mismatches.push(`${e['verb']} ${e['requestURI']} by ${e['user']['username']}: logged at ${e['level']}, the policy says ${want}`);
      levels.set(e['level'], (levels.get(e['level']) ?? 0) + 1);
      // The level decides what the event carries.
      if (e['level'] === 'Metadata' && (e['requestObject'] || e['responseObject'])) mismatches.push(`${e['verb']} ${e['requestURI']}: Metadata event with a body`);
      if (e['level'] === 'Request' && e['responseObject']) mismatches.push(`${e['verb']} ${e['requestURI']}: Request event with a response body`);
      if (e['stage'] === 'RequestReceived') mismatches.push(`${e['verb']} ${e['requestURI']}: stage RequestReceived is omitted by the policy`);
    }
    expect(mismatches).toEqual([]);
    // Every level of the policy was exercised, on the API server's own requests and these.
    expect([...levels.keys()].sort()).toEqual(['Metadata', 'Request', 'RequestResponse']);
    const secretEvents = events.filter((e) => e['objectRef']?.['resource'] === 'secrets' && e['objectRef']?.['namespace'] === 'apps');
    expect(new Set(secretEvents.map((e) => e['level']))).toEqual(new Set(['Metadata']));
    expect(secretEvents.map((e) => e['verb'])).toEqual(expect.arrayContaining(['create', 'get', 'patch', 'delete']));
    const ns = events.find((e) => e['verb'] === 'create' && e['objectRef']?.['resource'] === 'namespaces' && e['objectRef']?.['name'] === 'audit-probe');
    expect(ns?.['level']).toBe('RequestResponse');
    expect(ns?.['responseObject']?.['metadata']?.['name']).toBe('audit-probe');
    const deploy = events.find((e) => e['verb'] === 'create' && e['objectRef']?.['resource'] === 'deployments');
    expect(deploy?.['level']).toBe('Request');
    expect(deploy?.['requestObject']?.['metadata']?.['name']).toBe('audited');
    // Health probes are not logged (level None).
    expect(events.filter((e) => String(e['requestURI']).startsWith('/readyz'))).toEqual([]);
  });

  describe('real admission of the built-in samples and the fixtures', () => {
    let run: ApiserverClusterRun;
    let seconds = 0;
    beforeAll(async () => {
      const t = Date.now();
      const ev = await loadEvaluator(cc, log);
      run = await runCases(cp, cc, ev, namespaces, ROOT, { log, concurrency: 8 });
      seconds = Math.round((Date.now() - t) / 1000);
      log(`kubeharden tests: ${run.results.length} dry-run creates in ${seconds} s`);
    }, 900_000);

    it('sends Pods to every namespace where PSA enforces and to one of each other PSA policy, workloads to one per warn level', () => {
      const targets = sampleNamespaces(namespaces);
      // Enforcing: batch, legacy-apps, operators. One of each other policy: apps (labelled privileged/restricted),
      // default (unlabelled: the configuration's defaults, like kubeharden-unlisted), gatekeeper-system (exempt),
      // monitoring (privileged everywhere).
      expect(targets.pods.map((n) => n.name)).toEqual(['apps', 'batch', 'default', 'gatekeeper-system', 'legacy-apps', 'monitoring', 'operators']);
      expect(targets.workloads.map((n) => `${n.warn.level}:${n.warn.version}`).sort()).toEqual(['baseline:v1.37', 'restricted:v1.37']);
      const kinds = new Set(run.results.map((r) => String(r.case.object['kind'])));
      expect([...kinds].sort()).toEqual(['CronJob', 'DaemonSet', 'Deployment', 'Job', 'Pod', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);
      expect(run.results.filter((r) => r.case.label.startsWith('fixture ')).length).toBeGreaterThan(0);
      expect(run.errors).toEqual([]);
    });

    it('every object is valid for the API server, and PSA says exactly what the PSA library predicts for its namespace', () => {
      const problems = run.results.filter((r) => r.problems.length).map((r) => `${r.case.label}: ${r.problems.join('; ')}`);
      expect(problems.slice(0, 40)).toEqual([]);
      // Not vacuous: PSA rejected Pods, warned about admitted ones and about workloads.
      expect(run.results.filter((r) => !r.admission.allowed).length).toBeGreaterThan(100);
      expect(run.results.filter((r) => r.case.object['kind'] !== 'Pod' && r.admission.warnings.some((w) => w.includes('PodSecurity'))).length).toBeGreaterThan(100);
    });

    it('the API server refuses exactly the known invalid samples, each for its stated reason', () => {
      const invalid = [...new Set(run.results.filter((r) => r.invalid !== undefined).map((r) => `${r.case.sample!.control}/${r.case.sample!.name}`))].sort();
      expect(invalid).toEqual(KNOWN_INVALID_SAMPLES.map((k) => k.sample).sort());
      const wrong: string[] = [];
      for (const k of KNOWN_INVALID_SAMPLES) {
        const messages = run.results.filter((r) => r.case.sample && `${r.case.sample.control}/${r.case.sample.name}` === k.sample).map((r) => r.invalid ?? '');
        expect(messages.length).toBeGreaterThan(0);
        for (const m of messages) if (!m.includes(k.because)) wrong.push(`${k.sample}: ${m}`);
      }
      expect(wrong).toEqual([]);
    });

    it('PSA never rejects what the bundle\'s policies admit in that namespace', () => {
      const bad = run.results.filter((r) => !r.admission.allowed && r.policyDenies.length === 0 && r.invalid === undefined).map((r) => `${r.case.label}: ${r.admission.message}`);
      expect(bad).toEqual([]);
      // Objects the policies admit reached PSA in enforcing namespaces.
      expect(run.results.filter((r) => r.admission.allowed && r.policyDenies.length === 0 && r.case.ns.enforce.level !== 'privileged').length).toBeGreaterThan(0);
    });

    it('PSA fails a Pod Security Standards control\'s check iff its sample expects deny, wherever PSA runs the check', () => {
      expect(run.results.flatMap((r) => r.problems.filter((p) => p.includes('the sample expects')).map((p) => `${r.case.label}: ${p}`))).toEqual([]);
      expect(run.results.reduce((n, r) => n + r.pssVerdicts, 0)).toBeGreaterThan(1000);
    });
  });
});
