/**
 * `kubeharden exempt`: audits the inputs with the config and writes an exception into the config for every
 * current deny, so that a team can enforce the bundle on a cluster where things already run, and fix them
 * before the exceptions expire. Each exception is as narrow as the findings allow: one per control and
 * namespace, scoped to the denied objects' names (a workload's name and its Pods' prefix), or to the images of
 * the offending containers where that lets through fewer containers of the inputs (a sidecar denied in many
 * workloads, beside containers that stay checked), and with the exact values found (`allow:`) where the
 * control has value-scoped exceptions. Every choice is checked by auditing
 * again with the edited config; the file itself is edited as text (src/config/edit.ts), and re-running on the
 * same inputs adds nothing.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { CompiledCluster } from '../compile.js';
import { compileResolved } from '../compile.js';
import { allowKeysOf, type AllowKey } from '../config/allow.js';
import { addExceptions, ConfigEditError, unifiedDiff, type NewException } from '../config/edit.js';
import { findConfig, loadConfig } from '../config/load.js';
import { resolveConfig, today } from '../config/resolve.js';
import { getControl, isControlId, type ControlId } from '../controls/index.js';
import { isPodControl } from '../controls/types.js';
import { loadEvaluator, type BundleEvaluator } from '../eval/bundle.js';
import { KubehardenError, type Diagnostic } from '../diagnostics.js';
import { CLUSTER_SCOPED_KINDS, podContainers, type Obj } from '../eval/review.js';
import { loadPolicyModule } from '../eval/wasm.js';
import { collectInputs, type AuditInput } from '../audit/input.js';
import { scanNamespaces } from '../audit/namespaces.js';
import { auditInputs, defaultWorkers } from '../audit/pipeline.js';
import { auditEvaluatorSpec } from '../audit/run.js';
import { parse, UsageError } from './args.js';
import { compileConfigFile, oneCluster } from './compile-config.js';
import type { Io } from './io.js';

export const EXEMPT_USAGE = `Usage: kubeharden exempt <files|dirs|-> --reason TEXT --expires YYYY-MM-DD [options]

Audits the inputs with the config and writes an exception into the config for every current deny, so that
the next audit of the same inputs passes. Each exception covers one control in one namespace, for the denied
objects by name (a workload's name and the prefix of its Pods, NAME-*) or, for a pod control, by the images of
the containers that fail it where that lets through fewer containers of the inputs, and, for controls with value-scoped
exceptions (host ports, capabilities, host namespaces, host paths, volume types, sysctls, seccomp, AppArmor,
SELinux), only the values found. The file keeps its comments, formatting and order; running again on the
same inputs adds nothing. For a live cluster:

  kubectl get -A -o yaml pods,deployments,statefulsets,daemonsets,jobs,cronjobs \\
    | kubeharden exempt - --reason "pre-existing (PLAT-7)" --expires 2027-03-31

Options:
  --reason TEXT          why the exceptions exist (required; shown in the bundle README and reports)
  --expires YYYY-MM-DD   last day they are valid (required; after it the build fails)
  -c, --config F         the config file (default: policies.config.ts in the working directory)
  --cluster NAME         which cluster of a multi-cluster config (the exceptions go into its entry)
  -n, --namespace NS     objects without a namespace are in NS (as kubectl apply -n NS); default: default
  --dry-run              print the change as a unified diff and write nothing
  -h, --help             this text

Exit codes: 0 every deny is excepted (or there was none), 1 some findings cannot be excepted by name (listed;
the rest is written), 2 usage error, input error or a config that cannot be edited (nothing is written).`;

/** Controllers whose Pods are named after them (`NAME-…`). */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']);

interface Denied {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly controls: ReadonlySet<string>;
  readonly object: Obj;
}

interface Group {
  readonly control: string;
  readonly namespace: string | undefined;
  readonly names: readonly string[];
  /** Set when the exception is scoped by these images instead of the names (see `imageScoped`). */
  images?: readonly string[];
  allow?: Partial<Record<AllowKey, (string | number)[]>>;
  /** The denied objects (kind/namespace/name), for messages. */
  readonly objects: readonly string[];
  readonly members: readonly Denied[];
}

export async function runExempt(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args: [...args],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      cluster: { type: 'string' },
      reason: { type: 'string' },
      expires: { type: 'string' },
      'dry-run': { type: 'boolean' },
      namespace: { type: 'string', short: 'n' },
    },
  });
  if (!positionals.length) throw new UsageError('give one or more files, directories, or - for stdin');
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError('--reason TEXT is required (why these exceptions exist, e.g. "pre-existing workloads (PLAT-7)")');
  const expires = values.expires;
  if (!expires) throw new UsageError('--expires YYYY-MM-DD is required (the last day the exceptions are valid)');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`)) || new Date(`${expires}T00:00:00Z`).toISOString().slice(0, 10) !== expires) {
    throw new UsageError(`--expires must be a date YYYY-MM-DD, got "${expires}"`);
  }
  if (expires < today()) throw new UsageError(`--expires ${expires} is in the past (today is ${today()})`);

  if (values.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.namespace)) throw new UsageError(`--namespace must be a namespace name (DNS label), got "${values.namespace}"`);
  const file = findConfig(io.cwd, values.config);
  const display = relative(io.cwd, file) || file;
  // The config as it is must be valid: its own diagnostics are printed by the usual path.
  const compiled = await compileConfigFile(io, values.config);
  if (!compiled) return 2;
  const clusters = compiled.result.clusters;
  oneCluster(clusters, values.cluster);
  let clusterName = values.cluster;
  const raw = await loadConfig(file);
  const multi = isObject(raw) && isObject(raw['clusters']);
  if (multi && clusterName === undefined) clusterName = clusters[0]!.cluster.name;

  const { inputs, missing, unreadable, cleanup } = await collectInputs(positionals, io.cwd, () => (io.stdin ? io.stdin() : (async function* () { yield await io.readStdin(); })()));
  try {
    if (missing.length || unreadable.length) {
      for (const m of missing) io.err(`${m}: no such file or directory`);
      for (const u of unreadable) io.err(`${u.path}: ${u.message}`);
      io.err(`kubeharden exempt: ${missing.length + unreadable.length} input(s) missing or unreadable; nothing was written`);
      return 2;
    }
    const pick = (cs: readonly CompiledCluster[]): CompiledCluster => (clusterName === undefined ? cs[0]! : cs.find((c) => c.cluster.name === clusterName)!);
    const first = await auditDenies(pick(clusters), inputs, values.namespace);
    if (first.errors.length) {
      for (const e of first.errors) io.err(e);
      io.err(`kubeharden exempt: ${first.errors.length} input error(s); nothing was written`);
      return 2;
    }
    if (!first.denied.length) {
      io.out(`kubeharden exempt: nothing is denied; ${display} is unchanged`);
      return 0;
    }

    // Candidate exceptions, narrowest first; each round audits again and widens (value-scoped → by name)
    // or gives up on the groups whose findings remain.
    let groups = await imageScoped(pick(clusters), groupsOf(first.denied), first.containers, values.namespace);
    // Objects without a name (generateName only) cannot be named by an exception.
    const dropped: Group[] = groups.filter((g) => !g.names.length);
    groups = groups.filter((g) => g.names.length > 0);
    const configWith = (gs: readonly Group[]): unknown => withExceptions(raw, gs.map((g) => exceptionOf(g, reason, expires)), multi ? clusterName : undefined);
    // Excepting a restricted control can uncover the baseline control it supersedes (e.g. restrict-volume-types
    // and disallow-host-path): those findings get their own groups in the next round.
    for (let round = 0; round < 8; round++) {
      const resolved = resolveConfig(configWith(groups));
      if (!resolved.config) {
        // Exceptions the config refuses (e.g. a value no `allow` key accepts): widen, or drop those groups.
        const bad = refusedGroups(resolved.diagnostics, existingCount(raw, multi ? clusterName : undefined), multi ? clusterName : undefined);
        if (!bad.size) throw new KubehardenError('exempt_config_invalid', `the config does not resolve with the new exceptions: ${resolved.diagnostics.map((d) => d.message).join('; ')}`);
        groups = groups.flatMap((g, i) => (bad.has(i) ? (g.images ? [{ ...g, images: undefined }] : g.allow ? [{ ...g, allow: undefined }] : (dropped.push(g), [])) : [g]));
        continue;
      }
      const after = await auditDenies(pick(compileResolved(resolved.config).clusters), inputs, values.namespace);
      const known = new Set([...groups, ...dropped].map((g) => groupKey(g.control, g.namespace)));
      const remaining = new Set(after.denied.flatMap((d) => [...d.controls].map((c) => groupKey(c, d.namespace))));
      const fresh = groupsOf(after.denied.map((d) => ({ ...d, controls: new Set([...d.controls].filter((c) => !known.has(groupKey(c, d.namespace)))) })).filter((d) => d.controls.size));
      if (![...remaining].some((k) => known.has(k) && !dropped.some((g) => groupKey(g.control, g.namespace) === k)) && !fresh.length) break;
      groups = groups.flatMap((g) => {
        if (!remaining.has(groupKey(g.control, g.namespace))) return [g];
        if (g.images) return [{ ...g, images: undefined }];
        if (g.allow) return [{ ...g, allow: undefined }];
        dropped.push(g);
        return [];
      });
      dropped.push(...fresh.filter((g) => !g.names.length));
      groups = [...groups, ...fresh.filter((g) => g.names.length > 0)].sort(byPlace);
    }

    const exceptions = groups.map((g) => exceptionOf(g, reason, expires));
    const before = readFileSync(file, 'utf8');
    let text: string;
    try {
      text = await addExceptions(file, before, exceptions, { ...(multi ? { cluster: clusterName! } : {}), cwd: io.cwd });
    } catch (err) {
      if (err instanceof ConfigEditError) {
        io.err(`kubeharden exempt: ${err.message}`);
        io.err('nothing was written');
        return 2;
      }
      throw err;
    }

    // The edited text is loaded and audited like the user's next run will: it must except what was planned.
    if (exceptions.length) {
      const tmp = join(dirname(file), `.kubeharden-${process.pid}-${basename(file)}`);
      writeFileSync(tmp, text);
      let ok = false;
      try {
        const edited = resolveConfig(await loadConfig(tmp));
        if (edited.config) {
          const check = await auditDenies(pick(compileResolved(edited.config).clusters), inputs, values.namespace);
          const expected = new Set(dropped.map((g) => groupKey(g.control, g.namespace)));
          ok = check.denied.every((d) => [...d.controls].every((c) => expected.has(groupKey(c, d.namespace))));
        }
        if (!ok) throw new KubehardenError('exempt_not_verified', 'the edited config does not except what the audit found (nothing was written); please report this with the inputs');
        if (!values['dry-run']) renameSync(tmp, file);
      } finally {
        if (existsSync(tmp)) rmSync(tmp, { force: true });
      }
    }

    const findings = groups.reduce((n, g) => n + g.members.length, 0);
    const lines = groups.map((g) => `  ${g.control} in ${g.namespace ?? '(every namespace)'}: ${g.images ? `images ${g.images.join(', ')}` : g.names.join(', ')}${g.allow ? ` (allow ${Object.entries(g.allow).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')})` : ''}`);
    if (values['dry-run']) {
      if (text !== before) io.out(unifiedDiff(before, text, display));
      io.err(`kubeharden exempt: would add ${exceptions.length} exception(s) for ${findings} finding(s) to ${display} (dry run: nothing was written)`);
      if (lines.length) io.err(lines.join('\n'));
    } else if (exceptions.length) {
      io.out(`kubeharden exempt: added ${exceptions.length} exception(s) for ${findings} finding(s) to ${display}, expiring ${expires}:\n${lines.join('\n')}`);
      io.out('run `kubeharden build` to update the bundle');
    }
    if (dropped.length) {
      io.err(`kubeharden exempt: ${dropped.length} finding group(s) cannot be excepted by name and were not written:`);
      for (const g of dropped) io.err(`  ${g.control} in ${g.namespace ?? '(cluster)'}: ${g.objects.join(', ')}`);
      return 1;
    }
    return 0;
  } finally {
    cleanup();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function groupKey(control: string, namespace: string | undefined): string {
  return `${control}\u0000${namespace ?? ''}`;
}

/**
 * The denied objects of an audit (WASM engine), with their objects; input errors as located lines; and the
 * images of every container of every object read, by namespace.
 */
async function auditDenies(cc: CompiledCluster, inputs: readonly AuditInput[], defaultNamespace: string | undefined): Promise<{ denied: Denied[]; errors: string[]; containers: Map<string, string[]> }> {
  const evaluator = auditEvaluatorSpec(cc, await scanNamespaces(inputs));
  const spec = defaultNamespace ? { ...evaluator, defaultNamespace } : evaluator;
  await loadPolicyModule({ templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 }, () => {});
  const totalBytes = inputs.reduce((n, i) => n + (i.size ?? 0), 0);
  const denied: Denied[] = [];
  const errors: string[] = [];
  const containers = new Map<string, string[]>();
  await auditInputs(
    inputs,
    spec,
    (item) => {
      if ('error' in item) {
        errors.push(`${item.source}:${item.line}: ${item.error}`);
        return;
      }
      const namespace = item.namespace ?? (CLUSTER_SCOPED_KINDS.has(item.kind) ? undefined : 'default');
      const spec = item.object ? podSpecOf(item.object) : undefined;
      if (spec && namespace !== undefined) {
        const images = containers.get(namespace) ?? [];
        for (const c of podContainers(spec)) images.push(typeof c['image'] === 'string' ? c['image'] : '');
        containers.set(namespace, images);
      }
      const controls = new Set(item.findings.filter((f) => f.action === 'deny').map((f) => f.control));
      if (!controls.size) return;
      denied.push({ kind: item.kind, namespace, name: item.name, controls, object: item.object! });
    },
    { workers: totalBytes < 1 << 20 ? 0 : defaultWorkers(), keepObjects: true },
  );
  return { denied, errors, containers };
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/**
 * Groups of pod controls scoped by image where that is narrower: the images of the containers that fail the
 * control on their own (each denied object evaluated again with one container at a time, its pod-level
 * settings kept), when those are not all of an object's containers (a pod-level finding, such as hostNetwork,
 * fails with any container: only names scope it) and when the inputs' containers in the namespace with those
 * images are fewer than the containers of the objects the names cover. The verification rounds fall back to
 * the names if the images do not except every finding.
 */
async function imageScoped(cc: CompiledCluster, groups: readonly Group[], containers: ReadonlyMap<string, readonly string[]>, defaultNamespace: string | undefined): Promise<Group[]> {
  let evaluator: BundleEvaluator | undefined;
  const out: Group[] = [];
  for (const g of groups) {
    if (g.namespace === undefined || !isControlId(g.control) || !isPodControl(getControl(g.control))) {
      out.push(g);
      continue;
    }
    evaluator ??= await loadEvaluator(cc, () => {});
    const images = new Set<string>();
    let covered = 0;
    let scoped = true;
    for (const m of g.members) {
      const spec = podSpecOf(m.object);
      const all = spec ? podContainers(spec) : [];
      covered += all.length;
      const offending = spec ? failingAlone(evaluator, g.control, m.object, spec, defaultNamespace) : undefined;
      // None alone (a finding of the containers together, or not the bundle's own) or all (pod-level): by name.
      if (!offending?.length || offending.length === all.length || offending.some((c) => typeof c['image'] !== 'string' || c['image'] === '')) {
        scoped = false;
        break;
      }
      for (const c of offending) images.add(String(c['image']));
    }
    const byImage = scoped ? (containers.get(g.namespace) ?? []).filter((i) => images.has(i)).length : Infinity;
    out.push(scoped && images.size && byImage < covered ? { ...g, images: [...images].sort() } : g);
  }
  return out;
}

/** The containers of `object` that `control` denies with no other container beside them. */
function failingAlone(evaluator: BundleEvaluator, control: string, object: Obj, spec: Obj, defaultNamespace: string | undefined): Obj[] | undefined {
  const out: Obj[] = [];
  for (const list of CONTAINER_LISTS) {
    const cs = Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [];
    for (const c of cs) {
      if (!isObject(c)) return undefined;
      const alone = structuredClone(object);
      const target = podSpecOf(alone)!;
      for (const l of CONTAINER_LISTS) if (l in target) target[l] = [];
      target[list] = [c];
      const findings = evaluator.evaluate(alone, defaultNamespace ? { defaultNamespace } : {});
      if (findings.some((f) => f.control === control && f.action === 'deny')) out.push(c);
    }
  }
  return out;
}

/** The names that cover an object now and after its controller replaces its Pods. */
function namesOf(d: Denied): string[] {
  if (!d.name) return [];
  if (WORKLOAD_KINDS.has(d.kind)) return [d.name, `${d.name}-*`];
  if (d.kind === 'Pod') {
    const md = (d.object['metadata'] ?? {}) as Obj;
    const owner = ((md['ownerReferences'] ?? []) as Obj[]).find((o) => o && o['controller'] === true && typeof o['name'] === 'string');
    if (owner) {
      const ownerName = String(owner['name']);
      // A ReplicaSet of a Deployment is DEPLOYMENT-HASH, a Job of a CronJob CRONJOB-TIMESTAMP: name the top controller.
      const top = owner['kind'] === 'ReplicaSet' || owner['kind'] === 'Job' ? ownerName.replace(/-[a-z0-9]+$/, '') : ownerName;
      if (d.name.startsWith(`${top}-`)) return [top, `${top}-*`];
    }
  }
  return [d.name];
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function groupsOf(denied: readonly Denied[]): Group[] {
  const byKey = new Map<string, { control: string; namespace: string | undefined; members: Denied[] }>();
  for (const d of denied) {
    for (const c of d.controls) {
      const k = groupKey(c, d.namespace);
      let g = byKey.get(k);
      if (!g) byKey.set(k, (g = { control: c, namespace: d.namespace, members: [] }));
      g.members.push(d);
    }
  }
  const groups: Group[] = [];
  for (const g of byKey.values()) {
    const names: string[] = [];
    // Workloads first: their NAME-* covers their Pods.
    const ordered = [...g.members].sort((a, b) => Number(!WORKLOAD_KINDS.has(a.kind)) - Number(!WORKLOAD_KINDS.has(b.kind)));
    for (const m of ordered) {
      if (m.name && names.some((p) => matches(p, m.name))) continue;
      for (const n of namesOf(m)) if (!names.includes(n)) names.push(n);
    }
    const allow = allowOf(g.control, g.members.map((m) => m.object));
    groups.push({
      control: g.control,
      namespace: g.namespace,
      names: names.sort(),
      ...(allow ? { allow } : {}),
      objects: g.members.map((m) => `${m.kind}/${m.namespace ? `${m.namespace}/` : ''}${m.name}`),
      members: g.members,
    });
  }
  return groups.sort(byPlace);
}

/** Namespace, then control id. */
function byPlace(a: Group, b: Group): number {
  const na = a.namespace ?? '';
  const nb = b.namespace ?? '';
  return na < nb ? -1 : na > nb ? 1 : a.control < b.control ? -1 : a.control > b.control ? 1 : 0;
}

function exceptionOf(g: Group, reason: string, expires: string): NewException {
  return {
    control: g.control,
    ...(g.namespace !== undefined ? { namespaces: [g.namespace] } : {}),
    ...(g.images ? { images: g.images } : { names: g.names }),
    ...(g.allow ? { allow: g.allow } : {}),
    reason,
    expires,
  };
}

/** The raw config with exceptions appended (to the cluster's entry in a multi-cluster config). */
function withExceptions(raw: unknown, exceptions: readonly NewException[], cluster: string | undefined): unknown {
  const cfg = raw as Record<string, unknown>;
  if (cluster === undefined) return { ...cfg, exceptions: [...((cfg['exceptions'] as unknown[] | undefined) ?? []), ...exceptions] };
  const clusters = cfg['clusters'] as Record<string, Record<string, unknown>>;
  const entry = clusters[cluster] ?? {};
  return { ...cfg, clusters: { ...clusters, [cluster]: { ...entry, exceptions: [...((entry['exceptions'] as unknown[] | undefined) ?? []), ...exceptions] } } };
}

function existingCount(raw: unknown, cluster: string | undefined): number {
  const cfg = raw as Record<string, unknown>;
  const list = cluster === undefined ? cfg['exceptions'] : (cfg['clusters'] as Record<string, Record<string, unknown>>)[cluster]?.['exceptions'];
  return Array.isArray(list) ? list.length : 0;
}

/** Indexes (among the new exceptions) of those an error diagnostic points into. */
function refusedGroups(ds: readonly Diagnostic[], offset: number, cluster: string | undefined): Set<number> {
  const prefix = cluster === undefined ? ['exceptions'] : ['clusters', cluster, 'exceptions'];
  const out = new Set<number>();
  for (const d of ds) {
    if (d.severity !== 'error') continue;
    if (!prefix.every((p, i) => d.path[i] === p)) continue;
    const i = d.path[prefix.length];
    if (typeof i === 'number' && i >= offset) out.add(i - offset);
  }
  return out;
}

// --- the values a value-scoped exception would need ---

function podSpecOf(o: Obj): Obj | undefined {
  const spec = o['spec'] as Obj | undefined;
  if (!spec) return undefined;
  if (o['kind'] === 'Pod') return spec;
  if (o['kind'] === 'CronJob') return ((((spec['jobTemplate'] as Obj | undefined)?.['spec'] as Obj | undefined)?.['template'] as Obj | undefined)?.['spec'] as Obj | undefined);
  return (spec['template'] as Obj | undefined)?.['spec'] as Obj | undefined;
}

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const ALLOWED_PROFILE_TYPES = new Set(['RuntimeDefault', 'Localhost']);

function valuesFor(key: AllowKey, spec: Obj): (string | number)[] | undefined {
  const cs = podContainers(spec);
  const sc = (x: Obj): Obj => (isObject(x['securityContext']) ? (x['securityContext'] as Obj) : {});
  switch (key) {
    case 'capabilities': {
      const caps = cs.flatMap((c) => {
        const add = (sc(c)['capabilities'] as Obj | undefined)?.['add'];
        return Array.isArray(add) ? add.filter((x): x is string => typeof x === 'string') : [];
      });
      // ALL cannot be allowed (name what is needed): the exception is by name only.
      return caps.includes('ALL') ? undefined : caps;
    }
    case 'hostNamespaces':
      return (['hostIPC', 'hostNetwork', 'hostPID'] as const).filter((k) => spec[k] === true);
    case 'hostPorts':
      return cs.flatMap((c) => (Array.isArray(c['ports']) ? (c['ports'] as Obj[]) : []).map((p) => p?.['hostPort']).filter((p): p is number => typeof p === 'number' && p !== 0));
    case 'hostPaths':
      return (Array.isArray(spec['volumes']) ? (spec['volumes'] as Obj[]) : []).map((v) => (v?.['hostPath'] as Obj | undefined)?.['path']).filter((p): p is string => typeof p === 'string');
    case 'volumeTypes':
      return (Array.isArray(spec['volumes']) ? (spec['volumes'] as Obj[]) : []).flatMap((v) => (isObject(v) ? Object.keys(v).filter((k) => k !== 'name' && !ALLOWED_VOLUME_TYPES.has(k)) : []));
    case 'sysctls': {
      const s = sc(spec)['sysctls'];
      return Array.isArray(s) ? s.map((x: Obj) => x?.['name']).filter((n): n is string => typeof n === 'string') : [];
    }
    case 'seccompTypes':
    case 'appArmorTypes': {
      const field = key === 'seccompTypes' ? 'seccompProfile' : 'appArmorProfile';
      return [spec, ...cs].map((x) => (sc(x)[field] as Obj | undefined)?.['type']).filter((t): t is string => typeof t === 'string' && !ALLOWED_PROFILE_TYPES.has(t));
    }
    case 'seLinuxTypes':
      return [spec, ...cs].map((x) => (sc(x)['seLinuxOptions'] as Obj | undefined)?.['type']).filter((t): t is string => typeof t === 'string' && t !== '');
  }
}

/** The `allow` values the denied objects use, for a control that has value-scoped exceptions. */
function allowOf(control: string, objects: readonly Obj[]): Partial<Record<AllowKey, (string | number)[]>> | undefined {
  const keys = allowKeysOf(control as ControlId);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  const found: (string | number)[] = [];
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (!spec) return undefined;
    const v = valuesFor(key, spec);
    if (v === undefined) return undefined;
    for (const x of v) if (!found.includes(x)) found.push(x);
  }
  if (!found.length) return undefined;
  found.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  return { [key]: found };
}
