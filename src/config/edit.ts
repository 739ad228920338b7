/**
 * Edits of policies.config.ts that keep the file as its author wrote it: new exceptions are inserted as text
 * at one place (after the last entry of the `exceptions` array, or as a new `exceptions` property), so every
 * comment, blank line, quote and the order of everything else stay byte for byte. ts-morph finds that place;
 * a shape it cannot edit safely (exceptions built by a call, a spread, a variable) is a located error.
 */
import { relative } from 'node:path';
import { KubehardenError, type SourceLocation } from '../diagnostics.js';
import { codeFrame, findRoot } from './locate.js';

type TsMorph = typeof import('ts-morph');
type Node = import('ts-morph').Node;

/** An exception to write (the config's ExceptionConfig, as plain data). */
export interface NewException {
  readonly control: string | readonly string[];
  readonly namespaces?: readonly string[];
  readonly names?: readonly string[];
  readonly images?: readonly string[];
  readonly allow?: Readonly<Record<string, readonly (string | number)[]>>;
  readonly reason: string;
  readonly expires: string;
}

export class ConfigEditError extends KubehardenError {
  constructor(
    message: string,
    readonly loc: SourceLocation,
  ) {
    super('config_not_editable', `${loc.file}:${loc.line}:${loc.column} ${message}\n${loc.frame ?? ''}`);
    this.name = 'ConfigEditError';
  }
}

/**
 * The config text with `exceptions` appended to the exceptions of the config (or of `cluster`'s entry).
 * Throws ConfigEditError (file:line:column and a code frame) where the file's shape is not a literal.
 */
export async function addExceptions(file: string, text: string, exceptions: readonly NewException[], options: { cluster?: string; cwd?: string } = {}): Promise<string> {
  if (!exceptions.length) return text;
  const tsm: TsMorph = await import('ts-morph');
  const { SyntaxKind } = tsm;
  const project = new tsm.Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true } });
  const sf = project.createSourceFile(`/config${/\.m?js$/.test(file) ? '.js' : '.ts'}`, text, { overwrite: true });
  const display = relative(options.cwd ?? process.cwd(), file) || file;
  const fail = (node: Node | undefined, message: string): never => {
    const pos = node ? node.getStart() : 0;
    const { line, column } = sf.getLineAndColumnAtPos(pos);
    throw new ConfigEditError(message, { file: display, line, column, frame: codeFrame(text, line, column) });
  };
  const root = findRoot(tsm, sf);
  if (!root) {
    fail(sf.getExportAssignment((e) => !e.isExportEquals()), 'cannot edit this config: its default export is not an object literal (or defineConfig({...}) of one); add the exceptions by hand');
  }
  let target = root!.asKindOrThrow(SyntaxKind.ObjectLiteralExpression);
  if (options.cluster !== undefined) {
    const clusters = property(tsm, target, 'clusters');
    if (!clusters) fail(target, `cannot edit this config: it has no clusters entry "${options.cluster}"`);
    const clustersObj = unwrap(tsm, clusters!.getInitializerOrThrow());
    if (!clustersObj.isKind(SyntaxKind.ObjectLiteralExpression)) fail(clustersObj, 'cannot edit this config: `clusters` is not an object literal');
    const entry = property(tsm, clustersObj.asKindOrThrow(SyntaxKind.ObjectLiteralExpression), options.cluster);
    if (!entry) fail(clustersObj, `cannot edit this config: \`clusters\` has no literal entry "${options.cluster}"`);
    const entryObj = unwrap(tsm, entry!.getInitializerOrThrow());
    if (!entryObj.isKind(SyntaxKind.ObjectLiteralExpression)) fail(entryObj, `cannot edit this config: the cluster "${options.cluster}" is not an object literal`);
    target = entryObj.asKindOrThrow(SyntaxKind.ObjectLiteralExpression);
  }
  // Spreads or computed keys could bring in (or override) exceptions the edit cannot see.
  for (const p of target.getProperties()) {
    if (p.isKind(SyntaxKind.SpreadAssignment)) fail(p, 'cannot edit this config: the object has a spread (...), which may carry its own exceptions; add the exceptions by hand');
  }
  const quote = preferredQuote(text);
  const unit = indentUnit(text);
  const existing = property(tsm, target, 'exceptions');
  let insertAt: number;
  let insertText: string;
  if (existing) {
    const init = existing.getInitializerOrThrow();
    const arr = unwrap(tsm, init);
    if (!arr.isKind(SyntaxKind.ArrayLiteralExpression)) fail(arr, 'cannot edit this config: `exceptions` is not an array literal (e.g. built by a function call or a variable); add the exceptions by hand');
    const array = arr.asKindOrThrow(SyntaxKind.ArrayLiteralExpression);
    for (const el of array.getElements()) if (el.isKind(SyntaxKind.SpreadElement)) fail(el, 'cannot edit this config: `exceptions` has a spread (...); add the exceptions by hand');
    const elements = array.getElements();
    const propIndent = lineIndent(text, existing.getStart());
    if (elements.length) {
      const last = elements[elements.length - 1]!;
      const elIndent = lineIndent(text, last.getStart());
      const step = elIndent.startsWith(propIndent) && elIndent.length > propIndent.length ? elIndent.slice(propIndent.length) : unit;
      insertAt = last.getEnd();
      insertText = exceptions.map((e) => `,\n${elIndent}${render(e, elIndent, step, quote)}`).join('');
    } else {
      // `[]` (possibly with comments inside): the new entries go before the closing bracket.
      const close = array.getEnd() - 1;
      const elIndent = propIndent + unit;
      const inner = text.slice(array.getStart() + 1, close);
      const lead = inner.trim() === '' ? '' : inner.replace(/\s*$/, '');
      insertAt = array.getStart() + 1;
      insertText = `${lead}\n${exceptions.map((e) => `${elIndent}${render(e, elIndent, unit, quote)},\n`).join('')}${propIndent}`;
      return text.slice(0, insertAt) + insertText + text.slice(close);
    }
  } else {
    const props = target.getProperties();
    const objIndent = lineIndent(text, target.getStart());
    const propIndent = props.length ? lineIndent(text, props[props.length - 1]!.getStart()) : objIndent + unit;
    const body = `exceptions: [\n${exceptions.map((e) => `${propIndent}${unit}${render(e, propIndent + unit, unit, quote)},\n`).join('')}${propIndent}]`;
    if (props.length) {
      const last = props[props.length - 1]!;
      const after = text.slice(last.getEnd());
      const hasComma = /^\s*,/.test(after);
      insertAt = hasComma ? last.getEnd() + after.indexOf(',') + 1 : last.getEnd();
      insertText = `${hasComma ? '' : ','}\n${propIndent}${body}${hasComma ? ',' : ''}`;
    } else {
      insertAt = target.getStart() + 1;
      const close = target.getEnd() - 1;
      return `${text.slice(0, insertAt)}\n${propIndent}${body},\n${objIndent}${text.slice(close)}`;
    }
  }
  return text.slice(0, insertAt) + insertText + text.slice(insertAt);
}

function property(tsm: TsMorph, obj: import('ts-morph').ObjectLiteralExpression, name: string): import('ts-morph').PropertyAssignment | undefined {
  const { SyntaxKind } = tsm;
  for (const p of obj.getProperties()) {
    if (!p.isKind(SyntaxKind.PropertyAssignment)) continue;
    const n = p.getNameNode();
    const key = n.isKind(SyntaxKind.StringLiteral) || n.isKind(SyntaxKind.NoSubstitutionTemplateLiteral) ? n.getLiteralText() : n.getText();
    if (key === name) return p;
  }
  return undefined;
}

function unwrap(tsm: TsMorph, n: Node): Node {
  const { SyntaxKind } = tsm;
  let cur = n;
  while (cur.isKind(SyntaxKind.AsExpression) || cur.isKind(SyntaxKind.SatisfiesExpression) || cur.isKind(SyntaxKind.ParenthesizedExpression)) cur = cur.getExpression();
  return cur;
}

/** The whitespace that starts the line of `pos`. */
function lineIndent(text: string, pos: number): string {
  const start = text.lastIndexOf('\n', pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

function indentUnit(text: string): string {
  // Lines of block comments (` * …`) do not count.
  const m = /\n([ \t]+)[^\s*]/.exec(text);
  if (m && m[1]!.startsWith('\t')) return '\t';
  const widths = [...text.matchAll(/\n( +)[^\s*]/g)].map((x) => x[1]!.length);
  const min = widths.length ? Math.min(...widths) : 2;
  return ' '.repeat(min > 0 && min <= 8 ? min : 2);
}

/** The file's string quote: single unless double quotes are the majority. */
function preferredQuote(text: string): "'" | '"' {
  const single = (text.match(/'/g) ?? []).length;
  const double = (text.match(/"/g) ?? []).length;
  return double > single ? '"' : "'";
}

function str(s: string, q: "'" | '"'): string {
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `${q}${q === "'" ? body.replace(/'/g, "\\'") : body.replace(/"/g, '\\"')}${q}`;
}

function key(k: string, q: "'" | '"'): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k, q);
}

function list(values: readonly (string | number)[], q: "'" | '"'): string {
  return `[${values.map((v) => (typeof v === 'number' ? String(v) : str(v, q))).join(', ')}]`;
}

/** One exception as an object literal, its lines indented one unit deeper than `indent`. */
export function render(e: NewException, indent: string, unit: string, q: "'" | '"'): string {
  const inner = indent + unit;
  const lines: string[] = [];
  lines.push(`control: ${typeof e.control === 'string' ? str(e.control, q) : list(e.control, q)},`);
  if (e.namespaces) lines.push(`namespaces: ${list(e.namespaces, q)},`);
  if (e.images) lines.push(`images: ${list(e.images, q)},`);
  if (e.names) lines.push(`names: ${list(e.names, q)},`);
  if (e.allow) lines.push(`allow: { ${Object.entries(e.allow).map(([k, v]) => `${key(k, q)}: ${list(v, q)}`).join(', ')} },`);
  lines.push(`reason: ${str(e.reason, q)},`, `expires: ${str(e.expires, q)},`);
  return `{\n${lines.map((l) => `${inner}${l}`).join('\n')}\n${indent}}`;
}

/** A unified diff of two texts (one hunk around the changed lines, three lines of context). */
export function unifiedDiff(before: string, after: string, path: string): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ctx = 3;
  const from = Math.max(0, pre - ctx);
  const aEnd = Math.min(a.length, a.length - suf + ctx);
  const bEnd = Math.min(b.length, b.length - suf + ctx);
  const out = [`--- a/${path}`, `+++ b/${path}`];
  const aLen = aEnd - from;
  const bLen = bEnd - from;
  out.push(`@@ -${aLen ? from + 1 : from},${aLen} +${bLen ? from + 1 : from},${bLen} @@`);
  for (let i = from; i < pre; i++) out.push(` ${a[i]}`);
  for (let i = pre; i < a.length - suf; i++) out.push(`-${a[i]}`);
  for (let i = pre; i < b.length - suf; i++) out.push(`+${b[i]}`);
  for (let i = a.length - suf; i < aEnd; i++) out.push(` ${a[i]}`);
  return out.join('\n');
}
