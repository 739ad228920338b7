/** The config file of a command (`--config`, or found from the working directory), compiled for it. */
import { dirname, relative } from 'node:path';
import { findConfig, loadConfig } from '../config/load.js';
import { readFixtures } from '../config/fixtures.js';
import { resolveConfig } from '../config/resolve.js';
import { enterControls } from '../controls/index.js';
import { compileResolved, type CompiledCluster, type CompileResult } from '../compile.js';
import { UsageError } from './args.js';
import { MAX_DIAGNOSTICS, type Diagnostic } from '../diagnostics.js';
import { renderDiagnostic } from './output.js';
import type { Io } from './io.js';

/** Loads, resolves and compiles a config; on errors prints located diagnostics and returns undefined. */
export async function compileConfigFile(io: Io, configArg: string | undefined): Promise<{ result: CompileResult; file: string } | undefined> {
  const file = findConfig(io.cwd, configArg);
  const raw = await loadConfig(file);
  const resolved = resolveConfig(raw);
  const display = relative(io.cwd, file) || file;
  if (resolved.diagnostics.length) {
    const { locateDiagnostics } = await import('../config/locate.js');
    const located = await locateDiagnostics(file, resolved.diagnostics, io.cwd);
    const sorted = located.sort((a, b) => (a.loc!.line - b.loc!.line) || (a.loc!.column - b.loc!.column));
    printDiagnostics(io, sorted, display);
  }
  if (!resolved.config) {
    const n = resolved.diagnostics.filter((d) => d.severity === 'error').length;
    io.err(`kubeharden: ${n} error(s) in ${display}; nothing was written`);
    return undefined;
  }
  // The config's custom controls, for the rest of this command (main runs each command in its own scope).
  enterControls(resolved.config.customControls);
  const fixtures = readFixtures(dirname(file), resolved.config);
  if (fixtures.diagnostics.length) {
    printDiagnostics(io, fixtures.diagnostics, display);
    io.err(`kubeharden: ${fixtures.diagnostics.length} error(s) in fixtures; nothing was written`);
    return undefined;
  }
  return { result: compileResolved(resolved.config, resolved.diagnostics, { fixtures: fixtures.inputs }), file };
}

function printDiagnostics(io: Io, ds: readonly Diagnostic[], display: string): void {
  for (const d of ds.slice(0, MAX_DIAGNOSTICS)) io.err(`${renderDiagnostic(d, display)}\n`);
  if (ds.length > MAX_DIAGNOSTICS) io.err(`… and ${ds.length - MAX_DIAGNOSTICS} more`);
}

/** The cluster `--cluster NAME` names; a usage error listing the config's clusters when it has none of that name. */
export function clusterNamed(clusters: readonly CompiledCluster[], name: string): CompiledCluster {
  const found = clusters.find((c) => c.cluster.name === name);
  if (!found) throw new UsageError(`no cluster "${name}" in the config (clusters: ${clusters.map((c) => c.cluster.name).join(', ')})`);
  return found;
}

/** The one cluster a command works on: the one `--cluster` names, or the config's only one (several: a usage error). */
export function oneCluster(clusters: readonly CompiledCluster[], name: string | undefined): CompiledCluster {
  if (name !== undefined) return clusterNamed(clusters, name);
  if (clusters.length > 1) throw new UsageError(`the config has several clusters; choose one with --cluster (${clusters.map((c) => c.cluster.name).join(', ')})`);
  return clusters[0]!;
}
