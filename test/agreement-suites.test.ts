/**
 * Part of the agreement matrix (see test/agreement.test.ts): the suites the bundle ships — `gator verify` on
 * gatekeeper/suite.yaml and `kyverno test` on every kyverno-test.yaml of generated/reference — pass under the
 * engines' own CLIs, every test and case counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { capture, ensureEngine, type Captured } from '../src/engines/index.js';
import { ROOT } from './helpers.js';
import { balanced } from './support/matrix.js';

describe('the suites the bundle ships pass under the engines’ own CLIs', () => {
  it('gator verify and kyverno test on generated/reference', async () => {
    const root = join(ROOT, 'generated', 'reference');
    const gator = await ensureEngine('gator');
    const kyverno = await ensureEngine('kyverno');
    const suite = parse(readFileSync(join(root, 'gatekeeper', 'suite.yaml'), 'utf8')) as { tests: { name: string; cases: { name: string }[] }[] };
    const cases = suite.tests.flatMap((t) => t.cases.map((c) => c.name));
    expect(cases.length).toBeGreaterThan(300);
    const kyvernoTests = (readdirSync(join(root, 'kyverno'), { recursive: true }) as string[]).filter((p) => p.endsWith('kyverno-test.yaml')).sort();
    expect(kyvernoTests.length).toBeGreaterThan(0);
    // Both CLIs run every test of a suite on its own, so the suites are split in two halves (by cases) run as
    // separate processes, all four two at a time; the counts below are over the halves together.
    const gatorHalves = balanced(suite.tests, 2, (t) => t.cases.length).map((ts) => `^(${ts.map((t) => t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$//`);
    const kyvernoHalves = balanced(kyvernoTests, 2, (p) => readFileSync(join(root, 'kyverno', p), 'utf8').length).map((ps) => ps.map((p) => join(root, 'kyverno', dirname(p))));
    // The reference bundle's Kyverno policies are of the policies.kyverno.io/v1 types: the CLI runs them with
    // --warnings-as-errors (as the README tells users to), so a deprecated construct fails the suites.
    const apiVersions = new Set(
      readdirSync(join(root, 'kyverno'))
        .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
        .flatMap((f) => parseAllDocuments(readFileSync(join(root, 'kyverno', f), 'utf8')).map((d) => String((d.toJS() as { apiVersion?: string } | null)?.apiVersion))),
    );
    expect([...apiVersions]).toEqual(['policies.kyverno.io/v1']);
    const outputs = new Map<string, Captured>();
    const jobs: [string, string, string[]][] = [
      ...gatorHalves.map((run, i): [string, string, string[]] => [`gator ${i}`, gator, ['verify', '-v', join(root, 'gatekeeper', '...'), '--run', run]]),
      ...kyvernoHalves.map((dirs, i): [string, string, string[]] => [`kyverno ${i}`, kyverno, ['test', ...dirs, '--remove-color', '--warnings-as-errors']]),
    ];
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < jobs.length) {
          const [name, cmd, args] = jobs[next++]!;
          outputs.set(name, await capture(cmd, args));
        }
      }),
    );
    const gatorOut = gatorHalves.map((_, i) => outputs.get(`gator ${i}`)!);
    for (const r of gatorOut) {
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout).not.toMatch(/FAIL/);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('PASS');
    }
    const g = gatorOut.map((r) => r.stdout).join('\n');
    // Every test and every case of the suite ran and passed: counted, not just a final PASS.
    expect(g.match(/^--- PASS: \S+/gm)?.map((l) => l.slice(10)).sort(), g.slice(-2000)).toEqual(suite.tests.map((t) => t.name).sort());
    expect(g.match(/^ {4}--- PASS: \S+/gm)?.map((l) => l.slice(14)).sort(), g.slice(-2000)).toEqual([...cases].sort());
    let passed = 0;
    for (const i of kyvernoHalves.keys()) {
      const r = outputs.get(`kyverno ${i}`)!;
      expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
      const m = /Test Summary: (\d+) tests passed and (\d+) tests failed/.exec(r.stdout);
      expect(m, r.stdout.slice(-2000)).not.toBeNull();
      expect(Number(m![2])).toBe(0);
      passed += Number(m![1]);
      // A result under a rule name Kyverno did not run is reported "Excluded" and counted as passed. A
      // ValidatingPolicy (no rules) on a workload gets two rows: the pod policy itself, which does not match
      // the workload ("Excluded"), and its autogen policy, which is checked ("Ok"); an Excluded row without its
      // Ok row is a result that was never checked.
      const rows = [...r.stdout.matchAll(/^│ *\d+ *│ *(\S+) *│ *(\S*) *│ *(\S+) *│ *(\S+) *│ *(\S+) *│/gm)].map((x) => ({ policy: x[1]!, resource: x[3]!, reason: x[5]! }));
      const excluded = rows.filter((x) => x.reason === 'Excluded');
      expect(excluded.filter((x) => !rows.some((y) => y.reason === 'Ok' && y.policy === x.policy && y.resource === x.resource && x.resource.split('/').at(-3) !== 'Pod'))).toEqual([]);
      passed -= excluded.length;
    }
    expect(passed).toBeGreaterThan(300);
    // As many checked as the suites hold results: one per resource listed in a result, and for a
    // GeneratingPolicy's result one per object it must generate (the CLI checks and lists each).
    const results = kyvernoTests.flatMap((p) => (parse(readFileSync(join(root, 'kyverno', p), 'utf8')) as { results: { resources: string[]; isGeneratingPolicy?: boolean; generatedResources?: string[] }[] }).results);
    expect(results.some((r) => r.isGeneratingPolicy)).toBe(true);
    expect(passed).toBe(results.reduce((n, r) => n + r.resources.length * (r.isGeneratingPolicy ? r.generatedResources!.length : 1), 0));
  }, 1_200_000);
});

