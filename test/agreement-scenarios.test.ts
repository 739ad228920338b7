/**
 * Part of the agreement matrix (see test/agreement.test.ts): real bundles through every engine — exempt
 * namespaces, per-namespace levels and modes, image and name exceptions, and the reference bundle on objects
 * beyond Pods (Kubernetes' own RBAC objects pass, look-alikes do not). WASM, gator, the Kyverno CLI with
 * both policy types and the VAP oracle give exactly the expected controls (and, in the first scenario,
 * actions); WASM and gator the same messages.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EPHEMERAL_SUFFIX } from '../src/backends/kyverno/index.js';
import { loadEvaluator, objectsOf } from '../src/eval/bundle.js';
import { loadConfig } from '../src/config/load.js';
import { gatorFindings, keyOf, kyvernoFindings } from '../src/eval/engines.js';
import { compile } from '../src/compile.js';
import { vapFindings, vapObjectsOf } from '../src/eval/vap.js';
import { ensureEngine } from '../src/engines/index.js';
import { evaluatorFor, ROOT, TODAY } from './helpers.js';

beforeAll(async () => {
  await ensureEngine('gator', (l) => process.stderr.write(`${l}\n`));
  await ensureEngine('kyverno', (l) => process.stderr.write(`${l}\n`));
}, 3_600_000);

describe('a real bundle: exempt namespaces, namespace levels, image exceptions', () => {
  const config = {
    name: 'scenario',
    profile: 'pss-restricted',
    kubernetesVersion: '1.37',
    // The legacy type here; the ValidatingPolicy bundle of the same config is compiled below.
    kyverno: { policyType: 'ClusterPolicy' },
    vap: { enabled: true },
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

  it('every engine gives the expected controls and actions for every resource', async () => {
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
    expect(b.policies.every((p) => (p as { kind: string }).kind === 'ClusterPolicy')).toBe(true);
    const [gator, kyverno, kyvernoVp, vap] = await Promise.all([
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
      kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
      // Without the ephemeral-container policies (UPDATEs of pods/ephemeralcontainers, which `kyverno apply` never sends).
      kyvernoFindings(vp.policies.filter((p) => !(p as { metadata: { name: string } }).metadata.name.endsWith(EPHEMERAL_SUFFIX)), resources as never, undefined, vp.exceptions),
      // The API server's own admission code (the VAP oracle) on vap/.
      vapFindings(vapObjectsOf(cc)!, resources as never),
    ]);
    for (const r of resources) {
      const key = keyOf(r as never);
      const wasm = ev.evaluate(r as never);
      expect(controls(vap.get(key)), `vap ${key}`).toEqual(expected[key]);
      expect(actions(vap.get(key)), `vap actions ${key}`).toEqual(actions(wasm));
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

  it('every engine gives the expected controls', async () => {
    const config = await loadConfig(join(ROOT, 'policies.config.ts'));
    // The reference config's own policy type (ValidatingPolicy), and the legacy ClusterPolicies of the same config.
    const cc = compile(config, { today: TODAY }).clusters[0]!;
    const b = objectsOf(cc);
    const legacy = objectsOf(compile({ ...(config as object), kyverno: { policyType: 'ClusterPolicy' } } as never, { today: TODAY }).clusters[0]!);
    expect([...new Set(legacy.policies.map((p) => (p as { kind: string }).kind))]).toEqual(['ClusterPolicy']);
    const ev = await loadEvaluator(cc, () => {});
    // The reference templates carry a CEL block, which gator runs by default; with native validation off it
    // runs their Rego, whose messages are WASM's (the CEL block words one message per failed check).
    const [gator, gatorRego, kyverno, kyvernoVp, vap] = await Promise.all([
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never, undefined, 'rego'),
      kyvernoFindings(legacy.policies, resources as never, undefined, legacy.exceptions),
      // kyvernoFindings runs each kind with the policies that can reach it: no Pod policy is compiled for these objects.
      kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
      vapFindings(vapObjectsOf(cc)!, resources as never),
    ]);
    const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].sort();
    for (const r of resources) {
      const key = keyOf(r as never);
      expect(controls(ev.evaluate(r as never)), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(gatorRego.get(key)), `gator (Rego) ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
      expect(controls(kyvernoVp.get(key)), `kyverno (ValidatingPolicy) ${key}`).toEqual(expected[key]);
      expect(controls(vap.get(key)), `vap ${key}`).toEqual(expected[key]);
      expect(ev.evaluate(r as never).map((f) => f.message).sort(), `messages ${key}`).toEqual((gatorRego.get(key) ?? []).map((f) => f.message).sort());
    }
  }, 600_000);
});

