/**
 * The sample set a bundle ships for the engines' own test runners: every built-in sample of each enabled
 * control at the bundle's version, plus the first allowed and first denied sample of each control inside
 * every workload controller (Kyverno auto-gen and Gatekeeper expansion must reach them).
 */
import { getControl, type ControlId } from '../../controls/index.js';
import { targetKinds, type Sample } from '../../controls/types.js';
import type { KubernetesVersion } from '../../pss/versions.js';
import { sampleApplies } from '../../controls/samples.js';
import { CLUSTER_SCOPED_KINDS, workloadVariants, type Obj } from '../../eval/review.js';


/** Namespace every suite sample is placed in (no config mentions it, so cluster-wide rules apply). */
export const SAMPLE_NAMESPACE = 'kubeharden-samples';

export interface SuiteCase {
  readonly control: ControlId;
  /** Unique in the bundle: `<control>.<sample>`, or for a workload variant its workloadVariantName (valid object names). */
  readonly name: string;
  readonly sample: Sample;
  /** Pod, a workload controller kind, or the target kind of a non-pod control. */
  readonly kind: string;
  readonly expect: 'allow' | 'deny';
  /** The verdict for `object` evaluated on its own (offline CLIs without the old object). */
  readonly expectPlain: 'allow' | 'deny';
  /** The object as submitted (renamed, in SAMPLE_NAMESPACE). */
  readonly object: Obj;
  /** For UPDATE samples: the object before the change. */
  readonly oldObject?: Obj;
}

export function suiteCases(controls: readonly ControlId[], version: KubernetesVersion): SuiteCase[] {
  const cases: SuiteCase[] = [];
  for (const id of controls) {
    const samples = getControl(id).samples.filter((s) => sampleApplies(s, version));
    for (const s of samples) {
      const name = `${id}.${s.name}`;
      cases.push({
        control: id,
        name,
        sample: s,
        kind: String(s.object['kind']),
        expect: s.expect,
        expectPlain: s.expectWithoutOldObject ?? s.expect,
        object: place(s, s.object as Obj, name),
        ...(s.oldObject ? { oldObject: place(s, s.oldObject as Obj, name) } : {}),
      });
    }
    // Non-pod controls check their own kinds: there are no workload variants.
    if (targetKinds(getControl(id))) continue;
    for (const expect of ['deny', 'allow'] as const) {
      const s = samples.find((x) => x.expect === expect && !x.podOnly);
      if (!s) continue;
      for (const w of workloadVariants(place(s, s.object as Obj, `${id}.${s.name}`))) {
        cases.push({ control: id, name: String((w.object['metadata'] as Obj)['name']), sample: s, kind: w.kind, expect, expectPlain: expect, object: w.object });
      }
    }
  }
  return cases;
}

/**
 * The object renamed (unless the sample is about its name), in SAMPLE_NAMESPACE unless the sample is about its
 * namespace; cluster-scoped objects have none.
 */
function place(s: Sample, o: Obj, suiteName: string): Obj {
  const m = (o['metadata'] ?? {}) as Obj;
  const name = s.keepName ? m['name'] : suiteName;
  if (CLUSTER_SCOPED_KINDS.has(String(o['kind']))) {
    const { namespace: _, ...rest } = m;
    return { ...o, metadata: { ...rest, name } };
  }
  return { ...o, metadata: s.keepNamespace ? { ...m, name } : { ...m, name, namespace: SAMPLE_NAMESPACE } };
}
