/**
 * Namespace objects (NSA-NET-2/3/4/11): config resolution and diagnostics, the shape of every generated
 * NetworkPolicy, ResourceQuota, LimitRange and Kyverno generate policy, the Kyverno CLI generating the very
 * objects of the plain manifests, what the NetworkPolicy set allows (a small evaluator of NetworkPolicy
 * semantics), and the coverage report.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { compile, serialize } from '../src/compile.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { UserConfig } from '../src/config/types.js';
import { ISOLATED_NAMESPACE_DEFAULTS, quantityValue, resolveNamespaceObjects } from '../src/config/namespace-objects.js';
import { Diagnostics } from '../src/diagnostics.js';
import { cidrContains, egressBlocked } from '../src/backends/namespaces/coverage.js';
import type { BackendFile } from '../src/backends/types.js';
import { toYaml } from '../src/emit/yaml.js';
import { findEngine } from '../src/engines/index.js';
import { crdSchema, schemaErrors, validator } from './schema.js';
import { ROOT } from './helpers.js';

type Obj = Record<string, any>;
const TODAY = '2026-11-26';

// The legacy generate rules unless a test switches the type (withType).
const REFERENCE: UserConfig = {
  name: 'ref',
  kyverno: { policyType: 'ClusterPolicy' },
  exemptNamespaces: ['kube-system', 'kyverno'],
  network: { defaultDeny: true },
  namespaceObjects: { optInLabel: 'kubeharden.io/isolate=true' },
  resources: { quota: true, limitRange: true },
  namespaces: {
    apps: { pss: 'restricted' },
    agents: { network: { defaultDeny: false, blockCloudMetadata: true }, resources: { quota: false } },
    batch: { resources: { quota: { hard: { 'requests.cpu': '16', pods: '200' } }, limitRange: { max: { cpu: '4' } } } },
    quiet: { network: { allowDns: false } },
  },
};

function files(config: UserConfig): BackendFile[] {
  return [...compile(config, { today: TODAY }).clusters[0]!.files];
}
type PolicyType = 'ClusterPolicy' | 'ValidatingPolicy';
const POLICY_TYPES: readonly PolicyType[] = ['ClusterPolicy', 'ValidatingPolicy'];
const withType = (config: UserConfig, policyType: PolicyType): UserConfig => ({ ...config, kyverno: { policyType } });
/** The kinds of the generate policies each policy type emits. */
const GENERATE_KIND: Record<PolicyType, string> = { ClusterPolicy: 'ClusterPolicy', ValidatingPolicy: 'GeneratingPolicy' };
/** `--warnings-as-errors` where the policies are of the v1 types (Kyverno 1.19 warns on every legacy kind). */
const warningArgs = (policyType: PolicyType): string[] => (policyType === 'ValidatingPolicy' ? ['--warnings-as-errors'] : []);
function objectsAt(fs: readonly BackendFile[], path: string): Obj[] {
  const f = fs.find((x) => x.path === path);
  return f && 'objects' in f ? (f.objects as Obj[]) : [];
}
function diagnostics(config: unknown): { code: string; severity: string; path: string; message: string; hint?: string }[] {
  return resolveConfig(config, { today: TODAY }).diagnostics.map((d) => ({ code: d.code, severity: d.severity, path: d.path.join('.'), message: d.message, ...(d.hint ? { hint: d.hint } : {}) }));
}

describe('config', () => {
  it('defaults: nothing is generated (existing configs build as before)', () => {
    const fs = files({ name: 'x', namespaces: { apps: {} } });
    expect(fs.filter((f) => /^(network|resources)\//.test(f.path) || /kyverno\/(default-deny|block-cloud|namespace-resource)/.test(f.path))).toEqual([]);
    const c = resolveConfig({ name: 'x' }, { today: TODAY }).config!.clusters[0]!;
    expect(c.namespaceObjects).toEqual({ cluster: { network: { defaultDeny: false, allowDns: true, blockCloudMetadata: false } }, namespaces: [] });
  });

  it('true means the default amounts; objects adjust them', () => {
    const c = resolveConfig(REFERENCE, { today: TODAY }).config!.clusters[0]!;
    expect(c.namespaceObjects.cluster.quota).toEqual({ 'limits.cpu': '8', 'limits.memory': '16Gi', pods: '50', 'requests.cpu': '4', 'requests.memory': '8Gi' });
    const batch = c.namespaceObjects.namespaces.find((n) => n.namespace === 'batch')!.settings;
    expect(batch.quota).toEqual({ pods: '200', 'requests.cpu': '16' });
    expect(batch.limitRange).toEqual({ default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, max: { cpu: '4' } });
    expect(c.namespaceObjects.namespaces.map((n) => n.namespace)).toEqual(['agents', 'batch', 'quiet']);
  });

  it('cluster entries replace the base settings', () => {
    const r = resolveConfig({ network: { defaultDeny: true }, clusters: { a: {}, b: { network: { blockCloudMetadata: true } } } }, { today: TODAY }).config!;
    expect(r.clusters.map((c) => c.namespaceObjects.cluster.network)).toEqual([
      { defaultDeny: true, allowDns: true, blockCloudMetadata: false },
      { defaultDeny: false, allowDns: true, blockCloudMetadata: true },
    ]);
  });

  it('reports bad values with their key paths', () => {
    const d = diagnostics({
      network: { defaultDeny: 'yes', allowDNS: true },
      resources: {
        quota: { hard: { 'request.cpu': '1', pods: '2.5', 'limits.memory': 4, 'limits.cpu': 'lots' } },
        limitRange: { default: { cpu: '3' }, max: { cpu: '2', gpu: '1' } },
      },
      namespaces: { apps: { network: true, resources: { quota: 'big' } } },
    });
    const at = (path: string): string[] => d.filter((x) => x.path === path).map((x) => x.code);
    expect(at('network.defaultDeny')).toEqual(['invalid_value']);
    expect(d.find((x) => x.path === 'network.allowDNS')).toMatchObject({ code: 'unknown_key', hint: 'did you mean "allowDns"?' });
    expect(d.find((x) => x.path === 'resources.quota.hard.request.cpu')).toMatchObject({ code: 'unknown_key', hint: 'did you mean "requests.cpu"?' });
    expect(at('resources.quota.hard.pods')).toEqual(['invalid_quantity']);
    expect(d.find((x) => x.path === 'resources.quota.hard.limits.memory')).toMatchObject({ code: 'invalid_quantity', hint: "write it as a string: '4'" });
    expect(at('resources.quota.hard.limits.cpu')).toEqual(['invalid_quantity']);
    expect(at('resources.limitRange.max.gpu')).toEqual(['unknown_key']);
    expect(at('resources.limitRange.max.cpu')).toEqual(['inconsistent_limits']);
    expect(at('namespaces.apps.network')).toEqual(['invalid_value']);
    expect(at('namespaces.apps.resources.quota')).toEqual(['invalid_value']);
    expect(d.every((x) => x.severity === 'error')).toBe(true);
  });

  it('warns about a cpu/memory quota without a LimitRange, and notes metadata blocking under default-deny', () => {
    const d = diagnostics({ network: { defaultDeny: true, blockCloudMetadata: true }, resources: { quota: true } });
    expect(d.map((x) => [x.code, x.severity, x.path])).toEqual([
      ['metadata_blocked_by_default_deny', 'info', 'network.blockCloudMetadata'],
      ['quota_without_limit_range', 'warning', 'resources.quota'],
    ]);
    expect(diagnostics({ resources: { quota: { hard: { pods: '10' } } } })).toEqual([]);
  });

  it('a profile can start from isolated namespaces; the config still turns parts off', () => {
    const d = new Diagnostics();
    const r = resolveNamespaceObjects(d, { network: { value: undefined, path: ['network'] }, resources: { value: { quota: false }, path: ['resources'] } }, new Map(), [], ISOLATED_NAMESPACE_DEFAULTS);
    expect(d.list()).toEqual([]);
    expect(r.cluster).toEqual({ network: { defaultDeny: true, allowDns: true, blockCloudMetadata: false }, limitRange: ISOLATED_NAMESPACE_DEFAULTS.limitRange });
  });

  it('reads quantities', () => {
    expect([quantityValue('500m'), quantityValue('2'), quantityValue('1Ki'), quantityValue('1k'), quantityValue('1e3')]).toEqual([0.5, 2, 1024, 1000, 1000]);
    expect(Number.isNaN(quantityValue('1 Gi'))).toBe(true);
  });
});

// Shapes from the Kubernetes API reference (networking.k8s.io/v1 NetworkPolicy, v1 ResourceQuota and
// LimitRange): only the fields kubeharden may write, unknown fields rejected.
const QUANTITY = { anyOf: [{ type: 'string', pattern: '^(\\d+(\\.\\d+)?|\\.\\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\\d+)?$' }, { type: 'integer' }] };
const LABEL_SELECTOR = { type: 'object', additionalProperties: false, properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } }, matchExpressions: { type: 'array' } } };
const METADATA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'namespace'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const PEER = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    podSelector: LABEL_SELECTOR,
    namespaceSelector: LABEL_SELECTOR,
    ipBlock: { type: 'object', additionalProperties: false, required: ['cidr'], properties: { cidr: { type: 'string' }, except: { type: 'array', items: { type: 'string' } } } },
  },
};
const NETWORK_POLICY = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'networking.k8s.io/v1' },
    kind: { const: 'NetworkPolicy' },
    metadata: METADATA,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['podSelector'],
      properties: {
        podSelector: LABEL_SELECTOR,
        policyTypes: { type: 'array', items: { enum: ['Ingress', 'Egress'] }, uniqueItems: true },
        ingress: { type: 'array' },
        egress: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              to: { type: 'array', items: PEER },
              ports: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { protocol: { enum: ['TCP', 'UDP', 'SCTP'] }, port: { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string' }] }, endPort: { type: 'integer' } } } },
            },
          },
        },
      },
    },
  },
};
const RESOURCES = { type: 'object', additionalProperties: false, properties: { cpu: QUANTITY, memory: QUANTITY, 'ephemeral-storage': QUANTITY } };
const RESOURCE_QUOTA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'v1' },
    kind: { const: 'ResourceQuota' },
    metadata: METADATA,
    spec: { type: 'object', additionalProperties: false, required: ['hard'], properties: { hard: { type: 'object', minProperties: 1, additionalProperties: QUANTITY } } },
  },
};
const LIMIT_RANGE = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'v1' },
    kind: { const: 'LimitRange' },
    metadata: METADATA,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['limits'],
      properties: {
        limits: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'Container' }, default: RESOURCES, defaultRequest: RESOURCES, max: RESOURCES, min: RESOURCES } },
        },
      },
    },
  },
};
const shapes: Record<string, ReturnType<typeof validator>> = {
  NetworkPolicy: validator(NETWORK_POLICY),
  ResourceQuota: validator(RESOURCE_QUOTA),
  LimitRange: validator(LIMIT_RANGE),
};
const policyValidator = validator(crdSchema('kyverno.io_clusterpolicies.yaml'));

describe('generated objects', () => {
  const fs = files(REFERENCE);
  const manifests = fs.filter((f) => /^(network|resources)\/[^/]+\.yaml$/.test(f.path) && !f.path.endsWith('kustomization.yaml'));

  it('one file per non-exempt namespace, each object in its namespace, kustomizations listing the files', () => {
    expect(manifests.map((f) => f.path)).toEqual([
      'network/agents.yaml', 'network/apps.yaml', 'network/batch.yaml', 'network/quiet.yaml',
      'resources/agents.yaml', 'resources/apps.yaml', 'resources/batch.yaml', 'resources/quiet.yaml',
    ]);
    for (const f of manifests) for (const o of objectsAt(fs, f.path)) expect(`${f.path.split('/')[0]}/${o.metadata.namespace}.yaml`).toBe(f.path);
    expect(objectsAt(fs, 'network/kustomization.yaml')[0]!.resources).toEqual(['agents.yaml', 'apps.yaml', 'batch.yaml', 'quiet.yaml']);
    expect(objectsAt(fs, 'resources/kustomization.yaml')[0]!.resources).toEqual(['agents.yaml', 'apps.yaml', 'batch.yaml', 'quiet.yaml']);
    const names = (p: string): string[] => objectsAt(fs, p).map((o) => `${o.kind}/${o.metadata.name}`);
    // Every object is named kubeharden-…, never a name a namespace's owners are likely to have used.
    expect(names('network/apps.yaml')).toEqual(['NetworkPolicy/kubeharden-default-deny', 'NetworkPolicy/kubeharden-allow-dns']);
    expect(names('network/quiet.yaml')).toEqual(['NetworkPolicy/kubeharden-default-deny']);
    expect(names('network/agents.yaml')).toEqual(['NetworkPolicy/kubeharden-allow-egress-except-cloud-metadata']);
    expect(names('resources/agents.yaml')).toEqual(['LimitRange/kubeharden-container-limits']);
    expect(names('resources/apps.yaml')).toEqual(['ResourceQuota/kubeharden-namespace-quota', 'LimitRange/kubeharden-container-limits']);
  });

  it('every NetworkPolicy, ResourceQuota and LimitRange has the v1 shape', () => {
    let n = 0;
    for (const f of manifests) {
      for (const o of objectsAt(fs, f.path)) {
        expect(schemaErrors(shapes[o.kind]!, o), `${f.path} ${o.kind}/${o.metadata.name}`).toEqual([]);
        expect(o.metadata.annotations['kubeharden.io/control']).toMatch(/^(default-deny-network-policy|block-cloud-metadata-egress|namespace-resource-quota)$/);
        n++;
      }
    }
    expect(n).toBe(13);
    // The schemas do reject mistakes.
    expect(schemaErrors(shapes['NetworkPolicy']!, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'y' }, spec: { podSelector: {}, policyTypes: ['Egres'] } }).length).toBeGreaterThan(0);
    expect(schemaErrors(shapes['LimitRange']!, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'x', namespace: 'y' }, spec: { limits: [{ type: 'Container', max: { cpu: '2 cores' } }] } }).length).toBeGreaterThan(0);
  });

  it('the Kyverno generate policies validate against the CRD schema, are annotated and listed in the kustomization', () => {
    const paths = ['kyverno/block-cloud-metadata-egress.yaml', 'kyverno/default-deny-network-policy.yaml', 'kyverno/namespace-resource-quota.yaml'];
    for (const p of paths) {
      const [policy, ...rest] = objectsAt(fs, p);
      expect(rest).toEqual([]);
      expect(schemaErrors(policyValidator, policy), p).toEqual([]);
      expect(policy!.metadata.annotations['kubeharden.io/control']).toBe(p.slice('kyverno/'.length, -'.yaml'.length));
      for (const r of policy!.spec.rules) {
        expect(r.generate).toMatchObject({ synchronize: true, generateExisting: true, namespace: '{{request.object.metadata.name}}' });
        expect(r.match.any[0].resources.kinds).toEqual(['Namespace']);
        expect(r.name.length).toBeLessThanOrEqual(63);
      }
    }
    expect(objectsAt(fs, 'kyverno/kustomization.yaml')[0]!.resources).toEqual(expect.arrayContaining(paths.map((p) => p.slice('kyverno/'.length))));
    const dd = objectsAt(fs, paths[1]!)[0]!;
    // Cluster-wide rules match the named namespaces without settings of their own, and the opt-in label;
    // they exclude the exempt namespaces (the policy engines' too) and those with rules of their own.
    const label = { matchLabels: { 'kubeharden.io/isolate': 'true' } };
    expect(dd.spec.rules.map((r: Obj) => [r.name, r.match.any.map((m: Obj) => m.resources.names ?? m.resources.selector), r.exclude?.any[0].resources.names])).toEqual([
      ['kubeharden-default-deny', [['apps', 'batch'], label], ['agents', 'gatekeeper-system', 'kube-system', 'kyverno', 'quiet']],
      ['kubeharden-allow-dns', [['apps', 'batch'], label], ['agents', 'gatekeeper-system', 'kube-system', 'kyverno', 'quiet']],
      ['kubeharden-default-deny-quiet', [['quiet']], undefined],
    ]);
    // Without an opt-in label, only the named namespaces: no selector, nothing to exclude.
    const named = objectsAt(files({ ...REFERENCE, namespaceObjects: {} }), paths[1]!)[0]!;
    expect(named.spec.rules.map((r: Obj) => [r.name, r.match.any.map((m: Obj) => m.resources.names ?? m.resources.selector), r.exclude])).toEqual([
      ['kubeharden-default-deny', [['apps', 'batch']], undefined],
      ['kubeharden-allow-dns', [['apps', 'batch']], undefined],
      ['kubeharden-default-deny-quiet', [['quiet']], undefined],
    ]);
    // No namespace named and no label: no generate policy at all.
    expect(files({ name: 'x', network: { defaultDeny: true }, resources: { quota: true, limitRange: true } }).filter((f) => /^kyverno\/(default-deny|namespace-resource)|^(network|resources)\//.test(f.path))).toEqual([]);
  });

  it('as GeneratingPolicies (policyType ValidatingPolicy): one per scope, same triggers, synchronize and generateExisting, the objects as CEL literals', () => {
    const v1 = files(withType(REFERENCE, 'ValidatingPolicy'));
    const dd = objectsAt(v1, 'kyverno/default-deny-network-policy.yaml');
    expect(dd.map((p) => [p.apiVersion, p.kind, p.metadata.name])).toEqual([
      ['policies.kyverno.io/v1', 'GeneratingPolicy', 'default-deny-network-policy'],
      ['policies.kyverno.io/v1', 'GeneratingPolicy', 'default-deny-network-policy-quiet'],
    ]);
    for (const p of ['kyverno/block-cloud-metadata-egress.yaml', 'kyverno/default-deny-network-policy.yaml', 'kyverno/namespace-resource-quota.yaml'].flatMap((f) => objectsAt(v1, f))) {
      expect(p.metadata.annotations['policies.kyverno.io/minversion']).toBe('1.17.0');
      expect(p.spec.evaluation).toEqual({ generateExisting: { enabled: true }, synchronize: { enabled: true } });
      expect(p.spec.matchConstraints).toEqual({ resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'] }] });
      for (const g of p.spec.generate) expect(g.expression).toMatch(/^generator\.Apply\(variables\.namespace, \[\{"apiVersion": /);
    }
    // The scope: the listed namespaces by name, the opt-in label minus the exempt, infrastructure and own-settings namespaces.
    expect(dd[0]!.spec.matchConditions).toEqual([
      {
        name: 'namespace-scope',
        expression:
          'object.metadata.name in ["apps", "batch"] || (object.metadata.?labels[?"kubeharden.io/isolate"].orValue(null) == "true" && !(object.metadata.name in ["agents", "gatekeeper-system", "kube-system", "kyverno", "quiet"]))',
      },
    ]);
    expect(dd[1]!.spec.matchConditions[0].expression).toBe('object.metadata.name in ["quiet"]');
    // No ClusterPolicy is left among them; the ClusterPolicy output is unchanged by the switch's existence.
    expect(v1.flatMap((f) => ('objects' in f ? (f.objects as Obj[]) : [])).filter((o) => o.kind === 'ClusterPolicy' && /generate/.test(JSON.stringify(o)))).toEqual([]);
  });

  it('is deterministic', () => {
    const objects = (list: readonly BackendFile[]): object[] => list.flatMap((f) => ('objects' in f ? [...f.objects] : []));
    expect(toYaml(objects(fs))).toBe(toYaml(objects(files(REFERENCE))));
  });
});

const kyverno = findEngine('kyverno');

describe('Kyverno CLI generates the same objects as the manifests', () => {
  it('is installed', () => expect(kyverno).toBeDefined());

  /** `kyverno apply` of the generate policies to Namespaces: the objects it prints, keyed by `namespace/Kind/name`. */
  function generate(policies: readonly Obj[], namespaces: readonly (string | { name: string; labels: Record<string, string> })[], extra: readonly Obj[] = []): Map<string, Obj> {
    const v1 = policies.every((p) => p.kind === 'GeneratingPolicy');
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-generate-'));
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policies));
    const ns = (n: string | { name: string; labels: Record<string, string> }): Obj => {
      const { name, labels } = typeof n === 'string' ? { name: n, labels: {} } : n;
      return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
    };
    writeFileSync(join(dir, 'namespaces.yaml'), toYaml([...namespaces.map(ns), ...extra]));
    const out = execFileSync(kyverno!, ['apply', join(dir, 'policies.yaml'), '--resource', join(dir, 'namespaces.yaml'), '--remove-color', ...warningArgs(v1 ? 'ValidatingPolicy' : 'ClusterPolicy')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/pass: \d+, fail: 0, warn: 0, error: 0/);
    const generated = new Map<string, Obj>();
    // Each generated object follows a "policy <name> applied to /Namespace/<ns>:" line and ends at "---".
    for (const block of out.split(/^policy \S+ applied to \S+:$/m).slice(1)) {
      const o = parse(block.split(/^---$/m)[0]!) as Obj;
      // The CLI labels what a legacy generate rule creates; what a GeneratingPolicy creates it leaves as the
      // policy wrote it (the cluster adds the labels).
      if (v1) expect(o.metadata.labels).toBeUndefined();
      else expect(o.metadata.labels['generate.kyverno.io/trigger-kind']).toBe('Namespace');
      generated.set(`${o.metadata.namespace}/${o.kind}/${o.metadata.name}`, o);
    }
    return generated;
  }

  /** A manifest as Kyverno writes it: its own labels replace ours. */
  function withoutLabels(o: Obj): Obj {
    const { labels: _labels, ...metadata } = o.metadata;
    return { ...o, metadata };
  }

  it.each(POLICY_TYPES)('%s: the bundle ships a kyverno test suite of the generate policies, and it passes', (policyType) => {
    const cc = compile(withType(REFERENCE, policyType), { today: TODAY }).clusters[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-generate-suite-'));
    for (const f of cc.files.filter((x) => (x.path.startsWith('kyverno/') && !x.path.startsWith('kyverno/samples/')) || x.path.startsWith('kyverno/samples/namespaces/'))) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), serialize(f));
    }
    const suite = parse(readFileSync(join(dir, 'kyverno/samples/namespaces/kyverno-test.yaml'), 'utf8').replace(/^#.*\n/, '')) as Obj;
    // Every namespace the config names and a labelled one it does not name; the exempt ones are not triggers.
    // (`kyverno test` has no verdict for rules that do not match: unlabelled namespaces are checked below.)
    expect([...new Set(suite.results.map((r: Obj) => r.resources[0]))].sort()).toEqual(['agents', 'apps', 'batch', 'kubeharden-new-namespace', 'quiet']);
    expect(parse(readFileSync(join(dir, 'kyverno/samples/namespaces/namespaces.yaml'), 'utf8').split(/^---$/m).find((d) => d.includes('kubeharden-new-namespace'))!.replace(/^#.*\n/, '')).metadata.labels).toEqual({
      'kubernetes.io/metadata.name': 'kubeharden-new-namespace',
      'kubeharden.io/isolate': 'true',
    });
    const out = execFileSync(kyverno!, ['test', join(dir, 'kyverno/samples/namespaces'), '--remove-color', ...warningArgs(policyType)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    // One test per generated object (a GeneratingPolicy result lists the files of all the objects it generates).
    const objects = suite.results.reduce((n: number, r: Obj) => n + (r.generatedResources?.length ?? 1), 0);
    expect(objects).toBe(17);
    expect(out).toContain(`Test Summary: ${objects} tests passed and 0 tests failed`);
    if (policyType === 'ValidatingPolicy') expect(suite.results.every((r: Obj) => r.isGeneratingPolicy === true && r.rule === undefined)).toBe(true);
  }, 60_000);

  for (const [name, config] of [
    ['reference-like config', REFERENCE],
    ['reference-like config as GeneratingPolicies', withType(REFERENCE, 'ValidatingPolicy')],
    ['the repository policies.config.ts bundle', undefined],
  ] as const) {
    it(`${name}: every known namespace gets its manifests, a labelled new one the cluster defaults, an unlabelled one and exempt ones nothing`, () => {
      const fs = config
        ? files(config)
        : [
            'kyverno/default-deny-network-policy.yaml', 'kyverno/block-cloud-metadata-egress.yaml', 'kyverno/namespace-resource-quota.yaml',
            ...['network', 'resources'].flatMap((d) => ['apps', 'batch', 'legacy-apps', 'node-agents'].map((n) => `${d}/${n}.yaml`)),
          ].flatMap((p) => parseAllDocuments(readFileSync(join(ROOT, 'generated', 'reference', p), 'utf8')).map((d) => d.toJS() as Obj));
      const all: Obj[] = config ? fs.flatMap((f) => ('objects' in f && /^(kyverno\/(default-deny|block-cloud|namespace-resource)|network\/|resources\/)/.test(f.path) ? (f.objects as Obj[]) : [])) : (fs as Obj[]);
      const policies = all.filter((o) => o.kind === 'ClusterPolicy' || o.kind === 'GeneratingPolicy');
      expect(policies.length).toBeGreaterThan(0);
      const manifests = all.filter((o) => !policies.includes(o) && o.kind !== 'Kustomization');
      const known = [...new Set(manifests.map((o) => o.metadata.namespace as string))].sort();
      const isolate = { 'kubeharden.io/isolate': 'true' };
      const generated = generate(policies, [...known, { name: 'new-team', labels: isolate }, 'unlisted-team', { name: 'kube-system', labels: isolate }, { name: 'kyverno', labels: isolate }]);
      // Known namespaces: exactly the plain manifests.
      const expected = new Map(manifests.map((o) => [`${o.metadata.namespace}/${o.kind}/${o.metadata.name}`, withoutLabels(o)]));
      const inKnown = [...generated].filter(([k]) => known.includes(k.split('/')[0]!));
      expect(inKnown.map(([k]) => k).sort()).toEqual([...expected.keys()].sort());
      for (const [k, o] of inKnown) expect(withoutLabels(o), k).toEqual(expected.get(k));
      // A labelled namespace the config does not name: the cluster-wide objects; one without the label, and
      // exempt namespaces (labelled or not, the policy engines' included): nothing.
      const fresh = [...generated.keys()].filter((k) => k.startsWith('new-team/')).sort();
      expect(fresh).toEqual([
        'new-team/LimitRange/kubeharden-container-limits',
        'new-team/NetworkPolicy/kubeharden-allow-dns',
        'new-team/NetworkPolicy/kubeharden-default-deny',
        'new-team/ResourceQuota/kubeharden-namespace-quota',
      ]);
      for (const ns of ['unlisted-team', 'kube-system', 'kyverno']) expect([...generated.keys()].filter((k) => k.startsWith(`${ns}/`)), ns).toEqual([]);
    }, 60_000);
  }
});

// --- NetworkPolicy semantics (Kubernetes docs, "Network Policies"): for each direction, a pod that no
// policy selects is unrestricted; a selected pod may use a flow only if some selecting policy allows it
// (allows add up); a connection needs the source's egress and the destination's ingress to allow it.

interface Pod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string;
}
interface Destination {
  readonly pod?: Pod;
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

const NAMESPACE_LABELS = (ns: string): Record<string, string> => ({ 'kubernetes.io/metadata.name': ns });

function selects(sel: Obj | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!sel) return true;
  if (sel.matchExpressions?.length) throw new Error('matchExpressions not modelled');
  return Object.entries((sel.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);
}
function types(p: Obj): string[] {
  return p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}
function ipIn(cidr: string, ip: string): boolean {
  if (cidr === '::/0') return ip.includes(':');
  if (ip.includes(':') || cidr.includes(':')) return cidr.split('/')[0] === ip;
  return cidrContains(cidr, ip);
}
function peerMatches(peer: Obj, dst: Destination, policyNamespace: string): boolean {
  if (peer.ipBlock) return ipIn(peer.ipBlock.cidr, dst.ip) && !(peer.ipBlock.except ?? []).some((e: string) => ipIn(e, dst.ip));
  if (!dst.pod) return false;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, NAMESPACE_LABELS(dst.pod.namespace)) : dst.pod.namespace === policyNamespace;
  return nsOk && selects(peer.podSelector, dst.pod.labels);
}
function portMatches(ports: Obj[] | undefined, dst: Destination): boolean {
  return !ports?.length || ports.some((p) => (p.protocol ?? 'TCP') === dst.protocol && (p.port === undefined || p.port === dst.port));
}
function egressAllowed(policies: readonly Obj[], src: Pod, dst: Destination): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === src.namespace && types(p).includes('Egress') && selects(p.spec.podSelector, src.labels));
  if (!selecting.length) return true;
  return selecting.some((p) => (p.spec.egress ?? []).some((r: Obj) => (!r.to?.length || r.to.some((peer: Obj) => peerMatches(peer, dst, p.metadata.namespace))) && portMatches(r.ports, dst)));
}
function ingressAllowed(policies: readonly Obj[], dst: Pod, from: Pod): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === dst.namespace && types(p).includes('Ingress') && selects(p.spec.podSelector, dst.labels));
  if (!selecting.length) return true;
  return selecting.some((p) => (p.spec.ingress ?? []).some((r: Obj) => !r.from?.length || r.from.some((peer: Obj) => peerMatches(peer, { pod: from, ip: from.ip, port: 0, protocol: 'TCP' }, p.metadata.namespace))));
}
function connects(policies: readonly Obj[], src: Pod, dst: Destination): boolean {
  return egressAllowed(policies, src, dst) && (!dst.pod || ingressAllowed(policies, dst.pod, src));
}

describe('what the NetworkPolicy set allows', () => {
  const fs = files(REFERENCE);
  const policies = fs.filter((f) => f.path.startsWith('network/')).flatMap((f) => objectsAt(fs, f.path)).filter((o) => o.kind === 'NetworkPolicy');
  const pod = (namespace: string, ip: string, labels: Record<string, string> = { app: 'web' }): Pod => ({ namespace, labels, ip });
  const dns = pod('kube-system', '10.96.0.10', { 'k8s-app': 'kube-dns' });
  const web = pod('apps', '10.1.0.5');
  const other = pod('apps', '10.1.0.6', { app: 'db' });
  const agent = pod('agents', '10.2.0.7');
  const to = (p: Pod | undefined, ip: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): Destination => (p ? { pod: p, ip, port, protocol } : { ip, port, protocol });

  it('default-deny blocks everything in and out, except DNS to kube-dns', () => {
    expect(connects(policies, web, to(dns, dns.ip, 53, 'UDP'))).toBe(true);
    expect(connects(policies, web, to(dns, dns.ip, 53, 'TCP'))).toBe(true);
    expect(connects(policies, web, to(dns, dns.ip, 9153))).toBe(false);
    // Port 53 on anything but kube-dns stays closed, in the cluster or outside.
    expect(connects(policies, web, to(pod('kube-system', '10.96.0.11', { 'k8s-app': 'other' }), '10.96.0.11', 53, 'UDP'))).toBe(false);
    expect(connects(policies, web, to(undefined, '8.8.8.8', 53, 'UDP'))).toBe(false);
    expect(connects(policies, web, to(other, other.ip, 5432))).toBe(false);
    expect(connects(policies, web, to(undefined, '169.254.169.254', 80))).toBe(false);
    expect(connects(policies, web, to(undefined, '1.1.1.1', 443))).toBe(false);
    // Ingress into apps is closed too, from another namespace without policies.
    expect(connects(policies, agent, to(web, web.ip, 8080))).toBe(false);
  });

  it('without allow-dns even DNS is closed', () => {
    expect(connects(policies, pod('quiet', '10.3.0.1'), to(dns, dns.ip, 53, 'UDP'))).toBe(false);
  });

  it('allow-egress-except-cloud-metadata: everything but the metadata service', () => {
    expect(connects(policies, agent, to(undefined, '169.254.169.254', 80))).toBe(false);
    expect(connects(policies, agent, to(undefined, 'fd00:ec2::254', 80))).toBe(false);
    expect(connects(policies, agent, to(undefined, '169.254.169.253', 80))).toBe(true);
    expect(connects(policies, agent, to(undefined, '2001:db8::1', 443))).toBe(true);
    expect(connects(policies, agent, to(dns, dns.ip, 53, 'UDP'))).toBe(true);
    // …but it cannot reach pods of a default-deny namespace (their ingress is closed).
    expect(connects(policies, agent, to(web, web.ip, 80))).toBe(false);
    // Allows add up: a team policy opening 0.0.0.0/0 re-opens the metadata service.
    const reopened = [...policies, { metadata: { namespace: 'agents', name: 'team' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } }];
    expect(connects(reopened, agent, to(undefined, '169.254.169.254', 80))).toBe(true);
  });

  it('a namespace without policies is unrestricted', () => {
    expect(connects(policies, pod('kube-system', '10.96.0.20'), to(undefined, '169.254.169.254', 80))).toBe(true);
  });

  it("the report's check agrees with the evaluator", () => {
    const specs = (ns: string): Obj[] => policies.filter((p) => p.metadata.namespace === ns).map((p) => p.spec);
    for (const ns of ['apps', 'agents', 'quiet', 'batch']) {
      expect(egressBlocked(specs(ns), '169.254.169.254'), ns).toBe(!connects(policies, pod(ns, '10.9.0.1'), to(undefined, '169.254.169.254', 80)));
    }
    expect(egressBlocked([], '169.254.169.254')).toBe(false);
    expect(egressBlocked([{ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '169.254.0.0/16' } }], ports: [{ port: 443 }] } as Obj] }], '169.254.169.254')).toBe(false);
  });
});

describe('coverage report', () => {
  const report = (config: UserConfig): Obj => {
    const f = files(config).find((x) => x.path === 'report.json')!;
    return JSON.parse((f as { text: string }).text) as Obj;
  };
  const rec = (r: Obj, id: string): Obj => r.recommendations.find((x: Obj) => x.id === id);

  it('reads NSA-NET-2/3/4/11 from the generate policies', () => {
    const r = report(REFERENCE);
    expect(rec(r, 'NSA-NET-3')).toMatchObject({ status: 'enforced', gaps: [] });
    expect(rec(r, 'NSA-NET-3').controls).toEqual([{ id: 'default-deny-network-policy', state: 'enforced', engines: { kyverno: ['enforce'], gatekeeper: [], psa: [] }, gaps: [] }]);
    // The CNI stays a stated caveat.
    expect(rec(r, 'NSA-NET-2')).toMatchObject({ status: 'partial', gaps: ['outside kubeharden: The network plugin (CNI) must implement NetworkPolicy.'] });
    // Default-deny blocks the metadata service; cloud-side hardening stays outside.
    expect(rec(r, 'NSA-NET-11').status).toBe('partial');
    expect(rec(r, 'NSA-NET-11').controls[0]).toMatchObject({ id: 'block-cloud-metadata-egress', state: 'enforced' });
    expect(rec(r, 'NSA-NET-4').controls.map((c: Obj) => [c.id, c.state])).toContainEqual(['namespace-resource-quota', 'enforced']);
    const ns = (name: string): Obj => r.namespaces.find((n: Obj) => n.namespace === name);
    expect(ns('agents').differences).toEqual([
      { control: 'default-deny-network-policy', change: 'off' },
      { control: 'block-cloud-metadata-egress', change: 'on (by allow-egress-except-cloud-metadata)' },
      { control: 'namespace-resource-quota', change: 'quota off' },
    ]);
    expect(ns('quiet').differences).toEqual([{ control: 'default-deny-network-policy', change: 'without allow-dns' }]);
    expect(ns('batch').differences).toEqual([{ control: 'namespace-resource-quota', change: 'quota changed; limit range changed' }]);
  });

  it('off by default, and metadata blocking alone', () => {
    const off = report({ name: 'x' });
    for (const id of ['NSA-NET-2', 'NSA-NET-3', 'NSA-NET-11']) expect(rec(off, id).status, id).toBe('not-covered');
    expect(rec(off, 'NSA-NET-3').gaps).toEqual(['off in this cluster: default-deny-network-policy']);
    const meta = report({ name: 'x', network: { blockCloudMetadata: true }, namespaces: { apps: {} } });
    expect(rec(meta, 'NSA-NET-11')).toMatchObject({ status: 'partial' });
    expect(rec(meta, 'NSA-NET-11').controls[0].state).toBe('enforced');
    expect(rec(meta, 'NSA-NET-3').status).toBe('not-covered');
  });
});

describe('allow rules under default-deny: API server egress, webhook ingress', () => {
  const config: UserConfig = {
    name: 'allow',
    kyverno: { policyType: 'ClusterPolicy' },
    network: { defaultDeny: true },
    namespaces: {
      apps: {},
      ops: { network: { apiServerEgress: { cidrs: ['10.0.0.12/32', '10.0.0.10/32'] }, webhookIngress: { cidrs: ['10.0.0.0/24'], ports: [9443] } } },
    },
  };
  const fs = files(config);
  const policies = fs.filter((f) => f.path.startsWith('network/')).flatMap((f) => objectsAt(fs, f.path)).filter((o) => o.kind === 'NetworkPolicy');
  const pod = (namespace: string, ip: string): Pod => ({ namespace, labels: { app: 'operator' }, ip });
  const operator = pod('ops', '10.1.0.5');
  const dst = (ip: string, port: number): Destination => ({ ip, port, protocol: 'TCP' });

  it('writes kubeharden-allow-api-server and kubeharden-allow-webhooks where configured, in the v1 shape', () => {
    const ops = objectsAt(fs, 'network/ops.yaml');
    expect(ops.map((o) => o.metadata.name)).toEqual(['kubeharden-default-deny', 'kubeharden-allow-dns', 'kubeharden-allow-api-server', 'kubeharden-allow-webhooks']);
    for (const o of ops) expect(schemaErrors(shapes['NetworkPolicy']!, o), o.metadata.name).toEqual([]);
    expect(ops[2]!.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }, { ipBlock: { cidr: '10.0.0.12/32' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] }] });
    expect(ops[3]!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 9443 }] }] });
    expect(objectsAt(fs, 'network/apps.yaml').map((o) => o.metadata.name)).toEqual(['kubeharden-default-deny', 'kubeharden-allow-dns']);
    // The Kyverno rules of ops carry the same objects.
    const rules = objectsAt(fs, 'kyverno/default-deny-network-policy.yaml')[0]!.spec.rules as Obj[];
    expect(rules.map((r) => r.name)).toEqual(['kubeharden-default-deny', 'kubeharden-allow-dns', 'kubeharden-default-deny-ops', 'kubeharden-allow-dns-ops', 'kubeharden-allow-api-server-ops', 'kubeharden-allow-webhooks-ops']);
  });

  it('opens exactly those flows', () => {
    expect(connects(policies, operator, dst('10.0.0.10', 6443))).toBe(true);
    expect(connects(policies, operator, dst('10.0.0.12', 443))).toBe(true);
    expect(connects(policies, operator, dst('10.0.0.10', 80))).toBe(false);
    expect(connects(policies, operator, dst('10.0.0.11', 443))).toBe(false);
    expect(connects(policies, operator, dst('169.254.169.254', 80))).toBe(false);
    // The API server (on a control-plane node) calls the webhook; nothing else gets in.
    expect(ingressAllowed(policies, operator, pod('kube-system', '10.0.0.7'))).toBe(true);
    expect(ingressAllowed(policies, operator, pod('apps', '10.1.0.9'))).toBe(false);
    // Namespaces without the setting stay closed to the API server.
    expect(connects(policies, pod('apps', '10.1.0.6'), dst('10.0.0.10', 6443))).toBe(false);
  });

  it('reports bad values, and settings that do nothing without default-deny', () => {
    const d = diagnostics({
      network: { defaultDeny: true, apiServerEgress: { cidrs: ['10.0.0.300/32', 'api.example.com'], ports: [0] }, webhookIngress: { cidrs: [] } },
      namespaceObjects: { optInLabel: 'isolate' },
    });
    expect(d.map((x) => [x.code, x.path])).toEqual([
      ['invalid_label', 'namespaceObjects.optInLabel'],
      ['invalid_cidr', 'network.apiServerEgress.cidrs.0'],
      ['invalid_cidr', 'network.apiServerEgress.cidrs.1'],
      ['invalid_value', 'network.apiServerEgress.ports'],
      ['invalid_value', 'network.webhookIngress.cidrs'],
    ]);
    expect(diagnostics({ network: { apiServerEgress: { cidrs: ['10.0.0.10/32'] } } }).map((x) => [x.code, x.severity, x.path])).toEqual([['ignored_key', 'info', 'network.apiServerEgress']]);
    expect(diagnostics({ network: { defaultDeny: true, webhookIngress: { cidrs: ['0.0.0.0/0'] } } }).map((x) => [x.code, x.path])).toEqual([['allow_everything', 'network.webhookIngress.cidrs.0']]);
    expect(diagnostics({ namespaceObjects: { optInLabel: 'example.com/team-isolated=yes' } })).toEqual([]);
  });
});

describe('opt-in scope through the Kyverno CLI: a same-named object of the namespace is not the generated one', () => {
  it.each(POLICY_TYPES)('%s: generates kubeharden-… objects next to a user default-deny, never under its name', (policyType) => {
    const fs = files(withType({ name: 'own', network: { defaultDeny: true }, namespaces: { apps: {} } }, policyType));
    expect(objectsAt(fs, 'kyverno/default-deny-network-policy.yaml').map((p) => p.kind)).toEqual([GENERATE_KIND[policyType]]);
    const policies = objectsAt(fs, 'kyverno/default-deny-network-policy.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-generate-owned-'));
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policies));
    const user = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: 'apps' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } };
    const ns = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
    writeFileSync(join(dir, 'resources.yaml'), toYaml([ns('apps'), ns('other'), user]));
    const out = execFileSync(kyverno!, ['apply', join(dir, 'policies.yaml'), '--resource', join(dir, 'resources.yaml'), '--remove-color', ...warningArgs(policyType)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const generated = out.split(/^policy \S+ applied to \S+:$/m).slice(1).map((b) => parse(b.split(/^---$/m)[0]!) as Obj).map((o) => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`);
    expect(generated.sort()).toEqual(['apps/NetworkPolicy/kubeharden-allow-dns', 'apps/NetworkPolicy/kubeharden-default-deny']);
  }, 60_000);
});
