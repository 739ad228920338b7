/**
 * Evaluation of many resources in one WebAssembly call (the aggregate entrypoint), with Pod Security
 * Admission per namespace. Kept free of the compiler's modules: audit worker threads load only this, the
 * YAML parser and the WebAssembly runtime.
 */
import type { Constraint } from '../backends/gatekeeper/types.js';
import { psaIn, PSA_MODES, type NamespacePsa, type PsaMode, type PsaSpec } from './psa-spec.js';
import { compareFindings, findingOf, gatekeeperReview, matches, podReview, reviewsOf, type Finding, type Gvk, type Obj } from './review.js';
import type { AggregateReview, PolicyModule } from './wasm.js';

/** PSA settings for `aggregateEvaluator` (see src/audit/psa.ts), with label drift findings per input Namespace. */
export type PsaOptions = PsaSpec & { readonly drift?: Readonly<Record<string, string>> };

const ACTION_RANK: Record<Finding['action'], number> = { deny: 3, warn: 2, audit: 1 };
const PSA_ACTION: Record<PsaMode, Finding['action']> = { enforce: 'deny', warn: 'warn', audit: 'audit' };

/**
 * Evaluation of many resources through the aggregate entrypoint: the constraints' parameters are stored in
 * the module once; each call passes every Pod review of the batch with the constraints that match it. With
 * `psa`, the PSS checks of each namespace's PSA modes run in the same call; a PSA finding is kept only
 * where no policy of the bundle already reports that control at least as strongly.
 */
export function aggregateEvaluator(module: PolicyModule, constraints: readonly Constraint[], psa?: PsaOptions): (resources: readonly Obj[]) => Finding[][] {
  const all: Constraint[] = [...constraints];
  /** Constraint index → PSA set key (for PSA constraints). */
  const psaSetOf = new Map<number, string>();
  const setIndices = new Map<string, number[]>();
  for (const [key, set] of Object.entries(psa?.sets ?? {})) {
    const idx: number[] = [];
    for (const c of set) {
      psaSetOf.set(all.length, key);
      idx.push(all.length);
      all.push(c);
    }
    setIndices.set(key, idx);
  }
  module.setConstraints(all.map((c) => c.spec.parameters ?? {}));
  const byScope = new Map<string, { checks: Record<string, number[]>; psa?: NamespacePsa }>();
  const scopeOf = (namespace: string | undefined, kind: Gvk): { checks: Record<string, number[]>; psa?: NamespacePsa } => {
    const key = `${namespace ?? '\u0001'}\u0000${kind.group}\u0000${kind.kind}`;
    let scope = byScope.get(key);
    if (!scope) {
      const checks: Record<string, number[]> = {};
      constraints.forEach((c, i) => {
        if (matches(c, namespace, kind)) (checks[c.kind] ??= []).push(i);
      });
      // Pod Security Admission only looks at Pods.
      const p = psa && kind.kind === 'Pod' && kind.group === '' && namespace !== undefined ? psaIn(psa, namespace) : undefined;
      if (p) {
        const keys = new Set(PSA_MODES.map((m) => `${p.modes[m].level}@${p.modes[m].version}`));
        for (const key of keys) for (const i of setIndices.get(key) ?? []) (checks[all[i]!.kind] ??= []).push(i);
      }
      scope = { checks, ...(p ? { psa: p } : {}) };
      byScope.set(key, scope);
    }
    return scope;
  };
  return (resources) => {
    const reviews: AggregateReview[] = [];
    const owners: { resource: number; expandedBy?: string; psa?: NamespacePsa }[] = [];
    const out: Finding[][] = resources.map(() => []);
    resources.forEach((resource, r) => {
      if (psa?.drift && resource['kind'] === 'Namespace') {
        const name = (resource['metadata'] as { name?: unknown } | undefined)?.name;
        const drift = typeof name === 'string' ? psa.drift[name] : undefined;
        if (drift) out[r]!.push({ control: PSA_LABELS_CONTROL, constraint: 'psa', action: 'warn', message: drift, source: 'psa' });
      }
      for (const p of reviewsOf(resource, 'default')) {
        const scope = scopeOf(p.matchAs, p.kind);
        if (!Object.keys(scope.checks).length) continue;
        reviews.push({ review: gatekeeperReview(podReview(p, { operation: 'CREATE' })), checks: scope.checks });
        owners.push({ resource: r, ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}), ...(scope.psa ? { psa: scope.psa } : {}) });
      }
    });
    if (!reviews.length) return out;
    const psaFound: { resource: number; finding: Finding }[] = [];
    for (const v of evaluateInParts(module, reviews)) {
      const owner = owners[v.review]!;
      const c = all[v.constraint]!;
      const set = psaSetOf.get(v.constraint);
      if (set === undefined) {
        out[owner.resource]!.push(findingOf(c, owner.expandedBy ? `[Implied by ${owner.expandedBy}] ${v.msg}` : v.msg));
        continue;
      }
      // The strongest PSA mode whose level and version use this check.
      const mode = PSA_MODES.find((m) => `${owner.psa!.modes[m].level}@${owner.psa!.modes[m].version}` === set)!;
      const { level, version } = owner.psa!.modes[mode];
      const control = c.metadata.annotations['kubeharden.io/control'] ?? c.kind;
      psaFound.push({
        resource: owner.resource,
        finding: { control, constraint: c.metadata.name, action: PSA_ACTION[mode], message: `Pod Security Admission ${mode}=${level}:v${version} (labels from ${owner.psa!.from})${owner.expandedBy ? ', for the Pods it creates' : ''}: ${v.msg}`, source: 'psa' },
      });
    }
    // Strongest first: one PSA finding per control and resource. What covers a control is looked up, not
    // searched for (a Pod with thousands of containers has thousands of findings).
    psaFound.sort((a, b) => ACTION_RANK[b.finding.action] - ACTION_RANK[a.finding.action]);
    /** Per resource with PSA findings: control → the strongest policy finding's rank, or Infinity once PSA reported it. */
    const strongest = new Map<number, Map<string, number>>();
    for (const { resource, finding } of psaFound) {
      let ranks = strongest.get(resource);
      if (!ranks) {
        ranks = new Map();
        for (const f of out[resource]!) ranks.set(f.control, f.source === 'psa' ? Infinity : Math.max(ranks.get(f.control) ?? 0, ACTION_RANK[f.action]));
        strongest.set(resource, ranks);
      }
      if ((ranks.get(finding.control) ?? 0) >= ACTION_RANK[finding.action]) continue;
      out[resource]!.push(finding);
      ranks.set(finding.control, Infinity);
    }
    for (const f of out) f.sort(compareFindings);
    return out;
  };
}

/** The pseudo-control of PSA label drift findings on Namespace objects. */
export const PSA_LABELS_CONTROL = 'psa-namespace-labels';


/** Containers in a Pod review above which it is evaluated one template kind per call (see evaluateInParts). */
const LARGE_REVIEW_CONTAINERS = 256;

function containerCount(review: unknown): number {
  const spec = ((review as { object?: { spec?: Record<string, unknown> } }).object?.spec ?? {}) as Record<string, unknown>;
  let n = 0;
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) if (Array.isArray(spec[list])) n += (spec[list] as unknown[]).length;
  return n;
}

/**
 * `evaluateAll`, with very large Pods (thousands of containers) taken apart: OPA's WebAssembly allocator
 * searches a free list that grows with everything one call allocates, so one call over all templates of a
 * Pod with 10,000 containers costs quadratic time. Such a review is evaluated one template kind per call
 * (each call starts from an empty heap); the results are the same.
 */
function evaluateInParts(module: PolicyModule, reviews: readonly AggregateReview[]): { review: number; constraint: number; msg: string }[] {
  const large = reviews.map((r, i) => (containerCount(r.review) > LARGE_REVIEW_CONTAINERS ? i : -1)).filter((i) => i >= 0);
  if (!large.length) return module.evaluateAll(reviews);
  const isLarge = new Set(large);
  const small = reviews.flatMap((r, i) => (isLarge.has(i) ? [] : [{ r, i }]));
  const out = small.length ? module.evaluateAll(small.map((x) => x.r)).map((v) => ({ ...v, review: small[v.review]!.i })) : [];
  for (const i of large) {
    const { review, checks } = reviews[i]!;
    for (const kind of Object.keys(checks).sort()) {
      for (const v of module.evaluateAll([{ review, checks: { [kind]: checks[kind]! } }])) out.push({ ...v, review: i });
    }
  }
  return out;
}
