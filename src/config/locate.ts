/**
 * Maps a diagnostic's key path back to the property in policies.config.ts (file:line:column + code frame).
 * Loaded only on the error path: ts-morph is large and `build` must stay fast.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Diagnostic, KeyPath, SourceLocation } from '../diagnostics.js';

type TsMorph = typeof import('ts-morph');

export async function locateDiagnostics(file: string, diagnostics: readonly Diagnostic[], cwd = process.cwd()): Promise<Diagnostic[]> {
  const tsm: TsMorph = await import('ts-morph');
  const project = new tsm.Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true, compilerOptions: { allowJs: true } });
  const sf = project.addSourceFileAtPath(file);
  const root = findRoot(tsm, sf);
  const text = readFileSync(file, 'utf8');
  const display = relative(cwd, file) || file;
  return diagnostics.map((d) => {
    const node = root ? descend(tsm, root, d.path) : undefined;
    const pos = node ? node.getStart() : 0;
    const { line, column } = sf.getLineAndColumnAtPos(pos);
    const loc: SourceLocation = { file: display, line, column, frame: codeFrame(text, line, column) };
    return { ...d, loc };
  });
}

/** The config's object literal: the default export, through defineConfig(…), `as`/`satisfies` and variables. */
export function findRoot(tsm: TsMorph, sf: import('ts-morph').SourceFile): import('ts-morph').Node | undefined {
  const { SyntaxKind } = tsm;
  const assignment = sf.getExportAssignment((e) => !e.isExportEquals());
  let expr: import('ts-morph').Node | undefined = assignment?.getExpression();
  for (let i = 0; expr && i < 10; i++) {
    expr = unwrap(tsm, expr);
    if (expr.isKind(SyntaxKind.ObjectLiteralExpression)) return expr;
    if (expr.isKind(SyntaxKind.CallExpression)) {
      expr = expr.getArguments()[0];
      continue;
    }
    if (expr.isKind(SyntaxKind.Identifier)) {
      const decl = expr.getSymbol()?.getDeclarations()[0];
      expr = decl && decl.isKind(SyntaxKind.VariableDeclaration) ? decl.getInitializer() : undefined;
      continue;
    }
    return undefined;
  }
  return undefined;
}

function unwrap(tsm: TsMorph, n: import('ts-morph').Node): import('ts-morph').Node {
  const { SyntaxKind } = tsm;
  let cur = n;
  for (;;) {
    if (cur.isKind(SyntaxKind.AsExpression) || cur.isKind(SyntaxKind.SatisfiesExpression) || cur.isKind(SyntaxKind.ParenthesizedExpression)) {
      cur = cur.getExpression();
    } else return cur;
  }
}

/** The deepest node along the path: the property name for keys, the element for list indexes. */
function descend(tsm: TsMorph, root: import('ts-morph').Node, path: KeyPath): import('ts-morph').Node {
  const { SyntaxKind } = tsm;
  let container: import('ts-morph').Node = root;
  let located: import('ts-morph').Node = root;
  for (const key of path) {
    const c = unwrap(tsm, container);
    if (typeof key === 'number' && c.isKind(SyntaxKind.ArrayLiteralExpression)) {
      const el = c.getElements()[key];
      if (!el) break;
      located = el;
      container = el;
      continue;
    }
    if (typeof key === 'string' && c.isKind(SyntaxKind.ObjectLiteralExpression)) {
      const prop = c.getProperties().find((p) => {
        if (p.isKind(SyntaxKind.PropertyAssignment) || p.isKind(SyntaxKind.ShorthandPropertyAssignment)) {
          return stripQuotes(p.getName()) === key;
        }
        return false;
      });
      if (!prop) break;
      located = prop.isKind(SyntaxKind.PropertyAssignment) ? prop.getNameNode() : prop;
      const init = prop.isKind(SyntaxKind.PropertyAssignment) ? prop.getInitializer() : undefined;
      if (!init) break;
      container = init;
      continue;
    }
    break;
  }
  return located;
}

function stripQuotes(s: string): string {
  return /^(['"`]).*\1$/.test(s) ? s.slice(1, -1) : s;
}

export function codeFrame(text: string, line: number, column: number, context = 2): string {
  const lines = text.split(/\r?\n/);
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const mark = n === line ? '>' : ' ';
    out.push(`${mark} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}
