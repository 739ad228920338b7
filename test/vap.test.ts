/**
 * The native ValidatingAdmissionPolicy target (`vap/`, src/backends/vap) judged by the real API server's own
 * admission code: kube-apiserver v1.37.2 + etcd (src/engines/apiserver.ts, built by test/setup/engines.ts),
 * started once for this file without an admission configuration (Pod Security Admission stays privileged, so
 * every rejection comes from a policy).
 *
 * Proved here:
 * - shape: every policy and binding names its control; modes become validationActions; the kustomization
 *   lists every file; verify-image-signatures is stated (README, explain, report), never silently dropped;
 * - every sample of every control a VAP expresses, as a Pod and in each workload controller (CREATE), and the
 *   UPDATE samples as real updates over the old object stored before the policies existed (ephemeral
 *   containers through pods/ephemeralcontainers): the control's own policy denies exactly the samples the
 *   control expects to deny. Each control's sample policies (backends/vap, the sample instance the other
 *   engines' suites use) get a binding of their own narrowed by an objectSelector on a per-control label the
 *   control's samples carry, so one control's verdict is never another's (the API server reports only the
 *   first denial);
 * - every policy, the reference bundle's included, type-checks on the API server without warnings;
 * - a scenario bundle applied as built: per-namespace modes (Warn answers with a warning, Audit and exempt
 *   namespaces with nothing), per-namespace option values, exceptions by exact name (binding
 *   excludeResourceRules), by name prefix and by image (look-alikes still denied), workload UPDATEs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compile, type CompileResult } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import { targetKinds } from '../src/controls/types.js';
import { sampleApplies } from '../src/controls/samples.js';
import { sampleInstance } from '../src/backends/engine-suites/index.js';
import { CRONJOBS_SUFFIX, WORKLOADS_SUFFIX, vapObjectsFor, validationActions, type ValidatingAdmissionPolicyBinding } from '../src/backends/vap/index.js';
import { vapUnsupportedReason } from '../src/backends/cel-support.js';
import { startControlPlane, type RunningControlPlane } from '../src/engines/apiserver.js';
import { ensureControlPlane } from '../src/engines/control-plane.js';
import { Discovery, admit, admitUpdate, ensureStored, objectPath, statusMessage, type Admission } from '../src/eval/apiserver.js';
import { mapLimit } from '../src/eval/map-limit.js';
import { CLUSTER_SCOPED_KINDS, shortName, workloadVariants } from '../src/eval/review.js';
import type { UserConfig } from '../src/config/types.js';
import { ROOT, TODAY, runCli } from './helpers.js';
import { PROBE, VAP_API, applyPolicies, denial, unbind, waitUntilEnforced } from '../src/eval/vap-apply.js';
import { typeCheckDistinct } from './support/vap-typecheck.js';

type Obj = Record<string, any>;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const VERSION = '1.37';
/** The label that ties a sample to its control's sample binding (objectSelector). */
const SAMPLE_LABEL = 'kubeharden.io/vap-sample';
const SAMPLE_NS = 'vap-samples';

/** `KUBEHARDEN_CONTROLS=id,id` narrows the sample matrix while developing (as in the agreement matrix). */
const ONLY = process.env['KUBEHARDEN_CONTROLS']?.split(',').filter(Boolean);
if (ONLY) for (const id of ONLY) if (!(CONTROL_IDS as readonly string[]).includes(id)) throw new Error(`KUBEHARDEN_CONTROLS: unknown control ${id}`);
const VAP_CONTROLS = CONTROL_IDS.filter((id) => vapUnsupportedReason(id) === undefined && getControl(id).samples.length > 0 && (!ONLY || ONLY.includes(id)));

const policiesOf = (objects: readonly Obj[]): Obj[] => objects.filter((o) => o['kind'] === 'ValidatingAdmissionPolicy');
const bindingsOf = (objects: readonly Obj[]): Obj[] => objects.filter((o) => o['kind'] === 'ValidatingAdmissionPolicyBinding');
const labelled = (o: Obj, control: string): Obj => ({ ...o, metadata: { ...(o['metadata'] ?? {}), labels: { ...(o['metadata']?.['labels'] ?? {}), [SAMPLE_LABEL]: control } } });
const renamed = (o: Obj, name: string): Obj => ({ ...o, metadata: { ...(o['metadata'] ?? {}), name } });

/** The policy of a pod control's instance `name` that matches `kind` (backends/vap path shapes). */
function podPolicy(name: string, kind: string): string {
  return kind === 'Pod' ? name : kind === 'CronJob' ? `${name}${CRONJOBS_SUFFIX}` : `${name}${WORKLOADS_SUFFIX}`;
}

function vapFiles(result: CompileResult): Map<string, Obj[]> {
  const cc = result.clusters[0]!;
  return new Map(cc.files.filter((f) => f.path.startsWith('vap/') && 'objects' in f).map((f) => [f.path, (f as unknown as { objects: Obj[] }).objects]));
}

describe('the vap/ bundle', () => {
  let reference: CompileResult;
  beforeAll(async () => {
    reference = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: TODAY });
  });

  it('is on in the reference config: a file per control a VAP expresses, each object naming its control, and a kustomization listing every file', () => {
    const files = vapFiles(reference);
    const controls = reference.clusters[0]!.ir.controls.map((c) => c.control);
    const expressed = controls.filter((id) => vapUnsupportedReason(id) === undefined);
    expect(expressed.length).toBeGreaterThan(40);
    expect([...files.keys()].filter((p) => p !== 'vap/kustomization.yaml').sort()).toEqual(expressed.map((id) => `vap/${id}.yaml`).sort());
    for (const [path, objects] of files) {
      if (path === 'vap/kustomization.yaml') continue;
      const id = path.slice(4, -5);
      for (const o of objects) expect(o['metadata']['annotations']['kubeharden.io/control'], `${path} ${o['metadata']['name']}`).toBe(id);
      // Every policy has its binding, of the same name.
      expect(bindingsOf(objects).map((b) => b['spec']['policyName'])).toEqual(policiesOf(objects).map((p) => p['metadata']['name']));
    }
    expect(files.get('vap/kustomization.yaml')![0]!['resources']).toEqual([...files.keys()].filter((p) => p !== 'vap/kustomization.yaml').map((p) => p.slice(4)).sort());
    // Off by default: no vap/ at all.
    const off = compile({ name: 'off', kubernetesVersion: '1.37' }, { today: TODAY });
    expect(off.clusters[0]!.files.filter((f) => f.path.startsWith('vap/'))).toEqual([]);
  });

  it('states the controls no VAP expresses in the README, explain and the report, never silently dropping them', () => {
    expect(vapUnsupportedReason('verify-image-signatures')).toMatch(/cannot fetch signatures/);
    expect(vapFiles(reference).has('vap/verify-image-signatures.yaml')).toBe(false);
    const readme = reference.output.get('reference/README.md')!;
    expect(readme).toContain('## Native ValidatingAdmissionPolicies (`vap/`)');
    expect(readme).toContain(`- \`verify-image-signatures\`: ${vapUnsupportedReason('verify-image-signatures')}`);
    expect(readme).toMatch(/\| `verify-image-signatures` \|.*\| no: CEL in the API server cannot fetch/);
    const report = reference.output.get('reference/REPORT.md')!;
    expect(report).toContain(`ValidatingAdmissionPolicy cannot express verify-image-signatures: ${vapUnsupportedReason('verify-image-signatures')}`);
    const explain = runCli(['explain', 'verify-image-signatures'], ROOT);
    expect(explain.stdout).toContain(`ValidatingAdmissionPolicy: no: ${vapUnsupportedReason('verify-image-signatures')}`);
    expect(runCli(['explain', 'disallow-privileged-containers'], ROOT).stdout).toContain('ValidatingAdmissionPolicy: yes');
  });

  it('binds each mode with its validationActions, exact names in excludeResourceRules, prefixes in a matchCondition', () => {
    expect(validationActions('enforce')).toEqual(['Deny']);
    expect(validationActions('warn')).toEqual(['Warn', 'Audit']);
    expect(validationActions('audit')).toEqual(['Audit']);
    const inst = { ...sampleInstance('disallow-privileged-containers', VERSION), name: 'x', exemptNames: ['exact', 'web-*'], scope: { include: ['team'], exclude: [] } };
    const objects = vapObjectsFor('disallow-privileged-containers', inst)! as Obj[];
    expect(policiesOf(objects).map((p) => p['metadata']['name'])).toEqual(['x', 'x.workloads', 'x.cronjobs']);
    for (const b of bindingsOf(objects) as ValidatingAdmissionPolicyBinding[]) {
      expect(b.spec.matchResources!.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team'] }] });
      expect(b.spec.matchResources!.excludeResourceRules!.every((r) => JSON.stringify(r.resourceNames) === '["exact"]')).toBe(true);
    }
    for (const p of policiesOf(objects)) expect(p['spec']['matchConditions'].map((c: Obj) => c['name'])).toEqual(['not-excepted-by-name-pattern']);
  });
});


interface SampleCase {
  readonly control: ControlId;
  readonly sample: string;
  readonly label: string;
  readonly object: Obj;
  /** Undefined for cluster-scoped kinds. */
  readonly namespace: string | undefined;
  readonly operation: 'CREATE' | 'UPDATE';
  readonly oldObject?: Obj;
  readonly subResource?: string;
  readonly expect: 'allow' | 'deny';
  /** The policy whose denial a deny sample must get. */
  readonly policy: string;
}

function addsEphemeral(after: Obj, before: Obj | undefined): boolean {
  const names = (o: Obj | undefined): string[] => (o?.['spec']?.['ephemeralContainers'] ?? []).map((c: Obj) => String(c['name']));
  const old = new Set(names(before));
  return names(after).some((n) => !old.has(n));
}

/** Every sample of the VAP controls at 1.37 that the API server's validation accepts, as Pods and workloads. */
function sampleCases(): SampleCase[] {
  const out: SampleCase[] = [];
  for (const id of VAP_CONTROLS) {
    const control = getControl(id);
    const inst = sampleInstance(id, VERSION);
    for (const s of control.samples) {
      if (!sampleApplies(s, VERSION) || s.apiServerRejects !== undefined) continue;
      const operation = s.operation ?? 'CREATE';
      const kind = String(s.object['kind']);
      const stored = s.keepName ? undefined : shortName(`${id}-${s.name}`, 63);
      const forUpdate = (o: Obj): Obj => labelled(operation === 'UPDATE' && stored ? renamed(o, stored) : o, id);
      const oldObject = s.oldObject ? forUpdate(s.oldObject as Obj) : undefined;
      const subResource = s.subResource ?? (operation === 'UPDATE' && kind === 'Pod' && addsEphemeral(s.object as Obj, s.oldObject as Obj | undefined) ? 'ephemeralcontainers' : undefined);
      const common = { control: id, sample: s.name, operation, expect: s.expect, ...(oldObject ? { oldObject } : {}), ...(subResource ? { subResource } : {}) } as const;
      const how = operation === 'UPDATE' ? ` UPDATE${subResource ? ` ${subResource}` : ''}` : '';
      if (targetKinds(control)) {
        const own = s.keepNamespace ? (s.object['metadata'] as Obj | undefined)?.['namespace'] : undefined;
        const namespace = CLUSTER_SCOPED_KINDS.has(kind) ? undefined : typeof own === 'string' && own ? own : SAMPLE_NS;
        out.push({ ...common, label: `${id}/${s.name} (${kind}${how})`, object: forUpdate(s.object as Obj), namespace, policy: inst.name });
        continue;
      }
      // A sample that keeps its namespace is sent there; without one, to `default`, where kubectl puts it.
      const namespace = s.keepNamespace ? String((s.object['metadata'] as Obj | undefined)?.['namespace'] ?? 'default') : SAMPLE_NS;
      out.push({ ...common, label: `${id}/${s.name} (Pod${how})`, object: forUpdate(s.object as Obj), namespace, policy: podPolicy(inst.name, 'Pod') });
      if (s.podOnly || operation !== 'CREATE') continue;
      for (const w of workloadVariants(s.object as Obj)) out.push({ ...common, label: `${id}/${s.name} (${w.kind})`, object: labelled(w.object, id), namespace, policy: podPolicy(inst.name, w.kind) });
    }
  }
  return out;
}

/** The sample policies and bindings of a control, the bindings narrowed to the control's labelled samples. */
function samplePolicies(id: ControlId): Obj[] {
  return (vapObjectsFor(id, sampleInstance(id, VERSION)) as Obj[]).map((o) =>
    o['kind'] === 'ValidatingAdmissionPolicyBinding' ? { ...o, spec: { ...o['spec'], matchResources: { ...(o['spec']['matchResources'] ?? {}), objectSelector: { matchLabels: { [SAMPLE_LABEL]: id } } } } } : o,
  );
}

/**
 * Stores an old object for real; a Pod's ephemeral containers, which a create cannot carry, are added after it
 * through pods/ephemeralcontainers (as `kubectl debug` does).
 */
async function storeOld(cp: RunningControlPlane, discovery: Discovery, o: Obj, namespace: string | undefined): Promise<Obj> {
  const ephemeral = o['kind'] === 'Pod' ? (o['spec']?.['ephemeralContainers'] as Obj[] | undefined) : undefined;
  if (!ephemeral?.length) return ensureStored(cp, discovery, o, namespace);
  const spec: Obj = { ...(o['spec'] as Obj) };
  delete spec['ephemeralContainers'];
  const stored: Obj = await ensureStored(cp, discovery, { ...o, spec }, namespace);
  if (stored['spec']?.['ephemeralContainers']?.length) return stored;
  const r = await cp.request('PUT', (await objectPath(discovery, stored, namespace, 'ephemeralcontainers'))!, { ...stored, spec: { ...(stored['spec'] as Obj), ephemeralContainers: ephemeral } });
  if (r.status !== 200) throw new Error(`adding the ephemeral containers of ${String(o['metadata']?.['name'])}: HTTP ${r.status}: ${statusMessage(r)}`);
  return r.body as Obj;
}

async function ensureNamespace(cp: RunningControlPlane, name: string): Promise<void> {
  const r = await cp.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${name}: HTTP ${r.status}: ${statusMessage(r)}`);
  const sa = await cp.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  if (sa.status !== 201 && sa.status !== 409) throw new Error(`default ServiceAccount of ${name}: HTTP ${sa.status}: ${statusMessage(sa)}`);
}

/**
 * The API server's TypeChecker warnings of every policy (by name), from the VAP oracle (vap-check: the same
 * upstream type checker kube-controller-manager's status controller runs to write `status.typeChecking`),
 * typed against the running API server's own OpenAPI v3 documents.
 */
async function typeCheckWarnings(cp: RunningControlPlane, policies: readonly Obj[]): Promise<Map<string, Obj[]>> {
  const index = await cp.request('GET', '/openapi/v3');
  if (index.status !== 200) throw new Error(`GET /openapi/v3: HTTP ${index.status}`);
  const paths = Object.keys(((index.body as Obj)['paths'] ?? {}) as Obj).filter((p) => p === 'api/v1' || /^apis\/[^/]+\/v1$/.test(p));
  const schemas: Record<string, unknown> = {};
  await mapLimit(paths, 8, async (p) => {
    const r = await cp.request('GET', `/openapi/v3/${p}`);
    if (r.status !== 200) throw new Error(`GET /openapi/v3/${p}: HTTP ${r.status}`);
    schemas[p] = r.body;
  });
  return typeCheckDistinct(policies, '1.37', schemas, log);
}

describe('vap/ on kube-apiserver v1.37.2', () => {
  let cp: RunningControlPlane;
  let discovery: Discovery;
  const warnings = new Map<string, Obj[]>();

  beforeAll(async () => {
    const bins = await ensureControlPlane(log);
    const t = Date.now();
    cp = await startControlPlane({ files: {}, log, binaries: bins });
    log(`kubeharden tests: kube-apiserver ready in ${Math.round((Date.now() - t) / 1000)} s`);
    discovery = new Discovery(cp);
    await ensureNamespace(cp, SAMPLE_NS);
  }, 900_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  describe('every sample of every control a VAP expresses', () => {
    let cases: SampleCase[];
    let results: { c: SampleCase; a: Admission }[];
    let policyNames: string[];
    const oldErrors: string[] = [];
    const policyControls = new Map<string, string>();

    beforeAll(async () => {
      const t = Date.now();
      cases = sampleCases();
      for (const ns of new Set(cases.map((c) => c.namespace).filter((n): n is string => n !== undefined))) await ensureNamespace(cp, ns);
      // The sample policies of every control, and the reference bundle's policies (without bindings: type-checked, not enforced).
      const sampleObjects = VAP_CONTROLS.flatMap(samplePolicies);
      const reference = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: TODAY });
      const referencePolicies = [...vapFiles(reference).values()].flatMap(policiesOf);
      await applyPolicies(cp, [...policiesOf(sampleObjects), ...referencePolicies]);
      policyNames = [...policiesOf(sampleObjects), ...referencePolicies].map((p) => String(p['metadata']['name']));
      for (const p of [...policiesOf(sampleObjects), ...referencePolicies]) policyControls.set(String(p['metadata']['name']), String(p['metadata']['annotations']['kubeharden.io/control']));
      for (const [n, w] of await typeCheckWarnings(cp, [...policiesOf(sampleObjects), ...referencePolicies])) warnings.set(n, w);
      // The reference policies were only type-checked: removed, so the scenario bundle can use the same names.
      for (const p of referencePolicies) {
        const r = await cp.request('DELETE', `${VAP_API}/validatingadmissionpolicies/${p['metadata']['name']}`);
        if (r.status !== 200 && r.status !== 202) throw new Error(`deleting ${p['metadata']['name']}: HTTP ${r.status}: ${statusMessage(r)}`);
      }
      const bindings = bindingsOf(sampleObjects);
      await applyPolicies(cp, bindings);
      await waitUntilEnforced(cp, PROBE, SAMPLE_NS);
      const setup = Date.now() - t;
      const send = async (c: SampleCase, old?: Obj): Promise<{ c: SampleCase; a: Admission }> => {
        if (c.operation === 'UPDATE') return { c, a: old ? await admitUpdate(cp, discovery, old, c.oldObject!, c.object, c.namespace, c.subResource) : { status: 0, allowed: false, message: 'the old object could not be stored', warnings: [], request: '' } };
        const a = await admit(cp, discovery, c.object, c.namespace ?? '');
        if (a.status !== 409) return { c, a };
        // An object the API server keeps itself (a bootstrap ClusterRole): the sample arrives as an update of it.
        const existing = await cp.request('GET', (await objectPath(discovery, c.object, c.namespace))!);
        return { c, a: await admitUpdate(cp, discovery, existing.body as Obj, existing.body as Obj, c.object, c.namespace) };
      };
      const creates = await mapLimit(cases.filter((c) => c.operation === 'CREATE'), 8, (c) => send(c));
      // The old objects of the UPDATE samples, stored for real while no sample binding exists (objects admitted
      // before the policy, as in a cluster), after the creates (they take names and node ports a dry-run create
      // would collide with); then the bindings again.
      await unbind(cp, bindings, SAMPLE_NS);
      const olds = new Map<SampleCase, Obj>();
      await mapLimit(
        cases.filter((c) => c.oldObject),
        8,
        async (c) => {
          try {
            olds.set(c, await storeOld(cp, discovery, c.oldObject!, c.namespace));
          } catch (err) {
            oldErrors.push(`${c.label}: ${err instanceof Error ? err.message : String(err)}`);
          }
        },
      );
      await applyPolicies(cp, bindings);
      await waitUntilEnforced(cp, PROBE, SAMPLE_NS);
      const updates = await mapLimit(cases.filter((c) => c.operation === 'UPDATE'), 8, (c) => send(c, olds.get(c)));
      results = [...creates, ...updates];
      log(`kubeharden tests: ${policyNames.length} VAPs applied and type-checked in ${Math.round(setup / 1000)} s; ${cases.length} sample requests in ${Math.round((Date.now() - t - setup) / 1000)} s`);
    }, 600_000);

    it('sends Pods, every workload controller, UPDATEs and ephemeral containers', () => {
      const kinds = new Set(cases.map((c) => String(c.object['kind'])));
      for (const k of ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']) expect(kinds.has(k), k).toBe(true);
      expect(cases.filter((c) => c.operation === 'UPDATE' && c.subResource === 'ephemeralcontainers').length).toBeGreaterThan(30);
      expect(cases.filter((c) => c.operation === 'UPDATE' && !c.subResource && c.object['kind'] === 'Pod').length).toBeGreaterThan(3);
      expect(cases.filter((c) => c.operation === 'UPDATE' && c.object['kind'] !== 'Pod').length).toBeGreaterThan(10);
      expect(oldErrors).toEqual([]);
      expect(results.every((r) => r.a.status !== 0)).toBe(true);
    });

    it('every policy type-checks on the API server without a warning', () => {
      expect(warnings.size).toBe(policyNames.length);
      expect([...warnings].filter(([, w]) => w.length).map(([n, w]) => `${n}: ${w.map((x) => String(x['warning']).slice(0, 300)).join('; ')}`)).toEqual([]);
    });

    it('each control\'s policy denies exactly the samples the control expects to deny, in every kind and operation', () => {
      const wrong = results.flatMap(({ c, a }) => {
        if (c.expect === 'deny') return !a.allowed && a.message.includes(denial(c.policy)) ? [] : [`${c.label}: expected a denial by ${c.policy}, got ${a.allowed ? 'admitted' : `HTTP ${a.status}: ${a.message}`}`];
        return a.allowed ? [] : [`${c.label}: expected admission, got HTTP ${a.status}: ${a.message}`];
      });
      expect(wrong).toEqual([]);
      expect(results.filter((r) => r.c.expect === 'deny').length).toBeGreaterThan(300);
      expect(results.filter((r) => r.c.expect === 'allow').length).toBeGreaterThan(300);
    });
  });

  describe('a scenario bundle as built: modes, exempt namespaces, option values and exceptions per namespace', () => {
    const config: UserConfig = {
      name: 'scenarios',
      profile: 'pss-baseline',
      kubernetesVersion: '1.37',
      vap: { enabled: true },
      exemptNamespaces: ['kube-node-lease', 'kube-public', 'kube-system', 'vx-exempt'],
      namespaces: {
        'vx-enforce': {},
        'vx-warn': { controls: { 'disallow-privileged-containers': 'warn' } },
        'vx-audit': { controls: { 'disallow-privileged-containers': 'audit' } },
        'vx-ports': { controls: { 'restrict-host-ports': { options: { allowedRanges: [{ min: 8080, max: 8089 }] } } } },
      },
      exceptions: [
        { control: 'disallow-privileged-containers', namespaces: ['vx-names'], names: ['exact-name', 'web-*'], reason: 'scenario', expires: '2027-01-31' },
        { control: 'disallow-privileged-containers', namespaces: ['vx-images'], images: ['registry.example.com/debug/*'], reason: 'scenario', expires: '2027-01-31' },
      ],
    };
    const NAMESPACES = ['vx-enforce', 'vx-warn', 'vx-audit', 'vx-exempt', 'vx-ports', 'vx-names', 'vx-images', 'kube-system'];
    let policies: Obj[];
    const pod = (name: string, container: Obj, extra: Obj = {}): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', ...container }], ...extra } });
    const privileged = { securityContext: { privileged: true } };
    const send = (o: Obj, ns: string): Promise<Admission> => admit(cp, discovery, o, ns);
    const PRIV = 'disallow-privileged-containers';

    beforeAll(async () => {
      const result = compile(config, { today: TODAY });
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const objects = [...vapFiles(result).values()].flat().filter((o) => o['kind'] !== 'Kustomization');
      policies = policiesOf(objects);
      for (const ns of NAMESPACES) await ensureNamespace(cp, ns);
      await applyPolicies(cp, policies);
      for (const [n, w] of await typeCheckWarnings(cp, policies)) warnings.set(n, w);
      await unbind(cp, [], SAMPLE_NS);
      await applyPolicies(cp, bindingsOf(objects));
      await waitUntilEnforced(cp, PROBE, SAMPLE_NS);
    }, 300_000);

    it('type-checks every scenario policy without a warning', () => {
      expect(policies.length).toBeGreaterThan(0);
      expect(policies.filter((p) => warnings.get(p['metadata']['name'])!.length).map((p) => String(p['metadata']['name']))).toEqual([]);
    });

    it('enforce denies a Pod and every workload kind, admits a compliant Pod, and denies a workload UPDATE to a violating template', async () => {
      const ok = await send(pod('plain', {}), 'vx-enforce');
      expect(ok.allowed, ok.message).toBe(true);
      const bad = await send(pod('bad', privileged), 'vx-enforce');
      expect(bad.message).toMatch(new RegExp(`ValidatingAdmissionPolicy '${PRIV}' with binding '${PRIV}' denied request: `));
      for (const w of workloadVariants({ ...pod('bad', privileged), metadata: { name: 'bad' } })) {
        const a = await send(w.object, 'vx-enforce');
        expect(a.message, w.kind).toContain(denial(podPolicy(PRIV, w.kind)));
      }
      const deployment = workloadVariants(pod('rollout', {})).find((w) => w.kind === 'Deployment')!.object;
      const stored = await ensureStored(cp, discovery, deployment, 'vx-enforce');
      const after = structuredClone(deployment) as Obj;
      after['spec']['template']['spec']['containers'][0]['securityContext'] = { privileged: true };
      const up = await admitUpdate(cp, discovery, stored, deployment, after, 'vx-enforce');
      expect(up.request).toMatch(/^PUT /);
      expect(up.message).toContain(denial(podPolicy(PRIV, 'Deployment')));
    });

    it('warn admits with a warning, audit admits silently, an exempt namespace and kube-system are untouched', async () => {
      const warn = await send(pod('bad', privileged), 'vx-warn');
      expect(warn.allowed).toBe(true);
      expect(warn.warnings.filter((w) => w.includes('ValidatingAdmissionPolicy'))).toEqual([expect.stringMatching(/^Validation failed for ValidatingAdmissionPolicy 'disallow-privileged-containers-[^']+' with binding '[^']+': .*privileged/)]);
      for (const ns of ['vx-audit', 'vx-exempt', 'kube-system']) {
        const a = await send(pod('bad', privileged), ns);
        expect(a.allowed, `${ns}: ${a.message}`).toBe(true);
        expect(a.warnings.filter((w) => w.includes('ValidatingAdmissionPolicy')), ns).toEqual([]);
      }
      // The other controls still enforce in the warn namespace.
      const hostPid = await send(pod('pid', {}, { hostPID: true }), 'vx-warn');
      expect(hostPid.message).toContain("denied request");
    });

    it('per-namespace option values: host ports in the allowed range pass only where they are allowed', async () => {
      const port = (p: number): Obj => pod(`port-${p}`, { ports: [{ containerPort: p, hostPort: p }] });
      expect((await send(port(8080), 'vx-ports')).allowed).toBe(true);
      expect((await send(port(8089), 'vx-ports')).allowed).toBe(true);
      expect((await send(port(8090), 'vx-ports')).message).toMatch(/ValidatingAdmissionPolicy 'restrict-host-ports-[^']+' with binding/);
      expect((await send(port(8080), 'vx-enforce')).message).toContain(denial('restrict-host-ports'));
    });

    it('exceptions by exact name (excludeResourceRules), by prefix and by image; look-alikes and other namespaces are still denied', async () => {
      const verdict = async (name: string, ns: string, container: Obj = privileged): Promise<string> => {
        const a = await send(pod(name, container), ns);
        return a.allowed ? 'allow' : a.message.includes('denied request') ? 'deny' : `error: ${a.message}`;
      };
      expect(await verdict('exact-name', 'vx-names')).toBe('allow');
      expect(await verdict('web-1', 'vx-names')).toBe('allow');
      expect(await verdict('exact-name-2', 'vx-names')).toBe('deny');
      expect(await verdict('xexact-name', 'vx-names')).toBe('deny');
      expect(await verdict('webx', 'vx-names')).toBe('deny');
      expect(await verdict('exact-name', 'vx-enforce')).toBe('deny');
      // A workload by the exact name: its own name counts.
      const deployment = workloadVariants(pod('exact-name', privileged)).find((w) => w.kind === 'Deployment')!.object;
      expect((await send(renamed(deployment, 'exact-name'), 'vx-names')).allowed).toBe(true);
      expect((await send(renamed(deployment, 'exact-name-x'), 'vx-names')).allowed).toBe(false);
      // An ephemeral container added to the excepted Pod (pods/ephemeralcontainers) is excepted too; to another Pod it is not.
      for (const [name, want] of [['exact-name', true], ['other', false]] as const) {
        const before = pod(name, {});
        const stored = await ensureStored(cp, discovery, before, 'vx-names');
        const after = { ...before, spec: { ...before['spec'], ephemeralContainers: [{ name: 'debug', image: 'registry.k8s.io/pause:3.10', targetContainerName: 'app', securityContext: { privileged: true } }] } };
        const a = await admitUpdate(cp, discovery, stored, before, after, 'vx-names', 'ephemeralcontainers');
        expect(a.allowed, `${name}: ${a.message}`).toBe(want);
      }
      expect(await verdict('img', 'vx-images', { image: 'registry.example.com/debug/tool:1', ...privileged })).toBe('allow');
      expect(await verdict('img', 'vx-images', { image: 'registry.example.com/debugger:1', ...privileged })).toBe('deny');
      expect(await verdict('img', 'vx-images', { image: 'registry.example.com/app:1', ...privileged })).toBe('deny');
      expect(await verdict('img', 'vx-enforce', { image: 'registry.example.com/debug/tool:1', ...privileged })).toBe('deny');
    });
  });
});
