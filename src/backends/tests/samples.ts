/**
 * The sample set a bundle ships for the engines' own test runners: every built-in sample of each enabled
 * control at the bundle's version, plus the first allowed and first denied sample of each control inside
 * every workload controller (Kyverno auto-gen and Gatekeeper expansion must reach them).
 */
import { getControl, type ControlId } from '../../controls/index.js';
import type { Sample } from '../../controls/types.js';
import { minor, type KubernetesVersion } from '../../pss/versions.js';
import type { Obj } from '../../eval/review.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Namespace every suite sample is placed in (no config mentions it, so cluster-wide rules apply). */
export const SAMPLE_NAMESPACE = 'kubeharden-samples';

export interface SuiteCase {
  readonly control: ControlId;
  /** Unique in the bundle: `<control>.<sample>[.<kind>]` (a valid object name). */
  readonly name: string;
  readonly sample: Sample;
  readonly kind: 'Pod' | WorkloadKind;
  readonly expect: 'allow' | 'deny';
  /** The object as submitted (renamed, in SAMPLE_NAMESPACE). */
  readonly object: Obj;
  /** For UPDATE samples: the object before the change. */
  readonly oldObject?: Obj;
}

export function sampleApplies(sample: Sample, version: KubernetesVersion): boolean {
  const m = minor(version);
  return (sample.versions?.from === undefined || m >= sample.versions.from) && (sample.versions?.to === undefined || m <= sample.versions.to);
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
        kind: 'Pod',
        expect: s.expect,
        object: place(s.object as Obj, name),
        ...(s.oldObject ? { oldObject: place(s.oldObject as Obj, name) } : {}),
      });
    }
    for (const expect of ['deny', 'allow'] as const) {
      const s = samples.find((x) => x.expect === expect && !x.podOnly);
      if (!s) continue;
      for (const w of workloadVariants(place(s.object as Obj, `${id}.${s.name}`))) {
        cases.push({ control: id, name: String((w.object['metadata'] as Obj)['name']), sample: s, kind: w.kind, expect, object: w.object });
      }
    }
  }
  return cases;
}

function place(o: Obj, name: string): Obj {
  const m = (o['metadata'] ?? {}) as Obj;
  return { ...o, metadata: { ...m, name, namespace: SAMPLE_NAMESPACE } };
}

/** The same pod spec inside every workload controller kind. */
export function workloadVariants(pod: Obj): { kind: WorkloadKind; object: Obj }[] {
  const m = (pod['metadata'] ?? {}) as Obj;
  const name = String(m['name'] ?? 'sample');
  const namespace = m['namespace'];
  const labels = { app: name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) };
  const template = { metadata: { labels, ...(m['annotations'] ? { annotations: m['annotations'] } : {}) }, spec: pod['spec'] };
  const md = (kind: string): Obj => ({ name: `${name}.${kind.toLowerCase()}`, ...(namespace ? { namespace } : {}) });
  const selector = { matchLabels: labels };
  const jobSpec = { template: { ...template, spec: { restartPolicy: 'Never', ...(pod['spec'] as Obj) } } };
  const objects: Record<WorkloadKind, Obj> = {
    Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: md('Deployment'), spec: { selector, template } },
    StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: md('StatefulSet'), spec: { selector, serviceName: labels.app, template } },
    DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: md('DaemonSet'), spec: { selector, template } },
    ReplicaSet: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: md('ReplicaSet'), spec: { selector, template } },
    ReplicationController: { apiVersion: 'v1', kind: 'ReplicationController', metadata: md('ReplicationController'), spec: { selector: labels, template } },
    Job: { apiVersion: 'batch/v1', kind: 'Job', metadata: md('Job'), spec: jobSpec },
    CronJob: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: md('CronJob'), spec: { schedule: '0 * * * *', jobTemplate: { spec: jobSpec } } },
  };
  return WORKLOAD_KINDS.map((kind) => ({ kind, object: objects[kind] }));
}
