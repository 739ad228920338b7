/** Offline evaluation of a compiled cluster bundle through its own WASM-compiled Rego. */
import type { CompiledCluster } from '../compile.js';
import type { Constraint, ConstraintTemplate } from '../backends/gatekeeper/types.js';
import { CONTROL_IDS, getControl, type ControlId } from '../controls/index.js';
import { constraint, constraintTemplate } from '../backends/gatekeeper/emitters.js';
import { sampleInstance } from '../backends/engine-suites/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { implementedBy, type Sample } from '../controls/types.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { Logger } from '../engines/index.js';
import type { EvaluatorSpec } from './evaluator-spec.js';
import { aggregateEvaluator } from './aggregate.js';

export { aggregateEvaluator, PSA_LABELS_CONTROL, type PsaOptions } from './aggregate.js';
import { loadPolicyModule, sourcesOf, type PolicyModule } from './wasm.js';
import { evaluateReview, podReview, reviewsOf, type Finding, type Obj } from './review.js';

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
  /** Kyverno policies that only generate objects. */
  readonly generators: object[];
  readonly exceptions: object[];
}

function isValidating(policy: object): boolean {
  const rules = (policy as { spec?: { rules?: { validate?: unknown }[] } }).spec?.rules ?? [];
  return rules.some((r) => r.validate !== undefined);
}

export function objectsOf(cc: CompiledCluster): BundleObjects {
  const out: BundleObjects = { templates: [], constraints: [], expansions: [], policies: [], generators: [], exceptions: [] };
  for (const f of cc.files) {
    if (!('objects' in f) || f.path.includes('/samples/')) continue;
    for (const o of f.objects as { kind?: string; apiVersion?: string }[]) {
      if (o.kind === 'ConstraintTemplate') out.templates.push(o as ConstraintTemplate);
      else if (o.apiVersion?.startsWith('constraints.gatekeeper.sh/')) out.constraints.push(o as Constraint);
      else if (o.kind === 'ExpansionTemplate') out.expansions.push(o);
      // Validation policies only: the generate policies (namespace objects) have no verdict to compare.
      else if (o.kind === 'ClusterPolicy') (isValidating(o) ? out.policies : out.generators).push(o);
      else if (o.kind === 'ValidatingPolicy') out.policies.push(o);
      else if (o.kind === 'PolicyException') out.exceptions.push(o);
    }
  }
  return out;
}

export async function loadEvaluator(cc: CompiledCluster, log?: Logger): Promise<BundleEvaluator> {
  const { templates, constraints } = objectsOf(cc);
  const module = await loadPolicyModule(sourcesOf(templates), log);
  const version = cc.cluster.version;
  const many = aggregateEvaluator(module, constraints);
  return {
    module,
    constraints,
    evaluateMany: many,
    evaluate(resource, options = {}) {
      const findings: Finding[] = [];
      for (const p of reviewsOf(resource, options.defaultNamespace ?? 'default')) {
        const review = podReview(p, { operation: options.operation ?? 'CREATE', ...(options.oldObject ? { oldObject: options.oldObject } : {}) });
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

/** Findings of one control's template for a sample, with the control's default parameters at `version`. */
export function evaluateSample(module: PolicyModule, control: ControlId, sample: Sample, version: KubernetesVersion, object?: Obj): string[] {
  // The constraint the bundle's sample suites use: PSS defaults, every namespace, enforced.
  const c = constraint(control, sampleInstance(control, version));
  const msgs: string[] = [];
  for (const p of reviewsOf(object ?? (sample.object as Obj), 'default')) {
    const review = podReview(p, {
      operation: sample.operation ?? 'CREATE',
      ...(sample.subResource && !object ? { subResource: sample.subResource } : {}),
      ...(sample.oldObject && !object ? { oldObject: sample.oldObject as Obj } : {}),
    });
    msgs.push(...evaluateReview(module, [c], review).map((f) => f.message));
  }
  return msgs.sort();
}

/** A module with the templates of every control Gatekeeper can express (for built-in samples, whatever a config enables). */
export async function loadCatalogModule(log?: Logger): Promise<PolicyModule> {
  const templates = CONTROL_IDS.filter((id) => implementedBy(getControl(id), 'gatekeeper')).map((id) => constraintTemplate(id, 'v1', PACKAGE_VERSION));
  return loadPolicyModule(sourcesOf(templates), log);
}

export { sampleApplies } from '../controls/samples.js';
export { workloadVariants } from './review.js';
