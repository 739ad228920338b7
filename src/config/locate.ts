/**
 * Maps a diagnostic's key path back to the property in policies.config.ts (file:line:column + code frame).
 * Loaded only on the error path: ts-morph is large and `build` must stay fast.
 */
import { relative } from 'node:path';
import type { Diagnostic, KeyPath, SourceLocation } from '../diagnostics.js';

type TsMorph = typeof import('ts-morph');

export async function locateDiagnostics(file: string, diagnostics: readonly Diagnostic[], cwd = process.cwd()): Promise<Diagnostic[]> {
  const tsm: TsMorph = await import('ts-morph');
  const project = new tsm.Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true, compilerOptions: { allowJs: true } });
  const sf = project.addSourceFileAtPath(file);
  const root = findRoot(tsm, sf);
  return diagnostics.map((d) => {
    let node = root ? descend(tsm, root, d.path) : undefined;
    if (node && d.literal !== undefined) node = literalIn(tsm, node, d.literal) ?? node;
    // A custom control defined in another file (imported into the config) is located there.
    const at = node?.getSourceFile() ?? sf;
    const pos = node ? node.getStart() : 0;
    const { line, column } = at.getLineAndColumnAtPos(pos);
    const loc: SourceLocation = { file: relative(cwd, at.getFilePath()) || at.getFilePath(), line, column, frame: codeFrame(at.getFullText(), line, column) };
    return { ...d, loc };
  });
}

/**
 * The first string literal with text `value` (or, for a field path, its last name) inside the value at
 * `node` (a property name: its initializer), following variables and calls as `descend` does.
 */
function literalIn(tsm: TsMorph, node: import('ts-morph').Node, value: string): import('ts-morph').Node | undefined {
  const { SyntaxKind } = tsm;
  const prop = node.getParent();
  const scope = prop && prop.isKind(SyntaxKind.PropertyAssignment) ? prop.getInitializer() ?? node : node;
  const scopes = [scope, ...(scope.isKind(SyntaxKind.Identifier) ? [followIdentifier(tsm, scope)].filter((n): n is import('ts-morph').Node => n !== undefined) : [])];
  const wanted = [value, value.split('.').pop()!];
  for (const w of wanted) {
    for (const sc of scopes) {
      const all = [sc, ...sc.getDescendants()];
      const hit = all.find((n) => (n.isKind(SyntaxKind.StringLiteral) || n.isKind(SyntaxKind.NoSubstitutionTemplateLiteral)) && (n.getLiteralText() === w || n.getLiteralText().split('.').includes(w)));
      if (hit) return hit;
    }
  }
  return undefined;
}

/** The initializer of the variable an identifier names, in this file or the file it is imported from. */
function followIdentifier(tsm: TsMorph, id: import('ts-morph').Node): import('ts-morph').Node | undefined {
  const { SyntaxKind } = tsm;
  try {
    for (const def of (id as import('ts-morph').Identifier).getDefinitionNodes()) {
      if (def.isKind(SyntaxKind.VariableDeclaration)) return def.getInitializer();
    }
  } catch {
    // No language service answer: not followed.
  }
  const decl = id.getSymbol()?.getDeclarations()[0];
  return decl && decl.isKind(SyntaxKind.VariableDeclaration) ? decl.getInitializer() : undefined;
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
    let c = unwrap(tsm, container);
    // Through variables (also imported ones) and calls (`defineControl({...})`) to the object or list literal.
    for (let i = 0; i < 5; i++) {
      if (c.isKind(SyntaxKind.Identifier)) {
        const init = followIdentifier(tsm, c);
        if (!init) break;
        c = unwrap(tsm, init);
      } else if (c.isKind(SyntaxKind.CallExpression) && c.getArguments().length > 0) {
        c = unwrap(tsm, c.getArguments()[0]!);
      } else break;
    }
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
