/**
 * The Kyverno CLI part of the agreement matrix (see test/agreement.test.ts), one policy type per test file so
 * the two run in parallel: every sample of every control at the versions of KYVERNO_TYPE_VERSIONS, as a Pod and in
 * every workload controller (auto-gen; ReplicationController through its own ValidatingPolicy), gives the
 * WASM verdict and the expected one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesVersion } from '../../src/pss/versions.js';
import { sampleArtifacts } from '../../src/backends/engine-suites/index.js';
import { EPHEMERAL_SUFFIX } from '../../src/backends/kyverno/index.js';
import { loadCatalogModule } from '../../src/eval/bundle.js';
import { EngineRuns } from '../../src/eval/engines.js';
import type { PolicyModule } from '../../src/eval/wasm.js';
import { ensureEngine } from '../../src/engines/index.js';
import { KYVERNO_VERSIONS, ONLY_CONTROLS, controlsAt, disagreements, perControl, versions, wasmRows, withoutVersionAnnotation } from './matrix.js';

/**
 * The versions each policy type runs at. Both types carry the same CEL check of each control; what depends on
 * the version is that CEL (and the samples), which the ValidatingPolicy rows prove at every version of
 * KYVERNO_VERSIONS. What is the ClusterPolicy's own (its rule wrapping, legacy autogen, v2 exceptions) does not
 * depend on the version, so the legacy type runs at the oldest and the newest version only.
 */
export const KYVERNO_TYPE_VERSIONS: Readonly<Record<'ClusterPolicy' | 'ValidatingPolicy', readonly KubernetesVersion[]>> = {
  ValidatingPolicy: KYVERNO_VERSIONS,
  ClusterPolicy: [KYVERNO_VERSIONS[0]!, KYVERNO_VERSIONS.at(-1)!],
};

export function describeKyvernoMatrix(type: 'ClusterPolicy' | 'ValidatingPolicy'): void {
  /** One run per control and distinct input, two at a time: see `runs` in test/agreement.test.ts. */
  const runs = new EngineRuns(2);
  /** The versions whose rows were checked (counted against `runs` at the end). */
  const checked: KubernetesVersion[] = [];
  let catalog: PolicyModule;
  beforeAll(async () => {
    catalog = await loadCatalogModule(() => {});
    await ensureEngine('kyverno', (l) => process.stderr.write(`${l}\n`));
  }, 3_600_000);

  describe(`Kyverno CLI (${type}) = WASM = expected`, () => {
    it.each(versions(KYVERNO_TYPE_VERSIONS[type]))(
      `Kubernetes %s, ${type}: every sample, as a Pod and in every workload controller (auto-gen${type === 'ValidatingPolicy' ? '; ReplicationController by its own policy' : ''})`,
      async (v) => {
        const rows = wasmRows(catalog, v);
        expect(rows.length).toBeGreaterThan(0);
        const ids = controlsAt(v);
        const { policies, validatingPolicies } = sampleArtifacts(ids, v);
        const controlOf = (p: object): string => (p as { metadata: { annotations: Record<string, string> } }).metadata.annotations['kubeharden.io/control']!;
        // Each control's policies of the type under test (a ClusterPolicy, or its ValidatingPolicies). The
        // ephemeral-container policies match only UPDATEs of pods/ephemeralcontainers, which `kyverno apply` never
        // sends (every object is a CREATE): they are left out here (each one costs the CLI seconds of compiling)
        // and loaded by the suites the bundle ships (`kyverno test`, agreement-suites.test.ts).
        const sets: object[][] = type === 'ClusterPolicy' ? policies.map((p) => [p]) : validatingPolicies.map((ps) => ps.filter((p) => !p.metadata.name.endsWith(EPHEMERAL_SUFFIX)));
        expect(sets).toHaveLength(ids.length);
        expect(sets.map((ps) => [...new Set(ps.map(controlOf))])).toEqual(ids.map((id) => [id]));
        if (type === 'ValidatingPolicy') {
          // Pod controls reach ReplicationControllers through a policy of their own.
          for (const [i, id] of ids.entries()) if (rows.some((r) => r.c.control === id && r.c.kind === 'ReplicationController')) expect(sets[i]!.map((p) => (p as { metadata: { name: string } }).metadata.name), id).toContain(`${id}-samples.replicationcontrollers`);
        }
        // One `kyverno apply` per control with that control's samples only (see `runs`).
        // The policies are sent without their `kyverno.io/kubernetes-version` annotation, which records the target
        // minor for readers and which the Kyverno engine does not read (no Go code of kyverno v1.19.0 outside its
        // tests mentions it): a control whose policy and samples are otherwise byte-identical across versions then
        // runs once (see `runs`). Every other difference between versions still gets its own run.
        const findings = await perControl(rows, ids, (_, i, objects) => runs.kyverno(sets[i]!.map(withoutVersionAnnotation), objects));
        const compared = { n: 0 };
        expect(disagreements(`kyverno (${type})`, rows, findings, false, compared)).toEqual([]);
        expect(compared.n).toBe(rows.length);
        // Pods and all seven controllers are among the rows compared.
        if (!ONLY_CONTROLS) for (const k of ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']) expect(rows.some((r) => r.c.kind === k), k).toBe(true);
        checked.push(v);
      },
      1_200_000,
    );

    it('every control of every version checked was sent to the CLI; runs ≤ calls, at most two at a time', () => {
      const sum = (vs: readonly KubernetesVersion[]): number => vs.reduce((n, v) => n + controlsAt(v).length, 0);
      expect(runs.calls).toEqual({ gator: 0, kyverno: sum(checked) });
      expect(runs.runs.kyverno).toBeLessThanOrEqual(runs.calls.kyverno);
      expect(runs.peak).toBeLessThanOrEqual(2);
      process.stderr.write(`agreement matrix: kyverno (${type}) ${checked.length} version(s), ${runs.calls.kyverno} control runs asked, ${runs.runs.kyverno} made\n`);
    });
  });
}
