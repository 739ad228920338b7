/**
 * Control-plane files (generated/<cluster>/control-plane/): structure of the audit policy, the encryption
 * configuration, the PSA AdmissionConfiguration and the flags checklist, and the `controlPlane` config.
 * The audit policy is checked by evaluating its rules in order (first match wins, as the API server does)
 * for the request shapes that matter.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compile } from '../src/compile.js';
import { resolveConfig } from '../src/config/resolve.js';
import { loadConfig } from '../src/config/load.js';
import { AESCBC_KEY_PLACEHOLDER } from '../src/backends/control-plane/encryption.js';
import { FLAG_ITEMS } from '../src/backends/control-plane/flags.js';
import { getRecommendation } from '../src/nsa/catalogue.js';
import { ROOT, TODAY } from './helpers.js';
import { levelOf, type Request } from './support/audit-policy.js';

type Obj = Record<string, any>;

function files(config: unknown): Map<string, string> {
  const out = compile(config, { today: TODAY }).output;
  const name = (resolveConfig(config, { today: TODAY }).config!.clusters[0]!).name;
  const m = new Map<string, string>();
  for (const [p, c] of out) if (p.startsWith(`${name}/`)) m.set(p.slice(name.length + 1), c);
  return m;
}
function docs(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Obj);
}

// --- the API server's audit rule matching, first match wins (test/support/audit-policy.ts) ---
// The corner cases below pin its semantics.

describe("the audit rule evaluator follows the API server's matching (k8s.io/apiserver checker.go)", () => {
  const user = { user: 'alice', groups: ['system:authenticated', 'devs'] };
  /** The level of `r` under a policy of one rule at RequestResponse (else None). */
  const hit = (rule: Obj, r: Partial<Request>): boolean => levelOf({ rules: [{ level: 'RequestResponse', ...rule }] }, { ...user, verb: 'get', ...r }) === 'RequestResponse';
  const core = (...resources: string[]) => ({ resources: [{ group: '', resources }] });

  it('"resource/*" matches the resource itself and each of its subresources', () => {
    expect(hit(core('pods/*'), { resource: 'pods', namespace: 'a' })).toBe(true);
    expect(hit(core('pods/*'), { resource: 'pods', subresource: 'exec', namespace: 'a' })).toBe(true);
    expect(hit(core('pods/*'), { resource: 'podtemplates', namespace: 'a' })).toBe(false);
    expect(hit(core('pods/*'), { resource: 'nodes', subresource: 'status' })).toBe(false);
  });

  it('"*/subresource" matches that subresource of any resource, never a resource itself', () => {
    expect(hit(core('*/status'), { resource: 'nodes', subresource: 'status' })).toBe(true);
    expect(hit(core('*/status'), { resource: 'pods', subresource: 'status', namespace: 'a' })).toBe(true);
    expect(hit(core('*/status'), { resource: 'status' })).toBe(false);
    expect(hit(core('*/status'), { resource: 'pods', subresource: 'statuses', namespace: 'a' })).toBe(false);
  });

  it('a plain resource does not match its subresources; "*" matches everything in the group', () => {
    expect(hit(core('pods'), { resource: 'pods', subresource: 'exec', namespace: 'a' })).toBe(false);
    expect(hit(core('pods/exec'), { resource: 'pods', namespace: 'a' })).toBe(false);
    expect(hit(core('*'), { resource: 'pods', subresource: 'exec', namespace: 'a' })).toBe(true);
    expect(hit(core('*'), { group: 'apps', resource: 'deployments', namespace: 'a' })).toBe(false);
  });

  it('group: omitted is the core group only; "*" is every group; a group without resources is all of it', () => {
    expect(hit({ resources: [{ resources: ['secrets'] }] }, { resource: 'secrets', namespace: 'a' })).toBe(true);
    expect(hit({ resources: [{ resources: ['secrets'] }] }, { group: 'example.io', resource: 'secrets', namespace: 'a' })).toBe(false);
    expect(hit({ resources: [{ group: '*', resources: ['secrets'] }] }, { group: 'example.io', resource: 'secrets', namespace: 'a' })).toBe(true);
    expect(hit({ resources: [{ group: 'apps' }] }, { group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'a' })).toBe(true);
    expect(hit({ resources: [{ group: 'apps' }] }, { group: 'apps.example.io', resource: 'deployments', namespace: 'a' })).toBe(false);
  });

  it('resourceNames narrow every resource of the entry; a request without a name does not match them', () => {
    const rule = { resources: [{ group: '', resources: ['configmaps', 'pods/*'], resourceNames: ['cfg'] }] };
    expect(hit(rule, { resource: 'configmaps', name: 'cfg', namespace: 'a' })).toBe(true);
    expect(hit(rule, { resource: 'configmaps', name: 'cfg2', namespace: 'a' })).toBe(false);
    expect(hit(rule, { verb: 'list', resource: 'configmaps', namespace: 'a' })).toBe(false);
    expect(hit(rule, { resource: 'pods', subresource: 'log', name: 'cfg', namespace: 'a' })).toBe(true);
    expect(hit(rule, { resource: 'pods', subresource: 'log', name: 'web', namespace: 'a' })).toBe(false);
  });

  it('namespaces: exact names, "" for cluster-scoped resources; never a non-resource request', () => {
    expect(hit({ namespaces: ['kube-system'] }, { resource: 'pods', namespace: 'kube-system' })).toBe(true);
    expect(hit({ namespaces: ['kube-system'] }, { resource: 'pods', namespace: 'kube-system-2' })).toBe(false);
    expect(hit({ namespaces: ['kube-system'] }, { resource: 'nodes' })).toBe(false);
    expect(hit({ namespaces: [''] }, { resource: 'nodes' })).toBe(true);
    expect(hit({ namespaces: [''] }, { path: '/healthz' })).toBe(false);
  });

  it('nonResourceURLs: exact, "*", or a prefix before trailing "*" (not a path segment); never a resource request', () => {
    expect(hit({ nonResourceURLs: ['/healthz*'] }, { path: '/healthz' })).toBe(true);
    expect(hit({ nonResourceURLs: ['/healthz*'] }, { path: '/healthz/etcd' })).toBe(true);
    expect(hit({ nonResourceURLs: ['/healthz*'] }, { path: '/healthzfoo' })).toBe(true);
    expect(hit({ nonResourceURLs: ['/healthz/*'] }, { path: '/healthz' })).toBe(false);
    expect(hit({ nonResourceURLs: ['/logs**'] }, { path: '/logs/kubelet.log' })).toBe(true);
    expect(hit({ nonResourceURLs: ['/metrics'] }, { path: '/metrics/cadvisor' })).toBe(false);
    expect(hit({ nonResourceURLs: ['/metrics'] }, { path: '/Metrics' })).toBe(false);
    expect(hit({ nonResourceURLs: ['*'] }, { path: '/openapi/v3' })).toBe(true);
    expect(hit({ nonResourceURLs: ['*'] }, { resource: 'pods', namespace: 'a' })).toBe(false);
  });

  it('users, userGroups and verbs: exact strings; any one of the user\'s groups; no restriction matches both kinds', () => {
    expect(hit({ users: ['alice'] }, { path: '/version' })).toBe(true);
    expect(hit({ users: ['Alice'] }, { path: '/version' })).toBe(false);
    expect(hit({ userGroups: ['devs'] }, { resource: 'pods', namespace: 'a' })).toBe(true);
    expect(hit({ userGroups: ['dev'] }, { resource: 'pods', namespace: 'a' })).toBe(false);
    expect(hit({ verbs: ['get'] }, { verb: 'list', resource: 'pods', namespace: 'a' })).toBe(false);
    expect(hit({ verbs: ['*'] }, { verb: 'list', resource: 'pods', namespace: 'a' })).toBe(false);
    expect(hit({}, { resource: 'pods', namespace: 'a' })).toBe(true);
    expect(hit({}, { path: '/apis' })).toBe(true);
  });

  it('the first matching rule decides; no match is None', () => {
    const policy = { rules: [{ level: 'None', users: ['bob'] }, { level: 'Metadata', ...core('secrets') }, { level: 'Request' }] };
    expect(levelOf(policy, { user: 'bob', verb: 'get', resource: 'secrets', namespace: 'a' })).toBe('None');
    expect(levelOf(policy, { ...user, verb: 'get', resource: 'secrets', namespace: 'a' })).toBe('Metadata');
    expect(levelOf(policy, { ...user, verb: 'get', resource: 'pods', namespace: 'a' })).toBe('Request');
    expect(levelOf({ rules: [{ level: 'Metadata', users: ['bob'] }] }, { ...user, verb: 'get', path: '/' })).toBe('None');
  });
});

describe('audit policy', () => {
  const policy = docs(files({ name: 'c' }).get('control-plane/audit-policy.yaml')!)[0]!;

  it('is an audit.k8s.io/v1 Policy that omits RequestReceived and ends with a Metadata catch-all', () => {
    expect(policy['apiVersion']).toBe('audit.k8s.io/v1');
    expect(policy['kind']).toBe('Policy');
    expect(policy['omitStages']).toEqual(['RequestReceived']);
    const rules = policy['rules'] as Obj[];
    for (const r of rules) expect(['None', 'Metadata', 'Request', 'RequestResponse']).toContain(r['level']);
    expect(rules.at(-1)).toEqual({ level: 'Metadata' });
    // Every field the evaluator reads, and nothing else (audit.k8s.io/v1 PolicyRule and GroupResources).
    const known = ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages'];
    for (const r of rules) for (const k of Object.keys(r)) expect(known).toContain(k);
    for (const r of rules) for (const gr of (r['resources'] ?? []) as Obj[]) for (const k of Object.keys(gr)) expect(['group', 'resources', 'resourceNames']).toContain(k);
    // A rule is about resources or about non-resource URLs, never both (the API server rejects such a policy).
    for (const r of rules) expect(Boolean(r['nonResourceURLs']) && Boolean(r['resources'] || r['namespaces'])).toBe(false);
  });

  const admin = { user: 'alice', groups: ['system:authenticated'] };
  const cases: [string, Request, string][] = [
    ['health probe', { user: 'system:anonymous', verb: 'get', path: '/healthz' }, 'None'],
    ['readiness with a check name', { user: 'system:anonymous', verb: 'get', path: '/readyz/etcd' }, 'None'],
    ['version', { ...admin, verb: 'get', path: '/version' }, 'None'],
    ['metrics scrape', { user: 'system:serviceaccount:monitoring:prometheus', verb: 'get', path: '/metrics' }, 'None'],
    ['kube-proxy watching endpoint slices', { user: 'system:kube-proxy', verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' }, 'None'],
    ['kube-proxy watching services', { user: 'system:kube-proxy', verb: 'watch', resource: 'services' }, 'None'],
    ['a node reading its Node', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'get', resource: 'nodes' }, 'None'],
    ['a node updating its status', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'patch', resource: 'nodes', subresource: 'status' }, 'Metadata'],
    ['a node renewing its Lease', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' }, 'None'],
    ['an operator renewing its leader-election Lease', { user: 'system:serviceaccount:cert-manager:cert-manager', verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'cert-manager' }, 'None'],
    ['deleting a Lease', { ...admin, verb: 'delete', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' }, 'Request'],
    ['the kubelet reporting pod status', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'apps' }, 'Metadata'],
    ['the cloud controller writing a LoadBalancer address', { user: 'system:serviceaccount:kube-system:cloud-controller-manager', verb: 'update', resource: 'services', subresource: 'status', namespace: 'apps' }, 'Metadata'],
    ['changing a Service (not its status)', { ...admin, verb: 'patch', resource: 'services', namespace: 'apps' }, 'Request'],
    ['leader election', { user: 'system:kube-scheduler', verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' }, 'None'],
    ['listing events', { ...admin, verb: 'list', resource: 'events', namespace: 'apps' }, 'None'],
    ['writing an event', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'apps' }, 'Metadata'],
    ['reading a secret', { ...admin, verb: 'get', resource: 'secrets', namespace: 'apps' }, 'Metadata'],
    ['creating a secret', { ...admin, verb: 'create', resource: 'secrets', namespace: 'apps' }, 'Metadata'],
    ['updating a configmap', { ...admin, verb: 'update', resource: 'configmaps', namespace: 'apps' }, 'Metadata'],
    ['a token request', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'apps' }, 'Metadata'],
    ['a token review', { user: 'system:kube-controller-manager', verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }, 'Metadata'],
    ['binding cluster-admin', { ...admin, verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }, 'RequestResponse'],
    ['editing a Role', { ...admin, verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: 'apps' }, 'RequestResponse'],
    ['exec into a pod (websocket GET)', { ...admin, verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'apps' }, 'RequestResponse'],
    ['exec into a pod (POST)', { ...admin, verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'apps' }, 'RequestResponse'],
    ['attach', { ...admin, verb: 'create', resource: 'pods', subresource: 'attach', namespace: 'apps' }, 'RequestResponse'],
    ['port-forward', { ...admin, verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'apps' }, 'RequestResponse'],
    ['adding an ephemeral debug container', { ...admin, verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'apps' }, 'RequestResponse'],
    ['registering a webhook', { ...admin, verb: 'create', group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' }, 'RequestResponse'],
    ['approving a CSR', { ...admin, verb: 'update', group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'approval' }, 'RequestResponse'],
    ['relabeling a namespace (PSA)', { ...admin, verb: 'patch', resource: 'namespaces' }, 'RequestResponse'],
    ['deleting a Kyverno policy', { ...admin, verb: 'delete', group: 'kyverno.io', resource: 'clusterpolicies' }, 'RequestResponse'],
    ['editing a Gatekeeper constraint', { ...admin, verb: 'update', group: 'constraints.gatekeeper.sh', resource: 'khdisallowhostpath' }, 'RequestResponse'],
    ['creating a Deployment', { ...admin, verb: 'create', group: 'apps', resource: 'deployments', namespace: 'apps' }, 'Request'],
    ['deleting a pod', { ...admin, verb: 'delete', resource: 'pods', namespace: 'apps' }, 'Request'],
    ['reading pods', { ...admin, verb: 'list', resource: 'pods', namespace: 'apps' }, 'Metadata'],
    ['reading RBAC', { ...admin, verb: 'get', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, 'Metadata'],
    ['API discovery', { ...admin, verb: 'get', path: '/apis' }, 'Metadata'],
  ];
  it.each(cases)('%s → %s', (_name, request, level) => {
    expect(levelOf(policy, request)).toBe(level);
  });

  it('never records the body of a Secret, ConfigMap or token, whoever asks and however', () => {
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    const who = [admin, { user: 'system:kube-proxy' }, { user: 'system:node:n1', groups: ['system:nodes'] }, { user: 'system:kube-scheduler' }];
    const targets: Partial<Request>[] = [
      { resource: 'secrets' },
      { resource: 'configmaps' },
      { resource: 'serviceaccounts', subresource: 'token' },
      { group: 'authentication.k8s.io', resource: 'tokenreviews' },
    ];
    for (const w of who) for (const verb of verbs) for (const t of targets) for (const namespace of ['apps', 'kube-system']) {
      const level = levelOf(policy, { ...w, verb, namespace, ...t } as Request);
      expect(['None', 'Metadata'], `${w.user} ${verb} ${t.resource}`).toContain(level);
    }
  });
});

describe('encryption configuration', () => {
  const enc = (controlPlane?: unknown): Obj => docs(files({ name: 'c', ...(controlPlane ? { controlPlane } : {}) }).get('control-plane/encryption-config.yaml')!)[0]!;

  it('defaults to a KMS v2 provider for secrets, identity last', () => {
    const e = enc();
    expect(e['apiVersion']).toBe('apiserver.config.k8s.io/v1');
    expect(e['kind']).toBe('EncryptionConfiguration');
    expect(e['resources']).toHaveLength(1);
    const r = e['resources'][0];
    expect(r['resources']).toEqual(['secrets']);
    expect(r['providers']).toHaveLength(2);
    expect(Object.keys(r['providers'][0])).toEqual(['kms']);
    expect(r['providers'][0]['kms']).toMatchObject({ apiVersion: 'v2', endpoint: 'unix:///var/run/kms-plugin/socket.sock' });
    expect(r['providers'][0]['kms']['name']).toMatch(/\S/);
    expect(r['providers'][1]).toEqual({ identity: {} });
  });

  it('aescbc carries a placeholder, never key material', () => {
    const e = enc({ encryption: { provider: 'aescbc', resources: ['secrets', 'configmaps'] } });
    const r = e['resources'][0];
    expect(r['resources']).toEqual(['configmaps', 'secrets']);
    expect(Object.keys(r['providers'][0])).toEqual(['aescbc']);
    expect(r['providers'].at(-1)).toEqual({ identity: {} });
    const keys = r['providers'][0]['aescbc']['keys'] as Obj[];
    expect(keys).toHaveLength(1);
    expect(keys[0]!['secret']).toBe(AESCBC_KEY_PLACEHOLDER);
    // Not decodable as a 32-byte base64 key: an unedited file cannot encrypt with a known key.
    expect(/^[A-Za-z0-9+/]{43}=$/.test(keys[0]!['secret'])).toBe(false);
  });

  it('uses the configured KMS endpoint', () => {
    expect(enc({ encryption: { kmsEndpoint: 'unix:///run/kms/kms.sock' } })['resources'][0]['providers'][0]['kms']['endpoint']).toBe('unix:///run/kms/kms.sock');
  });

  it('no generated file holds anything that looks like a key', () => {
    for (const [path, text] of files({ name: 'c', controlPlane: { encryption: { provider: 'aescbc' } } })) {
      if (!path.startsWith('control-plane/')) continue;
      expect(text, path).not.toMatch(/secret:\s*[A-Za-z0-9+/]{40,}={0,2}\s*$/m);
    }
  });
});

describe('controlPlane config', () => {
  const diags = (controlPlane: unknown) => resolveConfig({ controlPlane }, { today: TODAY }).diagnostics.map((d) => `${d.severity}:${d.code}:${d.path.join('.')}${d.hint ? ` (${d.hint})` : ''}`);

  it('validates values with paths and hints', () => {
    expect(diags({ encryption: { provider: 'kmsv2' } })).toEqual(['error:invalid_value:controlPlane.encryption.provider (did you mean "kms"?)']);
    expect(diags({ encryption: { kmsEndpoint: '/var/run/kms.sock' } })).toEqual(['error:invalid_value:controlPlane.encryption.kmsEndpoint']);
    expect(diags({ encryption: { provider: 'aescbc', kmsEndpoint: 'unix:///x' } })).toEqual(['warning:ignored_key:controlPlane.encryption.kmsEndpoint']);
    expect(diags({ encryption: { resources: ['secret'] } })).toEqual(['error:invalid_value:controlPlane.encryption.resources.0 (did you mean "secrets"?)']);
    expect(diags({ encryption: { resources: [] } })).toEqual(['error:invalid_value:controlPlane.encryption.resources']);
    expect(diags({ encryption: { resources: ['configmaps'] } })).toEqual(['warning:secrets_not_encrypted:controlPlane.encryption.resources']);
    expect(diags({ audit: {} })).toEqual(['error:unknown_key:controlPlane.audit (allowed keys: encryption)']);
    expect(diags('kms')).toEqual(['error:invalid_value:controlPlane']);
  });

  it('defaults need no config, and a cluster entry replaces the base', () => {
    const r = resolveConfig({ controlPlane: { encryption: { provider: 'aescbc' } }, clusters: { a: {}, b: { controlPlane: { encryption: { provider: 'kms' } } } } }, { today: TODAY });
    expect(r.diagnostics).toEqual([]);
    const [a, b] = r.config!.clusters;
    expect(a!.controlPlane.encryption).toEqual({ provider: 'aescbc', resources: ['secrets'] });
    expect(b!.controlPlane.encryption.provider).toBe('kms');
    expect(resolveConfig({}, { today: TODAY }).config!.clusters[0]!.controlPlane.encryption.provider).toBe('kms');
  });
});

describe('admission configuration and flags', () => {
  const config = { name: 'c', namespaces: { legacy: { pss: 'baseline' } } };
  const out = files(config);

  /** The kube-apiserver AdmissionConfiguration for the PodSecurity plugin, written out by hand. */
  const admissionConfiguration = (enforce: string, level: string, version: string, namespaces: string[]): Obj => ({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: { enforce, 'enforce-version': version, audit: level, 'audit-version': version, warn: level, 'warn-version': version },
          exemptions: { usernames: [], runtimeClasses: [], namespaces },
        },
      },
    ],
  });

  /** Exempt by default: the policy engines' namespaces (policyEngines.namespaces) and the configured ones. */
  const ENGINES = ['gatekeeper-system', 'kyverno'];

  it('has one copy of the PSA AdmissionConfiguration, in control-plane/', () => {
    expect(out.has('psa/admission-configuration.yaml')).toBe(false);
    // pss-restricted by default at the newest version: unlabeled namespaces are audited and warned at
    // restricted and enforce nothing (psa.defaultEnforce defaults to privileged; the policies enforce); a
    // baseline namespace does not lower the defaults; the default exempt namespaces and the engines'.
    expect(docs(out.get('control-plane/admission-configuration.yaml')!)).toEqual([
      admissionConfiguration('privileged', 'restricted', 'v1.37', [...ENGINES, 'kube-node-lease', 'kube-public', 'kube-system'].sort()),
    ]);
    const baseline = files({ name: 'c', profile: 'pss-baseline', kubernetesVersion: '1.30', exemptNamespaces: ['tools', 'kube-system'] });
    expect(docs(baseline.get('control-plane/admission-configuration.yaml')!)).toEqual([admissionConfiguration('privileged', 'baseline', 'v1.30', [...ENGINES, 'kube-system', 'tools'].sort())]);
    // psa.defaultEnforce raises enforce up to what the policies enforce, never above it.
    const strict = files({ name: 'c', psa: { defaultEnforce: 'restricted' } });
    expect(docs(strict.get('control-plane/admission-configuration.yaml')!)).toEqual([
      admissionConfiguration('restricted', 'restricted', 'v1.37', [...ENGINES, 'kube-node-lease', 'kube-public', 'kube-system'].sort()),
    ]);
    const capped = files({ name: 'c', profile: 'pss-baseline', psa: { defaultEnforce: 'restricted' }, policyEngines: { namespaces: [] } });
    expect(docs(capped.get('control-plane/admission-configuration.yaml')!)).toEqual([admissionConfiguration('baseline', 'baseline', 'v1.37', ['kube-node-lease', 'kube-public', 'kube-system'])]);
  });

  it('the reference config: PSA enforces nothing in unlabeled namespaces (audit and warn restricted), its exempt namespaces and the engines\'', async () => {
    const reference = files(await loadConfig(join(ROOT, 'policies.config.ts')));
    expect(docs(reference.get('control-plane/admission-configuration.yaml')!)).toEqual([
      admissionConfiguration('privileged', 'restricted', 'v1.37', ['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system', 'kyverno']),
    ]);
  });

  it('a cluster-wide warn-only restricted check leaves PSA only audit and warn at restricted', () => {
    // require-seccomp-profile replaces the baseline seccomp check: warn-only, neither level is fully enforced.
    const warned = files({ name: 'c', controls: { 'require-seccomp-profile': 'warn' } });
    const ac = docs(warned.get('control-plane/admission-configuration.yaml')!)[0]!;
    expect(ac['plugins'][0]['configuration']['defaults']).toEqual({ enforce: 'privileged', 'enforce-version': 'v1.37', audit: 'restricted', 'audit-version': 'v1.37', warn: 'restricted', 'warn-version': 'v1.37' });
  });

  it('FLAGS.md lists every checklist item with its NSA ids', () => {
    const md = out.get('control-plane/FLAGS.md')!;
    for (const item of FLAG_ITEMS) {
      expect(md).toContain(`\`${item.setting}\` (${item.nsa.join(', ')})`);
      for (const id of item.nsa) expect(getRecommendation(id), id).toBeDefined();
    }
    for (const needle of [
      '--anonymous-auth=false', '--authorization-mode=Node,RBAC', 'VersionTLS12', '--audit-policy-file=', '--audit-log-maxage=',
      '--audit-log-maxbackup=', '--audit-log-maxsize=', '--encryption-provider-config=', 'authentication.anonymous.enabled: false',
      'authorization.mode: Webhook', 'readOnlyPort: 0', 'seccompDefault: true', '--client-cert-auth=true', '--trusted-ca-file',
    ]) expect(md).toContain(needle);
    // The flags point at the files of this folder.
    for (const f of ['admission-configuration.yaml', 'audit-policy.yaml', 'encryption-config.yaml']) expect(md).toContain(`/etc/kubernetes/kubeharden/${f}`);
  });
});
