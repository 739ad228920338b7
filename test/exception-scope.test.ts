/**
 * Exceptions relax only what their reason says, proven by WASM, gator, the Kyverno CLI (both policy types) and
 * the VAP oracle on real bundles:
 * the reference config's `allow` exceptions (mesh init container: NET_ADMIN/NET_RAW only; metrics agent: host
 * PID only) against objects that try to use them for more (other capabilities, other container lists, an
 * ephemeral container, look-alike images and names, other host namespaces); and the baseline floor under a
 * relaxed restricted control (whole exceptions, warn mode, allowed volume types).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import type { UserConfig } from '../src/config/types.js';
import { loadEvaluator, objectsOf } from '../src/eval/bundle.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFindings } from '../src/eval/engines.js';
import { ensureEngine } from '../src/engines/index.js';
import { vapFindings, vapObjectsOf, type VapBundle } from '../src/eval/vap.js';
import { evaluatorFor, ROOT } from './helpers.js';

type Obj = Record<string, unknown>;

beforeAll(async () => {
  await ensureEngine('gator');
  await ensureEngine('kyverno');
}, 3_600_000);

const controlsOf = (fs: readonly { control: string }[] | undefined, only?: ReadonlySet<string>): string[] =>
  [...new Set((fs ?? []).map((f) => f.control))].filter((c) => !only || only.has(c)).sort();

type Bundles = { b: ReturnType<typeof objectsOf>; vp: ReturnType<typeof objectsOf>; vap: VapBundle };

/**
 * The bundle objects of `config` with each Kyverno policy type (ClusterPolicy + v2 exceptions, ValidatingPolicy
 * + v1 exceptions), and its ValidatingAdmissionPolicies (vap/, switched on here).
 */
function bothTypes(config: UserConfig): Bundles {
  const compiled = (policyType: 'ClusterPolicy' | 'ValidatingPolicy') => compile({ ...config, kyverno: { policyType }, vap: { enabled: true } } as UserConfig, { today: '2026-11-26' }).clusters[0]!;
  const b = objectsOf(compiled('ClusterPolicy'));
  const vpCluster = compiled('ValidatingPolicy');
  const vp = objectsOf(vpCluster);
  const vap = vapObjectsOf(vpCluster)!;
  expect(vap.policies.length).toBeGreaterThan(0);
  expect(b.policies.length).toBeGreaterThan(0);
  expect(b.policies.every((p) => (p as { kind: string }).kind === 'ClusterPolicy')).toBe(true);
  expect(vp.policies.every((p) => (p as { kind: string }).kind === 'ValidatingPolicy')).toBe(true);
  expect(vp.exceptions.every((p) => (p as { apiVersion: string }).apiVersion === 'policies.kyverno.io/v1')).toBe(true);
  return { b, vp, vap };
}

const controlOfPolicy = (p: object): string => (p as { metadata: { annotations: Record<string, string> } }).metadata.annotations['kubeharden.io/control']!;

/**
 * Every engine (Kyverno with both policy types; the VAP oracle; gator with native validation on, which runs the templates' CEL
 * blocks when the config has `gatekeeper.engines: ['Rego', 'CEL']`, and off, the Rego blocks) gives exactly the
 * expected controls (restricted to `only`) for every resource; WASM and gator's Rego give the same messages.
 */
async function expectAgreement(
  ev: { evaluate(o: Obj): { control: string; message: string }[] },
  { b, vp, vap }: Bundles,
  resources: readonly Obj[],
  expected: Record<string, string[]>,
  only?: ReadonlySet<string>,
): Promise<void> {
  // The Kyverno policies of the controls under test only, and no ephemeral-container ValidatingPolicies (they
  // match UPDATEs of pods/ephemeralcontainers, which `kyverno apply` never sends): the CLI's cost grows with
  // policies × resources, and a policy of another control cannot change these controls' verdicts.
  const underTest = (p: object): boolean => !only || only.has(controlOfPolicy(p));
  const [gator, gatorRego, kyverno, kyvernoVp, vapFound]: [EngineFindings, EngineFindings, EngineFindings, EngineFindings, EngineFindings] = await Promise.all([
    gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
    gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never, undefined, 'rego'),
    kyvernoFindings(b.policies.filter(underTest), resources as never, undefined, b.exceptions),
    kyvernoFindings(vp.policies.filter((p) => underTest(p) && !(p as { metadata: { name: string } }).metadata.name.endsWith('.ephemeralcontainers')), resources as never, undefined, vp.exceptions),
    // The API server's own admission code (the VAP oracle) on vap/: exceptions are bindings and CEL there.
    vapFindings(vap, resources as never),
  ]);
  expect(Object.keys(expected).sort()).toEqual(resources.map((r) => keyOf(r as never)).sort());
  for (const r of resources) {
    const key = keyOf(r as never);
    const wasm = ev.evaluate(r);
    expect(controlsOf(wasm, only), `wasm ${key}`).toEqual(expected[key]);
    expect(controlsOf(gator.get(key), only), `gator ${key}`).toEqual(expected[key]);
    expect(controlsOf(gatorRego.get(key), only), `gator (Rego) ${key}`).toEqual(expected[key]);
    expect(controlsOf(kyverno.get(key), only), `kyverno ${key}`).toEqual(expected[key]);
    expect(controlsOf(kyvernoVp.get(key), only), `kyverno (ValidatingPolicy) ${key}`).toEqual(expected[key]);
    expect(controlsOf(vapFound.get(key), only), `vap ${key}`).toEqual(expected[key]);
    expect(wasm.map((f) => f.message).sort(), `messages ${key}`).toEqual((gatorRego.get(key) ?? []).map((f) => f.message).sort());
  }
}

describe('the reference config: exceptions allow only what their reason names', () => {
  const PROXY = 'registry.example.com/mesh/proxy-init:1.22@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const APP = 'registry.example.com/app:1.0@sha256:f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
  const AGENT = 'registry.example.com/metrics-agent:3.2@sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef';
  const UNDER_TEST = new Set(['restrict-capabilities-baseline', 'require-drop-all-capabilities', 'require-drop-net-raw', 'disallow-host-namespaces', 'restrict-seccomp', 'require-seccomp-profile']);
  const caps = (add: string[]) => ({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { add, drop: ['ALL'] }, runAsNonRoot: false, runAsUser: 1337 });
  const proxy = (add: string[], extra: Obj = {}, image = PROXY) => ({ name: 'proxy-init', image, securityContext: caps(add), ...extra });
  const app = (add: string[] = []) => ({
    name: 'app',
    image: APP,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], ...(add.length ? { add } : {}) }, runAsNonRoot: true, runAsGroup: 10001 },
  });
  const meshPod = (name: string, spec: Obj, ns = 'apps'): Obj => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { automountServiceAccountToken: false, securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [app()], ...spec },
  });
  const agentSpec = (host: Obj) => ({
    ...host,
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'agent', image: AGENT, securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }],
  });
  const daemonSet = (name: string, host: Obj): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'apps' },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: agentSpec(host) } },
  });
  const agentPod = (name: string, host: Obj): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' }, spec: agentSpec(host) });
  const ephemeral = (add: string[]) => ({ name: 'debug', image: PROXY, securityContext: caps(add) });

  const resources: Obj[] = [
    meshPod('mesh-allowed', { initContainers: [proxy(['NET_ADMIN', 'NET_RAW'])] }),
    meshPod('mesh-sys-admin', { initContainers: [proxy(['NET_ADMIN', 'SYS_ADMIN'])] }),
    meshPod('mesh-all', { initContainers: [proxy(['ALL'])] }),
    meshPod('mesh-bpf-ptrace', { initContainers: [proxy(['BPF', 'SYS_PTRACE'])] }),
    meshPod('mesh-lower-case', { initContainers: [proxy(['net_admin'])] }),
    meshPod('mesh-sidecar-sys-admin', { initContainers: [proxy(['SYS_ADMIN'], { restartPolicy: 'Always' })] }),
    meshPod('mesh-as-app-container', { containers: [app(), proxy(['NET_ADMIN', 'NET_RAW'])] }),
    meshPod('mesh-as-app-container-sys-admin', { containers: [app(), proxy(['NET_RAW', 'SYS_ADMIN'])] }),
    meshPod('other-image-net-admin', { initContainers: [proxy(['NET_ADMIN'])], containers: [app(['NET_ADMIN'])] }),
    meshPod('look-alike-image', { initContainers: [proxy(['NET_ADMIN'], {}, 'registry.example.com/mesh/proxy-init-debug:1.22')] }),
    meshPod('ephemeral-sys-admin', { ephemeralContainers: [ephemeral(['SYS_ADMIN'])] }),
    meshPod('ephemeral-net-admin', { ephemeralContainers: [ephemeral(['NET_ADMIN'])] }),
    // The exception is for apps only: elsewhere the baseline list applies to the same image.
    meshPod('mesh-elsewhere', { initContainers: [proxy(['NET_ADMIN', 'NET_RAW'])] }, 'legacy-apps'),
    daemonSet('metrics-agent', { hostPID: true }),
    daemonSet('metrics-agent-network', { hostPID: true, hostNetwork: true }),
    daemonSet('other-agent', { hostPID: true }),
    agentPod('metrics-agent-7c9f2', { hostPID: true }),
    agentPod('metrics-agent-x1', { hostNetwork: true }),
    agentPod('metrics-agent-x2', { hostIPC: true }),
    // batch only warns about require-seccomp-profile: the baseline seccomp check still enforces there.
    { ...meshPod('unconfined', {}, 'batch'), spec: { ...(meshPod('u', {}).spec as Obj), securityContext: { seccompProfile: { type: 'Unconfined' } } } },
    { ...meshPod('seccomp-unset', {}, 'batch'), spec: { ...(meshPod('u', {}).spec as Obj), securityContext: {} } },
  ];
  const restricted = ['require-drop-all-capabilities'];
  const expected: Record<string, string[]> = {
    'Pod/apps/mesh-allowed': [],
    'Pod/apps/mesh-sys-admin': restricted,
    // ALL would add NET_RAW back: the exception allows NET_RAW by that exact name only.
    'Pod/apps/mesh-all': [...restricted, 'require-drop-net-raw'],
    'Pod/apps/mesh-bpf-ptrace': restricted,
    'Pod/apps/mesh-lower-case': restricted,
    'Pod/apps/mesh-sidecar-sys-admin': restricted,
    'Pod/apps/mesh-as-app-container': [],
    'Pod/apps/mesh-as-app-container-sys-admin': restricted,
    'Pod/apps/other-image-net-admin': restricted,
    'Pod/apps/look-alike-image': restricted,
    'Pod/apps/ephemeral-sys-admin': restricted,
    'Pod/apps/ephemeral-net-admin': [],
    'Pod/legacy-apps/mesh-elsewhere': ['require-drop-net-raw', 'restrict-capabilities-baseline'],
    'DaemonSet/apps/metrics-agent': [],
    'DaemonSet/apps/metrics-agent-network': ['disallow-host-namespaces'],
    'DaemonSet/apps/other-agent': ['disallow-host-namespaces'],
    'Pod/apps/metrics-agent-7c9f2': [],
    'Pod/apps/metrics-agent-x1': ['disallow-host-namespaces'],
    'Pod/apps/metrics-agent-x2': ['disallow-host-namespaces'],
    'Pod/batch/unconfined': ['require-seccomp-profile', 'restrict-seccomp'],
    'Pod/batch/seccomp-unset': ['require-seccomp-profile'],
  };

  it('WASM, gator, the Kyverno CLI and the VAP oracle deny every use beyond the reason and allow the reason itself', async () => {
    const config = (await loadConfig(join(ROOT, 'policies.config.ts'))) as UserConfig;
    const cc = compile(config, { today: '2026-11-26' }).clusters[0]!;
    const ev = await loadEvaluator(cc, () => {});
    await expectAgreement(ev, bothTypes(config), resources, expected, UNDER_TEST);
    // The host-namespace message names what is still denied.
    expect(ev.evaluate(resources[14]!).filter((f) => f.control === 'disallow-host-namespaces').map((f) => f.message)).toEqual([expect.stringContaining('hostNetwork')]);
    // The seccomp warning stays a warning; the baseline floor denies.
    const batch = ev.evaluate(resources[19]!).filter((f) => UNDER_TEST.has(f.control));
    expect([...new Set(batch.map((f) => `${f.control}:${f.action}`))].sort()).toEqual(['require-seccomp-profile:warn', 'restrict-seccomp:deny']);
  }, 600_000);

  it('an ephemeral container added by UPDATE pods/ephemeralcontainers gets no more than the reason (WASM with the old object)', async () => {
    const cc = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: '2026-11-26' }).clusters[0]!;
    const ev = await loadEvaluator(cc, () => {});
    const old = meshPod('running', {});
    const update = (add: string[]) => controlsOf(ev.evaluate({ ...old, spec: { ...(old.spec as Obj), ephemeralContainers: [ephemeral(add)] } }, { operation: 'UPDATE', oldObject: old }), UNDER_TEST);
    expect(update(['SYS_ADMIN'])).toEqual(restricted);
    expect(update(['ALL'])).toEqual([...restricted, 'require-drop-net-raw']);
    expect(update(['NET_ADMIN', 'NET_RAW'])).toEqual([]);
  }, 600_000);
});

describe('the baseline floor under relaxed restricted controls', () => {
  const config: UserConfig = {
    name: 'floor',
    profile: 'pss-restricted',
    kubernetesVersion: '1.37',
    namespaces: { batch: { controls: { 'require-seccomp-profile': 'audit' } } },
    exceptions: [
      // Whole exceptions of restricted controls only: their baseline counterparts keep applying.
      { control: 'require-drop-all-capabilities', namespaces: ['apps'], images: ['registry.example.com/mesh/*'], reason: 'r', expires: '2027-06-01' },
      { control: 'require-seccomp-profile', names: ['legacy-*'], reason: 'r', expires: '2027-06-01' },
      // Allowed values, unscoped within a namespace and by name.
      { control: 'restrict-volume-types', namespaces: ['data'], allow: { volumeTypes: ['nfs'] }, reason: 'r', expires: '2027-06-01' },
      { control: 'restrict-sysctls', names: ['tuned', 'tuned-*'], allow: { sysctls: ['net.core.somaxconn'] }, reason: 'r', expires: '2027-06-01' },
    ],
  };
  const pod = (name: string, ns: string, spec: Obj = {}, sc: Obj = {}, image = 'registry.example.com/app:1'): Obj => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...sc } }],
      ...spec,
    },
  });
  const mesh = 'registry.example.com/mesh/init:1';
  const resources: Obj[] = [
    pod('mesh-chown', 'apps', {}, { capabilities: { add: ['CHOWN'] } }, mesh),
    pod('mesh-sys-admin', 'apps', {}, { capabilities: { add: ['SYS_ADMIN'] } }, mesh),
    pod('mesh-no-drop', 'apps', {}, { capabilities: {} }, mesh),
    pod('legacy-unset', 'apps', { securityContext: { runAsNonRoot: true } }),
    pod('legacy-unconfined', 'apps', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } } }),
    pod('batch-unconfined', 'batch', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } } }),
    pod('nfs', 'data', { volumes: [{ name: 'v', nfs: { server: 'nfs.example.com', path: '/x' } }] }),
    pod('nfs-elsewhere', 'apps', { volumes: [{ name: 'v', nfs: { server: 'nfs.example.com', path: '/x' } }] }),
    pod('host-path', 'data', { volumes: [{ name: 'v', hostPath: { path: '/' } }] }),
    pod('tuned-0', 'apps', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }),
    pod('tuned-1', 'apps', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }),
    pod('untuned', 'apps', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }),
  ];
  const expected: Record<string, string[]> = {
    'Pod/apps/mesh-chown': [],
    'Pod/apps/mesh-sys-admin': ['restrict-capabilities-baseline'],
    'Pod/apps/mesh-no-drop': [],
    'Pod/apps/legacy-unset': [],
    'Pod/apps/legacy-unconfined': ['restrict-seccomp'],
    'Pod/batch/batch-unconfined': ['require-seccomp-profile', 'restrict-seccomp'],
    'Pod/data/nfs': [],
    'Pod/apps/nfs-elsewhere': ['restrict-volume-types'],
    'Pod/data/host-path': ['disallow-host-path', 'restrict-volume-types'],
    'Pod/apps/tuned-0': [],
    'Pod/apps/tuned-1': ['restrict-sysctls'],
    'Pod/apps/untuned': ['restrict-sysctls'],
  };

  it('WASM, gator, the Kyverno CLI and the VAP oracle keep the baseline checks wherever the restricted ones are relaxed', async () => {
    const ev = await evaluatorFor(config);
    await expectAgreement(ev, bothTypes(config), resources, expected);
  }, 600_000);
});

describe('allow for every control with sub-checks: exactly the named values, nowhere else', () => {
  const EXPORTER = 'registry.example.com/node-exporter:1.8';
  const TRACER = 'registry.example.com/tracer:2.0';
  const CSI = 'registry.example.com/csi:1.4';
  const PING = 'registry.example.com/ping:1.0';
  const APP = 'registry.example.com/app:1.0';
  const config: UserConfig = {
    name: 'allow-keys',
    profile: 'pss-restricted',
    kubernetesVersion: '1.37',
    controls: { 'require-drop-net-raw': true },
    exceptions: [
      { control: 'restrict-host-ports', namespaces: ['net'], images: ['registry.example.com/node-exporter:*'], allow: { hostPorts: [9100, { min: 9200, max: 9201 }] }, reason: 'r', expires: '2027-06-01' },
      // hostPath needs both controls relaxed: the volume type, and the paths themselves.
      { control: 'restrict-volume-types', namespaces: ['logs'], names: ['log-reader', 'log-reader-*'], allow: { volumeTypes: ['hostPath'] }, reason: 'r', expires: '2027-06-01' },
      { control: 'disallow-host-path', namespaces: ['logs'], names: ['log-reader', 'log-reader-*'], allow: { hostPaths: ['/var/log/pods', '/var/lib/docker/containers/*'] }, reason: 'r', expires: '2027-06-01' },
      { control: ['require-seccomp-profile', 'restrict-seccomp'], images: ['registry.example.com/tracer:*'], allow: { seccompTypes: ['Unconfined'] }, reason: 'r', expires: '2027-06-01' },
      // Only the restricted control: the baseline floor (no Unconfined) stays.
      { control: 'require-seccomp-profile', images: ['registry.example.com/profiler:*'], allow: { seccompTypes: ['Unconfined'] }, reason: 'r', expires: '2027-06-01' },
      { control: 'restrict-apparmor', names: ['tracer', 'tracer-*'], allow: { appArmorTypes: ['Unconfined'] }, reason: 'r', expires: '2027-06-01' },
      { control: 'restrict-selinux', images: ['registry.example.com/csi:*'], allow: { seLinuxTypes: ['spc_t'] }, reason: 'r', expires: '2027-06-01' },
      { control: 'require-drop-net-raw', images: ['registry.example.com/ping:*'], allow: { capabilities: ['NET_RAW'] }, reason: 'r', expires: '2027-06-01' },
    ],
  };
  const UNDER_TEST = new Set([
    'restrict-host-ports',
    'disallow-host-path',
    'restrict-volume-types',
    'restrict-seccomp',
    'require-seccomp-profile',
    'restrict-apparmor',
    'restrict-selinux',
    'require-drop-net-raw',
  ]);
  const SC = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  const c = (name: string, image: string, extra: Obj = {}, sc: Obj = {}): Obj => ({ name, image, ...extra, securityContext: { ...SC, ...sc } });
  const pod = (name: string, ns: string, spec: Obj, meta: Obj = {}): Obj => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...meta },
    spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [c('app', APP)], ...spec },
  });
  const workload = (kind: 'DaemonSet' | 'Deployment', name: string, ns: string, spec: Obj): Obj => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: (pod(name, ns, spec).spec as Obj) } },
  });
  const port = (hostPort: number) => ({ ports: [{ containerPort: hostPort, hostPort }] });
  const exporter = (hostPort: number) => c('exporter', EXPORTER, port(hostPort));
  const hostPath = (path: string) => ({ volumes: [{ name: 'logs', hostPath: { path } }] });
  const unconfined = { seccompProfile: { type: 'Unconfined' } };
  const podSc = (sc: Obj) => ({ securityContext: { runAsNonRoot: true, ...sc } });
  const aa = (t: string) => ({ appArmorProfile: { type: t } });
  const se = (opts: Obj) => ({ seLinuxOptions: opts });
  const ping = (caps: Obj) => c('ping', PING, {}, { capabilities: caps });

  const resources: Obj[] = [
    // Host ports: the exporter's containers bind the named ports, in the named namespace, and nothing else does.
    pod('hp-allowed', 'net', { containers: [c('app', APP), exporter(9100)] }),
    pod('hp-range', 'net', { containers: [exporter(9201)] }),
    pod('hp-other-port', 'net', { containers: [exporter(9101)] }),
    pod('hp-other-container', 'net', { containers: [exporter(9100), c('app', APP, port(9100))] }),
    pod('hp-init', 'net', { initContainers: [c('init', APP, port(9200))], containers: [exporter(9100)] }),
    pod('hp-look-alike-image', 'net', { containers: [c('exporter', 'registry.example.com/node-exporter-debug:1.8', port(9100))] }),
    pod('hp-elsewhere', 'apps', { containers: [exporter(9100)] }),
    workload('DaemonSet', 'node-exporter', 'net', { containers: [exporter(9100)] }),
    workload('DaemonSet', 'node-exporter-wide', 'net', { containers: [exporter(9300)] }),
    // Host paths: exactly the named path, or below the named directory, in canonical form only.
    pod('log-reader-a', 'logs', hostPath('/var/log/pods')),
    pod('log-reader-b', 'logs', hostPath('/var/lib/docker/containers/0a1b')),
    pod('log-reader-c', 'logs', hostPath('/var/lib/docker/containers')),
    pod('log-reader-d', 'logs', hostPath('/var/log/pods/')),
    pod('log-reader-e', 'logs', hostPath('/var/log/pods/../../../etc')),
    pod('log-reader-f', 'logs', hostPath('/var/log/podsx')),
    pod('log-reader-g', 'logs', hostPath('/var/lib/docker/containers/../../../../etc')),
    pod('log-reader-h', 'logs', hostPath('/var/lib/docker/containers//x')),
    pod('log-reader-i', 'logs', hostPath('/var/log/pods/x')),
    pod('log-reader-j', 'logs', { volumes: [...hostPath('/var/log/pods').volumes, { name: 'root', hostPath: { path: '/' } }] }),
    pod('log-writer', 'logs', hostPath('/var/log/pods')),
    pod('log-reader-k', 'apps', hostPath('/var/log/pods')),
    workload('Deployment', 'log-reader', 'logs', hostPath('/var/log/pods')),
    // Seccomp: Unconfined for the tracer's containers (any list), for the pod only when every container is the tracer.
    pod('sc-container', 'apps', { containers: [c('app', APP), c('tracer', TRACER, {}, unconfined)] }),
    pod('sc-pod', 'apps', { ...podSc(unconfined), containers: [c('tracer', TRACER)] }),
    pod('sc-init', 'apps', { initContainers: [c('tracer', TRACER, {}, unconfined)] }),
    pod('sc-pod-mixed', 'apps', { ...podSc(unconfined), containers: [c('tracer', TRACER), c('app', APP)] }),
    pod('sc-other-container', 'apps', { containers: [c('tracer', TRACER, {}, unconfined), c('app', APP, {}, unconfined)] }),
    pod('sc-other-init', 'apps', { initContainers: [c('init', APP, {}, unconfined)], containers: [c('tracer', TRACER, {}, unconfined)] }),
    pod('sc-lower-case', 'apps', { containers: [c('tracer', TRACER, {}, { seccompProfile: { type: 'unconfined' } })] }),
    pod('sc-ephemeral', 'apps', { ephemeralContainers: [c('debug', APP, {}, unconfined)] }),
    pod('sc-floor', 'apps', { containers: [c('profiler', 'registry.example.com/profiler:1', {}, unconfined)] }),
    // AppArmor: Unconfined for the pods named tracer(-*), by annotation or field; not for look-alike names or spellings.
    pod('tracer', 'apps', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } }),
    pod('tracer-1', 'apps', { ...podSc({ seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'Unconfined' } }), containers: [c('app', APP, {}, aa('Unconfined'))] }),
    pod('tracerx', 'apps', { containers: [c('app', APP, {}, aa('Unconfined'))] }),
    pod('tracer-2', 'apps', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'Unconfined' } }),
    pod('tracing', 'apps', {}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } }),
    // SELinux: spc_t for the CSI image's containers; user and role stay denied; other containers and spellings too.
    pod('se-container', 'apps', { containers: [c('app', APP), c('csi', CSI, {}, se({ type: 'spc_t' }))] }),
    pod('se-pod', 'apps', { ...podSc({ seccompProfile: { type: 'RuntimeDefault' }, seLinuxOptions: { type: 'spc_t' } }), containers: [c('csi', CSI)] }),
    pod('se-pod-mixed', 'apps', { ...podSc({ seccompProfile: { type: 'RuntimeDefault' }, seLinuxOptions: { type: 'spc_t' } }), containers: [c('csi', CSI), c('app', APP)] }),
    pod('se-user', 'apps', { containers: [c('csi', CSI, {}, se({ type: 'spc_t', user: 'system_u' }))] }),
    pod('se-upper', 'apps', { containers: [c('csi', CSI, {}, se({ type: 'SPC_T' }))] }),
    pod('se-other-type', 'apps', { containers: [c('csi', CSI, {}, se({ type: 'unconfined_t' }))] }),
    pod('se-other-container', 'apps', { initContainers: [c('init', APP, {}, se({ type: 'spc_t' }))], containers: [c('csi', CSI, {}, se({ type: 'spc_t' }))] }),
    // NET_RAW: the ping image may keep it and add it by its exact name; ALL and other spellings stay denied.
    pod('nr-keeps', 'apps', { containers: [c('app', APP), ping({ drop: ['CHOWN'] })] }),
    pod('nr-adds', 'apps', { containers: [ping({ drop: ['ALL'], add: ['NET_RAW'] })] }),
    pod('nr-adds-all', 'apps', { containers: [ping({ drop: ['ALL'], add: ['ALL'] })] }),
    pod('nr-adds-cap-prefix', 'apps', { containers: [ping({ drop: ['ALL'], add: ['CAP_NET_RAW'] })] }),
    pod('nr-adds-lower-case', 'apps', { containers: [ping({ drop: ['ALL'], add: ['net_raw'] })] }),
    pod('nr-other-container', 'apps', { containers: [ping({ drop: ['CHOWN'] }), c('app', APP, {}, { capabilities: { drop: ['ALL'], add: ['NET_RAW'] } })] }),
    pod('nr-ephemeral', 'apps', { containers: [ping({})], ephemeralContainers: [c('debug', APP, {}, { capabilities: { drop: ['CHOWN'] } })] }),
  ];
  const hp = ['restrict-host-ports'];
  const path = ['disallow-host-path'];
  // require-seccomp-profile is relaxed for more images than restrict-seccomp, so both apply (the baseline floor).
  const seccomp = ['require-seccomp-profile', 'restrict-seccomp'];
  const expected: Record<string, string[]> = {
    'Pod/net/hp-allowed': [],
    'Pod/net/hp-range': [],
    'Pod/net/hp-other-port': hp,
    'Pod/net/hp-other-container': hp,
    'Pod/net/hp-init': hp,
    'Pod/net/hp-look-alike-image': hp,
    'Pod/apps/hp-elsewhere': hp,
    'DaemonSet/net/node-exporter': [],
    'DaemonSet/net/node-exporter-wide': hp,
    'Pod/logs/log-reader-a': [],
    'Pod/logs/log-reader-b': [],
    'Pod/logs/log-reader-c': path,
    'Pod/logs/log-reader-d': path,
    'Pod/logs/log-reader-e': path,
    'Pod/logs/log-reader-f': path,
    'Pod/logs/log-reader-g': path,
    'Pod/logs/log-reader-h': path,
    'Pod/logs/log-reader-i': path,
    'Pod/logs/log-reader-j': path,
    'Pod/logs/log-writer': ['disallow-host-path', 'restrict-volume-types'],
    'Pod/apps/log-reader-k': ['restrict-volume-types'],
    'Deployment/logs/log-reader': [],
    'Pod/apps/sc-container': [],
    'Pod/apps/sc-pod': [],
    'Pod/apps/sc-init': [],
    'Pod/apps/sc-pod-mixed': seccomp,
    'Pod/apps/sc-other-container': seccomp,
    'Pod/apps/sc-other-init': seccomp,
    'Pod/apps/sc-lower-case': seccomp,
    'Pod/apps/sc-ephemeral': seccomp,
    'Pod/apps/sc-floor': ['restrict-seccomp'],
    'Pod/apps/tracer': [],
    'Pod/apps/tracer-1': [],
    'Pod/apps/tracerx': ['restrict-apparmor'],
    'Pod/apps/tracer-2': ['restrict-apparmor'],
    'Pod/apps/tracing': ['restrict-apparmor'],
    'Pod/apps/se-container': [],
    'Pod/apps/se-pod': [],
    'Pod/apps/se-pod-mixed': ['restrict-selinux'],
    'Pod/apps/se-user': ['restrict-selinux'],
    'Pod/apps/se-upper': ['restrict-selinux'],
    'Pod/apps/se-other-type': ['restrict-selinux'],
    'Pod/apps/se-other-container': ['restrict-selinux'],
    'Pod/apps/nr-keeps': [],
    'Pod/apps/nr-adds': [],
    'Pod/apps/nr-adds-all': ['require-drop-net-raw'],
    'Pod/apps/nr-adds-cap-prefix': ['require-drop-net-raw'],
    'Pod/apps/nr-adds-lower-case': ['require-drop-net-raw'],
    'Pod/apps/nr-other-container': ['require-drop-net-raw'],
    'Pod/apps/nr-ephemeral': ['require-drop-net-raw'],
  };

  it('WASM, gator, the Kyverno CLI and the VAP oracle let through exactly the allowed values and deny every other use', async () => {
    const ev = await evaluatorFor(config);
    await expectAgreement(ev, bothTypes(config), resources, expected, UNDER_TEST);
  }, 600_000);

  it('an UPDATE cannot sneak a value past the exception through an ephemeral container (WASM with the old object)', async () => {
    const ev = await evaluatorFor(config);
    const old = pod('running', 'net', { containers: [exporter(9100), ping({ drop: ['ALL'], add: ['NET_RAW'] })] });
    const update = (debug: Obj) =>
      controlsOf(ev.evaluate({ ...old, spec: { ...(old.spec as Obj), ephemeralContainers: [debug] } }, { operation: 'UPDATE', oldObject: old }), UNDER_TEST);
    expect(update(c('debug', APP))).toEqual([]);
    expect(update(c('debug', APP, {}, unconfined))).toEqual(seccomp);
    expect(update(c('debug', APP, {}, se({ type: 'spc_t' })))).toEqual(['restrict-selinux']);
    expect(update(c('debug', APP, {}, { capabilities: { drop: ['CHOWN'] } }))).toEqual(['require-drop-net-raw']);
    // The excepted images keep their allowance in an ephemeral container too.
    expect(update(c('debug', TRACER, {}, unconfined))).toEqual([]);
    expect(update(c('debug', PING, {}, { capabilities: { drop: ['ALL'], add: ['NET_RAW'] } }))).toEqual([]);
  }, 600_000);
});
