/**
 * Golden tests: each scenario under test/golden/<scenario>/ is built and compared file by file with its
 * expected tree (update with `vitest -u`). The harness also checks determinism (two builds, byte-identical;
 * config key order irrelevant) and that the expected tree holds no orphan files.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { readFixtures } from '../src/config/fixtures.js';
import { resolveConfig } from '../src/config/resolve.js';
import { ROOT } from './helpers.js';

const GOLDEN = join(ROOT, 'test', 'golden');
const TODAY = '2026-11-26';
const scenarios = readdirSync(GOLDEN).filter((d) => statSync(join(GOLDEN, d)).isDirectory()).sort();

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return out.sort();
}

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
    for (const [path, content] of out) await expect(content).toMatchFileSnapshot(join(expectedDir, path));
    const orphans = listFiles(expectedDir).filter((p) => !out.has(p));
    expect(orphans, 'files in the expected tree that the build no longer produces').toEqual([]);
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
    const { inputs } = readFixtures(ROOT, resolveConfig(raw).config!);
    const out = compile(raw, { fixtures: inputs }).output;
    const expected = listFiles(join(ROOT, 'generated'));
    expect(expected).toEqual([...out.keys()].sort());
    for (const [path, content] of out) await expect(content).toMatchFileSnapshot(join(ROOT, 'generated', path));
  });
});
