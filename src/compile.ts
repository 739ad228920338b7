/**
 * compile(): config → files in memory. Nothing here touches disk; the CLI writes through emit/write.ts.
 */
import { resolveConfig, type ResolvedCluster, type ResolvedConfig } from './config/resolve.js';
import { ConfigError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { lowerCluster } from './ir/lower.js';
import type { BundleIR } from './ir/types.js';
import { gatekeeperBackend } from './backends/gatekeeper/index.js';
import { kyvernoBackend } from './backends/kyverno/index.js';
import { vapBackend } from './backends/vap/index.js';
import { vapUnsupportedReason } from './backends/cel-support.js';
import { psaBackend } from './backends/psa/index.js';
import { docsBackend, MARKDOWN_HEADER, type EngineSupport } from './backends/docs/index.js';
import { engineSuitesBackend } from './backends/engine-suites/index.js';
import { controlPlaneBackend } from './backends/control-plane/index.js';
import { reportBackend } from './backends/report/index.js';
import { namespacesBackend } from './backends/namespaces/index.js';
import { namespaceGenerateSuite } from './backends/kyverno/generate.js';
import type { BackendFile } from './backends/types.js';
import { HEADER, toYaml } from './emit/yaml.js';
import { getControl, withControls, type ControlId } from './controls/index.js';
import { unsupportedReason } from './controls/types.js';
import type { FixtureInputs } from './config/fixtures.js';

export interface CompiledCluster {
  readonly cluster: ResolvedCluster;
  readonly ir: BundleIR;
  /** Backend output, paths relative to the cluster folder. */
  readonly files: readonly BackendFile[];
}

export interface CompileResult {
  readonly config: ResolvedConfig;
  readonly clusters: readonly CompiledCluster[];
  /** Serialized files keyed by path relative to the output root (`<cluster>/…`), sorted. */
  readonly output: ReadonlyMap<string, string>;
  /** Warnings from resolving (errors throw). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Compiles a config object (the default export of policies.config.ts). Throws ConfigError on invalid input. */
export function compile(raw: unknown, options: { today?: string; fixtures?: FixtureInputs } = {}): CompileResult {
  const resolved = resolveConfig(raw, options);
  if (!resolved.config) throw new ConfigError(resolved.diagnostics);
  return compileResolved(resolved.config, resolved.diagnostics, options.fixtures ? { fixtures: options.fixtures } : {});
}

/** What the stages of one cluster share: its IR, the CLI's inputs, and the engine support of its controls. */
interface StageContext {
  readonly ir: BundleIR;
  readonly inputs: { readonly fixtures?: FixtureInputs };
  /** Which engine expresses each control (from the control definitions). */
  support(): EngineSupport;
}

type StageName = 'kyverno' | 'gatekeeper' | 'vap' | 'engine-suites' | 'psa' | 'docs' | 'control-plane' | 'namespace-objects' | 'report';

interface Stage {
  readonly name: StageName;
  run(ctx: StageContext): readonly BackendFile[];
}

/**
 * The backends of one cluster, in order; each reads only the IR (lowered once, with the PSA levels and the
 * namespace objects, before any stage), never what another stage emitted. The cluster's files are the
 * stages' files in this order.
 */
const STAGES: readonly Stage[] = [
  { name: 'kyverno', run: ({ ir }) => kyvernoBackend(ir) },
  { name: 'gatekeeper', run: ({ ir }) => gatekeeperBackend(ir) },
  // Native ValidatingAdmissionPolicies (only with `vap.enabled`).
  { name: 'vap', run: ({ ir }) => vapBackend(ir) },
  {
    name: 'engine-suites',
    run: (ctx) => engineSuitesBackend(ctx.ir, new Set(ctx.ir.controls.map((c) => c.control).filter((id) => ctx.support().kyverno[id] === true)), ctx.inputs.fixtures),
  },
  { name: 'psa', run: ({ ir }) => psaBackend(ir) },
  { name: 'docs', run: (ctx) => docsBackend(ctx.ir, ctx.support()) },
  { name: 'control-plane', run: ({ ir }) => controlPlaneBackend(ir) },
  // NetworkPolicies, ResourceQuota and LimitRange per namespace: plain manifests, and the suite of the Kyverno
  // generate policies (which the kyverno stage writes).
  { name: 'namespace-objects', run: ({ ir }) => [...namespacesBackend(ir), ...namespaceGenerateSuite(ir)] },
  // The coverage report, from the IR alone (test/report-files.test.ts checks it against the files above).
  { name: 'report', run: ({ ir }) => reportBackend(ir) },
];

/** Lowers one resolved cluster and runs every stage on its IR. */
function compileCluster(cluster: ResolvedCluster, inputs: { fixtures?: FixtureInputs }): CompiledCluster {
  const ir = lowerCluster(cluster);
  const files: BackendFile[] = [];
  let support: EngineSupport | undefined;
  const ctx: StageContext = { ir, inputs, support: () => (support ??= engineSupport(ir)) };
  for (const stage of STAGES) files.push(...stage.run(ctx));
  return { cluster, ir, files };
}

/** `fixtures`: the resources of each fixture file, so the bundle's engine suites include them (read by the CLI). */
export function compileResolved(config: ResolvedConfig, diagnostics: readonly Diagnostic[] = [], inputs: { fixtures?: FixtureInputs } = {}): CompileResult {
  // The config's custom controls are in the registry for the backends of this compile only.
  const clusters = withControls(config.customControls, () => config.clusters.map((cluster) => compileCluster(cluster, inputs)));
  // Serialized on first use: `audit` and `test` only need the objects.
  let output: Map<string, string> | undefined;
  const serializeAll = (): Map<string, string> => {
    const entries: [string, string][] = clusters.flatMap((c) => c.files.map((f): [string, string] => [`${c.cluster.name}/${f.path}`, serialize(f)]));
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(entries);
  };
  return {
    config,
    clusters,
    get output() {
      return (output ??= serializeAll());
    },
    diagnostics: sortDiagnostics(diagnostics),
  };
}

export function serialize(f: BackendFile): string {
  // JSON carries its header as a first "$comment" key (see backends/report); Markdown and HTML as a comment;
  // YAML written as text (a Kyverno values file in JSON syntax, see backends/engine-suites) starts with its own.
  if ('text' in f) return f.path.endsWith('.json') || f.text.startsWith(MARKDOWN_HEADER) || f.text.startsWith(HEADER) ? f.text : `${MARKDOWN_HEADER}\n${f.text}`;
  return toYaml(f.objects);
}

/**
 * Which engines implement each control, from what the control declares per engine (`engines`): true, or the
 * reason it gives for `unsupported` (the backends write no policy for it there).
 */
function engineSupport(ir: BundleIR): EngineSupport {
  const k: Partial<Record<ControlId, true | string>> = {};
  const g: Partial<Record<ControlId, true | string>> = {};
  const v: Partial<Record<ControlId, true | string>> = {};
  for (const c of ir.controls) {
    const control = getControl(c.control);
    k[c.control] = unsupportedReason(control, 'kyverno') ?? true;
    g[c.control] = unsupportedReason(control, 'gatekeeper') ?? true;
    v[c.control] = vapUnsupportedReason(c.control) ?? true;
  }
  return { kyverno: k, gatekeeper: g, vap: v };
}
