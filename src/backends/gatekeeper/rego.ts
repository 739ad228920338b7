/**
 * Rego rendering: an isolated, strict Handlebars instance. Templates receive only names the compiler
 * derives (package names); user values never enter Rego text: they travel in Constraint parameters.
 */
import { createRequire } from 'node:module';
const Handlebars = createRequire(import.meta.url)('handlebars') as typeof import('handlebars');
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { regoPackage } from '../../names.js';
import { getControl, type ControlId } from '../../controls/index.js';

export const LIB_PACKAGE = 'lib.kubeharden';

/** The shared templates directory (works from src/ under vitest and from dist/). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/gatekeeper/', import.meta.url));

const hb = Handlebars.create();
type Template = (context: object) => string;
const cache = new Map<string, Template>();

/**
 * Rego shared by several control templates as text (`{{> name}}`, from templates/gatekeeper/partials/name.rego.hbs):
 * one source, rendered into each template where it stands, so the emitted Rego reads the same as if written there.
 */
export const PARTIALS_DIR = `${TEMPLATES_DIR}partials/`;
let partialsRegistered = false;

function registerPartials(): void {
  if (partialsRegistered) return;
  for (const name of readdirSync(PARTIALS_DIR).filter((n) => n.endsWith('.rego.hbs')).sort()) {
    hb.registerPartial(name.slice(0, -'.rego.hbs'.length), readFileSync(`${PARTIALS_DIR}${name}`, 'utf8'));
  }
  partialsRegistered = true;
}

function compiled(file: string): Template {
  let t = cache.get(file);
  if (!t) {
    registerPartials();
    const source = readFileSync(file, 'utf8');
    const fresh: Template = hb.compile(source, { strict: true, noEscape: true });
    t = fresh;
    cache.set(file, t);
  }
  return t;
}

/** The Rego template a control declares (`engines.gatekeeper`, a file in the control's folder). */
export function templateFile(id: ControlId): string {
  const g = getControl(id).engines.gatekeeper;
  if (g.kind !== 'rego') throw new Error(`gatekeeper: ${id} has no Rego template${g.kind === 'unsupported' ? `: ${g.why}` : ' (its Rego is written by the compiler)'}`);
  return g.file;
}

export type RegoVersion = 'v1' | 'v0';

/**
 * The Rego module of a control's ConstraintTemplate. Templates are Rego v1 (Gatekeeper rejects
 * `import rego.v1`); for the legacy v0 field the same source gets the future-keyword imports, which makes
 * it valid v0 with identical semantics.
 */
export function renderControlRego(id: ControlId, version: RegoVersion = 'v1'): string {
  const g = getControl(id).engines.gatekeeper;
  const names = { package: regoPackage(id), libPackage: LIB_PACKAGE };
  if (g.kind === 'regoModule') return forVersion(g.render(names), version);
  return forVersion(compiled(templateFile(id))(names), version);
}

/** The shared library module. */
export function renderLibRego(version: RegoVersion = 'v1'): string {
  return forVersion(compiled(`${TEMPLATES_DIR}lib.rego.hbs`)({ libPackage: LIB_PACKAGE }), version);
}

const V0_IMPORTS = ['future.keywords.contains', 'future.keywords.every', 'future.keywords.if', 'future.keywords.in'];

function forVersion(source: string, version: RegoVersion): string {
  const s = normalize(source);
  if (version === 'v1') return s;
  return s.replace(/^(package [\w.]+\n)/m, `$1\n${V0_IMPORTS.map((i) => `import ${i}`).join('\n')}\n`);
}

function normalize(s: string): string {
  return `${s.replace(/\r\n/g, '\n').trimEnd()}\n`;
}
