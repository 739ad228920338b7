/**
 * The agreement matrix: every sample × every control × every engine. The WASM evaluation (OPA-compiled Rego),
 * Gatekeeper's own `gator` and the Kyverno CLI must give the same verdict, and it must be the expected one;
 * WASM and gator messages must be identical. Also `gator verify` / `kyverno test` on the suites the bundle
 * ships, and a scenario through a real bundle (exempt namespaces, namespace levels, image exceptions).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import { checkableOffline } from '../src/controls/types.js';
import { SUPPORTED_VERSIONS, minor, type KubernetesVersion } from '../src/pss/versions.js';
import { constraintTemplate, expansionTemplates } from '../src/backends/gatekeeper/emitters.js';
import { sampleArtifacts } from '../src/backends/engine-suites/index.js';
import { EPHEMERAL_SUFFIX } from '../src/backends/kyverno/index.js';
import { suiteCases, type SuiteCase } from '../src/backends/engine-suites/samples.js';
import { evaluateSample, loadCatalogModule, loadEvaluator, objectsOf } from '../src/eval/bundle.js';
import { loadConfig } from '../src/config/load.js';
import { EngineRuns, gatorFindings, keyOf, kyvernoFindings, type EngineFindings } from '../src/eval/engines.js';
import type { PolicyModule } from '../src/eval/wasm.js';
import { compile } from '../src/compile.js';
import { capture, ensureEngine, type Captured } from '../src/engines/index.js';
import { evaluatorFor, ROOT, TODAY } from './helpers.js';

/**
 * These versions exercise both sides of every version knob. The Kyverno CLI's cost grows with policies ×
 * resources (every policy set against every sample took 5–9 min per version on 2 shared cores); one run per
 * control with its own samples takes about 1 min per version.
 */
const KYVERNO_VERSIONS: readonly KubernetesVersion[] = ['1.25', '1.30', '1.34', '1.37'];

/**
 * Every engine run of the matrix goes through one EngineRuns: two processes at a time, and one run per distinct
 * input. Each control runs alone with its own samples (a sample's verdict is about its own control, and the
 * engines' cost grows with policies × resources), so a control whose policy documents and samples are the same
 * bytes at several Kubernetes versions is run once and every version's rows are checked against that run. The
 * key is a hash of the exact files the engine reads: any difference between versions gets its own run.
 */
const runs = new EngineRuns(2);
/** The versions whose rows each engine checked (counted against `runs` at the end). */
const checked: Record<'gator' | 'kyverno', KubernetesVersion[]> = { gator: [], kyverno: [] };
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

interface Row {
  readonly c: SuiteCase;
  readonly wasm: string[];
}

function wasmRows(v: KubernetesVersion): Row[] {
  return suiteCases(controlsAt(v), v).map((c) => ({ c, wasm: evaluateSample(catalog, c.control, c.sample, v, c.object) }));
}

/**
 * One engine's findings for a version's rows: `run` is called once per control with that control's samples
 * (objects in row order) and each control's findings are kept for its own rows only. Checks that the controls'
 * sample sets together are exactly the rows: batching cannot drop or add a row.
 */
/** A copy of a Kyverno policy without the informational `kyverno.io/kubernetes-version` annotation. */
function withoutVersionAnnotation<T extends object>(policy: T): T {
  const p = structuredClone(policy) as T & { metadata: { annotations?: Record<string, string> } };
  expect(p.metadata.annotations?.['kyverno.io/kubernetes-version']).toBeDefined();
  delete p.metadata.annotations!['kyverno.io/kubernetes-version'];
  return p;
}

async function perControl(rows: readonly Row[], ids: readonly ControlId[], run: (id: ControlId, index: number, objects: Row['c']['object'][]) => Promise<EngineFindings>): Promise<Map<ControlId, EngineFindings>> {
  const out = new Map<ControlId, EngineFindings>();
  let sent = 0;
  await Promise.all(
    ids.map(async (id, i) => {
      const objects = rows.filter((r) => r.c.control === id).map((r) => r.c.object);
      expect(objects.length, id).toBeGreaterThan(0);
      sent += objects.length;
      out.set(id, await run(id, i, objects));
    }),
  );
  expect(sent).toBe(rows.length);
  expect(new Set(rows.map((r) => r.c.control))).toEqual(new Set(ids));
  return out;
}

/**
 * Disagreements for one engine: verdict vs WASM and vs the expectation, naming sample, control and kind. Each
 * row is looked up in its own control's findings. Counts the rows compared into `compared`.
 */
function disagreements(engine: string, rows: readonly Row[], byControl: ReadonlyMap<string, EngineFindings>, compareMessages: boolean, compared: { n: number } = { n: 0 }): string[] {
  const out: string[] = [];
  for (const { c, wasm } of rows) {
    const findings = byControl.get(c.control);
    if (!findings) {
      out.push(`${c.name} [${c.kind}] ${c.control}: ${engine} was not run for this control`);
      continue;
    }
    compared.n++;
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
    const ids = controlsAt(v);
    const { constraints } = sampleArtifacts(ids, v);
    const templates = ids.map((id) => constraintTemplate(id, 'v1', '0.0.0'));
    // A control's samples run without the other controls' objects: no template may read gator's inventory.
    expect(templates.filter((t) => JSON.stringify(t).includes('data.inventory')).map((t) => (t as { metadata: { name: string } }).metadata.name)).toEqual([]);
    const expansions = expansionTemplates();
    const findings = await perControl(rows, ids, (_, i, objects) => runs.gator([templates[i]!, constraints[i]!, ...expansions], objects));
    const compared = { n: 0 };
    expect(disagreements('gator', rows, findings, true, compared)).toEqual([]);
    expect(compared.n).toBe(rows.length);
    checked.gator.push(v);
    if (!ONLY_CONTROLS) expect(rows.length).toBeGreaterThan(300);
  });
});

describe('Kyverno CLI = WASM = expected', () => {
  const types = ['ClusterPolicy', 'ValidatingPolicy'] as const;
  it.each(versions(KYVERNO_VERSIONS).flatMap((v) => types.map((t) => [v, t] as const)))(
    'Kubernetes %s, %s: every sample, as a Pod and in every workload controller (auto-gen; ReplicationController by its own ValidatingPolicy)',
    async (v, type) => {
      const rows = wasmRows(v);
      expect(rows.length).toBeGreaterThan(0);
      const ids = controlsAt(v);
      const { policies, validatingPolicies } = sampleArtifacts(ids, v);
      const controlOf = (p: object): string => (p as { metadata: { annotations: Record<string, string> } }).metadata.annotations['kubeharden.io/control']!;
      // Each control's policies of the type under test (a ClusterPolicy, or its ValidatingPolicies). The
      // ephemeral-container policies match only UPDATEs of pods/ephemeralcontainers, which `kyverno apply` never
      // sends (every object is a CREATE): they are left out here (each one costs the CLI seconds of compiling)
      // and loaded by the suites the bundle ships (`kyverno test`, below).
      const sets: object[][] = type === 'ClusterPolicy' ? policies.map((p) => [p]) : validatingPolicies.map((ps) => ps.filter((p) => !p.metadata.name.endsWith(EPHEMERAL_SUFFIX)));
      expect(sets).toHaveLength(ids.length);
      expect(sets.map((ps) => [...new Set(ps.map(controlOf))])).toEqual(ids.map((id) => [id]));
      if (type === 'ValidatingPolicy') {
        // Pod controls reach ReplicationControllers through a policy of their own.
        for (const [i, id] of ids.entries()) if (rows.some((r) => r.c.control === id && r.c.kind === 'ReplicationController')) expect(sets[i]!.map((p) => (p as { metadata: { name: string } }).metadata.name), id).toContain(`${id}-samples.replicationcontrollers`);
      }
      // One `kyverno apply` per control with that control's samples only (see `runs`).
      // The policies are sent without their `kyverno.io/kubernetes-version` annotation, which records the target
      // minor for readers and which the Kyverno engine does not read (no Go code of kyverno v1.19.0 outside its
      // tests mentions it): a control whose policy and samples are otherwise byte-identical across versions then
      // runs once (see `runs`). Every other difference between versions still gets its own run.
      const findings = await perControl(rows, ids, (_, i, objects) => runs.kyverno(sets[i]!.map(withoutVersionAnnotation), objects));
      const compared = { n: 0 };
      expect(disagreements(`kyverno (${type})`, rows, findings, false, compared)).toEqual([]);
      expect(compared.n).toBe(rows.length);
      // Pods and all seven controllers are among the rows compared.
      if (!ONLY_CONTROLS) for (const k of ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']) expect(rows.some((r) => r.c.kind === k), k).toBe(true);
      checked.kyverno.push(v);
    },
    1_200_000,
  );
});

/**
 * Splits `items` into `n` groups of about equal weight (heaviest first, each to the lightest group so far);
 * every item lands in exactly one group, and no group is empty when there are at least `n` items.
 */
function balanced<T>(items: readonly T[], n: number, weight: (item: T) => number): T[][] {
  const groups = Array.from({ length: Math.min(n, items.length) }, () => ({ items: [] as T[], weight: 0 }));
  for (const item of [...items].sort((a, b) => weight(b) - weight(a))) {
    const g = groups.reduce((min, x) => (x.weight < min.weight ? x : min));
    g.items.push(item);
    g.weight += weight(item);
  }
  return groups.map((g) => g.items);
}

describe('the suites the bundle ships pass under the engines’ own CLIs', () => {
  it('gator verify and kyverno test on generated/reference', async () => {
    const root = join(dirname(new URL(import.meta.url).pathname), '..', 'generated', 'reference');
    const gator = await ensureEngine('gator');
    const kyverno = await ensureEngine('kyverno');
    const suite = parse(readFileSync(join(root, 'gatekeeper', 'suite.yaml'), 'utf8')) as { tests: { name: string; cases: { name: string }[] }[] };
    const cases = suite.tests.flatMap((t) => t.cases.map((c) => c.name));
    expect(cases.length).toBeGreaterThan(300);
    const kyvernoTests = (readdirSync(join(root, 'kyverno'), { recursive: true }) as string[]).filter((p) => p.endsWith('kyverno-test.yaml')).sort();
    expect(kyvernoTests.length).toBeGreaterThan(0);
    // Both CLIs run every test of a suite on its own, so the suites are split in two halves (by cases) run as
    // separate processes, all four two at a time; the counts below are over the halves together.
    const gatorHalves = balanced(suite.tests, 2, (t) => t.cases.length).map((ts) => `^(${ts.map((t) => t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$//`);
    const kyvernoHalves = balanced(kyvernoTests, 2, (p) => readFileSync(join(root, 'kyverno', p), 'utf8').length).map((ps) => ps.map((p) => join(root, 'kyverno', dirname(p))));
    const outputs = new Map<string, Captured>();
    const jobs: [string, string, string[]][] = [
      ...gatorHalves.map((run, i): [string, string, string[]] => [`gator ${i}`, gator, ['verify', '-v', join(root, 'gatekeeper', '...'), '--run', run]]),
      ...kyvernoHalves.map((dirs, i): [string, string, string[]] => [`kyverno ${i}`, kyverno, ['test', ...dirs, '--remove-color']]),
    ];
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < jobs.length) {
          const [name, cmd, args] = jobs[next++]!;
          outputs.set(name, await capture(cmd, args));
        }
      }),
    );
    const gatorOut = gatorHalves.map((_, i) => outputs.get(`gator ${i}`)!);
    for (const r of gatorOut) {
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout).not.toMatch(/FAIL/);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('PASS');
    }
    const g = gatorOut.map((r) => r.stdout).join('\n');
    // Every test and every case of the suite ran and passed: counted, not just a final PASS.
    expect(g.match(/^--- PASS: \S+/gm)?.map((l) => l.slice(10)).sort(), g.slice(-2000)).toEqual(suite.tests.map((t) => t.name).sort());
    expect(g.match(/^ {4}--- PASS: \S+/gm)?.map((l) => l.slice(14)).sort(), g.slice(-2000)).toEqual([...cases].sort());
    let passed = 0;
    for (const i of kyvernoHalves.keys()) {
      const r = outputs.get(`kyverno ${i}`)!;
      expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
      const m = /Test Summary: (\d+) tests passed and (\d+) tests failed/.exec(r.stdout);
      expect(m, r.stdout.slice(-2000)).not.toBeNull();
      expect(Number(m![2])).toBe(0);
      passed += Number(m![1]);
      // A result under a rule name Kyverno did not run is reported "Excluded" and counted as passed. A
      // ValidatingPolicy (no rules) on a workload gets two rows: the pod policy itself, which does not match
      // the workload ("Excluded"), and its autogen policy, which is checked ("Ok"); an Excluded row without its
      // Ok row is a result that was never checked.
      const rows = [...r.stdout.matchAll(/^│ *\d+ *│ *(\S+) *│ *(\S*) *│ *(\S+) *│ *(\S+) *│ *(\S+) *│/gm)].map((x) => ({ policy: x[1]!, resource: x[3]!, reason: x[5]! }));
      const excluded = rows.filter((x) => x.reason === 'Excluded');
      expect(excluded.filter((x) => !rows.some((y) => y.reason === 'Ok' && y.policy === x.policy && y.resource === x.resource && x.resource.split('/').at(-3) !== 'Pod'))).toEqual([]);
      passed -= excluded.length;
    }
    expect(passed).toBeGreaterThan(300);
    // As many checked as the suites hold results (one per resource listed in a result).
    const results = kyvernoTests.flatMap((p) => (parse(readFileSync(join(root, 'kyverno', p), 'utf8')) as { results: { resources: string[] }[] }).results);
    expect(passed).toBe(results.reduce((n, r) => n + r.resources.length, 0));
  }, 1_200_000);
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
    const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].sort();
    const actions = (fs: readonly { action: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.action))].sort();
    const vp = objectsOf(compile({ ...config, kyverno: { policyType: 'ValidatingPolicy' } } as never, { today: TODAY }).clusters[0]!);
    expect(vp.policies.length).toBeGreaterThan(0);
    expect(vp.policies.every((p) => (p as { kind: string }).kind === 'ValidatingPolicy')).toBe(true);
    // The image exception is a v1 PolicyException; the exceptions by name are matchConditions of the policies.
    expect(vp.exceptions.map((e) => (e as { spec: { images: string[] } }).spec.images)).toEqual([['registry.example.com/debug/*']]);
    const [gator, kyverno, kyvernoVp] = await Promise.all([
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
      kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
      // Without the ephemeral-container policies (UPDATEs of pods/ephemeralcontainers, which `kyverno apply` never sends).
      kyvernoFindings(vp.policies.filter((p) => !(p as { metadata: { name: string } }).metadata.name.endsWith(EPHEMERAL_SUFFIX)), resources as never, undefined, vp.exceptions),
    ]);
    for (const r of resources) {
      const key = keyOf(r as never);
      const wasm = ev.evaluate(r as never);
      expect(controls(kyvernoVp.get(key)), `kyverno (ValidatingPolicy) ${key}`).toEqual(expected[key]);
      expect(actions(kyvernoVp.get(key)), `kyverno (ValidatingPolicy) actions ${key}`).toEqual(actions(wasm));
      expect(controls(wasm), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
      expect(wasm.map((f) => f.message).sort(), `messages ${key}`).toEqual((gator.get(key) ?? []).map((f) => f.message).sort());
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
    const config = await loadConfig(join(ROOT, 'policies.config.ts'));
    const cc = compile(config, { today: TODAY }).clusters[0]!;
    const b = objectsOf(cc);
    const vp = objectsOf(compile({ ...(config as object), kyverno: { policyType: 'ValidatingPolicy' } } as never, { today: TODAY }).clusters[0]!);
    const ev = await loadEvaluator(cc, () => {});
    const [gator, kyverno, kyvernoVp] = await Promise.all([
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
      kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
      // The policies of the controls on these kinds (no pod policy matches any of these objects).
      kyvernoFindings(vp.policies.filter((p) => !(p as { spec: { matchConstraints: { resourceRules: { resources: string[] }[] } } }).spec.matchConstraints.resourceRules.some((r) => r.resources.some((x) => x.startsWith('pods') || x === 'replicationcontrollers'))), resources as never, undefined, vp.exceptions),
    ]);
    const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].sort();
    for (const r of resources) {
      const key = keyOf(r as never);
      expect(controls(ev.evaluate(r as never)), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
      expect(controls(kyvernoVp.get(key)), `kyverno (ValidatingPolicy) ${key}`).toEqual(expected[key]);
      expect(ev.evaluate(r as never).map((f) => f.message).sort(), `messages ${key}`).toEqual((gator.get(key) ?? []).map((f) => f.message).sort());
    }
  }, 600_000);
});

describe('the engine runs of the matrix', () => {
  it('EngineRuns: byte-identical inputs share one run, any different byte gets its own, at most `limit` at a time', async () => {
    const id: ControlId = 'disallow-nodeport-services';
    const template = constraintTemplate(id, 'v1', '0.0.0');
    const [constraint] = sampleArtifacts([id], '1.37').constraints;
    const service = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps' }, spec: { type, ports: [{ port: 80 }] } });
    const r = new EngineRuns(1);
    let running = 0;
    let most = 0;
    const watch = <T>(p: Promise<T>): Promise<T> => {
      most = Math.max(most, ++running);
      return p.finally(() => running--);
    };
    const [a, b, c, d] = await Promise.all([
      watch(r.gator([template, constraint!], [service('np', 'NodePort')])),
      watch(r.gator([template, constraint!], [service('np', 'NodePort')])),
      // One character apart (the object's name): a run of its own.
      watch(r.gator([template, constraint!], [service('nq', 'NodePort')])),
      watch(r.gator([template, constraint!], [service('np', 'ClusterIP')])),
    ]);
    expect(most).toBeGreaterThan(1); // the calls were made concurrently…
    expect(r.calls.gator).toBe(4);
    expect(r.runs.gator).toBe(3); // …and made three gator runs, one at a time (limit 1)
    expect(r.peak).toBe(1);
    expect(b).toBe(a);
    expect([...a.keys()]).toEqual(['Service/apps/np']);
    expect([...c.keys()]).toEqual(['Service/apps/nq']);
    expect(d.size).toBe(0);
    expect(() => new EngineRuns(0)).toThrow(/at least 1/);
  });

  it('every control of every version checked was sent to its engine; runs ≤ calls, at most two at a time', () => {
    const sum = (vs: readonly KubernetesVersion[]): number => vs.reduce((n, v) => n + controlsAt(v).length, 0);
    expect(runs.calls).toEqual({ gator: sum(checked.gator), kyverno: sum(checked.kyverno) });
    expect(runs.runs.gator).toBeLessThanOrEqual(runs.calls.gator);
    expect(runs.runs.kyverno).toBeLessThanOrEqual(runs.calls.kyverno);
    expect(runs.peak).toBeLessThanOrEqual(2);
    process.stderr.write(`agreement matrix: gator ${checked.gator.length} version(s), ${runs.calls.gator} control runs asked, ${runs.runs.gator} made; kyverno ${checked.kyverno.length} version(s), ${runs.calls.kyverno} asked, ${runs.runs.kyverno} made\n`);
  });
});
