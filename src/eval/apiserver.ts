/**
 * Real admission on a running kube-apiserver (src/engines/apiserver.ts): a bundle's namespaces, labelled as
 * its psa/ folder says, and objects sent as `dryRun=All` creates, so decoding, defaulting, validation and
 * every built-in admission plugin (Pod Security Admission with the bundle's admission configuration among
 * them) run on them, and nothing is stored.
 *
 * The Pod Security Admission verdict the API server gives is predicted with the PSA library oracle
 * (src/engines/psa.ts) from the namespace's effective policy (its labels over the admission configuration's
 * defaults; exempt namespaces get none) and compared exactly: a Pod is rejected with
 * `violates PodSecurity "<enforce>"` iff it fails the enforce level, an admitted Pod or a workload carries
 * `would violate PodSecurity "<warn>"` iff it fails the warn level (workloads are never rejected by PSA).
 */
import { parse as parseYaml } from 'yaml';
import type { CompiledCluster, CompileResult } from '../compile.js';
import { psaEvaluate, type PsaLevel, type PsaReason } from '../engines/psa.js';
import type { ApiResponse, ControlPlaneFiles, RunningControlPlane } from '../engines/apiserver.js';
import type { Logger } from '../engines/index.js';
import type { Obj } from './review.js';

export type Level = 'privileged' | PsaLevel;

export interface LevelVersion {
  readonly level: Level;
  readonly version: string;
}

export interface NamespacePolicy {
  readonly name: string;
  /** Exempt by the admission configuration: PSA neither rejects nor warns. */
  readonly exempt: boolean;
  readonly enforce: LevelVersion;
  readonly warn: LevelVersion;
  readonly labels: Readonly<Record<string, string>>;
}

/** A cluster folder's control-plane files, as the bundle writes them. */
export function bundleControlPlaneFiles(result: CompileResult, cc: CompiledCluster): ControlPlaneFiles {
  const prefix = result.output.has(`${cc.cluster.name}/control-plane/admission-configuration.yaml`) ? `${cc.cluster.name}/` : '';
  const get = (f: string): string | undefined => result.output.get(`${prefix}control-plane/${f}`);
  const a = get('admission-configuration.yaml');
  const p = get('audit-policy.yaml');
  const e = get('encryption-config.yaml');
  return { ...(a !== undefined ? { admissionConfiguration: a } : {}), ...(p !== undefined ? { auditPolicy: p } : {}), ...(e !== undefined ? { encryptionConfiguration: e } : {}) };
}

/** The Namespace objects of the bundle's psa/ folder. */
export function psaNamespaces(cc: CompiledCluster): Obj[] {
  const out: Obj[] = [];
  for (const f of cc.files) if (f.path.startsWith('psa/') && 'objects' in f) for (const o of f.objects as Obj[]) if (o['kind'] === 'Namespace') out.push(o);
  return out;
}

interface PsaDefaults {
  readonly enforce: LevelVersion;
  readonly warn: LevelVersion;
  readonly exemptNamespaces: readonly string[];
}

/** PSA's defaults and namespace exemptions from an AdmissionConfiguration (none configured: privileged, latest). */
export function psaDefaults(admissionConfiguration: string | undefined): PsaDefaults {
  const none: PsaDefaults = { enforce: { level: 'privileged', version: 'latest' }, warn: { level: 'privileged', version: 'latest' }, exemptNamespaces: [] };
  if (admissionConfiguration === undefined) return none;
  const doc = parseYaml(admissionConfiguration) as { plugins?: { name?: string; configuration?: { defaults?: Record<string, string>; exemptions?: { namespaces?: string[] } } }[] };
  const c = doc?.plugins?.find((p) => p.name === 'PodSecurity')?.configuration;
  if (!c) return none;
  const d = c.defaults ?? {};
  const lv = (mode: string): LevelVersion => ({ level: (d[mode] ?? 'privileged') as Level, version: d[`${mode}-version`] ?? 'latest' });
  return { enforce: lv('enforce'), warn: lv('warn'), exemptNamespaces: c.exemptions?.namespaces ?? [] };
}

/** A namespace's effective policy: its labels over the defaults (a mode's version label without a level label keeps the default level). */
export function namespacePolicy(name: string, labels: Readonly<Record<string, string>>, defaults: PsaDefaults): NamespacePolicy {
  const lv = (mode: 'enforce' | 'warn'): LevelVersion => {
    const level = labels[`pod-security.kubernetes.io/${mode}`];
    const version = labels[`pod-security.kubernetes.io/${mode}-version`];
    return { level: (level ?? defaults[mode].level) as Level, version: version ?? defaults[mode].version };
  };
  return { name, exempt: defaults.exemptNamespaces.includes(name), enforce: lv('enforce'), warn: lv('warn'), labels };
}

const lvString = (lv: LevelVersion): string => `${lv.level}:${lv.version}`;

/** Error when a response is not what a setup step needs. */
function expectStatus(what: string, r: ApiResponse, ok: readonly number[]): void {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status}: ${statusMessage(r)}`);
}

export function statusMessage(r: ApiResponse): string {
  const b = r.body as { message?: unknown } | string;
  return typeof b === 'string' ? b.slice(0, 1000) : typeof b?.message === 'string' ? b.message : JSON.stringify(b).slice(0, 1000);
}

/**
 * Creates the bundle's psa/ namespaces (with their labels), the config's other namespaces and `extra`
 * ones (unlabelled), each with a `default` ServiceAccount (no controller manager runs to create it, and the
 * ServiceAccount admission plugin needs it). Returns every namespace's effective PSA policy.
 */
export async function setUpNamespaces(cp: RunningControlPlane, cc: CompiledCluster, files: ControlPlaneFiles, extra: readonly string[] = []): Promise<Map<string, NamespacePolicy>> {
  const defaults = psaDefaults(files.admissionConfiguration);
  const wanted = new Map<string, Record<string, string>>();
  for (const ns of psaNamespaces(cc)) {
    const md = (ns['metadata'] ?? {}) as Obj;
    wanted.set(String(md['name']), { ...((md['labels'] ?? {}) as Record<string, string>) });
  }
  for (const n of cc.cluster.namespaces) if (!wanted.has(n.name)) wanted.set(n.name, {});
  for (const n of extra) if (!wanted.has(n)) wanted.set(n, {});
  const out = new Map<string, NamespacePolicy>();
  for (const [name, labels] of wanted) {
    const fromBundle = psaNamespaces(cc).find((o) => ((o['metadata'] ?? {}) as Obj)['name'] === name);
    const body = fromBundle ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
    const r = await cp.request('POST', '/api/v1/namespaces', body);
    if (r.status === 409) {
      // kube-system and friends exist already: give them the bundle's labels.
      const p = await cp.request('PATCH', `/api/v1/namespaces/${name}`, { metadata: { labels } });
      expectStatus(`labelling namespace ${name}`, p, [200]);
    } else expectStatus(`creating namespace ${name}`, r, [201]);
    const sa = await cp.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    expectStatus(`creating the default ServiceAccount of ${name}`, sa, [201, 409]);
    out.set(name, namespacePolicy(name, labels, defaults));
  }
  return out;
}

interface ResourceInfo {
  readonly path: string;
  readonly namespaced: boolean;
}

/** Finds an object's REST resource through discovery (cached per group/version). */
export class Discovery {
  private readonly cache = new Map<string, Promise<Map<string, ResourceInfo>>>();
  constructor(private readonly cp: RunningControlPlane) {}

  async resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    let p = this.cache.get(apiVersion);
    if (!p) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      p = this.cp.request('GET', base).then((r) => {
        const m = new Map<string, ResourceInfo>();
        if (r.status !== 200) return m;
        for (const res of (r.body as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? []) {
          if (!res.name.includes('/')) m.set(res.kind, { path: `${base}/${res.name}`, namespaced: res.namespaced });
        }
        return m;
      });
      this.cache.set(apiVersion, p);
    }
    return (await p).get(kind);
  }
}

export interface Admission {
  /** HTTP status of the dry-run create. */
  readonly status: number;
  readonly allowed: boolean;
  readonly message: string;
  readonly warnings: readonly string[];
  /** The request's target, e.g. `POST /api/v1/namespaces/apps/pods`. */
  readonly request: string;
  /** The response body of an admitted request: the object as the API server would store it. */
  readonly body?: unknown;
}

/** The collection path of a resource, inside `namespace` for a namespaced kind. */
function collectionPath(res: ResourceInfo, namespace: string | undefined): string {
  return res.namespaced && namespace ? res.path.replace(/\/([^/]+)$/, `/namespaces/${namespace}/$1`) : res.path;
}

/** Sends `object` as a `dryRun=All` create into `namespace` (namespaced kinds). */
export async function admit(cp: RunningControlPlane, discovery: Discovery, object: Obj, namespace: string): Promise<Admission> {
  const apiVersion = String(object['apiVersion'] ?? '');
  const kind = String(object['kind'] ?? '');
  const res = await discovery.resource(apiVersion, kind);
  if (!res) return { status: 0, allowed: false, message: `the API server serves no ${kind} in ${apiVersion}`, warnings: [], request: '' };
  const path = collectionPath(res, namespace);
  const md = { ...((object['metadata'] ?? {}) as Obj) };
  if (res.namespaced) md['namespace'] = namespace;
  const r = await cp.request('POST', `${path}?dryRun=All&fieldValidation=Strict`, { ...object, metadata: md });
  const allowed = r.status === 200 || r.status === 201;
  return { status: r.status, allowed, message: allowed ? '' : statusMessage(r), warnings: r.warnings, request: `POST ${path}`, ...(allowed ? { body: r.body } : {}) };
}

/** The pod (metadata and spec) PSA evaluates for an object: a Pod itself, or a workload's pod template. */
export function podOf(object: Obj): Obj | undefined {
  const kind = object['kind'];
  const spec = (object['spec'] ?? {}) as Obj;
  if (kind === 'Pod') return { metadata: object['metadata'] ?? {}, spec: object['spec'] ?? {} };
  const template = kind === 'CronJob' ? (((spec['jobTemplate'] ?? {}) as Obj)['spec'] as Obj | undefined)?.['template'] : spec['template'];
  if (!template || typeof template !== 'object') return undefined;
  const t = template as Obj;
  return { metadata: t['metadata'] ?? {}, spec: t['spec'] ?? {} };
}

export interface PsaPrediction {
  /** Set for a Pod PSA rejects: the exact message part. */
  readonly reject?: string;
  /** The PSA warning an admitted object carries, if any. */
  readonly warning?: string;
  /** The failing checks at the enforce (Pods only) and warn levels. */
  readonly enforceReasons: readonly PsaReason[];
  readonly warnReasons: readonly PsaReason[];
  /** The checks PSA ran at each level (a restricted check replaces the baseline one it overrides). */
  readonly enforceChecks: readonly string[];
  readonly warnChecks: readonly string[];
}

const detail = (reasons: readonly PsaReason[]): string => reasons.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');

/**
 * What PSA on the API server says about each object in its namespace, predicted with the PSA library
 * oracle. Objects PSA does not look at (exempt namespace, no pod template, an UPDATE PSA lets through
 * unchecked) get an empty prediction.
 */
export async function predictPsa(items: readonly { readonly object: Obj; readonly ns: NamespacePolicy; readonly oldObject?: Obj }[], log?: Logger): Promise<PsaPrediction[]> {
  const requests: { id: string; level: PsaLevel; version: string; pod: unknown }[] = [];
  const plan = items.map((it, i) => {
    const pod = podOf(it.object);
    if (it.ns.exempt || !pod) return { enforce: undefined, warn: undefined };
    // An UPDATE: PSA looks at Pods only, and only at a significant change; workloads' updates are not sent.
    if (it.oldObject && (it.object['kind'] !== 'Pod' || !isSignificantPodUpdate(it.object, it.oldObject))) return { enforce: undefined, warn: undefined };
    const isPod = it.object['kind'] === 'Pod';
    const ask = (lv: LevelVersion, tag: string): string | undefined => {
      if (lv.level === 'privileged') return undefined;
      const id = `${i}|${tag}`;
      requests.push({ id, level: lv.level, version: lv.version, pod });
      return id;
    };
    return { enforce: isPod ? ask(it.ns.enforce, 'enforce') : undefined, warn: ask(it.ns.warn, 'warn') };
  });
  const results = await psaEvaluate(requests, log ? { log } : {});
  return items.map((it, i) => {
    const p = plan[i]!;
    const e = p.enforce ? results.get(p.enforce)! : undefined;
    const w = p.warn ? results.get(p.warn)! : undefined;
    const base = { enforceReasons: e?.reasons ?? [], warnReasons: w?.reasons ?? [], enforceChecks: e?.checks ?? [], warnChecks: w?.checks ?? [] };
    if (base.enforceReasons.length) return { reject: `violates PodSecurity "${lvString(it.ns.enforce)}": ${detail(base.enforceReasons)}`, ...base };
    return { ...(base.warnReasons.length ? { warning: `would violate PodSecurity "${lvString(it.ns.warn)}": ${detail(base.warnReasons)}` } : {}), ...base };
  });
}

/** Differences between the API server's PSA verdict and the prediction (empty when they agree). */
export function comparePsa(a: Admission, p: PsaPrediction): string[] {
  const out: string[] = [];
  const psaWarnings = a.warnings.filter((w) => w.includes('PodSecurity'));
  if (p.reject) {
    if (a.allowed || !a.message.includes(p.reject)) out.push(`expected PSA to reject with ${JSON.stringify(p.reject)}, got ${a.allowed ? 'admitted' : `HTTP ${a.status}: ${a.message}`}`);
  } else if (!a.allowed) {
    out.push(`expected admission, got HTTP ${a.status}: ${a.message}`);
  } else {
    const want = p.warning ? [p.warning] : [];
    if (JSON.stringify(psaWarnings) !== JSON.stringify(want)) out.push(`expected PSA warnings ${JSON.stringify(want)}, got ${JSON.stringify(psaWarnings)}`);
  }
  return out;
}


/**
 * Whether a Pod UPDATE is one Pod Security Admission evaluates (its isSignificantPodUpdate, k8s.io/pod-security-admission
 * admission.go): a different number of containers or init containers, a changed image, or an ephemeral
 * container added or given another image. Anything else (labels, annotations) is admitted unchecked.
 */
export function isSignificantPodUpdate(pod: Obj, oldPod: Obj): boolean {
  const list = (p: Obj, l: string): Obj[] => ((((p['spec'] ?? {}) as Obj)[l] ?? []) as Obj[]);
  for (const l of ['containers', 'initContainers']) {
    const now = list(pod, l);
    const before = list(oldPod, l);
    if (now.length !== before.length) return true;
    if (now.some((c, i) => c['image'] !== before[i]!['image'])) return true;
  }
  const old = list(oldPod, 'ephemeralContainers');
  return list(pod, 'ephemeralContainers').some((c) => {
    const o = old.find((x) => x['name'] === c['name']);
    return !o || o['image'] !== c['image'];
  });
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const named = (v: unknown): v is Obj[] => Array.isArray(v) && v.length > 0 && v.every((e) => isObj(e) && typeof e['name'] === 'string');

/**
 * The object a client would send to change `stored` (the object as the API server holds it) the way `after`
 * differs from `before`: what the change leaves alone keeps the stored value (fields the API server or its
 * admission plugins added, such as a Service's cluster IP or the service-account token volume), what it
 * changes takes the new value. Lists of named items (containers, volumes, ports) are merged by name.
 */
export function applyChange(stored: unknown, before: unknown, after: unknown): unknown {
  if (same(before, after)) return stored;
  if (isObj(before) && isObj(after) && isObj(stored)) {
    const out: Obj = { ...stored };
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!(k in after)) delete out[k];
      else out[k] = applyChange(stored[k], before[k], after[k]);
    }
    return out;
  }
  if (named(after) && (before === undefined || named(before)) && (stored === undefined || named(stored))) {
    const b = (before ?? []) as Obj[];
    const s = (stored ?? []) as Obj[];
    const kept = s.filter((x) => !b.some((y) => y['name'] === x['name']) || after.some((y) => y['name'] === x['name']));
    const out = kept.map((x) => {
      const a = after.find((y) => y['name'] === x['name']);
      return a === undefined ? x : applyChange(x, b.find((y) => y['name'] === x['name']), a);
    });
    for (const a of after) if (!s.some((x) => x['name'] === a['name'])) out.push(a);
    return out;
  }
  return after;
}

/** The REST path of one object (`/api/v1/namespaces/<ns>/pods/<name>`), plus `/<subresource>` when given. */
export async function objectPath(discovery: Discovery, object: Obj, namespace: string | undefined, subResource?: string): Promise<string | undefined> {
  const res = await discovery.resource(String(object['apiVersion'] ?? ''), String(object['kind'] ?? ''));
  if (!res) return undefined;
  const base = collectionPath(res, namespace);
  const name = String(((object['metadata'] ?? {}) as Obj)['name'] ?? '');
  return `${base}/${encodeURIComponent(name)}${subResource ? `/${subResource}` : ''}`;
}

/**
 * Stores `object` for real (no dry run) in `namespace` and returns it as stored, or the object already stored
 * under that name (an API server's own bootstrap object, or one stored earlier). Throws when it cannot.
 */
export async function ensureStored(cp: RunningControlPlane, discovery: Discovery, object: Obj, namespace: string | undefined): Promise<Obj> {
  const res = await discovery.resource(String(object['apiVersion'] ?? ''), String(object['kind'] ?? ''));
  if (!res) throw new Error(`the API server serves no ${String(object['kind'])} in ${String(object['apiVersion'])}`);
  const path = collectionPath(res, namespace);
  const md = { ...((object['metadata'] ?? {}) as Obj) };
  if (res.namespaced && namespace) md['namespace'] = namespace;
  else delete md['namespace'];
  const r = await cp.request('POST', `${path}?fieldValidation=Strict`, { ...object, metadata: md });
  if (r.status === 201 || r.status === 200) return r.body as Obj;
  if (r.status === 409) {
    const g = await cp.request('GET', (await objectPath(discovery, object, namespace))!);
    if (g.status === 200) return g.body as Obj;
  }
  throw new Error(`storing ${String(object['kind'])}/${String(md['name'])}${namespace ? ` in ${namespace}` : ''}: HTTP ${r.status}: ${statusMessage(r)}`);
}

/** The object an update of `stored` from `before` to `after` sends: the change applied to the stored object, with its resourceVersion. */
export function updatedObject(stored: Obj, before: Obj, after: Obj): Obj {
  const smd = (stored['metadata'] ?? {}) as Obj;
  // The names and namespace are the stored object's (the harness renames and moves samples).
  const strip = (o: Obj): Obj => ({ ...o, metadata: { ...((o['metadata'] ?? {}) as Obj), name: smd['name'], namespace: smd['namespace'] } });
  const body = applyChange(stored, strip(before), strip(after)) as Obj;
  const sent = { ...body, metadata: { ...((body['metadata'] ?? {}) as Obj), resourceVersion: smd['resourceVersion'] } };
  if (smd['namespace'] === undefined) delete (sent.metadata as Obj)['namespace'];
  return sent;
}

/**
 * Sends the change from `before` to `after` as a `dryRun=All` update (PUT, with the stored object's
 * resourceVersion) of `stored`, through `subResource` when given: admission sees the stored object as the
 * old object.
 */
export async function admitUpdate(cp: RunningControlPlane, discovery: Discovery, stored: Obj, before: Obj, after: Obj, namespace: string | undefined, subResource?: string): Promise<Admission> {
  const path = await objectPath(discovery, stored, namespace, subResource);
  if (!path) return { status: 0, allowed: false, message: `the API server serves no ${String(stored['kind'])} in ${String(stored['apiVersion'])}`, warnings: [], request: '' };
  const sent = updatedObject(stored, before, after);
  const r = await cp.request('PUT', `${path}?dryRun=All&fieldValidation=Strict`, sent);
  const allowed = r.status === 200 || r.status === 201;
  return { status: r.status, allowed, message: allowed ? '' : statusMessage(r), warnings: r.warnings, request: `PUT ${path}`, ...(allowed ? { body: r.body } : {}) };
}
