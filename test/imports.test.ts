/**
 * The module graph of src/: no import cycles, and the layers import only downwards
 * (cli, bench → audit → eval → compiler and base modules). Every relative import counts, type-only and
 * dynamic ones included: a type that has to reach up a layer is in the wrong layer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Module (path relative to src/, with `.ts`) → the src modules it imports. */
function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(root);
  const graph = new Map<string, string[]>();
  for (const f of files.sort()) {
    const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    const deps = info.importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(root, resolve(dirname(f), s.replace(/\.js$/, '.ts'))).split('\\').join('/'));
    graph.set(relative(root, f).split('\\').join('/'), [...new Set(deps)].sort());
  }
  return graph;
}

/** The cycles of a graph: its strongly connected components of more than one module (or a self-import). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) out.push(component.sort());
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * Cycles that remain in the compiler. None are left: the list may only shrink, so a cycle fails the test
 * (a listed one that is gone fails too).
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [
];

/** Layers, top down: a module of a layer imports nothing from the layers listed before it. */
const LAYERS: readonly { readonly name: string; readonly modules: (path: string) => boolean }[] = [
  { name: 'cli', modules: (p) => p.startsWith('cli/') },
  { name: 'bench', modules: (p) => p.startsWith('bench/') },
  { name: 'audit', modules: (p) => p.startsWith('audit/') },
  { name: 'eval', modules: (p) => p.startsWith('eval/') },
];

/**
 * Imports that reach a layer above the importing module's own. The compiler and the base modules belong to
 * no listed layer: they may import eval's readers (YAML, workload reviews), never audit, bench or cli.
 */
function upwardImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const rank = (p: string): number => {
    const i = LAYERS.findIndex((l) => l.modules(p));
    return i === -1 ? LAYERS.findIndex((l) => l.name === 'eval') : i;
  };
  const out: string[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) {
      // cli and bench are both entry points: neither imports the other.
      if (rank(to) < rank(from) || (rank(to) <= 1 && rank(from) <= 1 && rank(to) !== rank(from))) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

/**
 * Imports against the compiler's own layering: the policy-language helpers (src/lang: CEL and Kyverno text)
 * sit below everything and import nothing of the project but each other; a control (src/controls) is written
 * with them and never reaches into the backends, the config or the IR; the backends may use both.
 */
function layeringViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const rules: readonly { readonly from: string; readonly forbidden: readonly string[] }[] = [
    { from: 'lang/', forbidden: [''] },
    { from: 'controls/', forbidden: ['backends/', 'config/', 'ir/', 'compile.ts', 'emit/', 'eval/', 'audit/', 'cli/', 'bench/'] },
  ];
  const out: string[] = [];
  for (const [from, deps] of graph) {
    for (const rule of rules) {
      if (!from.startsWith(rule.from)) continue;
      for (const to of deps) {
        if (to.startsWith(rule.from)) continue;
        if (rule.forbidden.some((f) => to.startsWith(f))) out.push(`${from} → ${to}`);
      }
    }
  }
  return out.sort();
}

/** Imports of the resolver by a backend: backends read the IR (ir/), whose cluster part resolve produces. */
function resolverImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    if (!from.startsWith('backends/')) continue;
    for (const to of deps) if (to === 'config/resolve.ts' || to.startsWith('config/resolve/')) out.push(`${from} → ${to}`);
  }
  return out.sort();
}

/**
 * What the coverage report may import from the other backends: data and helpers that do not describe an
 * emitted file (the FLAGS.md checklist items, the namespace controls' ids and their settings' differences,
 * the Markdown header, the BackendFile type it returns). Never a module that builds or names another
 * backend's objects (kyverno/, gatekeeper/, psa/, engine-suites/, the policy builders): the report reads the IR.
 */
const REPORT_MAY_IMPORT: readonly string[] = ['backends/cel-support.ts', 'backends/control-plane/flags.ts', 'backends/docs/index.ts', 'backends/namespaces/coverage.ts', 'backends/namespaces/objects.ts', 'backends/types.ts'];

function reportBackendImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    if (!from.startsWith('backends/report/')) continue;
    for (const to of deps) if (to.startsWith('backends/') && !to.startsWith('backends/report/') && !REPORT_MAY_IMPORT.includes(to)) out.push(`${from} → ${to}`);
  }
  return out.sort();
}

describe('module graph of src/', () => {
  const graph = importGraph(SRC);

  it('reads every module and its imports (type-only, re-exports and dynamic imports included)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('cli/main.ts')).toContain('cli/args.ts');
    expect(graph.get('eval/bundle.ts')).toContain('eval/evaluator-spec.ts'); // `import type`
    expect(graph.get('eval/bundle.ts')).toContain('eval/aggregate.ts'); // `export … from`
    expect(graph.get('cli/compile-config.ts')).toContain('config/locate.ts'); // `await import(…)`
  });

  it('finds a cycle, type-only or not, and each layer crossing upwards', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['eval/x.ts', ['audit/y.ts', 'table.ts']],
      ['audit/y.ts', ['cli/z.ts', 'eval/x.ts']],
      ['bench/w.ts', ['cli/z.ts']],
      ['compile.ts', ['eval/x.ts', 'audit/y.ts']],
      ['cli/z.ts', ['audit/y.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['audit/y.ts', 'cli/z.ts', 'eval/x.ts'], ['d.ts']]);
    expect(upwardImports(g)).toEqual(['audit/y.ts → cli/z.ts', 'bench/w.ts → cli/z.ts', 'compile.ts → audit/y.ts', 'eval/x.ts → audit/y.ts']);
    const r = new Map([
      ['backends/a/index.ts', ['config/resolve.ts', 'ir/types.ts']],
      ['backends/b.ts', ['config/resolve/util.ts', 'config/types.ts']],
      ['ir/lower.ts', ['config/resolve.ts']],
    ]);
    expect(resolverImports(r)).toEqual(['backends/a/index.ts → config/resolve.ts', 'backends/b.ts → config/resolve/util.ts']);
  });

  it('has no import cycle but the known ones the redesign still has to remove', () => {
    expect(cycles(graph)).toEqual(KNOWN_CYCLES);
  });

  it('keeps the backends on the IR: nothing under backends/ imports the resolver (config/resolve*)', () => {
    expect(resolverImports(graph)).toEqual([]);
  });

  it('keeps the coverage report on the IR: backends/report imports no other backend\'s objects or file shapes', () => {
    expect(reportBackendImports(new Map([['backends/report/model.ts', ['backends/psa/index.ts', 'backends/namespaces/objects.ts', 'backends/report/index.ts', 'ir/psa.ts']]]))).toEqual([
      'backends/report/model.ts → backends/psa/index.ts',
    ]);
    expect(reportBackendImports(graph)).toEqual([]);
  });

  it('imports downwards only: cli and bench → audit → eval → compiler and base modules (which may use eval\'s readers)', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('keeps src/lang below the controls and the controls below the backends, config and IR', () => {
    expect(graph.get('controls/disallow-run-as-root-user/cel.ts')).toContain('lang/cel/pod.ts');
    expect(graph.get('backends/kyverno/index.ts')).toContain('lang/cel/pod.ts');
    expect(layeringViolations(new Map([['lang/cel/x.ts', ['lang/y.ts', 'controls/types.ts']], ['controls/a/index.ts', ['lang/cel/x.ts', 'config/allow.ts', 'controls/types.ts']]]))).toEqual([
      'controls/a/index.ts → config/allow.ts',
      'lang/cel/x.ts → controls/types.ts',
    ]);
    expect(layeringViolations(graph)).toEqual([]);
  });
});
