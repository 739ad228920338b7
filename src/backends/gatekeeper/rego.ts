/**
 * Rego rendering: an isolated, strict Handlebars instance. Templates receive only names the compiler
 * derives (package names); user values never enter Rego text: they travel in Constraint parameters.
 */
import { createRequire } from 'node:module';
const Handlebars = createRequire(import.meta.url)('handlebars') as typeof import('handlebars');
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { regoPackage } from '../../names.js';
import type { ControlId } from '../../controls/index.js';

export const LIB_PACKAGE = 'lib.kubeharden';

/** The project's templates directory (works from src/ under vitest and from dist/). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/gatekeeper/', import.meta.url));

const hb = Handlebars.create();
type Template = (context: object) => string;
const cache = new Map<string, Template>();

function compiled(file: string): Template {
  let t = cache.get(file);
  if (!t) {
    const source = readFileSync(`${TEMPLATES_DIR}${file}`, 'utf8');
    const fresh: Template = hb.compile(source, { strict: true, noEscape: true });
    t = fresh;
    cache.set(file, t);
  }
  return t;
}

export function templateFile(id: ControlId): string {
  return `${id}.rego.hbs`;
}

/** The Rego module of a control's ConstraintTemplate. */
export function renderControlRego(id: ControlId): string {
  return normalize(compiled(templateFile(id))({ package: regoPackage(id), libPackage: LIB_PACKAGE }));
}

/** The shared library module. */
export function renderLibRego(): string {
  return normalize(compiled('lib.rego.hbs')({ libPackage: LIB_PACKAGE }));
}

function normalize(s: string): string {
  return `${s.replace(/\r\n/g, '\n').trimEnd()}\n`;
}
