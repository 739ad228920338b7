/**
 * The coverage statuses as the emitted files of a cluster state them, read back from the objects the other
 * stages wrote (Kyverno policies of either type, Gatekeeper Constraints, PSA labels, the AdmissionConfiguration
 * defaults, the control-plane files), and the differences from what the report says. The report itself is
 * computed from the IR (src/backends/report/model.ts); this reading is the independent check that both agree.
 */
import type { BackendFile } from '../../src/backends/types.js';
import type { CoverageReport } from '../../src/backends/report/index.js';
// What a PSA scope means for a control (its level and version against the control's) is one rule, shared; what
// this module checks independently is which scopes and levels the files hold.
import { psaModes, type PsaScope } from '../../src/backends/report/model.js';
import type { Mode } from '../../src/config/types.js';

type Obj = { kind?: string; apiVersion?: string; metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;


export interface FileStatuses {
  /** Control id → modes of the Kyverno policies (ClusterPolicies or the policies.kyverno.io/v1 types) that carry it. */
  readonly kyverno: ReadonlyMap<string, readonly Mode[]>;
  /** Control id → modes of the Gatekeeper Constraints that carry it. */
  readonly gatekeeper: ReadonlyMap<string, readonly Mode[]>;
  /** The PodSecurity defaults of control-plane/admission-configuration.yaml. */
  readonly psaDefaults?: PsaScope;
  /** The PSA labels of each Namespace in psa/. */
  readonly psaNamespaces: ReadonlyMap<string, PsaScope>;
  readonly paths: ReadonlySet<string>;
}

const PSA = 'pod-security.kubernetes.io/';
const MODE_ORDER: readonly Mode[] = ['enforce', 'audit', 'warn'];
const METADATA_IPV4 = '169.254.169.254';

function sortModes(modes: Iterable<Mode>): Mode[] {
  const s = new Set(modes);
  return MODE_ORDER.filter((m) => s.has(m));
}

function objectsUnder(files: readonly BackendFile[], prefix: string): Obj[] {
  return files.filter((f) => f.path.startsWith(prefix) && !f.path.includes('/samples/') && 'objects' in f).flatMap((f) => (f as { objects: readonly object[] }).objects as Obj[]);
}

function ipv4(a: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  return m ? m.slice(1).reduce((n, x) => n * 256 + Number(x), 0) : undefined;
}

function cidrHas(cidr: string, address: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipv4(address);
  const n = ipv4(net ?? '');
  const b = Number(bits);
  if (a === undefined || n === undefined || !Number.isInteger(b) || b < 0 || b > 32) return false;
  return Math.floor(a / 2 ** (32 - b)) === Math.floor(n / 2 ** (32 - b));
}

type Peer = { ipBlock?: { cidr?: string; except?: string[] } };
type PolicySpec = { podSelector?: { matchLabels?: object; matchExpressions?: unknown[] }; policyTypes?: string[]; egress?: { to?: Peer[] }[] };

/**
 * The value of a CEL literal made of strings, numbers, booleans, null, lists, maps and `dyn(…)` (what a
 * GeneratingPolicy's `generator.Apply(variables.namespace, [...])` passes); anything else throws.
 */
export function celLiteral(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) throw new Error(`CEL literal: expected ${c} at ${i}: ${text.slice(i, i + 30)}`);
    i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!m) throw new Error(`CEL literal: unterminated string at ${i}`);
      i += m[0].length;
      return JSON.parse(m[0]);
    }
    if (c === '[' || c === '{') {
      i++;
      const list = c === '[';
      const out: unknown[] = [];
      const map: Record<string, unknown> = {};
      ws();
      while (text[i] !== (list ? ']' : '}')) {
        if (list) out.push(value());
        else {
          const k = value();
          if (typeof k !== 'string') throw new Error(`CEL literal: a map key that is not a string at ${i}`);
          expect(':');
          map[k] = value();
        }
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
      return list ? out : map;
    }
    if (text.startsWith('dyn(', i)) {
      i += 4;
      const v = value();
      expect(')');
      return v;
    }
    const m = /^(true|false|null|-?\d+(?:\.\d+)?)/.exec(text.slice(i));
    if (!m) throw new Error(`CEL literal: unexpected ${text.slice(i, i + 30)}`);
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`CEL literal: trailing ${text.slice(i, i + 30)}`);
  return v;
}

/** The objects a GeneratingPolicy's generate expressions apply (each `generator.Apply(<namespace>, [objects])`). */
function generatingPolicyObjects(p: Obj): Obj[] {
  return ((p.spec?.['generate'] ?? []) as { expression: string }[]).flatMap((g) => {
    const m = /^generator\.Apply\(variables\.namespace, (\[.*\])\)$/s.exec(g.expression);
    if (!m) throw new Error(`${p.metadata?.name}: a generate expression that is not generator.Apply(variables.namespace, [...]): ${g.expression.slice(0, 80)}`);
    return celLiteral(m[1]!) as Obj[];
  });
}

/**
 * Whether the cluster-wide generate rules (rule name = generated object's name) or the cluster-wide
 * GeneratingPolicies (named after their control) create NetworkPolicies that together block egress of every
 * pod to the IPv4 metadata address.
 */
function clusterWideRulesBlockMetadata(policies: readonly Obj[]): boolean {
  const specs: PolicySpec[] = [];
  for (const p of policies) {
    if (p.kind === 'GeneratingPolicy' && p.metadata?.name === p.metadata?.annotations?.['kubeharden.io/control']) {
      for (const o of generatingPolicyObjects(p)) if (o.kind === 'NetworkPolicy' && o.spec) specs.push(o.spec as PolicySpec);
    }
    if (p.kind !== 'ClusterPolicy') continue;
    for (const r of (p.spec?.['rules'] ?? []) as { name?: string; generate?: { kind?: string; name?: string; data?: { spec?: PolicySpec } } }[]) {
      if (r.name !== undefined && r.name === r.generate?.name && r.generate?.kind === 'NetworkPolicy' && r.generate.data?.spec) specs.push(r.generate.data.spec);
    }
  }
  const egress = specs.filter((s) => (s.policyTypes ?? ['Ingress']).includes('Egress') || s.egress !== undefined);
  if (!egress.some((s) => !s.podSelector?.matchLabels && !s.podSelector?.matchExpressions?.length)) return false;
  const reaches = (p: Peer): boolean => !!p.ipBlock?.cidr && cidrHas(p.ipBlock.cidr, METADATA_IPV4) && !(p.ipBlock.except ?? []).some((e) => cidrHas(e, METADATA_IPV4));
  return !egress.some((s) => (s.egress ?? []).some((r) => !r.to?.length || r.to.some(reaches)));
}

/** Reads the statuses from a cluster's emitted files. */
export function fileStatuses(files: readonly BackendFile[]): FileStatuses {
  const kyverno = new Map<string, Set<Mode>>();
  const gatekeeper = new Map<string, Set<Mode>>();
  const add = (m: Map<string, Set<Mode>>, id: string, mode: Mode): void => void m.set(id, (m.get(id) ?? new Set<Mode>()).add(mode));
  const policies = objectsUnder(files, 'kyverno/');
  for (const o of policies) {
    const id = o.metadata?.annotations?.['kubeharden.io/control'];
    if (!id) continue;
    if (o.kind === 'ValidatingPolicy' || o.kind === 'ImageValidatingPolicy') {
      for (const a of (o.spec?.['validationActions'] ?? []) as string[]) add(kyverno, id, a === 'Deny' ? 'enforce' : a === 'Warn' ? 'warn' : 'audit');
      continue;
    }
    // A synchronized GeneratingPolicy keeps its objects in every matching namespace: counted as enforce.
    if (o.kind === 'GeneratingPolicy') {
      if ((o.spec?.['evaluation'] as { synchronize?: { enabled?: boolean } } | undefined)?.synchronize?.enabled === true) add(kyverno, id, 'enforce');
      continue;
    }
    if (o.kind !== 'ClusterPolicy') continue;
    const warn = o.spec?.['emitWarning'] === true;
    for (const r of (o.spec?.['rules'] ?? []) as { validate?: { failureAction?: string }; verifyImages?: { failureAction?: string }[]; generate?: { synchronize?: boolean } }[]) {
      const fa = r.validate?.failureAction ?? r.verifyImages?.[0]?.failureAction;
      if (fa === 'Enforce') add(kyverno, id, 'enforce');
      else if (fa === 'Audit') add(kyverno, id, warn ? 'warn' : 'audit');
      // A synchronized generate rule keeps its objects in every matching namespace: counted as enforce.
      if (r.generate?.synchronize === true) add(kyverno, id, 'enforce');
    }
  }
  if (clusterWideRulesBlockMetadata(policies)) add(kyverno, 'block-cloud-metadata-egress', 'enforce');
  for (const o of objectsUnder(files, 'gatekeeper/')) {
    const id = o.metadata?.annotations?.['kubeharden.io/control'];
    if (!o.apiVersion?.startsWith('constraints.gatekeeper.sh/') || !id) continue;
    const a = o.spec?.['enforcementAction'] ?? 'deny';
    add(gatekeeper, id, a === 'deny' ? 'enforce' : a === 'warn' ? 'warn' : 'audit');
  }
  let psaDefaults: PsaScope | undefined;
  for (const o of objectsUnder(files, 'control-plane/')) {
    if (o.kind !== 'AdmissionConfiguration') continue;
    for (const p of (o['plugins'] ?? []) as { name: string; configuration?: { defaults?: Record<string, string> } }[]) {
      const d = p.configuration?.defaults;
      if (p.name === 'PodSecurity' && d) psaDefaults = { enforce: d['enforce'] ?? 'privileged', audit: d['audit'] ?? 'privileged', warn: d['warn'] ?? 'privileged', version: d['enforce-version'] ?? 'latest' };
    }
  }
  const psaNamespaces = new Map<string, PsaScope>();
  for (const o of objectsUnder(files, 'psa/')) {
    const l = o.metadata?.labels;
    if (o.kind !== 'Namespace' || !l || !o.metadata?.name) continue;
    const g = (k: string): string => l[`${PSA}${k}`] ?? 'privileged';
    psaNamespaces.set(o.metadata.name, { enforce: g('enforce'), audit: g('audit'), warn: g('warn'), version: l[`${PSA}enforce-version`] ?? 'latest' });
  }
  const modes = (m: Map<string, Set<Mode>>): Map<string, Mode[]> => new Map([...m].map(([id, s]) => [id, sortModes(s)]));
  return { kyverno: modes(kyverno), gatekeeper: modes(gatekeeper), ...(psaDefaults ? { psaDefaults } : {}), psaNamespaces, paths: new Set(files.map((f) => f.path)) };
}


const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Where the report and the files disagree, one line each (empty: they agree): the modes of every control per
 * engine, the state that follows from them, the PSA defaults and namespace labels, and each control-plane file.
 */
export function reportVersusFiles(report: CoverageReport, files: readonly BackendFile[]): string[] {
  const f = fileStatuses(files);
  const out: string[] = [];
  const psaAll = [...(f.psaDefaults ? [f.psaDefaults] : []), ...f.psaNamespaces.values()];
  const seen = new Set<string>();
  for (const rec of report.recommendations) {
    for (const c of rec.controls) {
      seen.add(c.id);
      if (c.state === 'not-applicable' || c.state === 'not-implemented') {
        for (const [engine, m] of [['kyverno', f.kyverno], ['gatekeeper', f.gatekeeper]] as const) if (m.has(c.id)) out.push(`${rec.id} ${c.id}: report says ${c.state}, ${engine} files check it`);
        continue;
      }
      const expected = { kyverno: f.kyverno.get(c.id) ?? [], gatekeeper: f.gatekeeper.get(c.id) ?? [], psa: psaModes(c.id, psaAll) };
      for (const engine of ['kyverno', 'gatekeeper', 'psa'] as const) {
        if (!same(c.engines[engine], expected[engine])) out.push(`${rec.id} ${c.id}: report says ${engine} ${JSON.stringify(c.engines[engine])}, files say ${JSON.stringify(expected[engine])}`);
      }
      const all = new Set([...expected.kyverno, ...expected.gatekeeper, ...expected.psa]);
      const state = all.has('enforce') ? 'enforced' : all.size ? 'reported' : 'off';
      if (c.state !== state) out.push(`${rec.id} ${c.id}: report says ${c.state}, files say ${state}`);
    }
    for (const a of rec.artifacts) {
      const present = f.paths.has(a.file) && (a.items === undefined || a.items > 0);
      if (a.present !== present) out.push(`${rec.id} ${a.file}: report says present=${a.present}, files say ${present}`);
    }
  }
  // A control the files check that no recommendation lists would be invisible in the report.
  for (const id of new Set([...f.kyverno.keys(), ...f.gatekeeper.keys()])) if (!seen.has(id)) out.push(`${id}: checked by the files, in no recommendation of the report`);
  if (!same(report.psaDefaults, f.psaDefaults)) out.push(`PSA defaults: report says ${JSON.stringify(report.psaDefaults)}, files say ${JSON.stringify(f.psaDefaults)}`);
  const labeled = new Map(report.namespaces.filter((n) => n.psa).map((n) => [n.namespace, n.psa]));
  for (const name of new Set([...labeled.keys(), ...f.psaNamespaces.keys()])) {
    if (!same(labeled.get(name), f.psaNamespaces.get(name))) out.push(`PSA labels of ${name}: report says ${JSON.stringify(labeled.get(name))}, files say ${JSON.stringify(f.psaNamespaces.get(name))}`);
  }
  return out;
}
