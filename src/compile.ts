/**
 * compile(): config → files in memory. Nothing here touches disk; the CLI writes through emit/write.ts.
 */
import { resolveConfig, type ResolvedCluster, type ResolvedConfig } from './config/resolve.js';
import { ConfigError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { lowerCluster } from './ir/lower.js';
import type { BundleIR } from './ir/types.js';
import { gatekeeperBackend } from './backends/gatekeeper/index.js';
import { kyvernoBackend } from './backends/kyverno/index.js';
import { psaBackend } from './backends/psa/index.js';
import { docsBackend, MARKDOWN_HEADER, type EngineSupport } from './backends/docs/index.js';
import { testsBackend } from './backends/engine-suites/index.js';
import { controlPlaneBackend } from './backends/control-plane/index.js';
import { reportBackend } from './backends/report/index.js';
import { namespacesBackend } from './backends/namespaces/index.js';
import type { BackendFile } from './backends/types.js';
import { HEADER, toYaml } from './emit/yaml.js';
import { getControl, type ControlId } from './controls/index.js';
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

/** `fixtures`: the resources of each fixture file, so the bundle's engine suites include them (read by the CLI). */
export function compileResolved(config: ResolvedConfig, diagnostics: readonly Diagnostic[] = [], inputs: { fixtures?: FixtureInputs } = {}): CompileResult {
  const clusters: CompiledCluster[] = [];
  for (const cluster of config.clusters) {
    const ir = lowerCluster(cluster);
    // NetworkPolicies, ResourceQuota and LimitRange per namespace: manifests, and Kyverno generate policies.
    const namespaceObjects = namespacesBackend(cluster);
    const kyverno = kyvernoBackend(ir, namespaceObjects.kyverno);
    const gatekeeper = gatekeeperBackend(ir);
    const support = engineSupport(ir);
    const kyvernoControls = new Set(ir.controls.map((c) => c.control).filter((id) => support.kyverno[id] === true));
    const files = [...kyverno, ...gatekeeper, ...testsBackend(ir, kyvernoControls, inputs.fixtures), ...psaBackend(cluster), ...docsBackend(ir, support)];
    files.push(...controlPlaneBackend(cluster));
    files.push(...namespaceObjects.manifests, ...namespaceObjects.suite);
    // Last: the coverage report reads what the other backends emitted.
    files.push(...reportBackend(cluster, files));
    clusters.push({ cluster, ir, files });
  }
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
  for (const c of ir.controls) {
    const control = getControl(c.control);
    k[c.control] = unsupportedReason(control, 'kyverno') ?? true;
    g[c.control] = unsupportedReason(control, 'gatekeeper') ?? true;
  }
  return { kyverno: k, gatekeeper: g };
}
