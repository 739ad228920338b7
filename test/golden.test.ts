/**
 * Golden tests: each scenario under test/golden/<scenario>/ is built and compared file by file with its
 * expected tree (update with `vitest -u`). The expected tree must list exactly the files the build emits: a
 * new output file or a missing tree fails unless snapshots are being updated (`-u`), and CI (`CI=1`) never
 * writes a snapshot. The harness also checks determinism (two builds, byte-identical; config key order
 * irrelevant).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { readFixtures } from '../src/config/fixtures.js';
import { resolveConfig } from '../src/config/resolve.js';
import { ROOT, TODAY } from './helpers.js';

const GOLDEN = join(ROOT, 'test', 'golden');
const scenarios = readdirSync(GOLDEN).filter((d) => statSync(join(GOLDEN, d)).isDirectory()).sort();

/** Every file under `dir`, relative, sorted; a missing `dir` is an error, never an empty list. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`${relative(ROOT, dir)} does not exist`);
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** True under `vitest -u` (snapshots rewritten); CI runs with `CI=1`, where snapshots are never written. */
const updating = (): boolean => expect.getState().snapshotState.snapshotUpdateState === 'all';

/** Deep copy with every object's keys in reverse order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reverseKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/**
 * Engine-native sample suites (hundreds of small files per cluster) are compared through one digest file
 * per cluster, `<cluster>/samples.sha256`, listing each file's hash; everything else file by file.
 */
function goldenView(out: ReadonlyMap<string, string>): Map<string, string> {
  const view = new Map<string, string>();
  const digests = new Map<string, string[]>();
  for (const [path, content] of out) {
    const m = /^([^/]+)\/(gatekeeper\/samples\/|kyverno\/samples\/)/.exec(path);
    if (!m) {
      view.set(path, content);
      continue;
    }
    const list = digests.get(m[1]!) ?? [];
    list.push(`${createHash('sha256').update(content).digest('hex')}  ${path.slice(m[1]!.length + 1)}`);
    digests.set(m[1]!, list);
  }
  for (const [cluster, lines] of digests) view.set(`${cluster}/samples.sha256`, `${lines.sort().join('\n')}\n`);
  return view;
}

describe.each(scenarios)('golden %s', (scenario) => {
  const dir = join(GOLDEN, scenario);
  const expectedDir = join(dir, 'generated');

  it('matches the expected tree', async () => {
    const raw = await loadConfig(join(dir, 'policies.config.ts'));
    const out = goldenView(compile(raw, { today: TODAY }).output);
    const emitted = [...out.keys()].sort();
    expect(emitted.length).toBeGreaterThan(0);
    if (updating()) {
      // `-u` writes the emitted files (when the test ends); files the build no longer produces must be deleted by hand.
      const present = existsSync(expectedDir) ? listFiles(expectedDir) : [];
      expect(present.filter((p) => !out.has(p)), 'files in the expected tree that the build no longer produces').toEqual([]);
    } else {
      // Outside `-u`, a file the tree lacks is a failure, never a new golden written in passing.
      expect(listFiles(expectedDir), 'the expected tree lists exactly the emitted files (update with -u)').toEqual(emitted);
    }
    for (const [path, content] of out) await expect(content).toMatchFileSnapshot(join(expectedDir, path));
  });

  it('is deterministic and independent of config key order', async () => {
    const raw = await loadConfig(join(dir, 'policies.config.ts'));
    const a = [...compile(raw, { today: TODAY }).output];
    const b = [...compile(raw, { today: TODAY }).output];
    const c = [...compile(reverseKeys(raw), { today: TODAY }).output];
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });
});

describe('reference bundle', () => {
  it('generated/ is fresh for the repo policies.config.ts', async () => {
    const raw = await loadConfig(join(ROOT, 'policies.config.ts'));
    const { inputs } = readFixtures(ROOT, resolveConfig(raw, { today: TODAY }).config!);
    const out = compile(raw, { today: TODAY, fixtures: inputs }).output;
    const expected = listFiles(join(ROOT, 'generated'));
    expect(expected).toEqual([...out.keys()].sort());
    for (const [path, content] of out) await expect(content).toMatchFileSnapshot(join(ROOT, 'generated', path));
  });
});
