/** Offline evaluation of a compiled cluster bundle through its own WASM-compiled Rego. */
import type { CompiledCluster } from '../compile.js';
import type { Constraint, ConstraintTemplate } from '../backends/gatekeeper/types.js';
import { CONTROL_IDS, type ControlId } from '../controls/index.js';
import { constraint, constraintTemplate } from '../backends/gatekeeper/emitters.js';
import { sampleInstance } from '../backends/tests/index.js';
import { PACKAGE_VERSION } from '../version.js';
import type { Sample } from '../controls/types.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { Logger } from '../engines/index.js';
import type { EvaluatorSpec } from '../audit/job.js';
import { psaIn, PSA_MODES, type NamespacePsa, type PsaMode, type PsaSpec } from '../audit/psa.js';
import { loadPolicyModule, sourcesOf, type AggregateReview, type PolicyModule } from './wasm.js';
import { compareFindings, evaluateReview, findingOf, matches, podsOf, type Finding, type Obj } from './review.js';

export interface BundleEvaluator {
  readonly module: PolicyModule;
  readonly constraints: readonly Constraint[];
  /** Findings for one resource (all pods it stands for). */
  evaluate(resource: Obj, options?: { operation?: 'CREATE' | 'UPDATE'; oldObject?: Obj; defaultNamespace?: string }): Finding[];
  /** Findings for many resources (CREATE, as offline audits see them) in one WebAssembly call; same order. */
  evaluateMany(resources: readonly Obj[]): Finding[][];
  /** Findings of one control's template for a sample, with the control's default parameters. */
  evaluateSample(control: ControlId, sample: Sample, object?: Obj): string[];
}

/** The bundle's own policy objects, by engine (the engine suites in the samples folders are not policies). */
export interface BundleObjects {
  readonly templates: ConstraintTemplate[];
  readonly constraints: Constraint[];
  readonly expansions: object[];
  readonly policies: object[];
  readonly exceptions: object[];
}

export function objectsOf(cc: CompiledCluster): BundleObjects {
  const out: BundleObjects = { templates: [], constraints: [], expansions: [], policies: [], exceptions: [] };
  for (const f of cc.files) {
    if (!('objects' in f) || f.path.includes('/samples/')) continue;
    for (const o of f.objects as { kind?: string; apiVersion?: string }[]) {
      if (o.kind === 'ConstraintTemplate') out.templates.push(o as ConstraintTemplate);
      else if (o.apiVersion?.startsWith('constraints.gatekeeper.sh/')) out.constraints.push(o as Constraint);
      else if (o.kind === 'ExpansionTemplate') out.expansions.push(o);
      else if (o.kind === 'ClusterPolicy') out.policies.push(o);
      else if (o.kind === 'PolicyException') out.exceptions.push(o);
    }
  }
  return out;
}

export async function loadEvaluator(cc: CompiledCluster, log?: Logger): Promise<BundleEvaluator> {
  const { templates, constraints } = objectsOf(cc);
  const module = await loadPolicyModule(sourcesOf(templates), log);
  const version = cc.cluster.version;
  const many = manyEvaluator(module, constraints);
  return {
    module,
    constraints,
    evaluateMany: many,
    evaluate(resource, options = {}) {
      const findings: Finding[] = [];
      for (const p of podsOf(resource, options.defaultNamespace ?? 'default')) {
        const review = {
          object: p.pod,
          operation: options.operation ?? 'CREATE',
          namespace: p.namespace,
          name: p.name,
          ...(options.oldObject ? { oldObject: options.oldObject } : {}),
          ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}),
        } as const;
        findings.push(...evaluateReview(module, constraints, review));
      }
      return findings;
    },
    evaluateSample(control, sample, object) {
      return evaluateSample(module, control, sample, version, object);
    },
  };
}

/** The plain-data description of a bundle's evaluator, for worker threads (see src/audit/job.ts). */
export function evaluatorSpec(cc: CompiledCluster): EvaluatorSpec {
  const { templates, constraints } = objectsOf(cc);
  const sources = sourcesOf(templates);
  return { templates: [...sources.templates.entries()], libs: sources.libs, v0: sources.v0, constraints };
}

/** PSA settings for `manyEvaluator` (see src/audit/psa.ts), with label drift findings per input Namespace. */
export type PsaOptions = PsaSpec & { readonly drift?: Readonly<Record<string, string>> };

const ACTION_RANK: Record<Finding['action'], number> = { deny: 3, warn: 2, audit: 1 };
const PSA_ACTION: Record<PsaMode, Finding['action']> = { enforce: 'deny', warn: 'warn', audit: 'audit' };

/**
 * Evaluation of many resources through the aggregate entrypoint: the constraints' parameters are stored in
 * the module once; each call passes every Pod review of the batch with the constraints that match it. With
 * `psa`, the PSS checks of each namespace's PSA modes run in the same call; a PSA finding is kept only
 * where no policy of the bundle already reports that control at least as strongly.
 */
export function manyEvaluator(module: PolicyModule, constraints: readonly Constraint[], psa?: PsaOptions): (resources: readonly Obj[]) => Finding[][] {
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
  const kind = { group: '', version: 'v1', kind: 'Pod' };
  const byNamespace = new Map<string, { checks: Record<string, number[]>; psa?: NamespacePsa }>();
  const scopeOf = (namespace: string): { checks: Record<string, number[]>; psa?: NamespacePsa } => {
    let scope = byNamespace.get(namespace);
    if (!scope) {
      const checks: Record<string, number[]> = {};
      constraints.forEach((c, i) => {
        if (matches(c, namespace)) (checks[c.kind] ??= []).push(i);
      });
      const p = psa ? psaIn(psa, namespace) : undefined;
      if (p) {
        const keys = new Set(PSA_MODES.map((m) => `${p.modes[m].level}@${p.modes[m].version}`));
        for (const key of keys) for (const i of setIndices.get(key) ?? []) (checks[all[i]!.kind] ??= []).push(i);
      }
      scope = { checks, ...(p ? { psa: p } : {}) };
      byNamespace.set(namespace, scope);
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
      for (const p of podsOf(resource, 'default')) {
        const scope = scopeOf(p.namespace);
        if (!Object.keys(scope.checks).length) continue;
        reviews.push({ review: { object: p.pod, operation: 'CREATE', kind, name: p.name, namespace: p.namespace }, checks: scope.checks });
        owners.push({ resource: r, ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}), ...(scope.psa ? { psa: scope.psa } : {}) });
      }
    });
    if (!reviews.length) return out;
    const psaFound: { resource: number; finding: Finding }[] = [];
    for (const v of module.evaluateAll(reviews)) {
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
    // Strongest first: one PSA finding per control and resource.
    psaFound.sort((a, b) => ACTION_RANK[b.finding.action] - ACTION_RANK[a.finding.action]);
    for (const { resource, finding } of psaFound) {
      const covered = out[resource]!.some((f) => f.control === finding.control && (f.source === 'psa' || ACTION_RANK[f.action] >= ACTION_RANK[finding.action]));
      if (!covered) out[resource]!.push(finding);
    }
    for (const f of out) f.sort(compareFindings);
    return out;
  };
}

/** The pseudo-control of PSA label drift findings on Namespace objects. */
export const PSA_LABELS_CONTROL = 'psa-namespace-labels';

/** Findings of one control's template for a sample, with the control's default parameters at `version`. */
export function evaluateSample(module: PolicyModule, control: ControlId, sample: Sample, version: KubernetesVersion, object?: Obj): string[] {
  // The constraint the bundle's sample suites use: PSS defaults, every namespace, enforced.
  const c = constraint(control, sampleInstance(control, version));
  const msgs: string[] = [];
  for (const p of podsOf(object ?? (sample.object as Obj), 'default')) {
    const review = {
      object: p.pod,
      operation: sample.operation ?? 'CREATE',
      namespace: p.namespace,
      name: p.name,
      ...(sample.oldObject && !object ? { oldObject: sample.oldObject as Obj } : {}),
      ...(p.expandedBy ? { expandedBy: p.expandedBy } : {}),
    } as const;
    msgs.push(...evaluateReview(module, [c], review).map((f) => f.message));
  }
  return msgs.sort();
}

/** A module with the templates of every control (for built-in samples, whatever a config enables). */
export async function loadCatalogModule(log?: Logger): Promise<PolicyModule> {
  const templates = CONTROL_IDS.map((id) => constraintTemplate(id, 'v1', PACKAGE_VERSION));
  return loadPolicyModule(sourcesOf(templates), log);
}

export { sampleApplies } from '../controls/samples.js';
export { workloadVariants } from './review.js';
