/**
 * The ValidatingAdmissionPolicy oracle (src/engines/vap/: the API server's own admission code from
 * k8s.io/apiserver v0.37.2) on hand-written policies, bindings, params and requests
 * (test/fixtures/vap/oracle-fixtures.ts, which says what each one exercises): Deny vs Warn vs Audit,
 * namespaceSelector In/NotIn, objectSelector on UPDATE, excludeResourceRules.resourceNames, matchConditions, a namespaced paramKind
 * (found, not found with parameterNotFoundAction Deny and Allow), messageExpression, auditAnnotations, UPDATE
 * with oldObject, a runtime error under failurePolicy Fail and Ignore, a policy that does not compile; the
 * typecheck mode (library availability per Kubernetes minor, estimated cost, the TypeChecker's warnings
 * typed against a real API server's OpenAPI); the wrapper that maps decisions to controls (src/eval/vap.ts).
 * The same policies and requests then go to a real kube-apiserver v1.37.2 (src/engines/apiserver.ts): the
 * same verdicts, messages and warnings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vapEvaluate, vapTypecheck, type VapEvaluation, type VapResult, type VapTypecheck } from '../src/engines/vap.js';
import { vapBundleOf, vapFindings, vapObjectsOf } from '../src/eval/vap.js';
import { startControlPlane, type RunningControlPlane } from '../src/engines/apiserver.js';
import { admit, admitUpdate, Discovery, ensureStored, statusMessage } from '../src/eval/apiserver.js';
import { join } from 'node:path';
import { compile, type CompiledCluster } from '../src/compile.js';
import { fileInput } from '../src/audit/input.js';
import { auditCluster } from '../src/audit/run.js';
import type { ResourceResult } from '../src/audit/report.js';
import { runCli, tempProject, TODAY } from './helpers.js';
import { PROBE, waitUntilEnforced } from '../src/eval/vap-apply.js';
import { VAP_FILES } from './fixtures/vap/bundle-vap.js';
import { BINDINGS, BROKEN_BINDING, BROKEN_POLICY, NAMESPACES, PARAMS, POLICIES, REQUESTS } from './fixtures/vap/oracle-fixtures.js';

type Obj = Record<string, any>;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

const TYPECHECK_POLICY: Obj = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: 'fx-typecheck' },
  spec: {
    matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
    validations: [
      // Two-variable comprehensions: Kubernetes 1.33 and later.
      { expression: "object.spec.containers.all(i, c, c.name != '')" },
      // Every container against every container: quadratic in the list size.
      { expression: 'object.spec.containers.all(c, object.spec.containers.all(d, c.image == d.image))' },
      // A field the Pod type does not have.
      { expression: 'object.spec.containerz.size() < 3' },
    ],
  },
};

let ev: VapEvaluation;
const result = (id: string): VapResult => {
  const r = ev.results.get(id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
};

describe('the ValidatingAdmissionPolicy oracle', () => {
  beforeAll(async () => {
    // One oracle process for every request of the fixtures.
    ev = await vapEvaluate({ policies: [...POLICIES, BROKEN_POLICY], bindings: [...BINDINGS, BROKEN_BINDING], params: PARAMS, namespaces: NAMESPACES }, REQUESTS, { log });
  });

  it('Deny, Warn and Audit bindings by namespaceSelector In and NotIn', () => {
    const prod = result('prod-host-network');
    expect(prod.decisions).toEqual([{ policy: 'fx-host-network', binding: 'fx-host-network-deny', action: 'Deny', message: 'hostNetwork is not allowed', reason: 'Invalid', error: false }]);
    expect(prod.allowed).toBe(false);
    expect(prod.status).toBe(`pods "hostnet" is forbidden: ValidatingAdmissionPolicy 'fx-host-network' with binding 'fx-host-network-deny' denied request: hostNetwork is not allowed`);
    // dev is given, other is not (it has only kubernetes.io/metadata.name): both are NotIn the list.
    for (const id of ['dev-host-network', 'other-host-network']) {
      const r = result(id);
      expect(r.decisions.map((d) => `${d.binding} ${d.action}`)).toEqual(['fx-host-network-warn Warn']);
      expect(r.allowed).toBe(true);
      expect(r.warnings).toEqual([`Validation failed for ValidatingAdmissionPolicy 'fx-host-network' with binding 'fx-host-network-warn': hostNetwork is not allowed`]);
    }
    const staging = result('staging-host-network');
    expect(staging.decisions.map((d) => `${d.binding} ${d.action}`)).toEqual(['fx-host-network-audit Audit']);
    expect(staging.allowed).toBe(true);
    expect(staging.warnings).toEqual([]);
  });

  it('excludeResourceRules.resourceNames takes the named object out of the binding', () => {
    const r = result('prod-exempt-name');
    expect(r.decisions).toEqual([]);
    expect(r.matched.map((m) => m.binding)).not.toContain('fx-host-network-deny');
    expect(r.allowed).toBe(true);
  });

  it('auditAnnotations are published for every matching request, under the policy name', () => {
    expect(result('prod-host-network').auditAnnotations).toEqual([{ policy: 'fx-host-network', key: 'fx-host-network/host-network', value: 'true' }]);
    expect(result('prod-plain').auditAnnotations).toEqual([{ policy: 'fx-host-network', key: 'fx-host-network/host-network', value: 'false' }]);
  });

  it('matchConditions skip a matching policy; messageExpression gives the message', () => {
    expect(result('prod-privileged').decisions.map((d) => d.message)).toEqual(['container app is privileged']);
    const optedOut = result('prod-privileged-opted-out');
    expect(optedOut.matched).toContainEqual({ policy: 'fx-privileged', binding: 'fx-privileged' });
    expect(optedOut.decisions).toEqual([]);
  });

  it('a namespaced paramKind: the param of the request namespace; not found with parameterNotFoundAction Deny and Allow', () => {
    expect(result('prod-two-containers').decisions.map((d) => `${d.binding}: ${d.message}`)).toEqual(['fx-max-containers-deny: at most 1 containers in prod']);
    expect(result('prod-plain').decisions).toEqual([]);
    // dev has no param and its binding allows that.
    expect(result('dev-two-containers').decisions).toEqual([]);
    // noparams has none and its binding denies: a configuration error, reported as one.
    expect(result('noparams-pod').decisions).toEqual([
      { policy: 'fx-max-containers', binding: 'fx-max-containers-deny', action: 'Deny', message: 'failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction', error: true },
    ]);
  });

  it('UPDATE sees the oldObject', () => {
    expect(result('prod-team-change').decisions.map((d) => d.message)).toEqual(['label team is immutable (was a)']);
    expect(result('prod-team-change').status).toBe(`configmaps "settings" is forbidden: ValidatingAdmissionPolicy 'fx-team-immutable' with binding 'fx-team-immutable' denied request: label team is immutable (was a)`);
    expect(result('prod-team-same').allowed).toBe(true);
    expect(result('prod-team-create').allowed).toBe(true);
  });

  it('objectSelector: an UPDATE matches when the old or the new object matches', () => {
    expect(result('prod-team-removed').decisions.map((d) => d.message)).toEqual(['label team is immutable (was a)']);
    const plain = result('prod-unlabelled-change');
    expect(plain.matched).toEqual([]);
    expect(plain.allowed).toBe(true);
  });

  it('a runtime error denies under failurePolicy Fail and is still reported under Ignore', () => {
    const r = result('errors-no-node-name');
    const message = "expression 'object.spec.nodeName.startsWith('node-')' resulted in error: no such key: nodeName";
    expect(r.decisions).toEqual([{ policy: 'fx-node-name-fail', binding: 'fx-node-name-fail', action: 'Deny', message, error: true }]);
    expect(r.ignoredErrors).toEqual([{ policy: 'fx-node-name-ignore', binding: 'fx-node-name-ignore', message }]);
    expect(r.allowed).toBe(false);
    const ok = result('errors-node-name');
    expect([ok.allowed, ok.decisions, ok.ignoredErrors]).toEqual([true, [], []]);
  });

  it('a policy that does not compile is reported, and denies as an error (never an allow)', () => {
    const broken = ev.policies.find((p) => p.name === 'fx-broken')!;
    expect(broken.compileErrors).toHaveLength(1);
    expect(broken.compileErrors[0]).toMatch(/^spec\.validations\[0\]\.expression: compilation failed: .*undeclared reference to 'noSuchFunction'/);
    expect(ev.policies.filter((p) => p.name !== 'fx-broken').every((p) => p.compileErrors.length === 0)).toBe(true);
    const r = result('broken-pod');
    expect(r.allowed).toBe(false);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ policy: 'fx-broken', action: 'Deny', error: true });
    expect(r.decisions[0]!.message).toMatch(/^compilation error: .*undeclared reference to 'noSuchFunction'/);
  });

  it('vapFindings maps decisions to controls by annotation, CREATE and UPDATE, and throws on any error', async () => {
    const bundle = vapBundleOf([...POLICIES, ...BINDINGS, ...PARAMS])!;
    expect(bundle.params).toEqual(PARAMS);
    const byId = new Map(REQUESTS.map((r) => [r.id, r]));
    const pick = (id: string): Obj => byId.get(id)!.object;
    const change = byId.get('prod-team-change')!;
    const findings = await vapFindings(
      bundle,
      [pick('prod-host-network'), pick('dev-host-network'), pick('staging-host-network'), pick('prod-plain'), { operation: 'UPDATE', object: change.object, oldObject: change.oldObject! }],
      { namespaces: NAMESPACES, log },
    );
    expect(Object.fromEntries(findings)).toEqual({
      'Pod/prod/hostnet': [{ control: 'fx-host-network', action: 'deny', message: 'hostNetwork is not allowed' }],
      'Pod/dev/hostnet': [{ control: 'fx-host-network', action: 'warn', message: 'hostNetwork is not allowed' }],
      'Pod/staging/hostnet': [{ control: 'fx-host-network', action: 'audit', message: 'hostNetwork is not allowed' }],
      'ConfigMap/prod/settings': [{ control: 'fx-team-immutable', action: 'deny', message: 'label team is immutable (was a)' }],
    });
    // An error under Ignore, and one under Fail, are errors of the audit, not findings or allows.
    const failure = await vapFindings(bundle, [pick('errors-no-node-name')], { namespaces: NAMESPACES, log }).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    expect(failure).toMatch(/^the ValidatingAdmissionPolicy oracle reported 2 errors:/);
    expect(failure).toMatch(/Pod\/errors\/nonode: ValidatingAdmissionPolicy fx-node-name-fail with binding fx-node-name-fail failed: expression .* no such key: nodeName/);
    expect(failure).toMatch(/Pod\/errors\/nonode: ValidatingAdmissionPolicy fx-node-name-ignore with binding fx-node-name-ignore failed \(ignored by failurePolicy Ignore\): expression .* no such key: nodeName/);
  });

  it('typecheck: library availability per Kubernetes minor and the estimated cost against the limits', async () => {
    const [old, current] = await Promise.all(['1.30', '1.37'].map((v) => vapTypecheck([TYPECHECK_POLICY], v, {}, { log })));
    expect(old!.policies[0]!.rejectedOnCreate).toHaveLength(1);
    expect(old!.policies[0]!.rejectedOnCreate[0]).toMatch(/^spec\.validations\[0\]\.expression: .*undeclared reference to 'all'/);
    expect(current!.policies[0]!.rejectedOnCreate).toEqual([]);
    expect([current!.perCallLimit, current!.runtimeBudget]).toEqual([1_000_000, 10_000_000]);
    // Untyped (no schema given): lists have no known size, so iterating one has no bound.
    const costs = current!.policies[0]!.costs;
    expect(costs.map((c) => [c.fieldRef, c.kind, c.exceedsPerCallLimit])).toEqual([
      ['spec.validations[0].expression', '', true],
      ['spec.validations[1].expression', '', true],
      ['spec.validations[2].expression', '', false],
    ]);
    expect(current!.policies[0]!.warnings).toEqual([]);
  });
});

describe('the oracle against a real kube-apiserver', () => {
  let cp: RunningControlPlane;
  let discovery: Discovery;
  let typed: VapTypecheck;
  let brokenCreate: { status: number; message: string };
  const real = new Map<string, { allowed: boolean; message: string; warnings: readonly string[] }>();

  beforeAll(async () => {
    const started = Date.now();
    cp = await startControlPlane({ files: {}, log });
    discovery = new Discovery(cp);
    for (const ns of [...NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } }]) {
      const r = await cp.request('POST', '/api/v1/namespaces', ns);
      if (r.status !== 201) throw new Error(`creating namespace ${ns.metadata.name}: ${r.status} ${statusMessage(r)}`);
      const sa = await cp.request('POST', `/api/v1/namespaces/${ns.metadata.name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      if (sa.status !== 201) throw new Error(`creating the default ServiceAccount in ${ns.metadata.name}: ${sa.status}`);
    }
    for (const p of PARAMS) await ensureStored(cp, discovery, p, p.metadata.namespace);
    for (const o of [...POLICIES, ...BINDINGS]) {
      const path = o.kind === 'ValidatingAdmissionPolicy' ? 'validatingadmissionpolicies' : 'validatingadmissionpolicybindings';
      const r = await cp.request('POST', `/apis/admissionregistration.k8s.io/v1/${path}`, o);
      if (r.status !== 201) throw new Error(`creating ${o.kind} ${o.metadata.name}: ${r.status} ${statusMessage(r)}`);
    }
    const b = await cp.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', BROKEN_POLICY);
    brokenCreate = { status: b.status, message: statusMessage(b) };
    // The API server loads policies, bindings and params asynchronously: wait until a probe created after
    // every policy and binding is in force (so are they), then until the param is found.
    await waitUntilEnforced(cp, PROBE, 'other');
    const probe = REQUESTS.find((r) => r.id === 'prod-two-containers')!.object;
    for (let i = 0; ; i++) {
      const a = await admit(cp, discovery, probe, 'prod');
      if (!a.allowed && a.message.includes('at most 1 containers')) break;
      if (i > 120) throw new Error(`the policies did not take effect: ${a.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const r of REQUESTS) {
      const ns = String(r.object.metadata.namespace);
      if (r.id === 'broken-pod') continue;
      if (r.operation === 'CREATE') {
        const a = await admit(cp, discovery, r.object, ns);
        real.set(r.id, { allowed: a.allowed, message: a.message, warnings: a.warnings });
      } else {
        const stored = await ensureStored(cp, discovery, r.oldObject!, ns);
        const a = await admitUpdate(cp, discovery, stored, r.oldObject!, r.object, ns);
        real.set(r.id, { allowed: a.allowed, message: a.message, warnings: a.warnings });
      }
    }
    // The TypeChecker typed against the API server's own OpenAPI v3 for core/v1.
    const openapi = await cp.request('GET', '/openapi/v3/api/v1');
    if (openapi.status !== 200) throw new Error(`GET /openapi/v3/api/v1: ${openapi.status}`);
    typed = await vapTypecheck([TYPECHECK_POLICY], '1.37', { 'api/v1': openapi.body }, { log });
    log(`vap-oracle: real API server started and checked in ${Math.round((Date.now() - started) / 1000)} s`);
  }, 300_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it('refuses to store the policy that does not compile, for the reason the oracle reports', () => {
    expect(brokenCreate.status).toBe(422);
    expect(brokenCreate.message).toContain("undeclared reference to 'noSuchFunction'");
    expect(ev.policies.find((p) => p.name === 'fx-broken')!.compileErrors[0]).toContain("undeclared reference to 'noSuchFunction'");
  });

  it('gives the same verdicts, messages and warnings for every request', () => {
    const ids = REQUESTS.map((r) => r.id).filter((id) => id !== 'broken-pod');
    const oracle = Object.fromEntries(ids.map((id) => [id, { allowed: result(id).allowed, message: result(id).status ?? '', warnings: result(id).warnings }]));
    const server = Object.fromEntries(ids.map((id) => [id, real.get(id)]));
    expect(server).toEqual(oracle);
    // Both sides deny, warn and allow somewhere.
    expect(ids.filter((id) => !real.get(id)!.allowed).length).toBeGreaterThan(3);
    expect(ids.filter((id) => real.get(id)!.warnings.length).length).toBe(2);
  });

  it('typecheck with the API server schema: type warnings and bounded cost estimates', () => {
    const p = typed.policies[0]!;
    expect(p.kinds).toEqual(['Pod']);
    expect(p.warnings.map((w) => w.fieldRef)).toEqual(['spec.validations[2].expression']);
    expect(p.warnings[0]!.warning).toMatch(/undefined field 'containerz'/);
    const [pairs, nested] = p.costs;
    expect(pairs!.kind).toBe('Pod');
    // Sizes come from the schema (estimated from the maximum request size): bounded, the nested loop far more.
    expect(pairs!.max).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(nested!.max).toBeGreaterThan(pairs!.max * 100);
    expect(nested!.exceedsPerCallLimit).toBe(true);
    log(`vap typecheck costs: ${JSON.stringify(p.costs.map((c) => [c.fieldRef, c.min, c.max]))}`);
  });
});

describe('kubeharden engines vap', () => {
  it('lists the oracle with what it pins, and installs it', () => {
    for (const args of [['engines'], ['engines', 'vap'], ['engines', 'install', 'vap']]) {
      const r = runCli(args, tempProject({}));
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^vap \(vap-check, k8s\.io\/apiserver v0\.37\.2\): \/\S+\/vap-check$/m);
    }
  });
});

describe('kubeharden audit --engine vap', () => {
  const CONFIG = `import { defineConfig } from 'kubeharden';
export default defineConfig({
  profile: 'pss-baseline',
  kubernetesVersion: '1.37',
});
`;

  it('is a usage error naming the config when the bundle has no vap/ target', () => {
    const dir = tempProject({ 'policies.config.ts': CONFIG, 'in.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n' });
    const r = runCli(['audit', '--engine', 'vap', 'in.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--engine vap evaluates the bundle's vap/ target, and policies.config.ts builds none: enable `vap: { enabled: true }` in policies.config.ts");
    const p = runCli(['audit', '--engine', 'vap', '--profile', 'pss-baseline', 'in.yaml'], dir);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('--profile builds none');
  });

  it('audits with the bundle’s vap/ policies through the oracle (a hand-written vap/ target)', async () => {
    // The compiler's vap/ target is not part of this change: the audit takes a compiled cluster with
    // hand-written vap/ files (test/fixtures/vap/bundle-vap.ts) added to its bundle.
    const compiled = compile({ name: 'demo', profile: 'pss-baseline', kubernetesVersion: '1.37' }, { today: TODAY }).clusters[0]!;
    const cc: CompiledCluster = { ...compiled, files: [...compiled.files, ...VAP_FILES] };
    expect(vapObjectsOf(compiled)).toBeUndefined();
    expect(vapObjectsOf(cc)!.policies).toHaveLength(2);
    const input = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: old, labels: {fixtures.kubeharden.io/tier: legacy}}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: net, namespace: apps}\nspec: {hostNetwork: true, containers: [{name: c, image: x}]}\n',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {hostPID: true, initContainers: [{name: init, image: x, securityContext: {privileged: true}}], containers: [{name: c, image: x}]}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: priv, namespace: old}\nspec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: sys}\nspec: {hostNetwork: true, containers: [{name: c, image: x}]}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: sys, namespace: kube-system}\nspec: {hostNetwork: true, containers: [{name: c, image: x}]}\n',
    ].join('---\n');
    const dir = tempProject({ 'in.yaml': input });
    const audited: ResourceResult[] = [];
    const errors: string[] = [];
    await auditCluster(cc, [fileInput(join(dir, 'in.yaml'), 'in.yaml')], { resource: (r) => audited.push(r), error: (e) => errors.push(e.message) }, { engines: ['vap'], workers: 0, log: () => {} });
    expect(errors).toEqual([]);
    const found = Object.fromEntries(audited.map((r) => [`${r.kind}/${r.namespace ?? ''}/${r.name}`, r.violations.filter((v) => v.engine === 'vap').map((v) => `${v.action} ${v.control}: ${v.message}`)]));
    expect(found).toEqual({
      'Namespace//old': [],
      'Pod/apps/net': ['deny disallow-host-namespaces: host namespaces (hostNetwork, hostPID, hostIPC) are not allowed'],
      'Deployment/apps/web': ['deny disallow-host-namespaces: host namespaces (hostNetwork, hostPID, hostIPC) are not allowed', 'deny disallow-privileged-containers: privileged containers are not allowed: init'],
      'Pod/old/priv': ['warn disallow-privileged-containers: privileged containers are not allowed: c'],
      // No namespace: evaluated in default, as kubectl would create it.
      'Pod//sys': ['deny disallow-host-namespaces: host namespaces (hostNetwork, hostPID, hostIPC) are not allowed'],
      'Pod/kube-system/sys': [],
    });
  });
});
