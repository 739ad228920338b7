/**
 * Behaviour of every control, evaluated through the real OPA-compiled WASM: each sample (every field path,
 * container list, pod vs container precedence, version boundary) at every supported Kubernetes version,
 * as a Pod and inside every workload controller (Gatekeeper-style expansion); non-pod controls on their own kinds.
 */
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS as ALL_CONTROL_IDS, getControl } from '../src/controls/index.js';
import { checkableOffline, isPodControl } from '../src/controls/types.js';

/** Controls decided offline (verify-image-signatures needs a registry: test/verify-images.test.ts). */
const CONTROL_IDS = ALL_CONTROL_IDS.filter((id) => checkableOffline(getControl(id)));
import { SUPPORTED_VERSIONS, minor } from '../src/pss/versions.js';
import { evaluateSample, loadCatalogModule, sampleApplies, workloadVariants } from '../src/eval/bundle.js';
import type { Obj } from '../src/eval/review.js';

const catalog = loadCatalogModule(() => {});

describe.each(SUPPORTED_VERSIONS)('Kubernetes %s', (version) => {
  for (const id of CONTROL_IDS) {
    const c = getControl(id);
    if (c.pss?.since !== undefined && minor(version) < c.pss.since) continue;
    const samples = c.samples.filter((s) => sampleApplies(s, version));
    it(`${id}: ${samples.length} samples`, async () => {
      // A control active at a version has samples there, allowed and denied: never a vacuous pass.
      expect(samples.filter((x) => x.expect === 'allow').length, 'allowed samples').toBeGreaterThan(0);
      expect(samples.filter((x) => x.expect === 'deny').length, 'denied samples').toBeGreaterThan(0);
      const module = await catalog;
      const wrong: string[] = [];
      for (const s of samples) {
        const variants: [string, Obj | undefined][] = [[String(s.object['kind']), undefined]];
        // Non-pod controls check their own kinds; pod controls also every workload controller.
        if (!s.podOnly && isPodControl(c)) for (const w of workloadVariants(s.object as Obj)) variants.push([w.kind, w.object]);
        for (const [label, obj] of variants) {
          const msgs = evaluateSample(module, id, s, version, obj);
          const got = msgs.length ? 'deny' : 'allow';
          if (got !== s.expect) wrong.push(`${s.name} (${label}): expected ${s.expect}, got ${got} ${JSON.stringify(msgs)}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});

describe('sample catalog', () => {
  it('every control has allowed and denied samples, with unique names', () => {
    for (const id of CONTROL_IDS) {
      const s = getControl(id).samples;
      expect(s.some((x) => x.expect === 'allow'), id).toBe(true);
      expect(s.some((x) => x.expect === 'deny'), id).toBe(true);
      expect(new Set(s.map((x) => x.name)).size, id).toBe(s.length);
    }
  });

  it('objects that keep their names in the suites are unique per kind, namespace and name across controls', () => {
    const seen = new Map<string, string>();
    for (const id of CONTROL_IDS) {
      for (const s of getControl(id).samples.filter((x) => x.keepName)) {
        const m = s.object['metadata'] as Obj;
        const key = `${String(s.object['kind'])}/${String(m['namespace'] ?? '')}/${String(m['name'])}`;
        expect(seen.get(key), `${id} ${s.name}: ${key}`).toBeUndefined();
        seen.set(key, `${id} ${s.name}`);
      }
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('every container-level control covers init, regular and ephemeral containers (ephemeral via UPDATE)', () => {
    // Ephemeral containers cannot set resources: that control allows a debug container without them.
    expect(getControl('require-resource-limits-requests').samples.some((x) => x.expect === 'allow' && x.operation === 'UPDATE')).toBe(true);
    const podLevelOnly = new Set([
      'disallow-host-namespaces', 'disallow-host-path', 'restrict-sysctls', 'restrict-volume-types',
      'disallow-automount-sa-token', 'disallow-default-namespace',
    ]);
    // Controls about one list only, or that leave one out on purpose (with an allowed sample for it).
    const only: Record<string, string[]> = {
      'block-ephemeral-containers': ['containers', 'ephemeralContainers'],
      'require-resource-limits-requests': ['containers', 'initContainers'],
    };
    for (const id of CONTROL_IDS) {
      if (podLevelOnly.has(id) || !isPodControl(getControl(id))) continue;
      if (only[id]) {
        const lists = new Set<string>(['containers']);
        for (const s of getControl(id).samples.filter((x) => x.expect === 'deny')) {
          const spec = (s.object as { spec: Obj }).spec;
          if (s.operation === 'UPDATE' && spec['ephemeralContainers']) lists.add('ephemeralContainers');
          if (spec['initContainers']) lists.add('initContainers');
        }
        expect([...lists].sort(), id).toEqual(only[id]);
        continue;
      }
      const denies = getControl(id).samples.filter((x) => x.expect === 'deny');
      const lists = new Set<string>();
      for (const s of denies) {
        const spec = (s.object as { spec: Obj }).spec;
        if (s.operation === 'UPDATE' && spec['ephemeralContainers']) lists.add('ephemeralContainers');
        if (spec['initContainers']) lists.add('initContainers');
        lists.add('containers');
      }
      expect([...lists].sort(), id).toEqual(['containers', 'ephemeralContainers', 'initContainers']);
    }
  });
});

describe('legacy v0 templates', () => {
  it('give the same verdict as v1 on every sample (Kubernetes 1.37)', async () => {
    const { constraintTemplate } = await import('../src/backends/gatekeeper/emitters.js');
    const { loadPolicyModule, sourcesOf } = await import('../src/eval/wasm.js');
    const v0 = await loadPolicyModule(sourcesOf(CONTROL_IDS.map((id) => constraintTemplate(id, 'v0', '0.0.0'))), () => {});
    const v1 = await catalog;
    expect(v0.wasmPath).not.toBe(v1.wasmPath);
    for (const id of CONTROL_IDS) {
      expect(getControl(id).samples.filter((x) => sampleApplies(x, '1.37')).length, id).toBeGreaterThan(0);
      for (const s of getControl(id).samples.filter((x) => sampleApplies(x, '1.37'))) {
        expect(evaluateSample(v0, id, s, '1.37'), `${id} ${s.name}`).toEqual(evaluateSample(v1, id, s, '1.37'));
      }
    }
  });
});
