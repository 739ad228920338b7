/**
 * The `policies.kyverno.io/v1` output (config `kyverno.policyType: 'ValidatingPolicy'`): one ValidatingPolicy per
 * control instance with the action of its mode, scoped by namespace selector, autogen on for pod controls (one
 * pod rule, nothing excluded by rule), ReplicationController and ephemeral containers by policies of their own,
 * exceptions by name in matchConditions, exceptions by image as v1 PolicyExceptions the CEL reads through
 * `exceptions.allowedImages`; user values only as CEL literals. The engines' verdicts on these policies are in
 * agreement.test.ts and exception-scope.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.js';
import { lowerCluster } from '../src/ir/lower.js';
import type { BundleIR } from '../src/ir/types.js';
import { getControl, type ControlId } from '../src/controls/index.js';
import { targetKinds } from '../src/controls/types.js';
import { kyvernoBackend } from '../src/backends/kyverno/index.js';
import { AUTOGEN_CONTROLLERS } from '../src/backends/kyverno/validating-policy.js';
import type { ClusterPolicy, Kustomization, PolicyExceptionV1, ValidatingPolicy } from '../src/backends/kyverno/types.js';
import type { BackendFile, ObjectsFile } from '../src/backends/types.js';
import { parseKyvernoOutput } from '../src/eval/engines.js';

function bundle(config: Record<string, unknown>, policyType: 'ValidatingPolicy' | 'ClusterPolicy' | undefined = 'ValidatingPolicy'): BundleIR {
  const r = resolveConfig({ profile: 'pss-restricted', kubernetesVersion: '1.37', ...(policyType ? { kyverno: { policyType } } : {}), ...config }, { today: '2026-11-26' });
  expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return lowerCluster(r.config!.clusters[0]!);
}

const objectsOf = (files: readonly BackendFile[]): ObjectsFile[] => files.filter((f): f is ObjectsFile => 'objects' in f);
const all = (files: readonly BackendFile[]) => objectsOf(files).flatMap((f) => f.objects as { kind: string; apiVersion: string; metadata: { name: string } }[]);
const vpsOf = (files: readonly BackendFile[]): ValidatingPolicy[] => all(files).filter((o): o is ValidatingPolicy => o.kind === 'ValidatingPolicy');
const byName = (files: readonly BackendFile[], name: string): ValidatingPolicy => {
  const p = vpsOf(files).find((x) => x.metadata.name === name);
  expect(p, name).toBeDefined();
  return p!;
};

const CANARY = 'canary"\\ object.spec {{x}}\n}) || true || ({';
const config = {
  exemptNamespaces: ['kube-system'],
  controls: { 'disallow-privileged-containers': 'warn', 'disallow-nodeport-services': true, 'restrict-rbac-wildcards': true, 'block-ephemeral-containers': true, 'enforce-psa-namespace-labels': true },
  namespaces: {
    ops: { controls: { 'disallow-privileged-containers': 'audit' } },
    'team-a': { controls: { 'disallow-privileged-containers': 'enforce', 'restrict-rbac-wildcards': 'audit' } },
  },
  exceptions: [
    { control: ['disallow-privileged-containers', 'disallow-host-namespaces'], namespaces: ['team-a'], images: [`${CANARY}*`, 'registry.example.com/debug/*'], reason: 'debug shells', expires: '2027-06-01' },
    { control: 'require-run-as-non-root', images: ['registry.example.com/csi/*'], reason: 'CSI driver', expires: '2027-03-01' },
    { control: 'disallow-privileged-containers', namespaces: ['ops'], names: ['agent', 'agent-*', 'node.agent'], reason: 'node agent', expires: '2027-06-01' },
  ],
};

describe('ValidatingPolicy output', () => {
  it("'ClusterPolicy' keeps the legacy kinds; 'ValidatingPolicy' has no ClusterPolicy besides image verification", () => {
    const legacy = all(kyvernoBackend(bundle(config, 'ClusterPolicy')));
    expect(legacy.some((o) => o.kind === 'ValidatingPolicy' || o.apiVersion === 'policies.kyverno.io/v1')).toBe(false);
    const ir = bundle(config);
    const files = kyvernoBackend(ir);
    const cps = all(files).filter((o) => o.kind === 'ClusterPolicy') as ClusterPolicy[];
    // Only signature verification (ImageValidatingPolicy: another part of the backend) and generate rules.
    for (const p of cps) expect(p.spec.rules.every((r) => r.validate === undefined), p.metadata.name).toBe(true);
    const k = objectsOf(files).find((f) => f.path === 'kyverno/kustomization.yaml')!.objects[0] as Kustomization;
    expect(k.resources).toContain('exceptions.yaml');
    expect(k.resources).toContain('disallow-privileged-containers.yaml');
  });

  it('one policy per instance, with the action of its mode and its namespaces as selector', () => {
    const files = kyvernoBackend(bundle(config));
    const cluster = byName(files, 'disallow-privileged-containers');
    expect(cluster.spec.validationActions).toEqual(['Warn']);
    expect(cluster.spec.matchConstraints.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: expect.arrayContaining(['kube-system', 'ops', 'team-a']) }] });
    expect(byName(files, 'disallow-privileged-containers-ns-ops').spec.validationActions).toEqual(['Audit']);
    const team = byName(files, 'disallow-privileged-containers-ns-team-a');
    expect(team.spec.validationActions).toEqual(['Deny']);
    expect(team.spec.matchConstraints.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a'] }] });
    for (const p of vpsOf(files)) {
      expect(p.spec.evaluation.background.enabled, p.metadata.name).toBe(!p.metadata.name.endsWith('.ephemeralcontainers'));
      expect(p.spec.validationActions).toHaveLength(1);
      expect(p.spec.matchConstraints).not.toHaveProperty('excludeResourceRules');
      expect(p.spec.matchConstraints).not.toHaveProperty('objectSelector');
      for (const r of p.spec.matchConstraints.resourceRules) {
        expect(r).not.toHaveProperty('resourceNames');
        expect(r.operations.every((o) => o === 'CREATE' || o === 'UPDATE')).toBe(true);
      }
    }
  });

  it('pod controls: exactly one pods rule and the six autogen controllers; ReplicationController and ephemeral containers by policies of their own', () => {
    const files = kyvernoBackend(bundle(config));
    const pod = byName(files, 'disallow-privileged-containers');
    expect(pod.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'] }]);
    expect(pod.spec.autogen).toEqual({ podControllers: { controllers: ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'replicasets', 'statefulsets'] } });
    expect(AUTOGEN_CONTROLLERS).not.toContain('replicationcontrollers');
    const rc = byName(files, 'disallow-privileged-containers.replicationcontrollers');
    expect(rc.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], resources: ['replicationcontrollers'], operations: ['CREATE', 'UPDATE'] }]);
    expect(rc.spec).not.toHaveProperty('autogen');
    expect(rc.spec.validationActions).toEqual(pod.spec.validationActions);
    expect(rc.spec.matchConstraints.namespaceSelector).toEqual(pod.spec.matchConstraints.namespaceSelector);
    // Every pod path moved into the template; nothing else changed.
    const text = JSON.stringify(rc.spec.variables) + JSON.stringify(rc.spec.validations);
    expect(text).toContain('object.spec.template.spec.?containers');
    expect(text.replaceAll('object.spec.template.spec', '').replaceAll('oldObject.spec.template.spec', '')).not.toMatch(/\b(object|oldObject)\.spec\b/);
    expect(rc.spec.validations.map((v) => v.message)).toEqual(pod.spec.validations.map((v) => v.message));
    const eph = byName(files, 'disallow-privileged-containers.ephemeralcontainers');
    expect(eph.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], operations: ['UPDATE'] }]);
    expect(eph.spec).not.toHaveProperty('autogen');
    expect(eph.spec.validations).toEqual(pod.spec.validations);
    expect(byName(files, 'block-ephemeral-containers.ephemeralcontainers').spec.validationActions).toEqual(['Deny']);
  });

  it('non-pod controls match their kinds (and subresources); a namespace-scoped instance skips cluster-scoped objects', () => {
    const files = kyvernoBackend(bundle(config));
    const np = byName(files, 'disallow-nodeport-services');
    expect(np.spec.matchConstraints.resourceRules.map((r) => r.resources)).toEqual([['services']]);
    expect(np.spec).not.toHaveProperty('autogen');
    expect(vpsOf(files).some((p) => p.metadata.name.startsWith('disallow-nodeport-services.'))).toBe(false);
    const ns = byName(files, 'restrict-rbac-wildcards-ns-team-a');
    expect(ns.spec.matchConditions).toEqual([{ name: 'namespaced-objects-only', expression: expect.stringContaining("object.kind == 'Namespace'") }]);
    expect(byName(files, 'restrict-rbac-wildcards').spec).not.toHaveProperty('matchConditions');
    for (const id of ['enforce-psa-namespace-labels'] as ControlId[]) {
      const kinds = targetKinds(getControl(id))!;
      const subs = getControl(id).target?.subresources ?? [];
      expect(byName(files, id).spec.matchConstraints.resourceRules.map((r) => r.resources)).toEqual(kinds.map((k) => [k.resource, ...subs.map((s) => `${k.resource}/${s}`)]));
    }
  });

  it('exceptions by name: a matchCondition on the object’s own name (never rewritten by autogen), the names as CEL literals', () => {
    const files = kyvernoBackend(bundle(config));
    const ops = byName(files, 'disallow-privileged-containers-ns-ops');
    expect(ops.spec.matchConditions).toHaveLength(1);
    const e = ops.spec.matchConditions![0]!.expression;
    expect(e).toContain("object.?metadata.?name.orValue('')");
    expect(e).not.toMatch(/object\.metadata/);
    expect(e).not.toContain('{{');
    expect(e).toContain('"agent-*"');
    for (const name of ['disallow-privileged-containers-ns-ops.replicationcontrollers', 'disallow-privileged-containers-ns-ops.ephemeralcontainers']) {
      expect(byName(files, name).spec.matchConditions).toEqual(ops.spec.matchConditions);
    }
    // No PolicyException for names (v1 ones are for images only), and no v2 ones.
    const exceptions = all(files).filter((o) => o.kind === 'PolicyException') as PolicyExceptionV1[];
    expect(exceptions.every((x) => x.apiVersion === 'policies.kyverno.io/v1' && x.spec.images.length > 0)).toBe(true);
  });

  it('exceptions by image: v1 PolicyExceptions with policyRefs, namespaces, images, expiresAt and the reason; the CEL reads exceptions.allowedImages', () => {
    const files = kyvernoBackend(bundle(config));
    const exceptions = objectsOf(files).find((f) => f.path === 'kyverno/exceptions.yaml')!.objects as PolicyExceptionV1[];
    expect(exceptions.map((x) => x.spec.properties['reason'])).toEqual(expect.arrayContaining(['debug shells', 'CSI driver']));
    expect(exceptions).toHaveLength(2);
    const debug = exceptions.find((x) => x.spec.properties['reason'] === 'debug shells')!;
    expect(debug.metadata.namespace).toBe('kyverno');
    expect(debug.spec.images).toEqual([`${CANARY}*`, 'registry.example.com/debug/*']);
    expect(debug.spec.expiresAt).toBe('2027-06-01T23:59:59Z');
    expect(debug.spec.properties).toEqual({ reason: 'debug shells', expires: '2027-06-01' });
    // Every policy of the instances in team-a of both controls (namespace scoped), none elsewhere.
    expect(debug.spec.policyRefs.map((r) => `${r.kind}/${r.name}`)).toEqual(
      [
        'disallow-host-namespaces-ns-team-a',
        'disallow-host-namespaces-ns-team-a.ephemeralcontainers',
        'disallow-host-namespaces-ns-team-a.replicationcontrollers',
        'disallow-privileged-containers-ns-team-a',
        'disallow-privileged-containers-ns-team-a.ephemeralcontainers',
        'disallow-privileged-containers-ns-team-a.replicationcontrollers',
      ].map((n) => `ValidatingPolicy/${n}`),
    );
    expect(debug.spec.matchConditions).toEqual([{ name: 'in-namespaces', expression: 'request.namespace in ["team-a"]' }]);
    const csi = exceptions.find((x) => x.spec.properties['reason'] === 'CSI driver')!;
    expect(csi.spec).not.toHaveProperty('matchConditions');
    expect(csi.spec.expiresAt).toBe('2027-03-01T23:59:59Z');
    expect(csi.spec.policyRefs.map((r) => r.name)).toEqual(['require-run-as-non-root', 'require-run-as-non-root.ephemeralcontainers', 'require-run-as-non-root.replicationcontrollers']);
    // Policy names exist; the policies read the images from the exceptions, never as literals.
    const names = new Set(vpsOf(files).map((p) => p.metadata.name));
    for (const x of exceptions) for (const r of x.spec.policyRefs) expect(names.has(r.name), r.name).toBe(true);
    for (const p of vpsOf(files)) {
      const v = p.spec.variables.find((x) => x.name === 'exemptImages');
      if (!targetKinds(getControl(p.metadata.annotations['kubeharden.io/control'] as ControlId))) expect(v, p.metadata.name).toEqual({ name: 'exemptImages', expression: 'exceptions.allowedImages' });
      expect(JSON.stringify(p)).not.toContain('registry.example.com/debug');
    }
  });

  it('names carry a dot, which no instance name has: no policy name collides with a namespace named like a suffix', () => {
    const ir = bundle({ namespaces: { replicationcontrollers: { controls: { 'disallow-privileged-containers': 'audit' } } } });
    const names = vpsOf(kyvernoBackend(ir)).map((p) => p.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('disallow-privileged-containers-ns-replicationcontrollers');
    expect(names).toContain('disallow-privileged-containers.replicationcontrollers');
  });
});

describe('parseKyvernoOutput with ValidatingPolicies', () => {
  const vp = (name: string, action: string, extra: object = {}) => ({
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ValidatingPolicy',
    metadata: { name, annotations: { 'kubeharden.io/control': 'c' } },
    spec: { validationActions: [action], matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'] }] }, ...extra },
  });
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' } });
  const result = (policy: string, r: string, name: string, message = r === 'fail' ? 'bad' : r) => ({ source: 'KyvernoValidatingPolicy', policy, result: r, message, resources: [{ kind: 'Pod', namespace: 'apps', name }] });
  const out = (results: object[]) => ({ code: results.some((r) => (r as { result: string }).result === 'fail') ? 1 : 0, stderr: '', stdout: JSON.stringify({ kind: 'ClusterReport', results }) });

  it('takes the action from validationActions; a skip by matchConditions is no finding', () => {
    const f = parseKyvernoOutput(out([result('a', 'fail', 'p'), result('b', 'fail', 'p'), result('c', 'skip', 'q'), result('a', 'pass', 'q'), result('b', 'pass', 'q'), result('c', 'pass', 'p')]), [vp('a', 'Audit'), vp('b', 'Warn'), vp('c', 'Deny', { matchConditions: [{ name: 'x', expression: 'true' }] })], [pod('p'), pod('q')]);
    expect(f.get('Pod/apps/p')!.map((x) => x.action).sort()).toEqual(['audit', 'warn']);
    expect(f.has('Pod/apps/q')).toBe(false);
  });

  it('a skip from a policy without matchConditions, a missing result in scope, or two actions are errors', () => {
    expect(() => parseKyvernoOutput(out([result('a', 'skip', 'p')]), [vp('a', 'Deny')], [pod('p')])).toThrow(/gave skip/);
    expect(() => parseKyvernoOutput(out([]), [vp('a', 'Deny')], [pod('p')])).toThrow(/gave no result/);
    expect(() => parseKyvernoOutput(out([]), [{ ...vp('a', 'Deny'), spec: { ...vp('a', 'Deny').spec, validationActions: ['Deny', 'Audit'] } }], [pod('p')])).toThrow(/exactly one/);
  });
});
