/**
 * One control, one folder: every folder under src/controls/ is a registered control and complete (its
 * definition; the Rego template it declares for Gatekeeper; its CEL check where it declares CEL for Kyverno),
 * every registered control has its folder, and no Rego template lies anywhere that nothing declares.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS, getControl, isControlId } from '../src/controls/index.js';
import { cel, defineControl, NO_OPTIONS, rego, unsupported, type AnyControl } from '../src/controls/types.js';
import { ROOT } from './helpers.js';

const CONTROLS = join(ROOT, 'src', 'controls');
/** Rego templates that belong to no single control: the shared library. */
const SHARED_TEMPLATES = ['templates/gatekeeper/lib.rego.hbs'];
/** Rego shared as text: `{{> name}}` renders templates/gatekeeper/partials/<name>.rego.hbs (backends/gatekeeper/rego.ts). */
const PARTIALS = 'templates/gatekeeper/partials/';

const rel = (p: string): string => relative(ROOT, p).split(sep).join('/');

/** Every file under `dir` (relative to the project root) whose name ends with `suffix`. */
function filesEnding(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) out.push(rel(p));
    }
  };
  walk(dir);
  return out.sort();
}

/** What is wrong with the control folders (empty when the layout is consistent). */
function layoutProblems(controlsDir: string, controls: readonly AnyControl[], templates: readonly string[]): string[] {
  const problems: string[] = [];
  const folders = readdirSync(controlsDir).filter((n) => statSync(join(controlsDir, n)).isDirectory());
  const ids = new Set(controls.map((c) => c.id));
  for (const f of folders) if (!ids.has(f)) problems.push(`src/controls/${f}/ is not a registered control`);
  const declared = new Set<string>();
  for (const c of controls) {
    const dir = join(controlsDir, c.id);
    if (!folders.includes(c.id) || !existsSync(join(dir, 'index.ts'))) {
      problems.push(`${c.id}: no definition at src/controls/${c.id}/index.ts`);
      continue;
    }
    const g = c.engines.gatekeeper;
    if (g.kind === 'rego') {
      declared.add(rel(g.file));
      if (g.file !== join(dir, 'gatekeeper.rego.hbs')) problems.push(`${c.id}: its Rego template ${rel(g.file)} is not src/controls/${c.id}/gatekeeper.rego.hbs`);
      if (!existsSync(g.file)) problems.push(`${c.id}: its Rego template ${rel(g.file)} does not exist`);
    }
    if (c.engines.kyverno.kind === 'cel' && !existsSync(join(dir, 'cel.ts'))) problems.push(`${c.id}: declares CEL but has no src/controls/${c.id}/cel.ts`);
  }
  // A partial counts when a declared template or another used partial renders it.
  const used = new Set<string>();
  const visit = (file: string): void => {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/\{\{>\s*([\w-]+)/g)) {
      const partial = `${PARTIALS}${m[1]}.rego.hbs`;
      if (!templates.includes(partial)) problems.push(`${file}: renders the partial ${m[1]}, and ${partial} does not exist`);
      else if (!used.has(partial)) {
        used.add(partial);
        visit(partial);
      }
    }
  };
  for (const t of [...declared].sort()) if (existsSync(join(ROOT, t))) visit(t);
  for (const t of templates) {
    if (t.startsWith(PARTIALS) ? !used.has(t) : !declared.has(t) && !SHARED_TEMPLATES.includes(t)) problems.push(`${t}: a Rego template no control declares`);
  }
  return problems;
}

const allTemplates = (): string[] => [...filesEnding(join(ROOT, 'src'), '.rego.hbs'), ...filesEnding(join(ROOT, 'templates'), '.rego.hbs')];

describe('control folders', () => {
  const registered = CONTROL_IDS.map(getControl);

  it('are the registered controls, each complete, with no orphan template in src/ or templates/', () => {
    expect(registered.map((c) => c.id)).toEqual(CONTROL_IDS);
    expect(layoutProblems(CONTROLS, registered, allTemplates())).toEqual([]);
  });

  it('hold the check the definition declares (cel.ts beside index.ts)', async () => {
    for (const c of registered) {
      if (c.engines.kyverno.kind !== 'cel') continue;
      const mod = (await import(pathToFileURL(join(CONTROLS, c.id, 'cel.ts')).href)) as { check: unknown };
      expect(c.engines.kyverno.check, c.id).toBe(mod.check);
    }
  });

  it('report a missing template, an orphan template, a stray folder and a control without a folder', () => {
    const withoutTemplate = registered.map((c) => (c.id === 'restrict-sysctls' ? { ...c, engines: { ...c.engines, gatekeeper: rego(pathToFileURL(join(CONTROLS, 'restrict-sysctls', 'missing.rego.hbs'))) } } : c));
    expect(layoutProblems(CONTROLS, withoutTemplate, allTemplates())).toEqual([
      'restrict-sysctls: its Rego template src/controls/restrict-sysctls/missing.rego.hbs is not src/controls/restrict-sysctls/gatekeeper.rego.hbs',
      'restrict-sysctls: its Rego template src/controls/restrict-sysctls/missing.rego.hbs does not exist',
      'src/controls/restrict-sysctls/gatekeeper.rego.hbs: a Rego template no control declares',
    ]);
    expect(layoutProblems(CONTROLS, registered, [...allTemplates(), 'templates/gatekeeper/restrict-sysctls.rego.hbs'])).toEqual([
      'templates/gatekeeper/restrict-sysctls.rego.hbs: a Rego template no control declares',
    ]);
    // The three role controls render role-aggregation; without them the partial is an orphan too.
    const roles = ['restrict-rbac-wildcards', 'restrict-rbac-escalation-verbs', 'restrict-secret-read-roles'];
    expect(allTemplates()).toContain(`${PARTIALS}role-aggregation.rego.hbs`);
    expect(layoutProblems(CONTROLS, registered.map((c) => (roles.includes(c.id) ? { ...c, engines: { ...c.engines, gatekeeper: unsupported('x') } } : c)), allTemplates())).toEqual([
      'src/controls/restrict-rbac-escalation-verbs/gatekeeper.rego.hbs: a Rego template no control declares',
      'src/controls/restrict-rbac-wildcards/gatekeeper.rego.hbs: a Rego template no control declares',
      'src/controls/restrict-secret-read-roles/gatekeeper.rego.hbs: a Rego template no control declares',
      `${PARTIALS}role-aggregation.rego.hbs: a Rego template no control declares`,
      `${PARTIALS}role-rule-findings.rego.hbs: a Rego template no control declares`,
    ]);
    expect(layoutProblems(CONTROLS, registered, allTemplates().filter((t) => t !== `${PARTIALS}role-aggregation.rego.hbs`))).toEqual(
      roles.sort().map((id) => `src/controls/${id}/gatekeeper.rego.hbs: renders the partial role-aggregation, and ${PARTIALS}role-aggregation.rego.hbs does not exist`),
    );
    expect(layoutProblems(CONTROLS, registered.filter((c) => c.id !== 'restrict-sysctls'), allTemplates())).toEqual([
      'src/controls/restrict-sysctls/ is not a registered control',
      'src/controls/restrict-sysctls/gatekeeper.rego.hbs: a Rego template no control declares',
    ]);
    const unknown = { ...getControl('restrict-sysctls'), id: 'restrict-nothing' } as AnyControl;
    expect(layoutProblems(CONTROLS, [...registered, unknown], allTemplates())).toEqual(['restrict-nothing: no definition at src/controls/restrict-nothing/index.ts']);
    expect(isControlId('restrict-nothing')).toBe(false);
  });

  it('fail to load, naming the control and the file, when a declared Rego template does not exist', () => {
    const missing = pathToFileURL(join(CONTROLS, 'no-such-control', 'gatekeeper.rego.hbs'));
    const base = { title: 't', description: 'd.', details: 'd', category: 'c', severity: 'low', nsa: [], ...NO_OPTIONS, samples: [] } as const;
    expect(() => defineControl({ ...base, id: 'no-such-control', engines: { gatekeeper: rego(missing), kyverno: cel({ message: 'm.', expressions: [] }) } })).toThrow(
      /^control no-such-control: engines\.gatekeeper names the Rego template .*src\/controls\/no-such-control\/gatekeeper\.rego\.hbs, which does not exist$/,
    );
    expect(defineControl({ ...base, id: 'no-such-control', engines: { gatekeeper: unsupported('no Rego'), kyverno: cel({ message: 'm.', expressions: [] }) } }).id).toBe('no-such-control');
  });
});
