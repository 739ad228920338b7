/**
 * Non-default options of the NSA/CISA controls beyond PSS (pods and other objects), through a real bundle: the samples run with the
 * defaults (and sampleOptions), so the option branches are proven here, by all three engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { objectsOf } from '../src/eval/bundle.js';
import { gatorFindings, keyOf, kyvernoFindings } from '../src/eval/engines.js';
import { ensureEngine } from '../src/engines/index.js';
import { evaluatorFor } from './helpers.js';

const config = {
  name: 'options',
  profile: 'pss-baseline',
  kubernetesVersion: '1.37',
  controls: {
    'require-non-root-groups': { options: { requireSet: true } },
    'require-resource-limits-requests': { options: { required: ['limits.cpu'] } },
    'disallow-default-namespace': { options: { namespaces: ['default', 'sandbox'] } },
    'allowed-registries': { options: { registries: ['registry.example.com/team-a/'] } },
    // Beyond Pods.
    'disallow-anonymous-bindings': { options: { includeAuthenticated: true } },
    'disallow-cluster-admin-binding': { options: { roles: ['admin', 'cluster-admin'], allowedSubjects: ['Group:platform-admins'] } },
    'disallow-serviceaccount-token-automount': { options: { exemptDefault: false } },
    'restrict-service-external-ips': { options: { allowedIPs: ['203.0.113.10'] } },
    'restrict-rbac-wildcards': { options: { exemptRoles: ['platform-*'] } },
    'enforce-psa-namespace-labels': { options: { requireLabel: true } },
  },
} as const;

const IMAGE = 'registry.example.com/team-a/app:1.0';
const pod = (name: string, ns: string, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'app', image: IMAGE, resources: { limits: { cpu: '1' } }, ...container }], ...spec },
});
const deployment = (name: string, ns: string, spec: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: pod(name, ns, spec).spec } },
});
const GROUPS = { securityContext: { runAsGroup: 1000, fsGroup: 1000 } };
const crb = (name: string, role: string, kind: string, subject: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind, name: subject }],
});
const service = (name: string, externalIPs: string[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps' }, spec: { selector: { app: name }, ports: [{ port: 80 }], externalIPs } });

const resources = [
  pod('groups-set', 'apps', GROUPS),
  pod('groups-unset', 'apps'),
  pod('fs-group-unset', 'apps', { securityContext: { runAsGroup: 1000 } }),
  pod('run-as-group-per-container', 'apps', { securityContext: { fsGroup: 1000 } }, { securityContext: { runAsGroup: 1000 } }),
  pod('windows-groups-unset', 'apps', { os: { name: 'windows' } }),
  pod('no-cpu-limit', 'apps', GROUPS, { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } } }),
  pod('sandbox', 'sandbox', GROUPS),
  deployment('sandbox-deployment', 'sandbox', GROUPS),
  deployment('default-deployment', 'default', GROUPS),
  pod('other-team', 'apps', GROUPS, { image: 'registry.example.com/team-b/app:1.0' }),
  crb('authenticated-view', 'view', 'Group', 'system:authenticated'),
  crb('authenticated-discovery', 'system:discovery', 'Group', 'system:authenticated'),
  crb('platform-admins', 'cluster-admin', 'Group', 'platform-admins'),
  crb('masters', 'cluster-admin', 'Group', 'system:masters'),
  { ...crb('bob-admin', 'admin', 'User', 'bob'), kind: 'RoleBinding', metadata: { name: 'bob-admin', namespace: 'apps' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'apps' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet', namespace: 'apps' }, automountServiceAccountToken: false },
  service('allowed-ip', ['203.0.113.10']),
  service('other-ip', ['203.0.113.10', '198.51.100.7']),
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'platform-admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cluster-admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'unlabelled' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'labelled', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } },
] as Record<string, unknown>[];

const expected: Record<string, string[]> = {
  'Pod/apps/groups-set': [],
  'Pod/apps/groups-unset': ['require-non-root-groups'],
  'Pod/apps/fs-group-unset': ['require-non-root-groups'],
  'Pod/apps/run-as-group-per-container': [],
  'Pod/apps/windows-groups-unset': [],
  'Pod/apps/no-cpu-limit': ['require-resource-limits-requests'],
  'Pod/sandbox/sandbox': ['disallow-default-namespace'],
  'Deployment/sandbox/sandbox-deployment': ['disallow-default-namespace'],
  'Deployment/default/default-deployment': ['disallow-default-namespace'],
  'Pod/apps/other-team': ['allowed-registries'],
  // includeAuthenticated: system:authenticated counts, the bootstrap discovery roles stay allowed.
  'ClusterRoleBinding//authenticated-view': ['disallow-anonymous-bindings'],
  'ClusterRoleBinding//authenticated-discovery': [],
  // roles and allowedSubjects replace the defaults: system:masters is no longer allowed, admin is checked.
  'ClusterRoleBinding//platform-admins': [],
  'ClusterRoleBinding//masters': ['disallow-cluster-admin-binding'],
  'RoleBinding/apps/bob-admin': ['disallow-cluster-admin-binding'],
  // exemptDefault false: the default ServiceAccount is checked too.
  'ServiceAccount/apps/default': ['disallow-serviceaccount-token-automount'],
  'ServiceAccount/apps/quiet': [],
  'Service/apps/allowed-ip': [],
  'Service/apps/other-ip': ['restrict-service-external-ips'],
  // exemptRoles replaces the defaults: cluster-admin is no longer exempt.
  'ClusterRole//platform-admin': [],
  'ClusterRole//cluster-admin': ['restrict-rbac-wildcards'],
  // requireLabel: an unlabelled Namespace fails; the pss-baseline cluster level is baseline.
  'Namespace//unlabelled': ['enforce-psa-namespace-labels'],
  'Namespace//labelled': [],
};

/** Only the controls under test (the baseline ones allow every resource here). */
const UNDER_TEST = new Set(Object.keys(config.controls));

beforeAll(async () => {
  await ensureEngine('gator');
  await ensureEngine('kyverno');
}, 3_600_000);

describe('non-default options of the controls beyond PSS', () => {
  it('all three engines give the expected controls for every resource', async () => {
    const cc = compile(config, { today: '2026-11-26' }).clusters[0]!;
    const b = objectsOf(cc);
    const ev = await evaluatorFor(config);
    const [gator, kyverno] = await Promise.all([
      gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
      kyvernoFindings(b.policies, resources as never),
    ]);
    const controls = (fs: readonly { control: string }[] | undefined) => [...new Set((fs ?? []).map((f) => f.control))].filter((c) => UNDER_TEST.has(c)).sort();
    for (const r of resources) {
      const key = keyOf(r as never);
      expect(controls(ev.evaluate(r as never)), `wasm ${key}`).toEqual(expected[key]);
      expect(controls(gator.get(key)), `gator ${key}`).toEqual(expected[key]);
      expect(controls(kyverno.get(key)), `kyverno ${key}`).toEqual(expected[key]);
    }
  }, 600_000);
});
