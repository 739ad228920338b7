/**
 * UPDATEs and subresource writes of objects that predate the bundle (issue 18, items 3 and 4): what the
 * bundle states, which subresources Kyverno's rules match, and how the Kyverno suites replay an UPDATE with
 * its old object. The verdicts themselves are samples (src/controls), evaluated with their old object by the
 * WASM evaluation (test/samples.test.ts), `gator verify` and `kyverno test` (test/agreement.test.ts, on the
 * suites generated/reference ships).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile } from '../src/compile.js';
import { CONTROL_IDS, getControl } from '../src/controls/index.js';
import { isPodControl } from '../src/controls/types.js';
import { oldObjectValue } from '../src/backends/engine-suites/index.js';
import type { BackendFile } from '../src/backends/types.js';

type Obj = Record<string, any>;
const TODAY = '2026-11-26';
const config = {
  name: 'updates',
  profile: 'nsa-cisa',
  kubernetesVersion: '1.37',
  controls: { 'disallow-loadbalancer-services': true, 'enforce-psa-namespace-labels': true, 'restrict-rbac-wildcards': true },
} as const;
type PolicyType = 'ClusterPolicy' | 'ValidatingPolicy';
const files = (policyType: PolicyType = 'ValidatingPolicy'): readonly BackendFile[] => compile({ ...config, kyverno: { policyType } }, { today: TODAY }).clusters[0]!.files;
const kyvernoObjects = (fs: readonly BackendFile[]): Obj[] =>
  fs.filter((x) => x.path.startsWith('kyverno/') && !x.path.includes('/samples/') && 'objects' in x).flatMap((f) => (f as unknown as { objects: Obj[] }).objects);
const NAMESPACE_WRITES = ['enforce-psa-namespace-labels', 'require-current-psa-version'];
const text = (fs: readonly BackendFile[], path: string): string => {
  const f = fs.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path}`);
  return 'text' in f ? f.text : JSON.stringify(f.objects);
};

describe('updates of objects that already violate', () => {
  it('every non-pod control has an UPDATE sample that keeps an existing violation (allowed) and one that introduces one (denied)', () => {
    for (const id of CONTROL_IDS.filter((x) => !isPodControl(getControl(x)))) {
      const updates = getControl(id).samples.filter((s) => s.operation === 'UPDATE' && s.oldObject);
      expect(updates.some((s) => s.expect === 'allow' && s.expectWithoutOldObject === 'deny'), id).toBe(true);
      expect(updates.some((s) => s.expect === 'deny'), id).toBe(true);
    }
  });

  it('the bundle README states the update rule and which subresources each engine sees', () => {
    const readme = text(files(), 'README.md');
    expect(readme).toMatch(/\*\*Updates\.\*\* .*denies on UPDATE only what the update introduces/);
    expect(readme).toMatch(/\*\*Subresources\.\*\* Kyverno's policies match their kinds only, no subresource, except `Pod\/ephemeralcontainers` \(the `<instance>\.ephemeralcontainers` policy of every pod control\), `Namespace\/finalize`, `Namespace\/status` \(`enforce-psa-namespace-labels`, `require-current-psa-version`\), `Service\/status` \(`disallow-loadbalancer-services`\)/);
    expect(readme).toMatch(/`services\/status`, reviewed by the Service constraints as an UPDATE of the Service/);
    expect(readme).toMatch(/No kubeharden expression reads `request\.subResource`/);
    expect(text(files('ClusterPolicy'), 'README.md')).toMatch(/\*\*Subresources\.\*\* Kyverno's rules match their kinds only, no subresource, except `Pod\/ephemeralcontainers` \(every rule matching Pods: Kyverno adds that subresource itself\), `Namespace\/finalize`, `Namespace\/status` \(`enforce-psa-namespace-labels`, `require-current-psa-version`\), `Service\/status` \(`disallow-loadbalancer-services`\)/);
  });

  it('ClusterPolicy rules match no subresource but the Namespace and Service writes that can relabel or unannotate them; no CEL reads request.subResource', () => {
    const policies = kyvernoObjects(files('ClusterPolicy')).filter((o) => o.kind === 'ClusterPolicy');
    expect(policies.length).toBeGreaterThan(20);
    for (const p of policies) {
      const id = p.metadata.annotations['kubeharden.io/control'];
      for (const r of p.spec.rules) {
        const kinds: string[] = r.match?.any?.flatMap((m: Obj) => m.resources.kinds) ?? [];
        expect(kinds.filter((k) => k.includes('/')), `${id} ${r.name}`).toEqual(NAMESPACE_WRITES.includes(id) ? ['Namespace/finalize', 'Namespace/status'] : id === 'disallow-loadbalancer-services' ? ['Service/status'] : []);
      }
      expect(JSON.stringify(p), id).not.toContain('subResource');
    }
  });

  it('ValidatingPolicies match no subresource but those Namespace and Service writes and, in their own policies, ephemeral containers; no CEL reads request.subResource', () => {
    const policies = kyvernoObjects(files()).filter((o) => o.kind === 'ValidatingPolicy');
    expect(policies.length).toBeGreaterThan(20);
    for (const p of policies) {
      const id = p.metadata.annotations['kubeharden.io/control'];
      const resources: string[] = p.spec.matchConstraints.resourceRules.flatMap((r: Obj) => r.resources);
      const expected = p.metadata.name.endsWith('.ephemeralcontainers') ? ['pods/ephemeralcontainers'] : NAMESPACE_WRITES.includes(id) ? ['namespaces/finalize', 'namespaces/status'] : id === 'disallow-loadbalancer-services' ? ['services/status'] : [];
      expect(resources.filter((r) => r.includes('/')), p.metadata.name).toEqual(expected);
      expect(JSON.stringify(p), id).not.toContain('subResource');
    }
  });

  it('every pod control, whatever its check reads, judges pods/ephemeralcontainers UPDATEs (the whole Pod): an `.ephemeralcontainers` ValidatingPolicy per instance, and the VAP of its Pods', () => {
    const fs = compile({ ...config, vap: { enabled: true } }, { today: TODAY }).clusters[0]!.files;
    const policies = kyvernoObjects(fs).filter((o) => o.kind === 'ValidatingPolicy');
    const names = new Set(policies.map((p) => p.metadata.name as string));
    const vaps: Obj[] = fs.filter((x) => x.path.startsWith('vap/') && 'objects' in x).flatMap((f) => (f as unknown as { objects: Obj[] }).objects).filter((o) => o.kind === 'ValidatingAdmissionPolicy');
    const podInstances = policies.filter((p) => isPodControl(getControl(p.metadata.annotations['kubeharden.io/control'])) && !/\.(replicationcontrollers|ephemeralcontainers)$/.test(p.metadata.name));
    expect(podInstances.length).toBeGreaterThan(20);
    for (const p of podInstances) {
      expect(names.has(`${p.metadata.name}.ephemeralcontainers`), p.metadata.name).toBe(true);
      const vap = vaps.find((v) => v.metadata.name === p.metadata.name);
      expect(vap?.spec.matchConstraints.resourceRules.flatMap((r: Obj) => r.resources), p.metadata.name).toEqual(['pods', 'pods/ephemeralcontainers']);
    }
  });
});

describe('the Kyverno suites replay UPDATE samples with their old object', () => {
  it('the old object overrides every key of the new one: keys it lacks are null at every map depth (the CLI merges into a copy of the new object)', () => {
    const now = { kind: 'Service', metadata: { name: 'a', labels: { team: 'a' } }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 81 }] }, status: { loadBalancer: {} } };
    const old = { kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } };
    expect(oldObjectValue(old, now)).toEqual({ kind: 'Service', metadata: { name: 'a', labels: null }, spec: { type: null, ports: [{ port: 80 }] }, status: null });
  });

  it('values.yaml sets request.operation and request.oldObject per UPDATE sample, and their expected result is the UPDATE verdict (ClusterPolicy suites)', () => {
    const fs = files('ClusterPolicy');
    const dir = 'kyverno/samples/disallow-loadbalancer-services';
    const values = parse(text(fs, `${dir}/values.yaml`)) as Obj;
    const test = JSON.parse(text(fs, `${dir}/kyverno-test.yaml`))[0] as Obj;
    expect(test.variables).toBe('values.yaml');
    const status = values.policies[0].resources.find((r: Obj) => r.name === 'disallow-loadbalancer-services.status-write-load-balancer-ingress');
    expect(status.values['request.operation']).toBe('UPDATE');
    expect(status.values['request.oldObject'].spec.type).toBe('LoadBalancer');
    expect(status.values['request.oldObject'].status).toBeNull();
    const pass = test.results.filter((r: Obj) => r.result === 'pass').flatMap((r: Obj) => r.resources);
    expect(pass).toContain('kubeharden-samples/disallow-loadbalancer-services.status-write-load-balancer-ingress');
    expect(pass).toContain('kubeharden-samples/disallow-loadbalancer-services.finalizer-removal');
  });
});
