/**
 * A reproducible audit corpus for the benchmark: the project's own control samples (compliant and not)
 * with variations, placed in namespaces and wrapped in every workload controller kind, mixed with
 * Services, Roles, ClusterRoles, bindings, ConfigMaps and Namespaces. The same seed and size always give
 * byte-identical files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_IDS, getControl } from '../controls/index.js';
import { workloadVariants, type Obj } from '../eval/review.js';
import { isPodControl } from '../controls/types.js';
import { toYaml } from '../emit/yaml.js';

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CorpusOptions {
  readonly resources: number;
  readonly seed?: number;
  /** Documents per file (the last file may hold fewer). */
  readonly perFile?: number;
  /** Block YAML (how manifests are written, the default) or one JSON object per document. */
  readonly format?: 'yaml' | 'json';
}

export interface CorpusStats {
  readonly resources: number;
  readonly files: number;
  readonly bytes: number;
  readonly kinds: Readonly<Record<string, number>>;
}

const NAMESPACES = ['apps', 'legacy-apps', 'batch', 'node-agents', 'default', 'team-a', 'team-b', 'team-c', 'payments', 'kube-system'];

/**
 * Pods from the samples of every pod control (CREATE samples only: an offline audit sees objects, not
 * updates). Samples of non-pod controls are Services, bindings, …: no workload can be made of them.
 */
function samplePods(): Obj[] {
  const pods: Obj[] = [];
  for (const id of CONTROL_IDS) {
    if (!isPodControl(getControl(id))) continue;
    for (const s of getControl(id).samples) if (!s.operation || s.operation === 'CREATE') pods.push(s.object as Obj);
  }
  return pods;
}

/** The corpus as a list of documents per file, in order. */
export function* corpusDocuments(options: CorpusOptions): Generator<Obj> {
  const rand = prng(options.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const pods = samplePods();
  const workloadKinds = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'];
  for (let i = 0; i < options.resources; i++) {
    const namespace = pick(NAMESPACES);
    const name = `r${i.toString(36)}`;
    const r = rand();
    if (r < 0.7) {
      // A workload from a sample, with a fresh name, namespace, labels and image tag.
      const pod = structuredClone(pick(pods)) as Obj & { metadata: Obj; spec: Obj };
      pod.metadata = { ...pod.metadata, name, namespace, labels: { app: name, tier: pick(['web', 'api', 'worker']) } };
      const containers = (pod.spec['containers'] as Obj[] | undefined) ?? [];
      for (const c of containers) if (typeof c['image'] === 'string' && c['image'].endsWith(':1.0')) c['image'] = `${c['image'].slice(0, -4)}:1.${Math.floor(rand() * 20)}`;
      const kind = pick(workloadKinds);
      yield kind === 'Pod' ? pod : workloadVariants(pod).find((v) => v.kind === kind)!.object;
    } else if (r < 0.8) {
      const type = pick(['ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer']);
      yield { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } };
    } else if (r < 0.86) {
      const cluster = rand() < 0.3;
      const rules = [{ apiGroups: [''], resources: pick([['pods'], ['secrets'], ['*'], ['configmaps', 'services']]), verbs: pick([['get', 'list'], ['*'], ['get', 'list', 'watch', 'create']]) }];
      yield { apiVersion: 'rbac.authorization.k8s.io/v1', kind: cluster ? 'ClusterRole' : 'Role', metadata: cluster ? { name } : { name, namespace }, rules };
    } else if (r < 0.92) {
      const cluster = rand() < 0.3;
      const subject = pick([
        { kind: 'ServiceAccount', name: 'default', namespace },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'developers' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:unauthenticated' },
      ]);
      const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: cluster ? 'ClusterRole' : 'Role', name: pick(['view', 'edit', 'cluster-admin', `r${Math.floor(rand() * i).toString(36)}`]) };
      yield { apiVersion: 'rbac.authorization.k8s.io/v1', kind: cluster ? 'ClusterRoleBinding' : 'RoleBinding', metadata: cluster ? { name } : { name, namespace }, subjects: [subject], roleRef };
    } else if (r < 0.97) {
      yield { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'app.properties': `replicas=${Math.floor(rand() * 10)}\nmode=${pick(['a', 'b'])}\n` } };
    } else {
      const level = pick(['restricted', 'baseline', 'privileged']);
      yield { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${name}`, labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'latest' } } };
    }
  }
}

/** Writes the corpus as multi-document files `corpus-NNNN.yaml` (`---` between documents) into `dir` (emptied first). */
export function writeCorpus(dir: string, options: CorpusOptions): CorpusStats {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const perFile = options.perFile ?? 100;
  const kinds: Record<string, number> = {};
  let files = 0;
  let bytes = 0;
  let count = 0;
  let docs: string[] = [];
  const flush = (): void => {
    if (!docs.length) return;
    const text = docs.join('---\n');
    writeFileSync(join(dir, `corpus-${String(files).padStart(4, '0')}.yaml`), text);
    bytes += Buffer.byteLength(text);
    files++;
    docs = [];
  };
  for (const doc of corpusDocuments(options)) {
    kinds[String(doc['kind'])] = (kinds[String(doc['kind'])] ?? 0) + 1;
    docs.push(options.format === 'json' ? `${JSON.stringify(doc)}\n` : toYaml(doc, { header: false }));
    count++;
    if (docs.length >= perFile) flush();
  }
  flush();
  return { resources: count, files, bytes, kinds: Object.fromEntries(Object.entries(kinds).sort(([a], [b]) => (a < b ? -1 : 1))) };
}
