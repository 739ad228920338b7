/**
 * Exceptions relax only what their reason says, proven by WASM, gator and the Kyverno CLI on real bundles:
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
import { evaluatorFor, ROOT } from './helpers.js';

type Obj = Record<string, unknown>;

beforeAll(async () => {
  await ensureEngine('gator');
  await ensureEngine('kyverno');
}, 3_600_000);

const controlsOf = (fs: readonly { control: string }[] | undefined, only?: ReadonlySet<string>): string[] =>
  [...new Set((fs ?? []).map((f) => f.control))].filter((c) => !only || only.has(c)).sort();

/** Every engine gives exactly the expected controls (restricted to `only`) for every resource. */
async function expectAgreement(
  ev: { evaluate(o: Obj): { control: string; message: string }[] },
  b: ReturnType<typeof objectsOf>,
  resources: readonly Obj[],
  expected: Record<string, string[]>,
  only?: ReadonlySet<string>,
): Promise<void> {
  const [gator, kyverno]: [EngineFindings, EngineFindings] = await Promise.all([
    gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
    kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
  ]);
  expect(Object.keys(expected).sort()).toEqual(resources.map((r) => keyOf(r as never)).sort());
  for (const r of resources) {
    const key = keyOf(r as never);
    const wasm = ev.evaluate(r);
    expect(controlsOf(wasm, only), `wasm ${key}`).toEqual(expected[key]);
    expect(controlsOf(gator.get(key), only), `gator ${key}`).toEqual(expected[key]);
    expect(controlsOf(kyverno.get(key), only), `kyverno ${key}`).toEqual(expected[key]);
    expect(wasm.map((f) => f.message).sort(), `messages ${key}`).toEqual((gator.get(key) ?? []).map((f) => f.message).sort());
  }
}

describe('the reference config: exceptions allow only what their reason names', () => {
  const PROXY = 'registry.example.com/mesh/proxy-init:1.22@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const APP = 'registry.example.com/app:1.0@sha256:f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
  const AGENT = 'registry.example.com/metrics-agent:3.2@sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef';
  const UNDER_TEST = new Set(['restrict-capabilities-baseline', 'require-drop-all-capabilities', 'disallow-host-namespaces', 'restrict-seccomp', 'require-seccomp-profile']);
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
    'Pod/apps/mesh-all': restricted,
    'Pod/apps/mesh-bpf-ptrace': restricted,
    'Pod/apps/mesh-lower-case': restricted,
    'Pod/apps/mesh-sidecar-sys-admin': restricted,
    'Pod/apps/mesh-as-app-container': [],
    'Pod/apps/mesh-as-app-container-sys-admin': restricted,
    'Pod/apps/other-image-net-admin': restricted,
    'Pod/apps/look-alike-image': restricted,
    'Pod/apps/ephemeral-sys-admin': restricted,
    'Pod/apps/ephemeral-net-admin': [],
    'Pod/legacy-apps/mesh-elsewhere': ['restrict-capabilities-baseline'],
    'DaemonSet/apps/metrics-agent': [],
    'DaemonSet/apps/metrics-agent-network': ['disallow-host-namespaces'],
    'DaemonSet/apps/other-agent': ['disallow-host-namespaces'],
    'Pod/apps/metrics-agent-7c9f2': [],
    'Pod/apps/metrics-agent-x1': ['disallow-host-namespaces'],
    'Pod/apps/metrics-agent-x2': ['disallow-host-namespaces'],
    'Pod/batch/unconfined': ['require-seccomp-profile', 'restrict-seccomp'],
    'Pod/batch/seccomp-unset': ['require-seccomp-profile'],
  };

  it('WASM, gator and the Kyverno CLI deny every use beyond the reason and allow the reason itself', async () => {
    const cc = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: '2026-11-26' }).clusters[0]!;
    const b = objectsOf(cc);
    const ev = await loadEvaluator(cc, () => {});
    await expectAgreement(ev, b, resources, expected, UNDER_TEST);
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
    expect(update(['ALL'])).toEqual(restricted);
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

  it('WASM, gator and the Kyverno CLI keep the baseline checks wherever the restricted ones are relaxed', async () => {
    const cc = compile(config, { today: '2026-11-26' }).clusters[0]!;
    const b = objectsOf(cc);
    const ev = await evaluatorFor(config);
    await expectAgreement(ev, b, resources, expected);
  }, 600_000);
});
