/**
 * Kyverno output: ClusterPolicies validate against the upstream CRD schema, keep autogen on, scope rules by
 * namespace only (CREATE and UPDATE), carry user values only as CEL literals; the CEL literal helper escapes
 * safely; and, when the pinned Kyverno CLI is installed, every control's samples get the expected verdict
 * from the real engine as a Pod and inside every workload controller (through autogen).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.js';
import { lowerCluster, paramsFor } from '../src/ir/lower.js';
import type { BundleIR, ControlIR, Params } from '../src/ir/types.js';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import { celCheck, kyvernoBackend, ruleKinds, ruleVariables } from '../src/backends/kyverno/index.js';
import { allowKeysOf } from '../src/config/allow.js';
import { implementedBy, isPodControl, targetKinds } from '../src/controls/types.js';
import { SHARED_VARIABLES } from '../src/lang/cel/pod.js';
import { celLiteral, celString, listOr } from '../src/lang/cel/cel.js';
import type { CelCheck, ClusterPolicy, Kustomization, KyvernoRule, PolicyException } from '../src/backends/kyverno/types.js';
import type { BackendFile, ObjectsFile } from '../src/backends/types.js';
import { toYaml } from '../src/emit/yaml.js';
import { findEngine } from '../src/engines/index.js';
import type { Obj } from '../src/eval/review.js';
import { KYVERNO_LEGACY_DEPRECATION } from '../src/eval/engines.js';
import type { KubernetesVersion } from '../src/pss/versions.js';
import { crdSchema, schemaErrors, validator } from './schema.js';

const policyValidator = validator(crdSchema('kyverno.io_clusterpolicies.yaml', 'v1'));
const VERSION: KubernetesVersion = '1.37';

function bundle(config: Record<string, unknown>): BundleIR {
  const r = resolveConfig({ profile: 'pss-restricted', kubernetesVersion: VERSION, kyverno: { policyType: 'ClusterPolicy' }, ...config }, { today: '2026-11-26' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return lowerCluster(r.config!.clusters[0]!);
}

/** A control's parameters for its default options at a target version. */
const defaultParams = (id: ControlId, version: KubernetesVersion = VERSION): Params => paramsFor(id, getControl(id).defaults(version) as never, version);

/** A bundle with every control (including those the restricted profile overrides), default options. */
function everyControl(exemptImages: readonly string[] = [], version: KubernetesVersion = VERSION): BundleIR {
  const base = bundle({});
  const controls: ControlIR[] = CONTROL_IDS.map((id) => ({
    control: id,
    instances: [{ name: id, mode: 'enforce', params: defaultParams(id, version), exemptImages, exemptNames: [], allowances: [], scope: { exclude: ['kube-system'] } }],
  }));
  return { ...base, version, controls };
}

const objectsOf = (files: readonly BackendFile[]): ObjectsFile[] => files.filter((f): f is ObjectsFile => 'objects' in f);
const policiesOf = (files: readonly BackendFile[]): ClusterPolicy[] =>
  objectsOf(files).flatMap((f) => f.objects as { kind: string }[]).filter((o): o is ClusterPolicy => o.kind === 'ClusterPolicy');
const resourceFilters = (r: KyvernoRule) => [...r.match.any, ...(r.exclude?.any ?? [])].map((f) => f.resources);

const CANARY = 'canary"\\ object.spec\n}) || true || ({';
const scoped = {
  controls: { 'disallow-privileged-containers': 'warn', 'restrict-sysctls': { options: { allowedSysctls: ['kernel.shm_rmid_forced', CANARY] } } },
  namespaces: {
    legacy: { pss: 'baseline' },
    'team-a': { controls: { 'disallow-privileged-containers': 'enforce', 'restrict-host-ports': { options: { allowedRanges: [{ min: 9100, max: 9100 }] } } } },
  },
  exceptions: [{ control: 'disallow-host-namespaces', namespaces: ['monitoring'], images: [`${CANARY}*`], reason: 'test', expires: '2027-06-01' }],
};

describe('Kyverno files', () => {
  it('one ClusterPolicy file per control plus a sorted kustomization', () => {
    const ir = bundle({});
    const files = kyvernoBackend(ir);
    const policyFiles = objectsOf(files).filter((f) => f.path !== 'kyverno/kustomization.yaml');
    expect(policyFiles.map((f) => f.path)).toEqual(ir.controls.map((c) => `kyverno/${c.control}.yaml`));
    for (const f of policyFiles) {
      expect(f.objects).toHaveLength(1);
      const p = f.objects[0] as ClusterPolicy;
      expect(`kyverno/${p.metadata.name}.yaml`).toBe(f.path);
    }
    const k = objectsOf(files).find((f) => f.path === 'kyverno/kustomization.yaml')!.objects[0] as Kustomization;
    expect(k).toEqual({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: policyFiles.map((f) => f.path.replace('kyverno/', '')).sort(),
    });
  });

  it('exceptions by name are PolicyExceptions covering the rule and its auto-gen rules, valid against the CRD', () => {
    const exceptionValidator = validator(crdSchema('kyverno.io_policyexceptions.yaml', 'v2'));
    const ir = bundle({ ...scoped, exceptions: [{ control: 'disallow-privileged-containers', namespaces: ['team-a'], names: ['web', 'web-*'], reason: 'r', expires: '2027-06-01' }] });
    const files = kyvernoBackend(ir);
    const k = objectsOf(files).find((f) => f.path === 'kyverno/kustomization.yaml')!.objects[0] as Kustomization;
    expect(k.resources).toContain('exceptions.yaml');
    const exceptions = objectsOf(files).find((f) => f.path === 'kyverno/exceptions.yaml')!.objects as PolicyException[];
    expect(exceptions).toHaveLength(1);
    const e = exceptions[0]!;
    expect(schemaErrors(exceptionValidator, e)).toEqual([]);
    expect(e.spec.exceptions).toEqual([
      {
        policyName: 'disallow-privileged-containers',
        ruleNames: ['disallow-privileged-containers-ns-team-a', 'autogen-disallow-privileged-containers-ns-team-a', 'autogen-cronjob-disallow-privileged-containers-ns-team-a'],
      },
    ]);
    expect(e.spec.match.any[0]!.resources).toEqual({ kinds: expect.arrayContaining(['Pod', 'Deployment', 'CronJob']), names: ['web', 'web-*'], namespaces: ['team-a'] });
  });

  it('exceptions by name of a non-pod control cover its own kinds and rule only (no auto-gen)', () => {
    const exceptionValidator = validator(crdSchema('kyverno.io_policyexceptions.yaml', 'v2'));
    const ir = bundle({ controls: { 'disallow-nodeport-services': true }, exceptions: [{ control: 'disallow-nodeport-services', names: ['ingress-nginx'], reason: 'r', expires: '2027-06-01' }] });
    const exceptions = objectsOf(kyvernoBackend(ir)).find((f) => f.path === 'kyverno/exceptions.yaml')!.objects as PolicyException[];
    expect(exceptions).toHaveLength(1);
    expect(schemaErrors(exceptionValidator, exceptions[0]!)).toEqual([]);
    expect(exceptions[0]!.spec.exceptions).toEqual([{ policyName: 'disallow-nodeport-services', ruleNames: ['disallow-nodeport-services'] }]);
    expect(exceptions[0]!.spec.match.any[0]!.resources).toEqual({ kinds: ['Service'], names: ['ingress-nginx'] });
  });

  it('every ClusterPolicy validates against the Kyverno CRD schema', () => {
    for (const ir of [bundle({}), bundle(scoped), everyControl(['registry.example.com/*'])]) {
      const policies = policiesOf(kyvernoBackend(ir));
      // One per control, plus a `-warn` policy where a control mixes warn with other modes.
      const mixed = ir.controls.filter((c) => c.instances.some((i) => i.mode === 'warn') && c.instances.some((i) => i.mode !== 'warn')).length;
      expect(policies.length).toBe(ir.controls.length + mixed);
      for (const p of policies) expect(schemaErrors(policyValidator, p), p.metadata.name).toEqual([]);
    }
    // The validator is not vacuous: unknown fields and bad enum values are reported.
    const p = structuredClone(policiesOf(kyvernoBackend(bundle({})))[0]!);
    (p.spec.rules[0]!.validate as { failureAction: string }).failureAction = 'Deny';
    (p.spec.rules[0]!.match.any[0]!.resources as Record<string, unknown>)['kind'] = 'Pod';
    expect(schemaErrors(policyValidator, p).length).toBeGreaterThanOrEqual(2);
  });

  it('annotations describe the control and the target; autogen is left on', () => {
    for (const p of policiesOf(kyvernoBackend(everyControl()))) {
      const id = p.metadata.name as ControlId;
      const c = getControl(id);
      const a = p.metadata.annotations;
      expect(a).toMatchObject({
        'policies.kyverno.io/title': c.title,
        'policies.kyverno.io/category': c.category,
        'policies.kyverno.io/severity': c.severity,
        'policies.kyverno.io/subject': ruleKinds(id).join(', '),
        'policies.kyverno.io/description': c.description,
        'kyverno.io/kubernetes-version': VERSION,
        'kubeharden.io/control': id,
      });
      expect(a['policies.kyverno.io/minversion']).toMatch(/^1\.\d+\.\d+$/);
      expect(Object.keys(a).filter((k) => k.startsWith('pod-policies.kyverno.io/'))).toEqual([]);
      // Signatures are checked at admission only (registry access from the webhook).
      expect(p.spec.background).toBe(id !== 'verify-image-signatures');
      expect(p.spec).not.toHaveProperty('validationFailureAction');
    }
  });
});

describe('Kyverno rules', () => {
  it('match only Pods and filter only by namespace, so autogen covers every workload controller', () => {
    // Namespace labels also change through these subresources; Kyverno's webhook must receive them.
    expect(ruleKinds('enforce-psa-namespace-labels')).toEqual(['Namespace', 'Namespace/finalize', 'Namespace/status']);
    for (const ir of [bundle({}), bundle(scoped), everyControl()]) {
      for (const p of policiesOf(kyvernoBackend(ir))) {
        for (const r of p.spec.rules) {
          expect(Object.keys(r.match), r.name).toEqual(['any']);
          expect(r.match.any).toHaveLength(1);
          const id = p.metadata.annotations['kubeharden.io/control'] as ControlId;
          // Non-pod controls match their own kinds and the subresources they list (auto-gen only rewrites Pod rules).
          const c = getControl(id);
          expect(r.match.any[0]!.resources.kinds).toEqual(
            isPodControl(c) ? ['Pod'] : targetKinds(c)!.flatMap((k) => [k.kind, ...(c.target?.subresources ?? []).map((s) => `${k.kind}/${s}`)]),
          );
          // No DELETE: `object` is null there and the check would fail, blocking deletions.
          expect(r.match.any[0]!.resources.operations).toEqual(['CREATE', 'UPDATE']);
          if (r.exclude) {
            expect(Object.keys(r.exclude)).toEqual(['any']);
            expect(r.exclude.any[0]!.resources.kinds).toBeUndefined();
          }
          for (const res of resourceFilters(r)) {
            expect(Object.keys(res).filter((k) => !['kinds', 'namespaces', 'operations'].includes(k)), r.name).toEqual([]);
          }
        }
      }
    }
  });

  it('cluster-wide instances exclude exempt namespaces; namespace-scoped instances match their namespaces', () => {
    const ir = bundle(scoped);
    const policies = policiesOf(kyvernoBackend(ir));
    const priv = policies.find((p) => p.metadata.name === 'disallow-privileged-containers')!;
    // Warn-mode instances live in a policy of their own: emitWarning is policy-wide.
    const privWarn = policies.find((p) => p.metadata.name === 'disallow-privileged-containers-warn')!;
    expect(priv.spec.rules).toHaveLength(1);
    expect(privWarn.spec.rules).toHaveLength(1);
    const [teamA] = priv.spec.rules;
    const [cluster] = privWarn.spec.rules;
    expect(cluster!.match.any[0]!.resources.namespaces).toBeUndefined();
    expect(cluster!.exclude!.any[0]!.resources.namespaces).toEqual(expect.arrayContaining(['kube-system', 'team-a']));
    expect(teamA!.name).toBe('disallow-privileged-containers-ns-team-a');
    expect(teamA!.match.any[0]!.resources.namespaces).toEqual(['team-a']);
    expect(teamA!.exclude).toBeUndefined();
    // Modes: warn → Audit + emitWarning, enforce → Enforce (and no warnings from the enforce policy).
    expect(cluster!.validate!.failureAction).toBe('Audit');
    expect(teamA!.validate!.failureAction).toBe('Enforce');
    expect(privWarn.spec.emitWarning).toBe(true);
    expect(priv.spec.emitWarning).toBeUndefined();
    expect(privWarn.metadata.annotations['kubeharden.io/control']).toBe('disallow-privileged-containers');
    const legacyOnly = policies.find((p) => p.metadata.name === 'restrict-seccomp')!;
    expect(legacyOnly.spec.rules.map((r) => r.match.any[0]!.resources.namespaces)).toEqual([['legacy']]);
    for (const p of policies.filter((x) => !x.metadata.name.startsWith('disallow-privileged-containers'))) {
      expect(p.spec.emitWarning, p.metadata.name).toBeUndefined();
      for (const r of p.spec.rules) expect(r.validate!.failureAction).toBe('Enforce');
    }
  });

  it('read the pod through object.spec (rewritten by autogen); the old object and operation only to skip insignificant Pod updates', () => {
    for (const p of policiesOf(kyvernoBackend(everyControl()))) {
      if (!isPodControl(getControl(p.metadata.name as ControlId))) continue;
      for (const r of p.spec.rules) {
        if (r.verifyImages) continue; // verify-image-signatures: no CEL (see its own test)
        // Pod metadata is read by kind instead (autogen would make `object.metadata` a strict selection of
        // the template's metadata, which CronJobs often omit); that is the only non-rewritten path.
        // skipUpdate compares with the old Pod (guarded by object.kind == 'Pod', so autogen rules never use it).
        // objectNamespace reads the namespace of the object itself (a workload's own, not its template's).
        // objectName is the object's own name (a workload's, not its template's), for allow exceptions by name.
        const own = r.validate!.cel.variables.filter((v) => !['podMetadata', 'skipUpdate', 'objectNamespace', 'objectName'].includes(v.name));
        const name = r.validate!.cel.variables.find((v) => v.name === 'objectName');
        if (name) expect(name.expression).not.toMatch(/object\.spec|object\.metadata/);
        const ns = r.validate!.cel.variables.find((v) => v.name === 'objectNamespace');
        if (ns) expect(ns.expression).not.toMatch(/object\.spec|object\.metadata/);
        const skip = r.validate!.cel.variables.find((v) => v.name === 'skipUpdate')!;
        expect(skip.expression).toMatch(/^object\.kind == 'Pod' && oldObject != null && request\.operation == 'UPDATE' && /);
        const texts = [...own.map((v) => v.expression), ...r.validate!.cel.expressions.flatMap((e) => [e.expression, e.messageExpression ?? ''])];
        const all = texts.join('\n');
        expect(all, p.metadata.name).toContain('object.spec');
        expect(all).not.toMatch(/object\.\?|object\[|oldObject|request\.|params\.|object\.metadata|object\.kind/);
        const podMetadata = r.validate!.cel.variables.find((v) => v.name === 'podMetadata');
        if (podMetadata) {
          expect(podMetadata.expression).not.toMatch(/object\.spec|object\.metadata/);
          // Through dyn(object): the Pod-typed policy of a ValidatingAdmissionPolicy has no spec.template.
          expect(podMetadata.expression).toContain("object.kind == 'CronJob' ? dyn(object).?spec.?jobTemplate.?spec.?template.?metadata");
        }
        expect(r.validate!.cel.expressions.length).toBeGreaterThan(0);
        for (const e of r.validate!.cel.expressions) expect(e.message).toMatch(/\.$/);
      }
    }
  });

  it('declare every variable before use: exemptImages, allowances and each parameter as literals, then shared ones', () => {
    for (const p of policiesOf(kyvernoBackend(everyControl(['a*'])))) {
      const id = p.metadata.name as ControlId;
      const params = Object.keys(defaultParams(id)).sort();
      // Image exceptions only exist for pod controls; allowances for controls with sub-checks to allow.
      const pod = isPodControl(getControl(id));
      const literals = [...(pod ? ['exemptImages'] : []), ...(allowKeysOf(id).length ? ['allowances'] : []), ...params];
      for (const r of p.spec.rules) {
        if (r.verifyImages) continue;
        const names = r.validate!.cel.variables.map((v) => v.name);
        expect(names.slice(0, literals.length)).toEqual(literals);
        if (pod) expect(r.validate!.cel.variables[0]!.expression).toBe('["a*"]');
        expect(new Set(names).size).toBe(names.length);
        const shared = names.filter((n) => SHARED_VARIABLES.some((s) => s.name === n));
        expect(shared).toEqual(SHARED_VARIABLES.map((s) => s.name).filter((n) => shared.includes(n)));
      }
    }
    const broken: CelCheck = { message: 'x.', expressions: [{ expression: 'variables.nope', message: 'x.' }] };
    expect(() => ruleVariables('disallow-privileged-containers', { params: {}, exemptImages: [] }, broken)).toThrow(/variables\.nope/);
  });

  it('carry user values only inside CEL literals', () => {
    const policies = policiesOf(kyvernoBackend(bundle(scoped)));
    const sysctls = policies.find((p) => p.metadata.name === 'restrict-sysctls')!.spec.rules[0]!;
    const literal = sysctls.validate!.cel.variables.find((v) => v.name === 'allowedSysctls')!.expression;
    expect(literal).toBe(`[${celString(CANARY)}, "kernel.shm_rmid_forced"]`);
    const hostNs = policies.find((p) => p.metadata.name === 'disallow-host-namespaces')!;
    const monitoring = hostNs.spec.rules.find((r) => r.name.includes('monitoring'))!;
    expect(monitoring.validate!.cel.variables[0]).toEqual({ name: 'exemptImages', expression: `[${celString(`${CANARY}*`)}]` });
    for (const p of policies) {
      for (const r of p.spec.rules) {
        for (const e of r.validate!.cel.expressions) expect(e.expression).not.toContain('canary');
        for (const v of r.validate!.cel.variables) if (v.expression.includes('canary')) expect(['exemptImages', 'allowedSysctls']).toContain(v.name);
      }
    }
  });

  it('every control has a check', () => {
    for (const id of CONTROL_IDS) {
      expect(implementedBy(getControl(id), 'kyverno'), id).toBe(true);
      expect(celCheck(id, defaultParams(id)), id).not.toHaveProperty('kind', 'unsupported');
    }
  });
});

describe('celLiteral', () => {
  it('escapes quotes, backslashes and newlines', () => {
    expect(celLiteral('a"b')).toBe('"a\\"b"');
    expect(celLiteral('a\\b')).toBe('"a\\\\b"');
    expect(celLiteral('line1\nline2\r\n\tx')).toBe('"line1\\nline2\\r\\n\\tx"');
    expect(celLiteral("it's")).toBe('"it\'s"');
    expect(celLiteral('\u0000\u001f\u007f')).toBe('"\\u0000\\u001f\\u007f"');
    expect(celLiteral('é\u2028')).toBe('"\\u00e9\\u2028"');
    expect(celLiteral('😀')).toBe('"\\U0001f600"');
  });

  it('produces printable ASCII that reads back to the same string (JSON-compatible escapes for the BMP)', () => {
    const samples = ['', 'plain', '"', '\\', '\\"', '\n', 'a\u0001b', '${x}', "' + x + '", 'tab\there', '\u00ff\u0100\uffff', 'object.spec', 'oldObject.metadata.x'];
    for (const s of samples) {
      const lit = celString(s);
      expect(lit).toMatch(/^"[\x20-\x7e]*"$/);
      expect(JSON.parse(lit)).toBe(s);
    }
  });

  it('hides autogen-rewritten paths inside strings', () => {
    for (const s of ['object.spec', 'object.metadata', 'oldObject.spec', 'oldObject.metadata', 'x/object.spec.y']) {
      expect(celString(s)).not.toMatch(/object\.spec|object\.metadata|Object\.spec|Object\.metadata/);
    }
    expect(celString('object.spec')).toBe('"object\\u002espec"');
  });

  it('serializes booleans, integers, null, lists and maps', () => {
    expect(celLiteral(true)).toBe('true');
    expect(celLiteral(false)).toBe('false');
    expect(celLiteral(null)).toBe('null');
    expect(celLiteral(0)).toBe('0');
    expect(celLiteral(-0)).toBe('0');
    expect(celLiteral(-42)).toBe('-42');
    expect(celLiteral([])).toBe('[]');
    expect(celLiteral(['a', 'b'])).toBe('["a", "b"]');
    expect(celLiteral([{ min: 1, max: 2 }])).toBe('[{"min": 1, "max": 2}]');
    expect(celLiteral({})).toBe('{}');
    expect(celLiteral({ 'k"ey': ['v'] })).toBe('{"k\\"ey": ["v"]}');
  });

  it('wraps members of heterogeneous aggregates in dyn()', () => {
    expect(celLiteral(['a', 1])).toBe('[dyn("a"), dyn(1)]');
    expect(celLiteral({ a: 1, b: 'x' })).toBe('{"a": dyn(1), "b": dyn("x")}');
    expect(celLiteral([{ a: 1 }, { a: 'x' }])).toBe('[dyn({"a": 1}), dyn({"a": "x"})]');
    expect(celLiteral([[1], [2]])).toBe('[[1], [2]]');
  });

  it('rejects values CEL literals cannot carry exactly', () => {
    expect(() => celLiteral(1.5)).toThrow(/safe integer/);
    expect(() => celLiteral(Number.NaN)).toThrow(/safe integer/);
    expect(() => celLiteral(2 ** 60)).toThrow(/safe integer/);
    expect(() => celLiteral('\ud800')).toThrow(/surrogate/);
    expect(() => celLiteral(undefined as never)).toThrow(/unsupported/);
    expect(() => celLiteral(new Date() as never)).toThrow(/plain object/);
  });

  it('listOr guards against null and mistyped values', () => {
    expect(listOr('x')).toBe('(type(x) == list ? x : [])');
  });
});

const kyverno = findEngine('kyverno');

describe('Kyverno CLI (the pinned engine; test/setup/engines.ts installs it)', () => {
  it('is installed', () => expect(kyverno).toBeDefined());

  /** Runs `kyverno apply` and returns each resource's result keyed by `Kind/name`. */
  function apply(policy: ClusterPolicy, resources: Obj[], extraArgs: string[] = []): Map<string, { rule: string; result: string; message: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-kyverno-'));
    writeFileSync(join(dir, 'policy.yaml'), toYaml(policy));
    writeFileSync(join(dir, 'resources.json'), resources.map((r) => JSON.stringify(r)).join('\n---\n'));
    let out: string;
    let failed = false;
    try {
      out = execFileSync(kyverno!, ['apply', join(dir, 'policy.yaml'), '--resource', join(dir, 'resources.json'), '-p', '--output-format', 'json', ...extraArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      failed = true;
      out = String((e as { stdout?: unknown }).stdout ?? '');
    }
    const start = out.indexOf('{"kind"');
    // No report at all only when no rule applied (and the CLI succeeded).
    // (Kyverno 1.19.1 prints its deprecation warning for the ClusterPolicy first.)
    if (start < 0 && !failed && out.split('\n').every((l) => l.trim() === '' || KYVERNO_LEGACY_DEPRECATION.test(l.trim()))) return new Map();
    expect(start, out.slice(0, 2000)).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(out.slice(start)) as { results?: { rule: string; result: string; message?: string; resources: { kind: string; name: string }[] }[] };
    const byResource = new Map<string, { rule: string; result: string; message: string }>();
    for (const r of report.results ?? []) {
      const res = r.resources[0]!;
      const key = `${res.kind}/${res.name}`;
      expect(byResource.has(key), `two results for ${key}`).toBe(false);
      byResource.set(key, { rule: r.rule, result: r.result, message: r.message ?? '' });
    }
    return byResource;
  }

  const policies = policiesOf(kyvernoBackend(everyControl()));

  // Every sample at several versions, as Pods and through auto-gen, is in test/agreement.test.ts.

  it('image exemptions: exact and prefix patterns; pod-level findings only when every container is exempt', () => {
    const ir = everyControl(['registry.example.com/tools/*', 'docker.io/library/busybox:1.36', `${CANARY}*`]);
    const byId = (id: ControlId) => policiesOf(kyvernoBackend(ir)).find((p) => p.metadata.name === id)!;
    const pod = (name: string, spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' }, spec });
    const c = (name: string, image: string | undefined, extra: Obj = {}): Obj => ({ name, ...(image === undefined ? {} : { image }), ...extra });
    const priv = { securityContext: { privileged: true } };
    const privileged = apply(byId('disallow-privileged-containers'), [
      pod('prefix', { containers: [c('a', 'registry.example.com/tools/x:1', priv), c('b', 'other:1')] }),
      pod('exact', { containers: [c('a', 'docker.io/library/busybox:1.36', priv)] }),
      pod('exact-mismatch', { containers: [c('a', 'docker.io/library/busybox:1.36.1', priv)] }),
      pod('no-image', { containers: [c('a', undefined, priv)] }),
      pod('canary', { containers: [c('a', `${CANARY}:1`, priv)] }),
    ]);
    expect([...privileged].map(([k, v]) => `${k} ${v.result}`).sort()).toEqual([
      'Pod/canary pass',
      'Pod/exact pass',
      'Pod/exact-mismatch fail',
      'Pod/no-image fail',
      'Pod/prefix pass',
    ]);
    const hostNs = apply(byId('disallow-host-namespaces'), [
      pod('all-exempt', { hostPID: true, initContainers: [c('i', 'docker.io/library/busybox:1.36')], containers: [c('a', 'registry.example.com/tools/x:1')] }),
      pod('one-not-exempt', { hostPID: true, containers: [c('a', 'registry.example.com/tools/x:1')], ephemeralContainers: [c('d', 'other:1')] }),
      pod('no-containers', { hostPID: true, containers: [] }),
    ]);
    expect([...hostNs].map(([k, v]) => `${k} ${v.result}`).sort()).toEqual(['Pod/all-exempt pass', 'Pod/no-containers fail', 'Pod/one-not-exempt fail']);
  });

  it('an UPDATE that changes nothing PSA re-evaluates passes (the CLI sets the old object to the new one); DELETE requests are not matched', () => {
    const policy = policies.find((p) => p.metadata.name === 'disallow-privileged-containers')!;
    const s = getControl('disallow-privileged-containers').samples.find((x) => x.operation === 'UPDATE' && x.expect === 'deny')!;
    const create = apply(policy, [s.object as Obj]);
    expect([...create.values()].map((r) => r.result)).toEqual(['fail']);
    const update = apply(policy, [s.object as Obj], ['--set', 'request.operation=UPDATE']);
    expect([...update.values()].map((r) => r.result)).toEqual(['pass']);
    const del = apply(policy, [s.object as Obj], ['--set', 'request.operation=DELETE']);
    expect([...del.values()]).toEqual([]);
  });

  it('absent pod-template metadata (CronJob, Job) does not make annotation checks fail', () => {
    const policy = policiesOf(kyvernoBackend(everyControl())).find((p) => p.metadata.name === 'restrict-apparmor')!;
    const spec = { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] };
    const results = apply(policy, [
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'apps' }, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec } } } } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'job', namespace: 'apps' }, spec: { template: { spec } } },
    ]);
    expect([...results].map(([k, v]) => `${k} ${v.result}`).sort()).toEqual(['CronJob/cj pass', 'Job/job pass']);
  });
});

describe('verify-image-signatures (verifyImages rule)', () => {
  const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra\n-----END PUBLIC KEY-----';
  const options = { images: ['registry.example.com/*', 'ghcr.io/example-org/*'], publicKeys: [PEM], keyless: ['https://issuer.example.com  https://ci.example.com/*'] };
  const policy = (config: Record<string, unknown>): ClusterPolicy => policiesOf(kyvernoBackend(bundle(config))).find((p) => p.metadata.name === 'verify-image-signatures')!;

  it('verifies the listed images against every key and keyless signer, leaves tags as written, fails closed, and is valid against the CRD', () => {
    const p = policy({ controls: { 'verify-image-signatures': { options } } });
    expect(schemaErrors(policyValidator, p)).toEqual([]);
    expect(p.spec.background).toBe(false);
    // The failure policy is stated, never Kyverno's implicit default.
    expect(p.spec.webhookConfiguration).toEqual({ failurePolicy: 'Fail', timeoutSeconds: 30 });
    expect(p.spec.webhookTimeoutSeconds).toBeUndefined();
    const r = p.spec.rules[0]!;
    expect(r.validate).toBeUndefined();
    expect(r.match.any[0]!.resources.kinds).toEqual(['Pod']);
    expect(r.verifyImages).toEqual([
      {
        failureAction: 'Enforce',
        imageReferences: ['ghcr.io/example-org/*', 'registry.example.com/*'],
        attestors: [{ count: 1, entries: [{ keys: { publicKeys: `${PEM}\n` } }, { keyless: { issuer: 'https://issuer.example.com', subject: 'https://ci.example.com/*' } }] }],
        // No mutation by default: a rewritten image would differ from what GitOps applied (permanent drift).
        mutateDigest: false,
        verifyDigest: false,
        required: true,
      },
    ]);
  });

  it('failOpen states failurePolicy Ignore; mutateDigest true pins and requires digests', () => {
    const p = policy({ controls: { 'verify-image-signatures': { options: { ...options, failOpen: true, mutateDigest: true } } } });
    expect(schemaErrors(policyValidator, p)).toEqual([]);
    expect(p.spec.webhookConfiguration).toEqual({ failurePolicy: 'Ignore', timeoutSeconds: 30 });
    expect(p.spec.rules[0]!.verifyImages![0]).toMatchObject({ mutateDigest: true, verifyDigest: true });
    // The failure policy is policy-wide: a namespace that keeps failing closed keeps the whole policy closed.
    const mixed = policy({ controls: { 'verify-image-signatures': { options: { ...options, failOpen: true } } }, namespaces: { payments: { controls: { 'verify-image-signatures': { options: { failOpen: false } } } } } });
    expect(mixed.spec.rules).toHaveLength(2);
    expect(mixed.spec.webhookConfiguration!.failurePolicy).toBe('Fail');
  });

  it('maps modes, image exceptions and the transparency-log switch', () => {
    const p = policy({
      controls: { 'verify-image-signatures': { mode: 'warn', options: { ...options, transparencyLog: false, mutateDigest: false } } },
      exceptions: [{ control: 'verify-image-signatures', namespaces: ['ci'], images: ['registry.example.com/scratch/*'], reason: 'r', expires: '2027-06-01' }],
    });
    expect(schemaErrors(policyValidator, p)).toEqual([]);
    expect(p.spec.emitWarning).toBe(true);
    const [cluster, ci] = p.spec.rules;
    expect(cluster!.verifyImages![0]!.failureAction).toBe('Audit');
    expect(cluster!.verifyImages![0]!.skipImageReferences).toBeUndefined();
    expect(ci!.match.any[0]!.resources.namespaces).toEqual(['ci']);
    expect(ci!.verifyImages![0]!.skipImageReferences).toEqual(['registry.example.com/scratch/*']);
    expect(ci!.verifyImages![0]!.mutateDigest).toBe(false);
    expect(ci!.verifyImages![0]!.verifyDigest).toBe(false);
    for (const e of ci!.verifyImages![0]!.attestors[0]!.entries) {
      const a = (e.keys ?? e.keyless)!;
      expect(a.rekor).toEqual({ ignoreTlog: true });
      expect(a.ctlog).toEqual({ ignoreSCT: true });
    }
  });
});
