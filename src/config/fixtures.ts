/** Reads the manifests that fixtures name (relative to the config file), for `test` and the bundle's suites. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedConfig } from './resolve.js';
import type { Diagnostic } from '../diagnostics.js';
import { readManifestFile } from '../eval/manifests.js';
import type { Obj } from '../eval/review.js';

/** Fixture file (as written in the config) → its resources, in document order. */
export type FixtureInputs = ReadonlyMap<string, readonly Obj[]>;

export function readFixtures(configDir: string, config: ResolvedConfig): { inputs: FixtureInputs; diagnostics: Diagnostic[] } {
  const inputs = new Map<string, Obj[]>();
  const diagnostics: Diagnostic[] = [];
  for (const cluster of config.clusters) {
    for (const fx of cluster.fixtures) {
      if (inputs.has(fx.file)) continue;
      const path = resolve(configDir, fx.file);
      if (!existsSync(path)) {
        diagnostics.push({ code: 'fixture_not_found', severity: 'error', message: `fixture file not found: ${fx.file}`, path: ['fixtures'] });
        continue;
      }
      const parsed = readManifestFile(path, fx.file);
      for (const e of parsed.errors) diagnostics.push({ code: 'invalid_fixture', severity: 'error', message: `${fx.file}:${e.line}: ${e.message}`, path: ['fixtures'] });
      inputs.set(fx.file, parsed.resources.map((r) => r.object));
    }
  }
  return { inputs, diagnostics };
}
