/**
 * The agreement matrix: every sample × every control × every engine must give the same verdict, and it must
 * be the expected one. The matrix is split in files that run in parallel:
 * - this file: WASM (OPA-compiled Rego) = Gatekeeper's own `gator` = expected at every supported version,
 *   with identical messages;
 * - agreement-kyverno.test.ts / agreement-kyverno-vp.test.ts: the Kyverno CLI with ClusterPolicies /
 *   ValidatingPolicies at the versions that exercise every version knob;
 * - agreement-suites.test.ts: `gator verify` / `kyverno test` on the suites the bundle ships;
 * - agreement-scenarios.test.ts: real bundles (exempt namespaces, namespace levels, exceptions, objects
 *   beyond Pods) through every engine.
 * Shared parts: test/support/matrix.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_IDS, type ControlId } from '../src/controls/index.js';
import { SUPPORTED_VERSIONS, type KubernetesVersion } from '../src/pss/versions.js';
import { constraintTemplate, expansionTemplates } from '../src/backends/gatekeeper/emitters.js';
import { sampleArtifacts } from '../src/backends/engine-suites/index.js';
import { suiteCases } from '../src/backends/engine-suites/samples.js';
import { loadCatalogModule } from '../src/eval/bundle.js';
import { EngineRuns } from '../src/eval/engines.js';
import type { PolicyModule } from '../src/eval/wasm.js';
import { ensureEngine } from '../src/engines/index.js';
import { KYVERNO_VERSIONS, ONLY_CONTROLS, ONLY_VERSIONS, controlsAt, disagreements, matrixFilter, perControl, versions, wasmRows } from './support/matrix.js';

/**
 * Every engine run of the matrix goes through one EngineRuns: two processes at a time, and one run per distinct
 * input. Each control runs alone with its own samples (a sample's verdict is about its own control, and the
 * engines' cost grows with policies × resources), so a control whose policy documents and samples are the same
 * bytes at several Kubernetes versions is run once and every version's rows are checked against that run. The
 * key is a hash of the exact files the engine reads: any difference between versions gets its own run.
 */
const runs = new EngineRuns(2);
/** The versions whose rows gator checked (counted against `runs` at the end). */
const checked: KubernetesVersion[] = [];

let catalog: PolicyModule;
beforeAll(async () => {
  catalog = await loadCatalogModule(() => {});
  await ensureEngine('gator', (l) => process.stderr.write(`${l}\n`));
}, 3_600_000);

describe('the matrix', () => {
  it('covers at least one version, every version at least one control, every control samples', () => {
    expect(versions(SUPPORTED_VERSIONS).length).toBeGreaterThan(0);
    for (const v of versions(SUPPORTED_VERSIONS)) {
      expect(controlsAt(v).length, v).toBeGreaterThan(0);
      const rows = suiteCases(controlsAt(v), v);
      for (const id of controlsAt(v)) expect(rows.filter((r) => r.control === id).length, `${id} at ${v}`).toBeGreaterThan(0);
    }
    if (!ONLY_CONTROLS && !ONLY_VERSIONS) expect(versions(KYVERNO_VERSIONS)).toEqual(KYVERNO_VERSIONS);
  });

  it('KUBEHARDEN_CONTROLS / KUBEHARDEN_VERSIONS: a typo or an empty value fails; CI refuses either', () => {
    expect(matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, {})).toBeUndefined();
    expect(matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls, disallow-host-path' })).toEqual(['restrict-sysctls', 'disallow-host-path']);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctl' })).toThrow(/names no known value \(restrict-sysctl\)/);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls,Restrict-Sysctls' })).toThrow(/Restrict-Sysctls/);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '' })).toThrow(/names no known value/);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37,v1.30' })).toThrow(/\(v1\.30\)/);
    expect(matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37', CI: 'false' })).toEqual(['1.37']);
    expect(() => matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS, { KUBEHARDEN_VERSIONS: '1.37', CI: '1' })).toThrow(/CI runs the whole agreement matrix/);
    expect(() => matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS, { KUBEHARDEN_CONTROLS: 'restrict-sysctls', CI: 'true' })).toThrow(/CI runs the whole agreement matrix/);
  });
});


describe.each(versions(SUPPORTED_VERSIONS))('Kubernetes %s: WASM = gator = expected', (v) => {
  it('every sample, as a Pod and in every workload controller; identical messages', async () => {
    const rows = wasmRows(catalog, v);
    expect(rows.length).toBeGreaterThan(0);
    const wasmWrong = rows.filter((r) => (r.wasm.length ? 'deny' : 'allow') !== r.c.expectPlain).map((r) => `${r.c.name} [${r.c.kind}]: expected ${r.c.expectPlain}`);
    expect(wasmWrong).toEqual([]);
    const ids = controlsAt(v);
    const { constraints } = sampleArtifacts(ids, v);
    const templates = ids.map((id) => constraintTemplate(id, 'v1', '0.0.0'));
    // A control's samples run without the other controls' objects: no template may read gator's inventory.
    expect(templates.filter((t) => JSON.stringify(t).includes('data.inventory')).map((t) => (t as { metadata: { name: string } }).metadata.name)).toEqual([]);
    const expansions = expansionTemplates();
    const findings = await perControl(rows, ids, (_, i, objects) => runs.gator([templates[i]!, constraints[i]!, ...expansions], objects));
    const compared = { n: 0 };
    expect(disagreements('gator', rows, findings, true, compared)).toEqual([]);
    expect(compared.n).toBe(rows.length);
    checked.push(v);
    if (!ONLY_CONTROLS) expect(rows.length).toBeGreaterThan(300);
  });
});


describe('the engine runs of the matrix', () => {
  it('EngineRuns: byte-identical inputs share one run, any different byte gets its own, at most `limit` at a time', async () => {
    const id: ControlId = 'disallow-nodeport-services';
    const template = constraintTemplate(id, 'v1', '0.0.0');
    const [constraint] = sampleArtifacts([id], '1.37').constraints;
    const service = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps' }, spec: { type, ports: [{ port: 80 }] } });
    const r = new EngineRuns(1);
    let running = 0;
    let most = 0;
    const watch = <T>(p: Promise<T>): Promise<T> => {
      most = Math.max(most, ++running);
      return p.finally(() => running--);
    };
    const [a, b, c, d] = await Promise.all([
      watch(r.gator([template, constraint!], [service('np', 'NodePort')])),
      watch(r.gator([template, constraint!], [service('np', 'NodePort')])),
      // One character apart (the object's name): a run of its own.
      watch(r.gator([template, constraint!], [service('nq', 'NodePort')])),
      watch(r.gator([template, constraint!], [service('np', 'ClusterIP')])),
    ]);
    expect(most).toBeGreaterThan(1); // the calls were made concurrently…
    expect(r.calls.gator).toBe(4);
    expect(r.runs.gator).toBe(3); // …and made three gator runs, one at a time (limit 1)
    expect(r.peak).toBe(1);
    expect(b).toBe(a);
    expect([...a.keys()]).toEqual(['Service/apps/np']);
    expect([...c.keys()]).toEqual(['Service/apps/nq']);
    expect(d.size).toBe(0);
    expect(() => new EngineRuns(0)).toThrow(/at least 1/);
  });

  it('every control of every version checked was sent to its engine; runs ≤ calls, at most two at a time', () => {
    const sum = (vs: readonly KubernetesVersion[]): number => vs.reduce((n, v) => n + controlsAt(v).length, 0);
    expect(runs.calls).toEqual({ gator: sum(checked), kyverno: 0 });
    expect(runs.runs.gator).toBeLessThanOrEqual(runs.calls.gator);
    expect(runs.peak).toBeLessThanOrEqual(2);
    process.stderr.write(`agreement matrix: gator ${checked.length} version(s), ${runs.calls.gator} control runs asked, ${runs.runs.gator} made\n`);
  });
});

