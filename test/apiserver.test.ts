/**
 * The reference bundle on a real control plane: kube-apiserver v1.37.2 and etcd v3.6.16, built from the Go
 * module proxy by src/engines/control-plane.ts (test/setup/engines.ts builds them before any test; a missing
 * Go toolchain or a failed build fails the suite, never skips it), started once for this file with the
 * bundle's own control-plane files (src/engines/apiserver.ts).
 *
 * Proved here: the API server boots with the files; Secrets are encrypted at rest (the raw etcd value) and
 * nothing else the configuration does not list is; the audit log records every request at the level the
 * audit policy gives it (Secret bodies never); and the built-in samples and the config's fixtures go through
 * real admission (src/audit/apiserver-test.ts): creates, and UPDATE samples as updates over their old object
 * stored for real (ephemeral containers through pods/ephemeralcontainers). Every sample is valid unless it
 * states the validation message the API server refuses it with; Pod Security Admission with the bundle's
 * labels, defaults and exemptions says exactly what the PSA library predicts, never rejects what the policies
 * allow, and agrees with every Pod Security Standards sample's expectation; a fixture expected to be allowed
 * is admitted (a user's config with a wrong expectation fails).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compile, type CompiledCluster, type CompileResult } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import type { UserConfig } from '../src/config/types.js';
import { fillEncryptionKeys, startControlPlane, type RunningControlPlane } from '../src/engines/apiserver.js';
import { CONTROL_PLANE, ensureControlPlane, goModReplaces, wrapperGoMod } from '../src/engines/control-plane.js';
import { applyChange, bundleControlPlaneFiles, isSignificantPodUpdate, type NamespacePolicy } from '../src/eval/apiserver.js';
import { workloadVariantName } from '../src/eval/review.js';
import { loadEvaluator } from '../src/eval/bundle.js';
import { UNLISTED_NAMESPACE, runCases, sampleNamespaces, setUpClusterNamespaces, warningsState, webhookCases, type ApiserverClusterRun } from '../src/audit/apiserver-test.js';
import type { ControlPlaneFiles } from '../src/engines/apiserver.js';
import { ROOT, TODAY } from './helpers.js';
import { levelOf, type Request } from './support/audit-policy.js';

type Obj = Record<string, any>;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

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

describe('the pieces of a real update', () => {
  it('applyChange keeps what the API server added and the change leaves alone, merges named lists by name', () => {
    const stored = {
      metadata: { name: 'p', uid: 'u1', resourceVersion: '7', labels: { a: '1' } },
      spec: {
        containers: [{ name: 'app', image: 'x:1', terminationMessagePath: '/dev/termination-log', volumeMounts: [{ name: 'kube-api-access-1', mountPath: '/var/run/secrets' }] }],
        volumes: [{ name: 'kube-api-access-1', projected: {} }],
        dnsPolicy: 'ClusterFirst',
      },
    };
    const before = { metadata: { name: 'p', labels: { a: '1' } }, spec: { containers: [{ name: 'app', image: 'x:1' }] } };
    const after = { metadata: { name: 'p', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'app', image: 'x:2' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] } };
    expect(applyChange(stored, before, after)).toEqual({
      metadata: { name: 'p', uid: 'u1', resourceVersion: '7', labels: { a: '1', b: '2' } },
      spec: {
        containers: [{ name: 'app', image: 'x:2', terminationMessagePath: '/dev/termination-log', volumeMounts: [{ name: 'kube-api-access-1', mountPath: '/var/run/secrets' }] }],
        volumes: [{ name: 'kube-api-access-1', projected: {} }],
        dnsPolicy: 'ClusterFirst',
        ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
      },
    });
    // A field the change removes is removed; unchanged, the stored object is sent as it is.
    expect(applyChange({ spec: { type: 'NodePort', clusterIP: '10.96.0.9' } }, { spec: { type: 'NodePort', x: 1 } }, { spec: { type: 'NodePort' } })).toEqual({ spec: { type: 'NodePort', clusterIP: '10.96.0.9' } });
    expect(applyChange(stored, before, before)).toBe(stored);
  });

  it('isSignificantPodUpdate is PSA\'s: images, container counts and added ephemeral containers count, labels do not', () => {
    const p = (image: string, extra: object = {}): Obj => ({ metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'app', image }], ...extra } });
    expect(isSignificantPodUpdate({ ...p('x:1'), metadata: { labels: { b: '2' } } }, p('x:1'))).toBe(false);
    expect(isSignificantPodUpdate(p('x:2'), p('x:1'))).toBe(true);
    expect(isSignificantPodUpdate(p('x:1', { initContainers: [{ name: 'i', image: 'y' }] }), p('x:1'))).toBe(true);
    expect(isSignificantPodUpdate(p('x:1', { ephemeralContainers: [{ name: 'd', image: 'y' }] }), p('x:1'))).toBe(true);
    expect(isSignificantPodUpdate(p('x:1', { ephemeralContainers: [{ name: 'd', image: 'y' }] }), p('x:1', { ephemeralContainers: [{ name: 'd', image: 'y' }] }))).toBe(false);
  });

  it('workload variants have valid names: no dots, at most 52 characters, distinct', () => {
    expect(workloadVariantName('disallow-host-process.plain', 'StatefulSet')).toBe('disallow-host-process-plain-statefulset');
    const long = workloadVariantName('restrict-proc-mount.unmasked-user-namespace-before-1-35-init-containers', 'ReplicationController');
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(long.length).toBeLessThanOrEqual(52);
    expect(long.endsWith('-replicationcontroller')).toBe(true);
    expect(workloadVariantName('restrict-proc-mount.unmasked-user-namespace-before-1-35-init-containerz', 'ReplicationController')).not.toBe(long);
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
    // The reference config, with the policy engines' own install manifests as fixtures expected to be admitted:
    // Gatekeeper's and Kyverno's objects and Pods must pass the bundle and PSA in real admission.
    const reference = (await loadConfig(join(ROOT, 'policies.config.ts'))) as UserConfig;
    const installs = ['gatekeeper', 'kyverno'].map((e) => ({ file: `test/fixtures/policy-engines/${e}-install.yaml`, expect: 'allow' as const }));
    result = compile({ ...reference, fixtures: [...(reference.fixtures ?? []), ...installs] }, { today: TODAY });
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
      log(`kubeharden tests: ${run.results.length} requests (dry-run creates and updates) in ${seconds} s`);
    }, 900_000);

    it('sends Pods to every namespace where PSA enforces and to one of each other PSA policy, workloads to one per warn level', () => {
      const targets = sampleNamespaces(namespaces);
      // Enforcing: batch, legacy-apps, operators. One of each other policy: apps (labelled privileged/restricted),
      // default (unlabelled: the configuration's defaults, like kubeharden-unlisted), gatekeeper-system (exempt),
      // monitoring (privileged everywhere).
      expect(targets.pods.map((n) => n.name)).toEqual(['apps', 'batch', 'default', 'gatekeeper-system', 'legacy-apps', 'monitoring', 'operators']);
      expect(targets.workloads.map((n) => `${n.warn.level}:${n.warn.version}`).sort()).toEqual(['baseline:v1.37', 'restricted:v1.37']);
      const kinds = new Set(run.results.filter((r) => r.case.sample).map((r) => String(r.case.object['kind'])));
      expect(run.errors).toEqual([]);
      // The Pod controls' samples as Pods and in every workload controller; the other controls' samples as their own kinds.
      expect([...kinds].sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'CronJob', 'DaemonSet', 'Deployment', 'Ingress', 'Job', 'Namespace', 'Pod', 'ReplicaSet', 'ReplicationController', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'StatefulSet']);
      expect(run.results.filter((r) => r.case.label.startsWith('fixture ')).length).toBeGreaterThan(0);
    });

    it('every object is valid for the API server, and PSA says exactly what the PSA library predicts for its namespace', () => {
      const problems = run.results.filter((r) => r.problems.length).map((r) => `${r.case.label}: ${r.problems.join('; ')}`);
      expect(problems.slice(0, 40)).toEqual([]);
      // Not vacuous: PSA rejected Pods, warned about admitted ones and about workloads.
      expect(run.results.filter((r) => !r.admission.allowed).length).toBeGreaterThan(100);
      expect(run.results.filter((r) => r.case.object['kind'] !== 'Pod' && r.admission.warnings.some((w) => w.includes('PodSecurity'))).length).toBeGreaterThan(100);
    });

    it('refuses as invalid exactly the samples that say so, each for its stated reason; accepts every other sample', () => {
      // Every sample is an object the API server accepts, unless its validation already blocks the attack:
      // those samples say so (Sample.apiServerRejects) and are validation proofs here.
      const refused = [...new Set(run.results.filter((r) => r.case.rejects !== undefined).map((r) => `${r.case.sample!.control}/${r.case.sample!.name}`))].sort();
      expect(refused).toEqual([
        'disallow-anonymous-bindings/allowed-name-kind-case',
        'disallow-anonymous-bindings/service-account-named-anonymous',
        'disallow-anonymous-bindings/subject-kind-case',
        'disallow-anonymous-bindings/update-to-role-kind',
        'disallow-cluster-admin-binding/cluster-binding-service-account-without-namespace',
        'disallow-cluster-admin-binding/group-kind-case',
        'disallow-cluster-admin-binding/update-changes-role-ref',
        'disallow-host-process/container-host-process-true-ephemeral-containers',
        'disallow-host-process/container-host-process-true-init-containers',
        'disallow-host-process/pod-true-container-false',
        'enforce-psa-namespace-labels/restricted-bad-version',
        'enforce-psa-namespace-labels/unknown-level',
        'require-current-psa-version/malformed-empty',
        'require-current-psa-version/malformed-leading-zero',
        'require-current-psa-version/malformed-no-v-prefix',
        'require-current-psa-version/malformed-patch-version',
        'require-current-psa-version/malformed-uppercase-latest',
        'require-default-proc-mount/unmasked-containers',
        'require-default-proc-mount/unmasked-ephemeral-containers',
        'require-default-proc-mount/unmasked-init-containers',
        'restrict-host-ports/host-port-ephemeral-containers',
        'restrict-probe-lifecycle-host/liveness-http-host-ephemeral-containers',
        'restrict-proc-mount/unmasked-containers',
        'restrict-proc-mount/unmasked-ephemeral-containers',
        'restrict-proc-mount/unmasked-init-containers',
        'restrict-volume-types/unknown-future-type',
      ]);
      const wrong = run.results.filter((r) => r.case.rejects !== undefined && r.problems.length).map((r) => `${r.case.label}: ${r.problems.join('; ')}`);
      expect(wrong).toEqual([]);
      const invalid = run.results.filter((r) => r.case.rejects === undefined && (r.admission.status === 422 || r.admission.status === 400)).map((r) => `${r.case.label}: ${r.admission.message}`);
      expect(invalid).toEqual([]);
    });

    it('sends the UPDATE samples as real updates over the stored old object, ephemeral containers through pods/ephemeralcontainers', () => {
      const updates = run.results.filter((r) => r.case.operation === 'UPDATE');
      expect(updates.length).toBeGreaterThan(100);
      expect(updates.every((r) => r.admission.request.startsWith('PUT '))).toBe(true);
      const ephemeral = updates.filter((r) => r.case.subResource === 'ephemeralcontainers');
      expect(ephemeral.length).toBeGreaterThan(50);
      expect(ephemeral.every((r) => r.admission.request.endsWith('/ephemeralcontainers'))).toBe(true);
      // PSA judges an ephemeral container added to a running Pod: rejected where it enforces a level it fails.
      expect(ephemeral.filter((r) => !r.admission.allowed && /violates PodSecurity/.test(r.admission.message)).length).toBeGreaterThan(0);
      // A metadata-only change of a running Pod that violates the enforced level is admitted (PSA ignores it)…
      const labels = updates.filter((r) => r.case.sample?.control === 'disallow-privileged-containers' && r.case.sample.name === 'update-labels-of-running-pod' && r.case.ns.name === 'legacy-apps');
      expect(labels.length).toBeGreaterThan(0);
      expect(labels.filter((r) => !r.admission.allowed).map((r) => r.case.label)).toEqual([]);
      // …the image change of a privileged one is rejected there.
      const image = updates.filter((r) => r.case.sample?.control === 'disallow-privileged-containers' && r.case.sample.name === 'update-image-of-running-pod' && r.case.ns.name === 'legacy-apps');
      expect(image.length).toBeGreaterThan(0);
      expect(image.filter((r) => r.admission.allowed).map((r) => r.case.label)).toEqual([]);
      // Status and finalize writes go through their subresources.
      expect(new Set(updates.map((r) => r.case.subResource).filter(Boolean))).toEqual(new Set(['ephemeralcontainers', 'status', 'finalize']));
    });

    it('PSA never rejects what the bundle\'s policies admit in that namespace', () => {
      const bad = run.results.filter((r) => !r.admission.allowed && r.policyDenies.length === 0 && r.case.rejects === undefined).map((r) => `${r.case.label}: ${r.admission.message}`);
      expect(bad).toEqual([]);
      // Objects the policies admit reached PSA in enforcing namespaces.
      expect(run.results.filter((r) => r.admission.allowed && r.policyDenies.length === 0 && r.case.ns.enforce.level !== 'privileged').length).toBeGreaterThan(0);
    });

    it.each(['gatekeeper', 'kyverno', 'vap'] as const)('%s in real admission on this API server: its denials and warnings are the offline evaluator\'s on every request, CREATE and UPDATE', (engine) => {
      const name = engine === 'gatekeeper' ? 'Gatekeeper' : engine === 'kyverno' ? 'Kyverno' : 'ValidatingAdmissionPolicy';
      const problems = run.results.flatMap((r) => r.problems.filter((p) => p.startsWith(`${name} webhook`)).map((p) => `${r.case.label}: ${p}`));
      expect(problems).toEqual([]);
      // Every request of the webhook round went through the engine, except one create: its node port is held by a
      // stored old object (of an UPDATE sample) since the first pass, and the API server refuses it first.
      const round = new Set(webhookCases(run.results.map((r) => r.case)));
      expect(run.results.filter((r) => round.has(r.case) !== (r[engine] !== undefined)).map((r) => r.case.label)).toEqual([]);
      // Left out of the round: the validation proofs, and repeats of the Deployment path's kinds (one denied and one
      // admitted sample per control, kind and namespace stay).
      const left = run.results.filter((r) => !round.has(r.case) && r.case.rejects === undefined);
      expect(new Set(left.map((r) => String(r.case.object['kind'])))).toEqual(new Set(['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']));
      expect(round.size).toBeGreaterThan(4000);
      expect(run.results.filter((r) => r[engine]?.notReached).map((r) => r.case.label)).toEqual(['disallow-nodeport-services sample node-port (Service) in kubeharden-unlisted']);
      const reached = run.results.filter((r) => r[engine]?.verdict);
      // Gatekeeper denies as generated; Kyverno's and the VAP bindings' denials are turned into warnings (see webhookPhase).
      const flagged = reached.filter((r) => r[engine]!.verdict!.denies.length + r[engine]!.verdict!.warns.length > 0);
      const counts = {
        reached: reached.length,
        denied: reached.filter((r) => r[engine]!.verdict!.denies.length > 0).length,
        warned: reached.filter((r) => r[engine]!.verdict!.warns.length > 0).length,
        flaggedUpdates: flagged.filter((r) => r.case.operation === 'UPDATE').length,
        flaggedEphemeral: flagged.filter((r) => r.case.subResource === 'ephemeralcontainers').length,
        admittedClean: reached.length - flagged.length,
      };
      log(`kubeharden tests: ${name} webhook ${JSON.stringify(counts)}`);
      // Denials or warnings (most samples meet several enforced controls), updates and ephemeral containers among them, and clean admissions.
      if (engine === 'gatekeeper') {
        expect(counts.denied).toBeGreaterThan(3500);
        expect(counts.warned).toBeGreaterThan(100);
      } else {
        expect(counts.denied).toBe(0);
        expect(counts.warned).toBeGreaterThan(3500);
      }
      expect(counts.flaggedUpdates).toBeGreaterThan(100);
      expect(counts.flaggedEphemeral).toBeGreaterThan(100);
      expect(counts.admittedClean).toBeGreaterThan(100);
      expect(new Set(flagged.map((r) => String(r.case.object['kind'])))).toEqual(new Set(run.results.filter((r) => r.case.sample).map((r) => String(r.case.object['kind']))));
    });

    it("the policy engines' own install manifests pass PSA and every engine in real admission (the bundle lets them come up beside it)", () => {
      const installs = run.results.filter((r) => /\/(gatekeeper|kyverno)-install\.yaml$/.test(r.case.fixture?.file ?? '') && !r.case.fixture!.moved);
      // Every object of both manifests but the CRDs, and one Pod per Deployment (test/fixtures/reference/*-install.yaml).
      expect(installs.length).toBe(68);
      expect(new Set(installs.map((r) => String(r.case.object['kind'])))).toEqual(new Set(['Namespace', 'ResourceQuota', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Secret', 'Service', 'Deployment', 'PodDisruptionBudget', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ConfigMap', 'Pod']));
      expect(installs.filter((r) => !r.admission.allowed || r.problems.length).map((r) => `${r.case.label}: ${r.admission.message} ${r.problems.join('; ')}`)).toEqual([]);
      for (const engine of ['gatekeeper', 'kyverno', 'vap'] as const) {
        const flagged = installs.filter((r) => !r[engine]?.verdict || r[engine]!.verdict!.denies.length + r[engine]!.verdict!.warns.length > 0);
        expect(flagged.map((r) => `${engine}: ${r.case.label}: ${JSON.stringify(r[engine])}`)).toEqual([]);
      }
    });

    it('PSA fails a Pod Security Standards control\'s check iff its sample expects deny, wherever PSA runs the check', () => {
      expect(run.results.flatMap((r) => r.problems.filter((p) => p.includes(' expects ')).map((p) => `${r.case.label}: ${p}`))).toEqual([]);
      expect(run.results.reduce((n, r) => n + r.pssVerdicts, 0)).toBeGreaterThan(1000);
    });

    it('checks a user\'s fixtures with their expected verdicts: an allowed fixture PSA rejects is a failure', async () => {
      // A user's own config and fixtures on the same API server: one namespace enforcing baseline.
      const dir = mkdtempSync(join(tmpdir(), 'kubeharden-fixtures-'));
      const pod = (name: string, privileged: boolean): string =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: fx-baseline}\nspec:\n  containers:\n    - {name: app, image: registry.example.com/app:1.0, securityContext: {privileged: ${privileged}}}\n`;
      writeFileSync(join(dir, 'ok.yaml'), pod('ok', false));
      writeFileSync(join(dir, 'wrong.yaml'), pod('wrong', true));
      writeFileSync(join(dir, 'denied.yaml'), pod('denied', true));
      const user = compile(
        {
          name: 'user',
          profile: 'pss-baseline',
          kubernetesVersion: '1.37',
          namespaces: { 'fx-baseline': { pss: 'baseline' } },
          fixtures: [
            { file: 'ok.yaml', expect: 'allow' },
            { file: 'wrong.yaml', expect: 'allow' },
            { file: 'denied.yaml', expect: { 'disallow-privileged-containers': 'deny' } },
          ],
        },
        { today: TODAY },
      );
      const ucc = user.clusters[0]!;
      const uns = await setUpClusterNamespaces(cp, ucc, bundleControlPlaneFiles(user, ucc), dir);
      expect(uns.get('fx-baseline')!.enforce.level).toBe('baseline');
      const urun = await runCases(cp, ucc, await loadEvaluator(ucc, log), uns, dir, { log, samples: false, webhooks: false });
      expect(urun.errors).toEqual([]);
      const byFile = (f: string): string[] => urun.results.filter((r) => r.case.fixture?.file === f && !r.case.fixture.moved).flatMap((r) => r.problems);
      expect(byFile('ok.yaml')).toEqual([]);
      // PSA rejects the privileged Pod: expected by denied.yaml, a failure for wrong.yaml.
      expect(byFile('denied.yaml')).toEqual([]);
      expect(byFile('wrong.yaml')).toEqual([expect.stringMatching(/^the fixture expects allow, the API server rejected it: .*violates PodSecurity "baseline:v1\.37": privileged/)]);
      expect(urun.results.every((r) => r.case.sample === undefined)).toBe(true);
    }, 120_000);
  });
});

describe("the API server's limits on warnings (read before comparing the engines' warnings)", () => {
  it('complete under 4,096 characters in all; cut when a warning is exactly 256 long or the total reaches the limit; dropped possible from 16 warnings on', () => {
    const w = (n: number): string => 'x'.repeat(n);
    expect(warningsState([])).toBe('complete');
    expect(warningsState([w(255), w(3000)])).toBe('complete');
    expect(warningsState([w(4095)])).toBe('complete');
    expect(warningsState([w(256)])).toBe('cut');
    expect(warningsState([w(4096)])).toBe('cut');
    expect(warningsState(Array.from({ length: 15 }, () => w(256)))).toBe('cut');
    expect(warningsState(Array.from({ length: 16 }, () => w(256)))).toBe('dropped');
    expect(warningsState(Array.from({ length: 20 }, () => w(210)))).toBe('dropped');
    // Characters, not UTF-16 units: 4,095 emoji are under the limit.
    expect(warningsState(['\u{1F600}'.repeat(4095)])).toBe('complete');
  });
});
