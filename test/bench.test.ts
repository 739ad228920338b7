/**
 * The benchmark script works from a clean clone and its engines agree: a small run (figures are printed,
 * never asserted; performance targets live in `npm run bench`, not in tests).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, TODAY } from './helpers.js';

describe('npm run bench', () => {
  it('measures every engine on the same corpus and finds the same verdicts', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'run.js'), '--resources', '400', '--kyverno-resources', '4', '--no-scale', '--list-items', '300'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KUBEHARDEN_TODAY: TODAY } });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    const runs = [
      'kubeharden audit', 'kubeharden audit --workers 0', 'gator test', 'kyverno apply',
      // The parser floors, on block YAML and on JSON: kubeharden's reader, js-yaml, the yaml package.
      'parse floor (kubeharden reader)', 'js-yaml loadAll', 'yaml parseAllDocuments',
      'kubeharden audit --workers 0, JSON', 'parse floor (kubeharden reader), JSON', 'js-yaml loadAll, JSON', 'yaml parseAllDocuments, JSON',
    ];
    for (const run of runs) {
      expect(out, run).toMatch(new RegExp(`^\\| ${run.replace(/[-().]/g, '\\$&')} \\| \\d+ \\| [\\d.]+ \\| \\d+ \\| \\d+`, 'm'));
    }
    expect(out).toContain('- objects parsed by the floor: 400\n');
    expect(out).toContain('- resources reported by kubeharden audit: 400\n');
    expect(out).toContain('- gator test vs kubeharden audit (400 resources): same verdicts');
    expect(out).toContain('- kyverno apply vs kubeharden audit (4 resources): same verdicts');
    // The cluster-dump case: one kind: List, YAML and JSON, against the same objects as documents.
    for (const run of ['300 documents', 'one List of 300 items, YAML', 'one List of 300 items, JSON']) expect(out, run).toMatch(new RegExp(`^\\| ${run.replace(/[-().,:]/g, '\\$&')} \\| 300 \\| [\\d.]+ \\| \\d+ \\| \\d+`, 'm'));
    expect(out).toContain('- List, YAML: 300 items, same verdicts\n');
    expect(out).toContain('- List, JSON: 300 items, same verdicts\n');
  }, 300_000);
});
