/**
 * An offline audit of one compiled cluster: the WASM engine streams the inputs through worker threads
 * (pipeline.ts); gator and the Kyverno CLI get the whole input at once, and their verdicts are compared with
 * the WASM ones (compare.ts). Results go to a sink in input order.
 */
import type { CompiledCluster } from '../compile.js';
import { getControl, type ControlId } from '../controls/index.js';
import { evaluatorSpec } from '../eval/bundle.js';
import type { EngineFinding, EngineName } from '../eval/engines.js';
import type { EvaluatorSpec } from '../eval/evaluator-spec.js';
import { userMessage } from '../eval/review.js';
import { loadPolicyModule, sourcesOf } from '../eval/wasm.js';
import type { Logger } from '../engines/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { disagreements, findingsBy } from './compare.js';
import type { AuditInput } from './input.js';
import type { ExceptionInfo, ItemFinding, JobSpec, SuppressionSpec } from './job.js';
import type { Constraint } from '../backends/gatekeeper/types.js';
import { scanNamespaces, type InputNamespace } from './namespaces.js';
import { auditInputs, defaultWorkers, type AuditedItem, type AuditedResource } from './pipeline.js';
import { namespaceDrift, psaSpec, pssTemplates } from './psa.js';
import type { InputError, ReportContext, ResourceResult, Violation } from './report.js';

/** Where an audit's results go, in input order. */
export interface AuditSink {
  resource(result: ResourceResult): void;
  error(error: InputError): void;
}

export interface AuditOptions {
  /** The engines to evaluate with; with several, their verdicts are compared. */
  readonly engines: readonly EngineName[];
  /** Worker threads (0: the main thread); by default none for small inputs, else one per spare core. */
  readonly workers?: number;
  readonly log: Logger;
  /** Called as the input is read: bytes read and resources audited so far. */
  readonly onProgress?: (bytes: number, items: number) => void;
  /** The namespace of namespaced objects that name none (default: they are in `default`). */
  readonly defaultNamespace?: string;
}

/** Below this much input, worker threads cost more to start than they save. */
const SMALL_INPUT = 1 << 20;

/** What a report says about the audit: the cluster's controls, its profile and version, the engines. */
export function reportContext(cc: CompiledCluster, engines: readonly EngineName[]): ReportContext {
  return {
    rules: cc.ir.controls.map((c) => {
      const def = getControl(c.control as ControlId);
      return { id: def.id, title: def.title, description: def.description, details: def.details, severity: def.severity, nsa: def.nsa };
    }),
    profile: cc.cluster.profile,
    kubernetesVersion: cc.cluster.version,
    cluster: cc.cluster.name,
    engines,
    toolVersion: PACKAGE_VERSION,
  };
}

/**
 * The evaluator of an audit: the bundle's policies, plus Pod Security Admission per namespace (labels from the
 * input's Namespace objects, else from the bundle) with the PSS templates it needs, and the label drift of
 * the input's Namespaces.
 */
export function auditEvaluatorSpec(cc: CompiledCluster, inputNamespaces: ReadonlyMap<string, InputNamespace>): EvaluatorSpec {
  const drift: Record<string, string> = {};
  for (const [name, ns] of inputNamespaces) {
    const d = namespaceDrift(cc, name, ns.labels);
    if (d) drift[name] = d;
  }
  const bundleSpec = evaluatorSpec(cc);
  const known = new Set(bundleSpec.templates.map(([k]) => k));
  const extra = sourcesOf(pssTemplates(cc).filter((t) => !known.has(t.spec.crd.spec.names.kind)));
  return {
    ...bundleSpec,
    templates: [...bundleSpec.templates, ...extra.templates.entries()],
    libs: [...new Set([...bundleSpec.libs, ...extra.libs])],
    psa: { ...psaSpec(cc, inputNamespaces), drift },
  };
}

/** Audits the inputs against a compiled cluster; every resource and input error goes to `sink`. */
export async function auditCluster(cc: CompiledCluster, inputs: readonly AuditInput[], sink: AuditSink, options: AuditOptions): Promise<void> {
  const { engines, log, onProgress } = options;
  // Namespace objects of the input give their namespaces' Pod Security Admission labels.
  const evaluator = auditEvaluatorSpec(cc, await scanNamespaces(inputs));
  const spec: JobSpec = { ...evaluator, ...(options.defaultNamespace ? { defaultNamespace: options.defaultNamespace } : {}), suppressions: suppressionSpec(cc, evaluator.constraints) };
  // Compile (or find in the cache) before workers start, so that they only load it.
  await loadPolicyModule({ templates: new Map(spec.templates), libs: spec.libs, v0: spec.v0 }, log);
  const totalBytes = inputs.reduce((n, i) => n + (i.size ?? 0), 0);
  const threads = options.workers ?? (totalBytes < SMALL_INPUT ? 0 : defaultWorkers());
  const reportError = (item: AuditedItem & { error: string }): void => sink.error({ source: item.source, index: item.index, line: item.line, message: item.error });
  if (engines.length === 1 && engines[0] === 'wasm') {
    await auditInputs(
      inputs,
      spec,
      (item) => {
        if ('error' in item) reportError(item);
        else sink.resource(resultOf(item, item.findings.map(violationOf)));
      },
      { workers: threads, ...(onProgress ? { onProgress } : {}) },
    );
    return;
  }
  // gator and the Kyverno CLI take the whole input at once: collect it (with the WASM findings).
  const items: AuditedItem[] = [];
  await auditInputs(inputs, spec, (item) => items.push(item), { workers: threads, keepObjects: true, ...(onProgress ? { onProgress } : {}) });
  const resources = items.filter((i): i is AuditedResource => !('error' in i));
  const objects = resources.map((r) => r.object!);
  // Findings of the bundle's policies are compared across engines; those from PSA labels and from facts
  // elsewhere in the input (legacy token Secrets) have no engine counterpart and are reported once.
  const policyFindings = resources.map((r) => r.findings.filter((f) => f.source === undefined));
  const perEngine = await Promise.all(engines.map((e) => (e === 'wasm' ? Promise.resolve(policyFindings as EngineFinding[][]) : findingsBy(e, cc, objects, log))));
  let k = 0;
  for (const item of items) {
    if ('error' in item) {
      reportError(item);
      continue;
    }
    const i = k++;
    const uncompared = resources[i]!.findings.filter((f) => f.source !== undefined).map(violationOf);
    const violations = [...engines.flatMap((engine, e) => perEngine[e]![i]!.map((f) => ({ control: f.control, action: f.action, message: userMessage(f.message), engine }))), ...uncompared];
    sink.resource(resultOf(item, violations));
    if (engines.length > 1) {
      for (const d of disagreements(engines, perEngine.map((p) => p[i]!))) sink.error({ source: item.source, index: item.index, line: item.line, message: d });
    }
  }
}

/**
 * What the audit needs to name the exception or exempt namespace behind a finding that did not come: the
 * constraints without any exception (parameters without excepted images, names and allowed values; exempt
 * namespaces no longer excluded), and the cluster's exceptions as reports name them.
 */
export function suppressionSpec(cc: CompiledCluster, constraints: readonly Constraint[]): SuppressionSpec {
  const exempt = cc.cluster.exemptNamespaces;
  const stripped = constraints.map((c): Constraint => {
    const { exemptImages: _i, exemptNames: _n, allowances: _a, ...parameters } = c.spec.parameters;
    const excluded = (c.spec.match.excludedNamespaces ?? []).filter((ns) => !exempt.includes(ns));
    const { excludedNamespaces: _x, ...match } = c.spec.match;
    return { ...c, spec: { ...c.spec, match: excluded.length ? { ...match, excludedNamespaces: excluded } : match, parameters } };
  });
  const exceptions = cc.cluster.exceptions.map((e, i): ExceptionInfo => {
    const scope = [
      e.controls.join(', '),
      ...(e.namespaces ? [`namespaces ${e.namespaces.join(', ')}`] : []),
      ...(e.names ? [`names ${e.names.join(', ')}`] : []),
      ...(e.images ? [`images ${e.images.join(', ')}`] : []),
      ...(e.allow ? [`allow ${Object.entries(e.allow).map(([k, v]) => `${k} ${(v ?? []).join(', ')}`).join('; ')}`] : []),
    ];
    return { controls: e.controls, ...(e.namespaces ? { namespaces: e.namespaces } : {}), ...(e.names ? { names: e.names } : {}), ...(e.images ? { images: e.images } : {}), label: `exceptions[${i}] (${scope.join('; ')})`, reason: e.reason, expires: e.expires };
  });
  return { constraints: stripped, exemptNamespaces: exempt, exceptions };
}

function resultOf(item: AuditedResource, violations: Violation[]): ResourceResult {
  return {
    source: item.source,
    index: item.index,
    line: item.line,
    apiVersion: item.apiVersion,
    kind: item.kind,
    namespace: item.namespace,
    name: item.name,
    verdict: violations.some((v) => v.action === 'deny') ? 'deny' : 'allow',
    violations,
    ...(item.suppressed?.length ? { suppressed: item.suppressed.map((x) => ({ ...x, message: userMessage(x.message) })) } : {}),
  };
}

function violationOf(f: ItemFinding): Violation {
  return { control: f.control, action: f.action, message: userMessage(f.message), engine: f.source ?? 'wasm' };
}
