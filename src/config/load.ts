/**
 * Load: find and import policies.config.ts with jiti (TypeScript without a build step). The config's
 * `import … from 'kubeharden'` is aliased to the running package so that both share one module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubehardenError } from '../diagnostics.js';
import { codeFrame } from './locate.js';

export const CONFIG_FILE_NAMES = ['policies.config.ts', 'policies.config.mts', 'policies.config.js', 'policies.config.mjs'] as const;

const PACKAGE_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));

export class ConfigLoadError extends KubehardenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, [], options);
    this.name = 'ConfigLoadError';
  }
}

/** The config path: `--config` if given, else the first policies.config.* in `cwd`. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigLoadError('config_not_found', `config file not found: ${explicit}`);
    return p;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  throw new ConfigLoadError('config_not_found', `no ${CONFIG_FILE_NAMES[0]} in ${cwd}; pass --config <file>, or use \`kubeharden audit --profile <name>\` without a config`);
}

/**
 * Imports the config module and returns its default export. A config that cannot be loaded, or whose default
 * export is missing, `null` or a Promise, is a ConfigLoadError located at file:line:column with a code frame
 * (never a silent default config: a build would prune the bundle to the defaults).
 */
export async function loadConfig(file: string): Promise<unknown> {
  const { createJiti } = await import('jiti');
  // Under vitest the sources run as TypeScript; point the alias at whichever entry exists.
  const entry = existsSync(PACKAGE_ENTRY) ? PACKAGE_ENTRY : PACKAGE_ENTRY.replace(/\.js$/, '.ts');
  const jiti = createJiti(import.meta.url, { alias: { kubeharden: entry }, moduleCache: false, interopDefault: false });
  let mod: unknown;
  try {
    mod = await jiti.import(file);
  } catch (err) {
    throw importError(file, err);
  }
  const ns = (typeof mod === 'object' && mod !== null ? mod : {}) as Record<string, unknown>;
  if (!('default' in ns)) {
    const named = Object.keys(ns).filter((k) => k !== '__esModule');
    const what = named.length ? `exports only ${named.map((n) => `\`${n}\``).join(', ')} (named), no default` : 'exports nothing';
    throw located(file, 'config_no_default_export', `the config ${what}; it must \`export default defineConfig({...})\``, exportPos(file, named));
  }
  const value = ns['default'];
  if (value === null || value === undefined) {
    throw located(file, 'config_no_default_export', `the config's default export is ${String(value)}; it must be \`defineConfig({...})\``, exportPos(file, []));
  }
  if (typeof (value as { then?: unknown }).then === 'function') {
    throw located(file, 'config_default_export_promise', 'the config\'s default export is a Promise; export the config object itself (compute values with top-level await first)', exportPos(file, []));
  }
  return value;
}

/** Where an error in the config file is: its own line and column, or the first line. */
interface Pos {
  readonly line: number;
  readonly column: number;
}

function located(file: string, code: string, message: string, pos: Pos): ConfigLoadError {
  let frame = '';
  try {
    frame = `\n${codeFrame(readFileSync(file, 'utf8'), pos.line, pos.column)}`;
  } catch {
    // No frame for an unreadable file.
  }
  return new ConfigLoadError(code, `${file}:${pos.line}:${pos.column}: ${message}${frame}`);
}

/** The position of `export default` (or of the first named export, or 1:1). */
function exportPos(file: string, named: readonly string[]): Pos {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { line: 1, column: 1 };
  }
  const m = /\bexport\s+default\b/.exec(text) ?? (named.length ? /\bexport\b/.exec(text) : null) ?? /\bmodule\.exports\b/.exec(text);
  if (!m) return { line: 1, column: 1 };
  const before = text.slice(0, m.index);
  const line = before.split('\n').length;
  return { line, column: m.index - before.lastIndexOf('\n') };
}

/** A syntax error or an exception thrown while importing the config, located in the config file. */
function importError(file: string, err: unknown): ConfigLoadError {
  const message = err instanceof Error ? err.message : String(err);
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // jiti's parse errors end with "<file>:<line>:<column>"; thrown errors name the file in their stack.
  const at = new RegExp(`${escaped}:(\\d+):(\\d+)`);
  const m = at.exec(message) ?? (err instanceof Error && err.stack ? at.exec(err.stack) : null);
  const first = message.split('\n')[0]!.trim();
  const isSyntax = /^(ParseError|SyntaxError)\b/.test(first) || (err instanceof SyntaxError);
  const text = isSyntax ? `syntax error: ${first.replace(/^(ParseError|SyntaxError):\s*/, '')}` : `the config threw while loading: ${first}`;
  if (!m) return new ConfigLoadError('config_load_failed', `${file}: could not load the config: ${text}`, { cause: err });
  const line = Number(m[1]);
  let column: number;
  if (isSyntax) column = Number(m[2]) + 1; // the parser counts columns from 0
  else {
    // Stack columns are those of the transpiled module (types stripped): point at the line's first token.
    let src = '';
    try {
      src = readFileSync(file, 'utf8').split(/\r?\n/)[line - 1] ?? '';
    } catch {
      // No text: column 1.
    }
    column = (/\S/.exec(src)?.index ?? 0) + 1;
  }
  const e = located(file, 'config_load_failed', text, { line, column });
  return new ConfigLoadError(e.code, e.message, { cause: err });
}

export function configDir(file: string): string {
  return dirname(file);
}
