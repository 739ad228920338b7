/**
 * Part of the agreement matrix (see test/agreement.test.ts): the native ValidatingAdmissionPolicies, through
 * the VAP oracle (vap-check: k8s.io/apiserver's own admission code), at every matrix version where VAP is GA.
 * Each control's sample policies and bindings at that version, every sample as a Pod and in every workload
 * controller, UPDATE samples as real UPDATEs with their old object and subresource (added ephemeral
 * containers through `pods/ephemeralcontainers`): the verdict is the expected one and, for objects judged on their own, WASM's.
 * One oracle process per version. The same policies are type-checked for that minor: nothing the API server
 * of the target version would refuse to create; at the lowest, against that release's own OpenAPI schemas
 * (k8s.io/kubernetes api/openapi-spec/v3 from the Go module cache), with no finding beyond the stated gap. (A real kube-apiserver runs them at 1.37 in test/vap.test.ts;
 * exceptions, modes and the reference bundle in test/agreement-scenarios.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { vapObjectsFor } from '../src/backends/vap/index.js';
import { vapUnsupportedReason } from '../src/backends/cel-support.js';
import { sampleInstance } from '../src/backends/engine-suites/index.js';
import { loadCatalogModule } from '../src/eval/bundle.js';
import { keyOf } from '../src/eval/engines.js';
import { vapBundleOf, vapFindings, type VapUpdate } from '../src/eval/vap.js';
import { ensureVapChecker, releaseSchemas, vapTypecheck } from '../src/engines/vap.js';
import type { PolicyModule } from '../src/eval/wasm.js';
import { VAP_MIN_VERSION } from '../src/config/resolve/cluster.js';
import { minor, type KubernetesVersion } from '../src/pss/versions.js';
import type { ControlId } from '../src/controls/index.js';
import { KYVERNO_VERSIONS, ONLY_CONTROLS, controlsAt, versions, wasmRows } from './support/matrix.js';
import { typeCheckDistinct } from './support/vap-typecheck.js';

type Obj = Record<string, any>;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const LABEL = 'kubeharden.io/vap-sample';
const VAP_VERSIONS = versions(KYVERNO_VERSIONS).filter((v) => minor(v) >= minor(VAP_MIN_VERSION as KubernetesVersion));

/** The object labelled with its control: each control's bindings select only its own samples. */
const labelled = (o: Obj, control: string): Obj => ({ ...o, metadata: { ...(o['metadata'] ?? {}), labels: { ...(o['metadata']?.['labels'] ?? {}), [LABEL]: control } } });
const names = (o: Obj | undefined): string[] => (o?.['spec']?.['ephemeralContainers'] ?? []).map((c: Obj) => String(c['name']));
const addsEphemeral = (after: Obj, before: Obj): boolean => names(after).some((n) => !names(before).includes(n));

describe('ValidatingAdmissionPolicies (the VAP oracle) = WASM = expected', () => {
  let catalog: PolicyModule;
  beforeAll(async () => {
    catalog = await loadCatalogModule(() => {});
    await ensureVapChecker(log);
  }, 3_600_000);

  it('runs at every matrix version from the first where VAP is GA', () => {
    if (!process.env['KUBEHARDEN_VERSIONS']) expect(VAP_VERSIONS).toEqual(['1.30', '1.34', '1.37']);
  });

  it.each(VAP_VERSIONS)(
    'Kubernetes %s: every sample as a Pod, in every workload controller and as an UPDATE; type-checked for the minor',
    async (v) => {
      const ids: ControlId[] = controlsAt(v).filter((id) => vapUnsupportedReason(id) === undefined);
      expect(ids.length).toBeGreaterThan(ONLY_CONTROLS ? 0 : 30);
      const rows = wasmRows(catalog, v).filter((r) => ids.includes(r.c.control));
      const objects: Obj[] = [];
      for (const id of ids) {
        for (const o of vapObjectsFor(id, sampleInstance(id, v)) ?? []) {
          const binding = o.kind === 'ValidatingAdmissionPolicyBinding';
          objects.push(binding ? { ...o, spec: { ...o.spec, matchResources: { ...(o.spec.matchResources ?? {}), objectSelector: { matchLabels: { [LABEL]: id } } } } } : o);
        }
      }
      const bundle = vapBundleOf(objects)!;
      const requests: (Obj | VapUpdate)[] = rows.map(({ c }) => {
        const object = labelled(c.object, c.control);
        if (!c.oldObject) return object;
        const oldObject = labelled(c.oldObject, c.control);
        const subResource = c.sample.subResource ?? (c.kind === 'Pod' && addsEphemeral(object, oldObject) ? 'ephemeralcontainers' : undefined);
        return { operation: 'UPDATE', object, oldObject, ...(subResource ? { subResource } : {}) };
      });
      // The lowest version is type-checked against its own release's schemas (typed: fields that release does not
      // have are findings), the others untyped (CEL libraries of the minor only).
      const lowest = v === VAP_VERSIONS[0];
      const [findings, typed, warnings] = await Promise.all([
        vapFindings(bundle, requests, { log }),
        lowest ? undefined : vapTypecheck(bundle.policies, v, {}, { log }),
        lowest ? typeCheckDistinct(bundle.policies as Obj[], v, releaseSchemas(v), log) : undefined,
      ]);
      const out: string[] = [];
      let updates = 0;
      for (const { c, wasm } of rows) {
        const mine = (findings.get(keyOf(c.object)) ?? []).filter((f) => f.control === c.control);
        const got = mine.some((f) => f.action === 'deny') ? 'deny' : 'allow';
        // With the old object the oracle judges the UPDATE itself; WASM's row judges the object on its own.
        const expected = c.oldObject ? c.expect : c.expectPlain;
        if (c.oldObject) updates++;
        if (got !== expected) out.push(`${c.name} [${c.kind}${c.oldObject ? ' UPDATE' : ''}] ${c.control}: expected ${expected}, vap ${got}`);
        else if (!c.oldObject && got !== (wasm.length ? 'deny' : 'allow')) out.push(`${c.name} [${c.kind}] ${c.control}: vap ${got}, wasm ${wasm.length ? 'deny' : 'allow'}`);
        if (mine.some((f) => f.action !== 'deny')) out.push(`${c.name} [${c.kind}] ${c.control}: a finding that is not a deny (the sample bindings are [Deny])`);
      }
      expect(out).toEqual([]);
      // Every deny sample written through a subresource reaches its policy (the control's target lists it).
      expect(rows.filter((r) => r.c.sample.subResource && r.c.expect === 'deny' && !(findings.get(keyOf(r.c.object)) ?? []).length).map((r) => r.c.name)).toEqual([]);
      if (!ONLY_CONTROLS) {
        expect(updates).toBeGreaterThan(20);
        for (const k of ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']) expect(rows.some((r) => r.c.kind === k), k).toBe(true);
      }
      // Nothing the target minor's API server would refuse at create (CEL libraries it does not have yet).
      if (typed) {
        expect(typed.policies.map((p) => p.name).sort()).toEqual(bundle.policies.map((p) => String((p as Obj)['metadata']['name'])).sort());
        expect(typed.policies.filter((p) => p.rejectedOnCreate.length).map((p) => `${p.name}: ${p.rejectedOnCreate.join('; ')}`)).toEqual([]);
      }
      // Typed (typeCheckDistinct checks the refusals too): no warning, as on a 1.37 API server, also against this
      // release's schemas (a field the release does not have would be one).
      if (warnings) {
        expect(warnings.size).toBe(new Set(bundle.policies.map((p) => String((p as Obj)['metadata']['name']))).size);
        expect([...warnings].filter(([, w]) => w.length).map(([n, w]) => `${n}: ${w.map((x) => String(x['warning']).slice(0, 300)).join('; ')}`)).toEqual([]);
      }
      log(`agreement matrix: vap ${v}: ${rows.length} rows (${updates} UPDATEs), ${bundle.policies.length} policies`);
    },
    600_000,
  );
});
