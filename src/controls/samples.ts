/**
 * Builders for control samples. Every sample is a Pod; the test harness and the bundle's sample suites
 * derive the workload-controller variants (Deployment … CronJob) from it.
 */
import type { Manifest, Sample } from './types.js';
import { minor, type KubernetesVersion } from '../pss/versions.js';

export const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
export type ContainerList = (typeof CONTAINER_LISTS)[number];

const IMAGE = 'registry.example.com/app:1.0';

type Obj = Record<string, unknown>;

/** A Pod named `name` with one plain container; `spec` is merged over the default spec. */
export function pod(name: string, spec: Obj = {}, metadata: Obj = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'apps', ...metadata },
    spec: { containers: [{ name: 'app', image: IMAGE }], ...spec },
  };
}

/**
 * One sample per container list: the given container fields set on a container in `list`.
 * Ephemeral containers cannot be set on create, so that variant is an UPDATE adding a debug container.
 */
export interface ListOptions {
  /** Pod-level spec fields. */
  readonly podSpec?: Obj;
  /** Fields every container gets (a compliant baseline for the control under test). */
  readonly base?: Obj;
  readonly metadata?: Obj;
  readonly versions?: Sample['versions'];
  /** More fields for the container under test in one list (e.g. `restartPolicy: Always` for an init container). */
  readonly inList?: Partial<Record<ContainerList, Obj>>;
}

/**
 * One sample per container list: `container` fields set on a container in that list (other containers
 * get only `base`). Ephemeral containers cannot be set on create, so that variant is an UPDATE that adds
 * a debug container to a running Pod.
 */
export function perContainerList(base: string, expect: 'allow' | 'deny', container: Obj, options: ListOptions = {}): Sample[] {
  return CONTAINER_LISTS.map((list) => inList(`${base}-${kebab(list)}`, expect, list, container, options));
}

export function inList(name: string, expect: 'allow' | 'deny', list: ContainerList, container: Obj, options: ListOptions = {}): Sample {
  const plain = (n: string): Obj => ({ name: n, image: IMAGE, ...(options.base ?? {}) });
  const target = (n: string): Obj => ({ ...plain(n), ...container, ...(options.inList?.[list] ?? {}) });
  const spec: Obj = { ...(options.podSpec ?? {}) };
  spec['containers'] = [list === 'containers' ? target('app') : plain('app')];
  if (list === 'initContainers') spec['initContainers'] = [target('init')];
  const before = pod(name, spec, options.metadata);
  const s: { -readonly [K in keyof Sample]: Sample[K] } = { name, expect, object: before };
  if (options.versions) s.versions = options.versions;
  if (list === 'ephemeralContainers') {
    const after = structuredClone(before) as { spec: Obj };
    after.spec['ephemeralContainers'] = [{ ...target('debug'), targetContainerName: 'app' }];
    s.object = after;
    s.oldObject = before;
    s.operation = 'UPDATE';
    s.podOnly = true;
  }
  return s;
}

/**
 * The two UPDATE samples of a Pod admitted before the policy existed (`running`, already violating):
 * a metadata-only change passes, as PSA's isSignificantPodUpdate decides (offline CLIs without the old
 * object still see a violation), and a change of the first container's image to `newImage` is checked.
 */
export function runningPodUpdates(running: Manifest, newImage: string): Sample[] {
  const updated = (change: (p: { metadata: Obj; spec: { containers: Obj[] } }) => void): Manifest => {
    const p = structuredClone(running) as unknown as { metadata: Obj; spec: { containers: Obj[] } };
    change(p);
    return p as unknown as Manifest;
  };
  return [
    {
      name: 'update-labels-of-running-pod',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: running,
      object: updated((p) => (p.metadata['labels'] = { release: 'canary' })),
      podOnly: true,
    },
    {
      name: 'update-image-of-running-pod',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: running,
      object: updated((p) => (p.spec.containers[0]!['image'] = newImage)),
      podOnly: true,
    },
  ];
}

/**
 * The UPDATE sample that adds a harmless debug container (through `pods/ephemeralcontainers`, as `kubectl debug`
 * does) to `running`, a Pod admitted before the policy existed that breaks a pod-level check (host namespaces,
 * volumes, sysctls, a pod-level profile): Pod Security Admission re-checks the whole Pod when ephemeral
 * containers change and Gatekeeper's webhook forwards the write to every Pod constraint, so it is denied in every
 * engine, although the new container itself is clean.
 */
export function debugRunningPod(name: string, running: Manifest): Sample {
  const after = structuredClone(running) as unknown as { spec: Obj };
  after.spec['ephemeralContainers'] = [{ name: 'debug', image: IMAGE, targetContainerName: 'app' }];
  return { name, expect: 'deny', operation: 'UPDATE', oldObject: running, object: after as unknown as Manifest, podOnly: true };
}

/**
 * The samples, with `apiServerRejects` set on the ones named in `reasons` (a part of the pinned API server's
 * validation message), or on all of them when `reasons` is one message. Throws on a name that is not among them, so a renamed sample cannot lose its note.
 */
export function apiServerRejects(samples: readonly Sample[], reasons: string | Readonly<Record<string, string>>): Sample[] {
  // One message: every sample given is refused with it.
  const byName: Readonly<Record<string, string>> = typeof reasons === 'string' ? Object.fromEntries(samples.map((s) => [s.name, reasons])) : reasons;
  for (const name of Object.keys(byName)) if (!samples.some((s) => s.name === name)) throw new Error(`apiServerRejects: no sample named ${name}`);
  return samples.map((s) => (byName[s.name] !== undefined ? { ...s, apiServerRejects: byName[s.name] } : s));
}

export function sample(name: string, expect: 'allow' | 'deny', object: Manifest, versions?: Sample['versions']): Sample {
  return versions ? { name, expect, object, versions } : { name, expect, object };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Does a sample apply to this target version? */
export function sampleApplies(sample: Sample, version: KubernetesVersion): boolean {
  const m = minor(version);
  return (sample.versions?.from === undefined || m >= sample.versions.from) && (sample.versions?.to === undefined || m <= sample.versions.to);
}
