/** Reads manifests: multi-document YAML, JSON, `kind: List`; malformed documents are reported with a line. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Obj } from './review.js';

export interface ParsedResource {
  readonly source: string;
  /** Position of the resource within its source (documents and List items, counted from 0). */
  readonly index: number;
  readonly line: number;
  readonly object: Obj;
}

export interface ParseError {
  readonly source: string;
  readonly index: number;
  readonly line: number;
  readonly message: string;
}

export interface ParsedInput {
  readonly resources: ParsedResource[];
  readonly errors: ParseError[];
}

/** Every .yaml/.yml/.json file under the given paths (directories recursively, sorted). */
export function expandPaths(paths: readonly string[], cwd: string): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const child = join(p, name);
        if (statSync(child).isDirectory()) {
          if (!name.startsWith('.') && name !== 'node_modules') walk(child);
        } else if (/\.(ya?ml|json)$/i.test(name)) files.push(child);
      }
    } else files.push(p);
  };
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : join(cwd, p);
    try {
      walk(abs);
    } catch {
      missing.push(p);
    }
  }
  return { files, missing };
}

export function displayPath(file: string, cwd: string): string {
  const r = relative(cwd, file);
  return (r && !r.startsWith('..') ? r : file).split(sep).join('/');
}

export function parseManifests(text: string, source: string): ParsedInput {
  const resources: ParsedResource[] = [];
  const errors: ParseError[] = [];
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  let index = 0;
  for (const doc of list) {
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const line = lc.linePos(start).line;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const at = lc.linePos(e.pos[0]).line;
      errors.push({ source, index: index++, line, message: `malformed YAML: ${e.message.split('\n')[0]!}${at !== line ? ` (parser stopped at line ${at})` : ''}` });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ source, index: index++, line, message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' });
      continue;
    }
    const obj = value as Obj;
    if (typeof obj['kind'] === 'string' && obj['kind'].endsWith('List') && Array.isArray(obj['items'])) {
      for (const item of obj['items'] as unknown[]) {
        if (item && typeof item === 'object' && !Array.isArray(item)) resources.push({ source, index: index++, line, object: item as Obj });
        else errors.push({ source, index: index++, line, message: 'List item is not an object' });
      }
      continue;
    }
    if (typeof obj['kind'] !== 'string' || typeof obj['apiVersion'] !== 'string') {
      errors.push({ source, index: index++, line, message: 'document has no apiVersion/kind' });
      continue;
    }
    resources.push({ source, index: index++, line, object: obj });
  }
  return { resources, errors };
}

export function readManifestFile(file: string, source: string): ParsedInput {
  return parseManifests(readFileSync(file, 'utf8'), source);
}
