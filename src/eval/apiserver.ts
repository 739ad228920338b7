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

/** Sends `object` as a `dryRun=All` create into `namespace` (namespaced kinds). */
export async function admit(cp: RunningControlPlane, discovery: Discovery, object: Obj, namespace: string): Promise<Admission> {
  const apiVersion = String(object['apiVersion'] ?? '');
  const kind = String(object['kind'] ?? '');
  const res = await discovery.resource(apiVersion, kind);
  if (!res) return { status: 0, allowed: false, message: `the API server serves no ${kind} in ${apiVersion}`, warnings: [], request: '' };
  const path = res.namespaced ? res.path.replace(/\/([^/]+)$/, `/namespaces/${namespace}/$1`) : res.path;
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
 * oracle. Objects PSA does not look at (exempt namespace, no pod template) get an empty prediction.
 */
export async function predictPsa(items: readonly { readonly object: Obj; readonly ns: NamespacePolicy }[], log?: Logger): Promise<PsaPrediction[]> {
  const requests: { id: string; level: PsaLevel; version: string; pod: unknown }[] = [];
  const plan = items.map((it, i) => {
    const pod = podOf(it.object);
    if (it.ns.exempt || !pod) return { enforce: undefined, warn: undefined };
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

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
