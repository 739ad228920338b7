/**
 * The agreement matrix: every sample × every control × every engine. The WASM evaluation (OPA-compiled Rego),
 * Gatekeeper's own `gator` and the Kyverno CLI must give the same verdict, and it must be the expected one;
 * WASM and gator messages must be identical. Also `gator verify` / `kyverno test` on the suites the bundle
 * ships, and a scenario through a real bundle (exempt namespaces, namespace levels, image exceptions).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import { checkableOffline } from '../src/controls/types.js';
import { SUPPORTED_VERSIONS, minor, type KubernetesVersion } from '../src/pss/versions.js';
import { constraintTemplate, expansionTemplates } from '../src/backends/gatekeeper/emitters.js';
import { sampleArtifacts } from '../src/backends/engine-suites/index.js';
import { suiteCases, type SuiteCase } from '../src/backends/engine-suites/samples.js';
import { evaluateSample, loadCatalogModule, loadEvaluator, objectsOf } from '../src/eval/bundle.js';
import { loadConfig } from '../src/config/load.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFinding, type EngineFindings } from '../src/eval/engines.js';
import type { PolicyModule } from '../src/eval/wasm.js';
import { compile } from '../src/compile.js';
import { ensureEngine } from '../src/engines/index.js';
import { evaluatorFor, ROOT, TODAY } from './helpers.js';

/**
 * These versions exercise both sides of every version knob. The Kyverno CLI's cost grows with policies ×
 * resources (every policy set against every sample took 5–9 min per version on 2 shared cores); one run per
 * control with its own samples takes about 1 min per version.
 */
const KYVERNO_VERSIONS: readonly KubernetesVersion[] = ['1.25', '1.30', '1.34', '1.37'];

/**
 * While developing a control: `KUBEHARDEN_CONTROLS=id,id KUBEHARDEN_VERSIONS=1.37 npx vitest run test/agreement.test.ts`
 * runs the matrix for those only. A value naming no control or version (a typo) is an error, not an empty
 * matrix; in CI (`CI=1`) either variable is an error: CI always runs the whole matrix.
 */
function matrixFilter(name: string, known: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const ci = env['CI'];
  if (ci && ci !== '0' && ci !== 'false') throw new Error(`${name}=${raw} is set, but CI runs the whole agreement matrix: unset it`);
  const list = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = list.filter((x) => !known.includes(x));
  if (!list.length || unknown.length) throw new Error(`${name}=${JSON.stringify(raw)} names no known ${unknown.length ? `value (${unknown.join(', ')})` : 'value'}; known: ${known.join(', ')}`);
  return list;
}
const ONLY_CONTROLS = matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS);
const ONLY_VERSIONS = matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS);
const versions = (vs: readonly KubernetesVersion[]): KubernetesVersion[] => vs.filter((v) => !ONLY_VERSIONS || ONLY_VERSIONS.includes(v));
const controlsAt = (v: KubernetesVersion): ControlId[] =>
  CONTROL_IDS.filter((id) => (getControl(id).pss?.since ?? 0) <= minor(v) && checkableOffline(getControl(id)) && (!ONLY_CONTROLS || ONLY_CONTROLS.includes(id)));

let catalog: PolicyModule;
beforeAll(async () => {
  catalog = await loadCatalogModule(() => {});
  await ensureEngine('gator', (l) => process.stderr.write(`${l}\n`));
  await ensureEngine('kyverno', (l) => process.stderr.write(`${l}\n`));
}, 3_600_000);

/** Runs `fn` over `items`, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface Row {
  readonly c: SuiteCase;
  readonly wasm: string[];
}

function wasmRows(v: KubernetesVersion): Row[] {
  return suiteCases(controlsAt(v), v).map((c) => ({ c, wasm: evaluateSample(catalog, c.control, c.sample, v, c.object) }));
}

/** Disagreements for one engine: verdict vs WASM and vs the expectation, naming sample, control and kind. */
function disagreements(engine: string, rows: readonly Row[], findings: EngineFindings, compareMessages: boolean): string[] {
  const out: string[] = [];
  for (const { c, wasm } of rows) {
    // The Kyverno CLI reports a resource without a namespace in `default` (gator leaves it empty).
    const md = (c.object['metadata'] ?? {}) as Record<string, unknown>;
    const key = keyOf(c.object);
    const found = findings.get(key) ?? (md['namespace'] === undefined ? findings.get(keyOf({ ...c.object, metadata: { ...md, namespace: 'default' } })) : undefined);
    const mine = (found ?? []).filter((f) => f.control === c.control);
    const got = mine.length ? 'deny' : 'allow';
    const w = wasm.length ? 'deny' : 'allow';
    // Engines here see each object on its own (no old object), so UPDATE samples use their plain verdict.
    if (got !== w || got !== c.expectPlain) out.push(`${c.name} [${c.kind}] ${c.control}: expected ${c.expectPlain}, wasm ${w}, ${engine} ${got}`);
    else if (compareMessages) {
      const msgs = mine.map((f) => f.message).sort();
      if (JSON.stringify(msgs) !== JSON.stringify(wasm)) out.push(`${c.name} [${c.kind}] ${c.control}: messages differ\n  wasm:  ${JSON.stringify(wasm)}\n  gator: ${JSON.stringify(msgs)}`);
    }
  }
  return out;
}

describe('the matrix', () => {
  it('covers at least one version, every version at least one control, every control samples', () => {
    expect(versions(SUPPORTED_VERSIONS).length).toBeGreaterThan(0);
    for (const v of versions(SUPPORTED_VERSIONS)) {
      expect(controlsAt(v).length, v).toBeGreaterThan(0);
      const rows = suiteCases(controlsAt(v), v);
      for (const id of controlsAt(v)) expect(rows.filter((r) => r.control === id).length, `${id} at ${v}`).toBeGreaterThan(0);
    }
    if (!ONLY_CONTROLS && !ONLY_VERSIONS) expect(versions(KYVERNO_VERSIONS)).toEqual(KYVERNO_VERSIONS);
  });

  it('KUBEHARDEN_CONTROLS / KUBEHARDEN_VERSIONS: a typo or an empty value fails; CI refuses either', () => {
    expect(matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, {})).toBeUndefined();
    expect(matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls, disallow-host-path' })).toEqual(['restrict-sysctls', 'disallow-host-path']);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctl' })).toThrow(/names no known value \(restrict-sysctl\)/);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls,Restrict-Sysctls' })).toThrow(/Restrict-Sysctls/);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '' })).toThrow(/names no known value/);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37,v1.30' })).toThrow(/\(v1\.30\)/);
    expect(matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37', CI: 'false' })).toEqual(['1.37']);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37', CI: '1' })).toThrow(/CI runs the whole agreement matrix/);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls', CI: 'true' })).toThrow(/CI runs the whole agreement matrix/);
  });
});

describe.each(versions(SUPPORTED_VERSIONS))('Kubernetes %s: WASM = gator = expected', (v) => {
  it('every sample, as a Pod and in every workload controller; identical messages', async () => {
    const rows = wasmRows(v);
    expect(rows.length).toBeGreaterThan(0);
    const wasmWrong = rows.filter((r) => (r.wasm.length ? 'deny' : 'allow') !== r.c.expectPlain).map((r) => `${r.c.name} [${r.c.kind}]: expected ${r.c.expectPlain}`);
    expect(wasmWrong).toEqual([]);
    const { constraints } = sampleArtifacts(controlsAt(v), v);
    const templates = controlsAt(v).map((id) => constraintTemplate(id, 'v1', '0.0.0'));
    const findings = await gatorFindings([...templates, ...constraints, ...expansionTemplates()], rows.map((r) => r.c.object));
    expect(disagreements('gator', rows, findings, true)).toEqual([]);
    if (!ONLY_CONTROLS) expect(rows.length).toBeGreaterThan(300);
  });
});

describe('Kyverno CLI = WASM = expected', () => {
  it.each(versions(KYVERNO_VERSIONS))('Kubernetes %s: every sample, as a Pod and in every workload controller (auto-gen)', async (v) => {
    const rows = wasmRows(v);
    expect(rows.length).toBeGreaterThan(0);
    const { policies } = sampleArtifacts(controlsAt(v), v);
    expect(policies).toHaveLength(controlsAt(v).length);
    // One `kyverno apply` per control with that control's samples only (a sample's verdict is about its own
    // control; the CLI's cost grows with policies × resources), two at a time.
    const controlOf = (p: object): string => (p as { metadata: { annotations: Record<string, string> } }).metadata.annotations['kubeharden.io/control']!;
    const findings = new Map<string, EngineFinding[]>();
    await inParallel(policies, 2, async (p) => {
      const objects = rows.filter((r) => r.c.control === controlOf(p)).map((r) => r.c.object);
      expect(objects.length, controlOf(p)).toBeGreaterThan(0);
      for (const [k, f] of await kyvernoFindings([p], objects)) findings.set(k, [...(findings.get(k) ?? []), ...f]);
    });
    expect(disagreements('kyverno', rows, findings, false)).toEqual([]);
  }, 1_200_000);
});

describe('the suites the bundle ships pass under the engines’ own CLIs', () => {
  it('gator verify and kyverno test on generated/reference', async () => {
    const root = join(dirname(new URL(import.meta.url).pathname), '..', 'generated', 'reference');
    const gator = await ensureEngine('gator');
    const kyverno = await ensureEngine('kyverno');
    const g = execFileSync(gator, ['verify', '-v', join(root, 'gatekeeper', '...')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    // Every test and every case of the suite ran and passed: counted, not just a final PASS.
    const suite = parse(readFileSync(join(root, 'gatekeeper', 'suite.yaml'), 'utf8')) as { tests: { name: string; cases: { name: string }[] }[] };
    const cases = suite.tests.flatMap((t) => t.cases.map((c) => c.name));
    expect(cases.length).toBeGreaterThan(300);
    expect(g.match(/^--- PASS: \S+/gm)?.map((l) => l.slice(10)).sort(), g.slice(-2000)).toEqual(suite.tests.map((t) => t.name).sort());
    expect(g.match(/^ {4}--- PASS: \S+/gm)?.map((l) => l.slice(14)).sort(), g.slice(-2000)).toEqual([...cases].sort());
    expect(g).not.toMatch(/FAIL/);
    expect(g.trim().split('\n').at(-1)).toBe('PASS');
    const k = execFileSync(kyverno, ['test', join(root, 'kyverno'), '--remove-color'], { encoding: 'utf8' });
    const m = /Test Summary: (\d+) tests passed and (\d+) tests failed/.exec(k);
    expect(m, k.slice(-2000)).not.toBeNull();
    expect(Number(m![2])).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(300);
    // As many passed as the suites hold results (one per resource listed in a result).
    const kyvernoTests = (readdirSync(join(root, 'kyverno'), { recursive: true }) as string[]).filter((p) => p.endsWith('kyverno-test.yaml'));
    const results = kyvernoTests.flatMap((p) => (parse(readFileSync(join(root, 'kyverno', p), 'utf8')) as { results: { resources: string[] }[] }).results);
    expect(Number(m![1])).toBe(results.reduce((n, r) => n + r.resources.length, 0));
    // A result under a rule name Kyverno did not run is reported "Excluded" and counted as passed.
    expect(k).not.toMatch(/Excluded/);
  }, 600_000);
});

describe('a real bundle: exempt namespaces, namespace levels, image exceptions', () => {
  const config = {
    name: 'scenario',
    profile: 'pss-restricted',
    kubernetesVersion: '1.37',
    exemptNamespaces: ['kube-system'],
    // Non-pod controls: a cluster-scoped kind (ClusterRole), Namespace objects (matched by their own name,
    // levels from each namespace's pss), a namespaced kind switched off in one namespace.
    controls: { 'enforce-psa-namespace-labels': true, 'restrict-rbac-wildcards': true, 'disallow-nodeport-services': true },
    namespaces: {
      legacy: { pss: 'baseline' },
      ops: { controls: { 'disallow-privileged-containers': 'audit', 'restrict-rbac-wildcards': false } },
      dev: { controls: { 'disallow-privileged-containers': 'warn' } },
    },
    exceptions: [
      { control: 'disallow-privileged-containers', namespaces: ['apps'], images: ['registry.example.com/debug/*'], reason: 'r', expires: '2027-06-01' },
      { control: ['disallow-privileged-containers', 'disallow-host-namespaces'], namespaces: ['web'], names: ['agent', 'agent-*', 'probe', 'scanner'], reason: 'node agent', expires: '2027-06-01' },
    ],
  } as const;
  const restrictedPod = (name: string, ns: string, extra: Record<string, unknown> = {}, image = 'registry.example.com/app:1') => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...extra } }],
    },
  });
  const ns = (name: string, level: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': level } } });
  const hostPid = (name: string, ns: string) => ({ ...restrictedPod(name, ns), spec: { ...restrictedPod(name, ns).spec, hostPID: true } });
  const resources = [
    restrictedPod('ok', 'apps'),
    restrictedPod('priv', 'apps', { privileged: true }),
    restrictedPod('priv-excepted-image', 'apps', { privileged: true }, 'registry.example.com/debug/shell:1'),
    restrictedPod('priv-excepted-image-elsewhere', 'web', { privileged: true }, 'registry.example.com/debug/shell:1'),
    restrictedPod('priv-in-exempt-ns', 'kube-system', { privileged: true }),
    restrictedPod('priv-audited', 'ops', { privileged: true }),
    restrictedPod('priv-warned', 'dev', { privileged: true }),
    restrictedPod('agent-7f9c-x2x', 'web', { privileged: true }),
    restrictedPod('agents', 'web', { privileged: true }),
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'web' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { ...hostPid('x', 'web').spec, containers: [{ ...restrictedPod('x', 'web').spec.containers[0], securityContext: { ...restrictedPod('x', 'web').spec.containers[0]!.securityContext, privileged: true } }] } } } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'other', namespace: 'web' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: hostPid('x', 'web').spec } } },
    // "probe" is excepted by its exact name: the workloads named probe, not Pods or Jobs whose names merely
    // look like the Pods Gatekeeper expands from them ("<workload>-pod"), also with a real owner reference.
    hostPid('probe-pod', 'web'),
    hostPid('probe-job-pod', 'web'),
    { ...hostPid('scanner-pod', 'web'), metadata: { name: 'scanner-pod', namespace: 'web', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'scanner', uid: '6f1c3f0e-0000-4000-8000-000000000001' }] } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'probe', namespace: 'web' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: hostPid('x', 'web').spec } } },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'probe', namespace: 'web' }, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { ...hostPid('x', 'web').spec, restartPolicy: 'Never' } } } } } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'probe-job', namespace: 'web' }, spec: { template: { spec: { ...hostPid('x', 'web').spec, restartPolicy: 'Never' } } } },
    hostPid('hostpid-legacy', 'legacy'),
    { ...restrictedPod('no-drop-legacy', 'legacy'), spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } },
    { ...restrictedPod('no-drop-apps', 'apps'), spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } },
    ns('legacy', 'privileged'),
    ns('dev', 'baseline'),
    ns('team', 'baseline'),
    ns('ops', 'restricted'),
    ns('kube-system', 'privileged'),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'wild' }, rules: [{ apiGroups: [''], resources: ['*'], verbs: ['get'] }] },
    ...['apps', 'ops', 'kube-system'].map((n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'wild', namespace: n }, rules: [{ apiGroups: ['*'], resources: ['pods'], verbs: ['get'] }] })),
    ...['apps', 'kube-system'].map((n) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'np', namespace: n }, spec: { type: 'NodePort', selector: { a: 'b' }, ports: [{ port: 80 }] } })),
  ] as Record<string, unknown>[];
  const expected: Record<string, string[]> = {
    'Pod/apps/ok': [],
    'Pod/apps/priv': ['disallow-privileged-containers'],
    'Pod/apps/priv-excepted-image': [],
    'Pod/web/priv-excepted-image-elsewhere': ['disallow-privileged-containers'],
    'Pod/kube-system/priv-in-exempt-ns': [],
    'Pod/ops/priv-audited': ['disallow-privileged-containers'],
    'Pod/dev/priv-warned': ['disallow-privileged-containers'],
    // Excepted by name: the workload and the Pods its controller creates; "agents" is not "agent-*".
    'Pod/web/agent-7f9c-x2x': [],
    'Pod/web/agents': ['disallow-privileged-containers'],
    'DaemonSet/web/agent': [],
    'DaemonSet/web/other': ['disallow-host-namespaces'],
    'Pod/web/probe-pod': ['disallow-host-namespaces'],
    'Pod/web/probe-job-pod': ['disallow-host-namespaces'],
    'Pod/web/scanner-pod': ['disallow-host-namespaces'],
    'DaemonSet/web/probe': [],
    'CronJob/web/probe': [],
    'Job/web/probe-job': ['disallow-host-namespaces'],
    'Pod/legacy/hostpid-legacy': ['disallow-host-namespaces'],
    'Pod/legacy/no-drop-legacy': [],
    'Pod/apps/no-drop-apps': ['disallow-privilege-escalation', 'require-drop-all-capabilities', 'require-run-as-non-root', 'require-seccomp-profile'],
    // The PSA enforce level of each namespace: legacy is baseline (privileged is below it); team gets the
    // cluster's restricted; dev warns about privileged containers, so PSA cannot enforce it: privileged;
    // kube-system is exempt.
    'Namespace//legacy': ['enforce-psa-namespace-labels'],
    'Namespace//team': ['enforce-psa-namespace-labels'],
    'Namespace//dev': [],
    'Namespace//ops': [],
    'Namespace//kube-system': [],
    // A ClusterRole has no namespace: the cluster-wide instance checks it, exempt namespaces do not apply.
    'ClusterRole//wild': ['restrict-rbac-wildcards'],
    'Role/apps/wild': ['restrict-rbac-wildcards'],
    'Role/ops/wild': [],
    'Role/kube-system/wild': [],
    'Service/apps/np': ['disallow-nodeport-services'],
    'Service/kube-system/np': [],
  };

  it('all three engines give the expected controls and actions for every resource', async () => {
    const cc = compile(config, { today: TODAY }).clusters[0]!;
    const b = objectsOf(cc);
    const ev = await evaluatorFor(config);
    expect(b.exceptions).toHaveLength(2); // one per instance with names excepted (privileged and host namespaces in web)
    // Namespace levels reach the engines as parameters of per-namespace instances.
    const nsLabels = b.constraints.filter((c) => c.metadata.annotations['kubeharden.io/control'] === 'enforce-psa-namespace-labels');
    expect(nsLabels.map((c) => [c.spec.match.namespaces ?? 'cluster', c.spec.parameters['level']])).toEqual([
      ['cluster', ['restricted']],
      [['apps', 'dev', 'ops', 'web'], ['privileged']],
      [['legacy'], ['baseline']],
    ]);
    const [gator, kyverno] = await Promise.all([gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never), kyvernoFindings(b.policies, resources as never, undefined, b.exceptions)]);
    for (const r of resources) {
      const key = keyOf(r as never);
      const wasm = ev.evaluate(r as never);
      const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].sort();
      expect(controls(wasm), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
      expect(wasm.map((f) => f.message).sort(), `messages ${key}`).toEqual((gator.get(key) ?? []).map((f) => f.message).sort());
      const actions = (fs: readonly { action: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.action))].sort();
      expect(actions(gator.get(key)), `gator actions ${key}`).toEqual(actions(wasm));
      expect(actions(kyverno.get(key)), `kyverno actions ${key}`).toEqual(actions(wasm));
    }
    expect(ev.evaluate(resources[5] as never).map((f) => f.action)).toEqual(['audit']);
    expect(ev.evaluate(resources[6] as never).map((f) => f.action)).toEqual(['warn']);
  }, 600_000);
});

describe("the reference bundle on objects beyond Pods: Kubernetes' own objects pass, look-alikes do not", () => {
  const rbac = 'rbac.authorization.k8s.io';
  const role = (name: string, rules: object[], extra: object = {}) => ({ apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name }, rules, ...extra });
  const crb = (name: string, roleName: string, subjects: [string, string][]) => ({
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: roleName },
    subjects: subjects.map(([kind, name]) => ({ apiGroup: rbac, kind, name })),
  });
  const everything = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }];
  const editLike = [
    { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch', 'create'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
  ];
  const sa = (name: string, ns: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } });
  const nsObj = (name: string, level: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'v1.37' } } });
  const resources = [
    role('cluster-admin', everything),
    role('admin', editLike, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] } }),
    role('edit', editLike),
    role('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/version'], verbs: ['get'] }]),
    role('cluster-admins', everything),
    role('team-edit', editLike),
    // Exempt names are exact ClusterRole names of the target version, never Roles in a namespace.
    role('system:anything', everything),
    { ...role('system:discovery', everything), kind: 'Role', metadata: { name: 'system:discovery', namespace: 'apps' } },
    { ...role('cluster-admin', everything), kind: 'Role', metadata: { name: 'cluster-admin', namespace: 'apps' } },
    // The policy engines' own ClusterRoles, and an aggregated role whose rules the controller-manager wrote.
    role('gatekeeper-manager-role', [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }]),
    role('kyverno:rbac:admin:policies', [{ apiGroups: ['kyverno.io'], resources: ['clusterpolicies', 'policies'], verbs: ['create', 'delete', 'update'] }]),
    role('kyverno:rbac:admin:policies-x', [{ apiGroups: ['kyverno.io'], resources: ['clusterpolicies', 'policies'], verbs: ['create', 'delete', 'update'] }]),
    role('monitoring-all', [], { aggregationRule: { clusterRoleSelectors: [{}] } }),
    crb('kubeadm:cluster-admins', 'cluster-admin', [['Group', 'kubeadm:cluster-admins']]),
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'anonymous-discovery', namespace: 'apps' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'system:discovery' },
      subjects: [{ apiGroup: rbac, kind: 'Group', name: 'system:unauthenticated' }],
    },
    crb('cluster-admin', 'cluster-admin', [['Group', 'system:masters']]),
    crb('break-glass', 'cluster-admin', [['Group', 'platform-admins']]),
    crb('system:public-info-viewer', 'system:public-info-viewer', [['Group', 'system:authenticated'], ['Group', 'system:unauthenticated']]),
    crb('anonymous-view', 'view', [['Group', 'system:unauthenticated']]),
    sa('default', 'apps'),
    sa('builder', 'apps'),
    sa('builder', 'kube-system'),
    nsObj('apps', 'privileged'),
    nsObj('legacy-apps', 'privileged'),
    nsObj('legacy-apps-2', 'restricted'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'public', namespace: 'apps' }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 443 }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'apps' }, spec: { rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
  ] as Record<string, unknown>[];
  const roleControls = ['restrict-rbac-escalation-verbs', 'restrict-rbac-wildcards', 'restrict-secret-read-roles'];
  const expected: Record<string, string[]> = {
    // The API server's bootstrap roles and bindings (reconciled through admission at start-up) pass.
    'ClusterRole//cluster-admin': [],
    'ClusterRole//admin': [],
    'ClusterRole//edit': [],
    'ClusterRole//system:discovery': [],
    'ClusterRole//cluster-admins': roleControls,
    'ClusterRole//team-edit': ['restrict-rbac-escalation-verbs', 'restrict-secret-read-roles'],
    'ClusterRole//system:anything': roleControls,
    'Role/apps/system:discovery': roleControls,
    'Role/apps/cluster-admin': roleControls,
    'ClusterRole//gatekeeper-manager-role': [],
    'ClusterRole//kyverno:rbac:admin:policies': [],
    'ClusterRole//kyverno:rbac:admin:policies-x': ['restrict-rbac-escalation-verbs'],
    'ClusterRole//monitoring-all': roleControls,
    'ClusterRoleBinding//kubeadm:cluster-admins': [],
    'RoleBinding/apps/anonymous-discovery': ['disallow-anonymous-bindings'],
    'ClusterRoleBinding//cluster-admin': [],
    'ClusterRoleBinding//break-glass': ['disallow-cluster-admin-binding'],
    'ClusterRoleBinding//system:public-info-viewer': [],
    'ClusterRoleBinding//anonymous-view': ['disallow-anonymous-bindings'],
    // The ServiceAccount controller's `default` in every namespace passes; kube-system is exempt.
    'ServiceAccount/apps/default': [],
    'ServiceAccount/apps/builder': ['disallow-serviceaccount-token-automount'],
    'ServiceAccount/kube-system/builder': [],
    // apps is labelled privileged by the bundle itself (its exceptions keep PSA from enforcing more);
    // legacy-apps is baseline; an unconfigured namespace gets the cluster's restricted.
    'Namespace//apps': [],
    'Namespace//legacy-apps': ['enforce-psa-namespace-labels'],
    'Namespace//legacy-apps-2': [],
    'Service/apps/public': ['disallow-loadbalancer-services'],
    'Ingress/apps/web': ['require-ingress-tls'],
  };

  it('all three engines give the expected controls', async () => {
    const cc = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: TODAY }).clusters[0]!;
    const b = objectsOf(cc);
    const ev = await loadEvaluator(cc, () => {});
    const [gator, kyverno] = await Promise.all([gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never), kyvernoFindings(b.policies, resources as never, undefined, b.exceptions)]);
    const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].sort();
    for (const r of resources) {
      const key = keyOf(r as never);
      expect(controls(ev.evaluate(r as never)), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
      expect(ev.evaluate(r as never).map((f) => f.message).sort(), `messages ${key}`).toEqual((gator.get(key) ?? []).map((f) => f.message).sort());
    }
  }, 600_000);
});
