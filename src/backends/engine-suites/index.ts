/**
 * Engine-native test suites shipped in the bundle, from the same samples every engine is checked with:
 * `gator verify <cluster>/gatekeeper` and `kyverno test <cluster>/kyverno` run them with no other file.
 * Samples exercise each control's template/rule with its PSS default parameters (dedicated constraints and
 * policies, so the config's own scopes and options do not change what a sample proves).
 */
import type { BundleIR, ControlInstance } from '../../ir/types.js';
import { paramsFor } from '../../ir/lower.js';
import { getControl, type ControlId } from '../../controls/index.js';
import type { BackendFile } from '../types.js';
import { constraint } from '../gatekeeper/emitters.js';
import { RC_SUFFIX, autogenRuleName, clusterPolicy, policyNameFor, validatingPolicies } from '../kyverno/index.js';
import type { ClusterPolicy, ValidatingPolicy } from '../kyverno/types.js';
import { suiteCases, type SuiteCase } from './samples.js';
import { CLUSTER_SCOPED_KINDS, gvkOf, podsOf, type Obj } from '../../eval/review.js';
import { checkableOffline, implementedBy, targetKinds } from '../../controls/types.js';
import { matchesPattern } from '../../names.js';
import type { FixtureInputs } from '../../config/fixtures.js';
import type { KubernetesVersion } from '../../pss/versions.js';
import { HEADER } from '../../emit/yaml.js';

export function engineSuitesBackend(ir: BundleIR, kyvernoControls: ReadonlySet<ControlId>, fixtures?: FixtureInputs): BackendFile[] {
  // Controls with samples (verify-image-signatures has none: its checks need a registry); the Gatekeeper
  // suite only has controls Gatekeeper can express.
  const controls = ir.controls.map((c) => c.control).filter((id) => checkableOffline(getControl(id)));
  const cases = suiteCases(controls, ir.version);
  const inst = (id: ControlId): ControlInstance => sampleInstance(id, ir.version);
  const fx = fixtureCases(ir, fixtures);
  const vp = ir.cluster.kyvernoPolicyType === 'ValidatingPolicy';
  return [
    ...gatekeeperSuite(controls.filter((id) => implementedBy(getControl(id), 'gatekeeper')), cases, inst, fx.filter((f) => implementedBy(getControl(f.control), 'gatekeeper'))),
    ...(vp
      ? kyvernoValidatingSuite(controls.filter((c) => kyvernoControls.has(c)), cases, ir.version)
      : kyvernoSuite(controls.filter((c) => kyvernoControls.has(c)), cases, inst, ir.version)),
    ...kyvernoFixtureSuite(
      fx.filter((c) => kyvernoControls.has(c.control)),
      vp ? ir.cluster.exceptions.some((e) => e.images?.length && !e.allow) : ir.controls.some((c) => c.instances.some((i) => i.exemptNames.length)),
      vp,
    ),
  ];
}

/** One expectation of a user fixture: a resource, a control, the instance that applies in its namespace. */
interface FixtureCase {
  readonly control: ControlId;
  readonly instance: ControlInstance;
  /** The Kyverno policy holding the instance's rule. */
  readonly policy: string;
  readonly file: string;
  readonly object: Obj;
  readonly kind: string;
  readonly expect: 'allow' | 'deny';
}

/**
 * The user's fixtures, per control expectation, bound to the bundle's own constraint/rule for the resource's
 * namespace (namespace-less Pods and workloads count as `default`, as in `kubeharden test`). Expectations
 * where no instance applies are checked by `kubeharden test` only: no engine policy exists to run.
 */
function fixtureCases(ir: BundleIR, fixtures: FixtureInputs | undefined): FixtureCase[] {
  if (!fixtures) return [];
  const out: FixtureCase[] = [];
  const seen = new Set<string>();
  for (const fx of ir.cluster.fixtures) {
    const objects = fixtures.get(fx.file) ?? [];
    objects.forEach((o, i) => {
      const isPod = podsOf(o, 'default').length > 0;
      const gvk = gvkOf(o);
      // A control applies to a fixture of its target kinds, or (a pod control) to a Pod or workload.
      const applies = (id: ControlId): boolean => {
        const kinds = targetKinds(getControl(id));
        return kinds ? kinds.some((k) => k.kind === gvk.kind && k.group === gvk.group) : isPod;
      };
      if (!isPod && !ir.controls.some((c) => applies(c.control))) return;
      const md = (o['metadata'] ?? {}) as Obj;
      const clusterScoped = CLUSTER_SCOPED_KINDS.has(gvk.kind);
      const namespace = clusterScoped ? undefined : typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
      const file = `${fx.file.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${i}.yaml`;
      const object: Obj = namespace === undefined ? o : { ...o, metadata: { ...md, namespace } };
      const expectations: [ControlId, 'allow' | 'deny'][] =
        fx.expect === 'allow' ? ir.controls.map((c) => [c.control, 'allow']) : (Object.entries(fx.expect) as [ControlId, 'allow' | 'deny'][]);
      for (const [control, expect] of expectations) {
        if (!applies(control) || !checkableOffline(getControl(control))) continue;
        const c = ir.controls.find((x) => x.control === control);
        // Cluster-scoped objects: only the cluster-wide instance (no namespace list) applies.
        const instance = c?.instances.find((inst) =>
          namespace === undefined ? !inst.scope.include : inst.scope.include ? inst.scope.include.includes(namespace) : !inst.scope.exclude.includes(namespace),
        );
        if (!instance) continue;
        const key = `${file}|${control}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ control, instance, policy: policyNameFor(control, instance, c!.instances), file, object, kind: String(o['kind']), expect });
      }
    });
  }
  return out;
}

/**
 * The instance samples are checked with: the control's defaults at `version` (PSS defaults for PSS
 * controls; `sampleOptions` over them where a required option has no default), everywhere, enforced.
 */
export function sampleInstance(id: ControlId, version: KubernetesVersion): ControlInstance {
  return {
    name: `${id}-samples`,
    mode: 'enforce',
    params: paramsFor(id, { ...getControl(id).defaults(version), ...getControl(id).sampleOptions } as never, version),
    exemptImages: [],
    exemptNames: [],
    allowances: [],
    scope: { exclude: [] },
  };
}

/** Sample policies are named apart from the bundle's own, so applying one set never replaces the other. */
export function samplePolicyName(id: ControlId): string {
  return `${id}-samples`;
}

function samplePolicy(id: ControlId, instance: ControlInstance, version: string): ClusterPolicy | undefined {
  const p = clusterPolicy(id, [instance], version);
  return p && { ...p, metadata: { ...p.metadata, name: samplePolicyName(id) } };
}

/**
 * The sample ValidatingPolicies of a control: those of its sample instance (named `<id>-samples`, so apart from
 * the bundle's own; the ReplicationController and ephemeral-container policies carry that name as prefix).
 */
export function sampleValidatingPolicies(id: ControlId, version: KubernetesVersion): ValidatingPolicy[] | undefined {
  return validatingPolicies(id, [sampleInstance(id, version)], version);
}

/**
 * Sample constraints and policies for `controls` at `version` (what the suites ship): `policies` the
 * ClusterPolicies, `validatingPolicies` each control's ValidatingPolicies (in the order of `controls`).
 */
export function sampleArtifacts(controls: readonly ControlId[], version: KubernetesVersion): { constraints: object[]; policies: object[]; validatingPolicies: ValidatingPolicy[][] } {
  return {
    constraints: controls.map((id) => constraint(id, sampleInstance(id, version))),
    policies: controls.map((id) => samplePolicy(id, sampleInstance(id, version), version)).filter((p) => p !== undefined),
    validatingPolicies: controls.map((id) => sampleValidatingPolicies(id, version)).filter((p) => p !== undefined),
  };
}

function gatekeeperSuite(controls: readonly ControlId[], cases: readonly SuiteCase[], inst: (id: ControlId) => ControlInstance, fixtures: readonly FixtureCase[]): BackendFile[] {
  const files: BackendFile[] = [];
  const tests: object[] = controls.map((id) => {
    files.push({ path: `gatekeeper/samples/${id}/constraint.yaml`, objects: [constraint(id, inst(id))] });
    const own = cases.filter((c) => c.control === id);
    const seen = new Set<string>();
    for (const c of own) {
      // Two cases in one file would make the suite test one of them twice and the other never.
      if (seen.has(caseFile(c))) throw new Error(`gatekeeper suite: two samples of ${id} share the file ${caseFile(c)}`);
      seen.add(caseFile(c));
      files.push({ path: `gatekeeper/samples/${id}/${caseFile(c)}`, objects: [c.oldObject ? admissionReview(c) : c.object] });
    }
    return {
      name: id,
      template: `templates/${id}.yaml`,
      constraint: `samples/${id}/constraint.yaml`,
      expansion: 'expansion.yaml',
      cases: own.map((c) => ({ name: c.name, object: `samples/${id}/${caseFile(c)}`, assertions: [{ violations: c.expect === 'deny' ? 'yes' : 'no' }] })),
    };
  });
  // Fixtures: one test per constraint (the bundle's own, for the fixture's namespace).
  const written = new Set<string>();
  const byInstance = new Map<string, FixtureCase[]>();
  for (const f of fixtures) byInstance.set(f.instance.name, [...(byInstance.get(f.instance.name) ?? []), f]);
  for (const [name, list] of [...byInstance].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const id = list[0]!.control;
    files.push({ path: `gatekeeper/samples/fixtures/constraints/${name}.yaml`, objects: [constraint(id, list[0]!.instance)] });
    for (const f of list) {
      if (!written.has(f.file)) files.push({ path: `gatekeeper/samples/fixtures/${f.file}`, objects: [f.object] });
      written.add(f.file);
    }
    tests.push({
      name: `fixtures-${name}`,
      template: `templates/${id}.yaml`,
      constraint: `samples/fixtures/constraints/${name}.yaml`,
      expansion: 'expansion.yaml',
      cases: list.map((f) => ({ name: f.file.replace(/\.yaml$/, ''), object: `samples/fixtures/${f.file}`, assertions: [{ violations: f.expect === 'deny' ? 'yes' : 'no' }] })),
    });
  }
  files.push({ path: 'gatekeeper/suite.yaml', objects: [{ apiVersion: 'test.gatekeeper.sh/v1alpha1', kind: 'Suite', metadata: { name: 'kubeharden-samples' }, tests }] });
  return files;
}

function excepted(f: FixtureCase): boolean {
  const name = String((f.object['metadata'] as Obj)['name'] ?? '');
  return f.instance.exemptNames.some((p) => matchesPattern(p, name));
}

/**
 * Fixtures against the bundle's own Kyverno policies, in a Test of their own (`kyverno test` finds it). With
 * ValidatingPolicies (`vp`), results name the policy of the instance (ReplicationControllers: its own policy)
 * and no rule; an exception by name (a matchCondition) turns the result into `skip`, as the v2
 * PolicyException does for a ClusterPolicy rule; v1 PolicyExceptions (by image) load through `exceptions:`.
 */
function kyvernoFixtureSuite(fixtures: readonly FixtureCase[], withExceptions: boolean, vp = false): BackendFile[] {
  if (!fixtures.length) return [];
  const results = fixtures.map((f) => {
    const md = f.object['metadata'] as Obj;
    const result = excepted(f) ? 'skip' : f.expect === 'deny' ? 'fail' : 'pass';
    if (vp) return { policy: validatingPolicyFor(f.instance.name, f.kind), isValidatingPolicy: true, kind: f.kind, resources: [resourceRef(md)], result };
    return {
      policy: f.policy,
      rule: ruleFor(f.control, f.instance.name, f.kind),
      kind: f.kind,
      resources: [resourceRef(md)],
      // A PolicyException (exception by name) turns the rule's result into `skip`.
      result,
    };
  });
  const objects = new Map<string, Obj>();
  for (const f of fixtures) objects.set(f.file, f.object);
  return [
    { path: 'kyverno/samples/fixtures/resources.yaml', objects: [...objects.values()] },
    {
      path: 'kyverno/samples/fixtures/kyverno-test.yaml',
      objects: [
        {
          apiVersion: 'cli.kyverno.io/v1alpha1',
          kind: 'Test',
          metadata: { name: 'kubeharden-fixtures' },
          policies: [...new Set(fixtures.map((f) => `../../${f.control}.yaml`))].sort(),
          resources: ['resources.yaml'],
          ...(withExceptions ? { exceptions: ['../../exceptions.yaml'] } : {}),
          results,
        },
      ],
    },
  ];
}

/** The ValidatingPolicy of an instance that checks `kind` (a ReplicationController has a policy of its own). */
function validatingPolicyFor(instance: string, kind: string): string {
  return kind === 'ReplicationController' ? `${instance}${RC_SUFFIX}` : instance;
}

/**
 * One `kyverno test` suite per control (kyverno/samples/<id>/) with the control's sample ValidatingPolicies:
 * results carry `isValidatingPolicy: true` and no rule. The 1.19 CLI gives a ValidatingPolicy the operation
 * only globally and copies the object as its old object, so every sample, UPDATE samples too, is checked as
 * its object on its own (`expectPlain`); the agreement matrix and the WASM evaluation prove the UPDATE verdicts.
 */
function kyvernoValidatingSuite(controls: readonly ControlId[], cases: readonly SuiteCase[], version: KubernetesVersion): BackendFile[] {
  const files: BackendFile[] = [];
  for (const id of controls) {
    const policies = sampleValidatingPolicies(id, version);
    const own = cases.filter((c) => c.control === id);
    if (!policies || !own.length) continue;
    const groups = new Map<string, { policy: string; kind: string; result: 'pass' | 'fail'; resources: string[] }>();
    for (const c of own) {
      const objectName = String((c.object['metadata'] as Obj)['name']);
      const result = c.expectPlain === 'deny' ? 'fail' : 'pass';
      const key = `${c.kind}/${result}`;
      const g = groups.get(key) ?? { policy: validatingPolicyFor(samplePolicyName(id), c.kind), kind: c.kind, result, resources: [] };
      const ns = (c.object['metadata'] as Obj)['namespace'];
      g.resources.push(CLUSTER_SCOPED_KINDS.has(c.kind) ? objectName : `${typeof ns === 'string' ? ns : 'default'}/${objectName}`);
      groups.set(key, g);
    }
    const results = [...groups.values()]
      .sort((a, b) => (a.kind + a.result < b.kind + b.result ? -1 : 1))
      .map((g) => ({ policy: g.policy, isValidatingPolicy: true, kind: g.kind, resources: g.resources.sort(), result: g.result }));
    const dir = `kyverno/samples/${id}`;
    files.push(
      { path: `${dir}/policy.yaml`, objects: policies },
      { path: `${dir}/resources.yaml`, objects: own.map((c) => c.object) },
      {
        path: `${dir}/kyverno-test.yaml`,
        objects: [{ apiVersion: 'cli.kyverno.io/v1alpha1', kind: 'Test', metadata: { name: `${id}-samples` }, policies: ['policy.yaml'], resources: ['resources.yaml'], results }],
      },
    );
  }
  return files;
}

/**
 * The rule `kyverno test` reports a resource under: a pod control's auto-gen rule for a workload, the rule
 * itself for a Pod or for the kinds of a non-pod control (no auto-gen; a wrong name would make
 * `kyverno test` report the result as excluded instead of evaluating it).
 */
function ruleFor(id: ControlId, rule: string, kind: string): string {
  return targetKinds(getControl(id)) ? rule : autogenRuleName(rule, kind);
}

/** How `kyverno test` names a resource: `namespace/name`, or `name` for a cluster-scoped one. */
function resourceRef(md: Obj): string {
  return typeof md['namespace'] === 'string' ? `${md['namespace']}/${String(md['name'])}` : String(md['name']);
}

/** `<sample>.yaml`, or `<sample>.<kind>.yaml` for a workload variant (its object name may be shortened). */
function caseFile(c: SuiteCase): string {
  return c.kind === String(c.sample.object['kind']) ? `${c.sample.name}.yaml` : `${c.sample.name}.${c.kind.toLowerCase()}.yaml`;
}

function resourceOf(c: SuiteCase): { group: string; version: string; resource: string } {
  const gvk = gvkOf(c.object);
  const k = targetKinds(getControl(c.control))?.find((x) => x.kind === gvk.kind && x.group === gvk.group);
  return { group: gvk.group, version: gvk.version, resource: k?.resource ?? 'pods' };
}

/** UPDATE samples (ephemeral containers, changes of running Pods or other objects) go to gator as an AdmissionReview carrying the operation. */
function admissionReview(c: SuiteCase): Obj {
  const md = c.object['metadata'] as Obj;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `kubeharden-${c.name}`,
      kind: gvkOf(c.object),
      resource: resourceOf(c),
      ...(c.sample.subResource ? { subResource: c.sample.subResource } : c.kind === 'Pod' ? { subResource: 'ephemeralcontainers' } : {}),
      name: md['name'],
      namespace: md['namespace'],
      operation: c.sample.operation ?? 'UPDATE',
      userInfo: { username: 'kubeharden-samples' },
      object: c.object,
      oldObject: c.oldObject,
    },
  };
}


/**
 * One `kyverno test` suite per control (kyverno/samples/<id>/): its sample policy, its samples, the expected
 * result of each. `kyverno test <cluster>/kyverno` finds every suite; each applies one policy to its own
 * samples, as the Kyverno CLI's cost grows with policies × resources. UPDATE samples are evaluated as
 * UPDATEs with their old object: values.yaml sets `request.operation` and `request.oldObject` for them (the
 * CLI reads both back from its context, see `oldObjectValue`). Kyverno's CEL never sees a subresource (request.subResource is
 * empty even in the cluster), so a subresource sample is evaluated as the UPDATE it carries.
 */
function kyvernoSuite(controls: readonly ControlId[], cases: readonly SuiteCase[], inst: (id: ControlId) => ControlInstance, version: string): BackendFile[] {
  const files: BackendFile[] = [];
  for (const id of controls) {
    const policy = samplePolicy(id, inst(id), version);
    const own = cases.filter((c) => c.control === id);
    if (!policy || !own.length) continue;
    const rule = inst(id).name;
    const groups = new Map<string, { kind: string; rule: string; result: 'pass' | 'fail'; resources: string[] }>();
    const updates: { name: string; values: Obj }[] = [];
    for (const c of own) {
      const objectName = String((c.object['metadata'] as Obj)['name']);
      if (c.oldObject) updates.push({ name: objectName, values: { 'request.operation': c.sample.operation ?? 'UPDATE', 'request.oldObject': oldObjectValue(c.oldObject, c.object) } });
      const result = (c.oldObject ? c.expect : c.expectPlain) === 'deny' ? 'fail' : 'pass';
      const key = `${c.kind}/${result}`;
      const g = groups.get(key) ?? { kind: c.kind, rule: ruleFor(id, rule, c.kind), result, resources: [] };
      // The Kyverno CLI puts namespaced resources without a namespace in `default`.
      const ns = (c.object['metadata'] as Obj)['namespace'];
      g.resources.push(CLUSTER_SCOPED_KINDS.has(c.kind) ? objectName : `${typeof ns === 'string' ? ns : 'default'}/${objectName}`);
      groups.set(key, g);
    }
    const results = [...groups.values()]
      .sort((a, b) => (a.kind + a.result < b.kind + b.result ? -1 : 1))
      .map((g) => ({ policy: samplePolicyName(id), rule: g.rule, kind: g.kind, resources: g.resources.sort(), result: g.result }));
    const dir = `kyverno/samples/${id}`;
    if (new Set(updates.map((u) => u.name)).size !== updates.length) throw new Error(`kyverno suite ${id}: two UPDATE samples share an object name`);
    files.push(
      { path: `${dir}/policy.yaml`, objects: [policy] },
      { path: `${dir}/resources.yaml`, objects: own.map((c) => c.object) },
      ...(updates.length
        ? [{ path: `${dir}/values.yaml`, text: valuesText({ apiVersion: 'cli.kyverno.io/v1alpha1', kind: 'Value', metadata: { name: `${id}-samples` }, policies: [{ name: samplePolicyName(id), resources: updates }] }) }]
        : []),
      {
        path: `${dir}/kyverno-test.yaml`,
        objects: [
          {
            apiVersion: 'cli.kyverno.io/v1alpha1',
            kind: 'Test',
            metadata: { name: `${id}-samples` },
            policies: ['policy.yaml'],
            resources: ['resources.yaml'],
            ...(updates.length ? { variables: 'values.yaml' } : {}),
            results,
          },
        ],
      },
    );
  }
  return files;
}

/**
 * The values file as JSON (a YAML subset the Kyverno CLI reads): it needs the nulls of `oldObjectValue`,
 * which the YAML serializer drops.
 */
function valuesText(values: Obj): string {
  return `${HEADER}\n${JSON.stringify(values, null, 2)}\n`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The old object as a `request.oldObject` value. The Kyverno CLI starts the old object of an UPDATE as a copy
 * of the new one and merges the value into it (maps merged key by key, anything else replaced), so every key
 * the new object has at any map depth and the old one lacks is written as null: the rules read absent and
 * null alike (`.?x.orValue(…)`).
 */
export function oldObjectValue(old: Obj, now: Obj): Obj {
  const out: Obj = { ...old };
  for (const k of Object.keys(now)) {
    if (!(k in old)) out[k] = null;
    else if (isObj(old[k]) && isObj(now[k])) out[k] = oldObjectValue(old[k] as Obj, now[k] as Obj);
  }
  return out;
}

