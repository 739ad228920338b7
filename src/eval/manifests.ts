/** Reads manifests: multi-document YAML, JSON, `kind: List`; malformed documents are reported with a line. */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { jsonListItems, scanJsonValue, splitDocuments, type RawDocument } from './split.js';
import { lineAt, readKubeYaml } from './kube-yaml.js';
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

/** A path that names something that cannot be read: a dangling symbolic link, a link loop, an unreadable directory. */
export interface UnreadablePath {
  /** As given, or the path of the entry inside a directory given. */
  readonly path: string;
  readonly message: string;
}

const MANIFEST_NAME = /\.(ya?ml|json)$/i;

/**
 * Every .yaml/.yml/.json file under the given paths (directories recursively, sorted; hidden directories and
 * node_modules skipped). Symbolic links are followed, but every real file and directory is read once: a link
 * back to a directory already read (a loop) adds nothing. What cannot be read is reported, and the rest
 * still listed: a dangling link, a link that resolves to itself, a directory that cannot be listed.
 */
export function expandPaths(paths: readonly string[], cwd: string): { files: string[]; missing: string[]; unreadable: UnreadablePath[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const unreadable: UnreadablePath[] = [];
  const realFiles = new Set<string>();
  const realDirs = new Set<string>();
  const shown = (p: string): string => displayPath(p, cwd);
  const addFile = (p: string): void => {
    const real = realOf(p) ?? p;
    if (realFiles.has(real)) return;
    realFiles.add(real);
    files.push(p);
  };
  const walk = (dir: string): void => {
    const real = realOf(dir) ?? dir;
    if (realDirs.has(real)) return;
    realDirs.add(real);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      unreadable.push({ path: shown(dir), message: `cannot read directory: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      return;
    }
    for (const name of names) {
      const child = join(dir, name);
      let st;
      try {
        st = statSync(child);
      } catch (err) {
        // A link that leads nowhere; one that is not a manifest (README.md, a link to a binary) is no input.
        if (!name.startsWith('.') && (MANIFEST_NAME.test(name) || !name.includes('.'))) unreadable.push({ path: shown(child), message: brokenLink(child, err) });
        continue;
      }
      if (st.isDirectory()) {
        if (!name.startsWith('.') && name !== 'node_modules') walk(child);
      } else if (MANIFEST_NAME.test(name)) addFile(child);
    }
  };
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : join(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      if (isLink(abs)) unreadable.push({ path: p, message: brokenLink(abs, err) });
      else missing.push(p);
      continue;
    }
    if (st.isDirectory()) walk(abs);
    else addFile(abs);
  }
  return { files, missing, unreadable };
}

function realOf(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Why a path that statSync cannot follow is unreadable. */
function brokenLink(p: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symbolic link loop (the link resolves to itself)';
  if (code === 'ENOENT' && isLink(p)) {
    let target = '';
    try {
      target = readlinkSync(p);
    } catch {
      // Gone meanwhile.
    }
    return `dangling symbolic link${target ? ` (to ${target}, which does not exist)` : ''}`;
  }
  return `cannot read: ${code ?? String(err)}`;
}

export function displayPath(file: string, cwd: string): string {
  const r = relative(cwd, file);
  return (r && !r.startsWith('..') ? r : file).split(sep).join('/');
}

export function parseManifests(text: string, source: string): ParsedInput {
  const resources: ParsedResource[] = [];
  const errors: ParseError[] = [];
  let index = 0;
  for (const raw of splitDocuments(text).flatMap((d) => listItems(d) ?? [d])) {
    const parsed = parseDocument(raw, source, index);
    resources.push(...parsed.resources);
    errors.push(...parsed.errors);
    index += parsed.resources.length + parsed.errors.length;
  }
  return { resources, errors };
}

/**
 * One document of a stream: its objects (a `kind: *List` gives its items) or an error with the line.
 * `index` is the position of its first object in the source.
 */
export function parseDocument(raw: RawDocument, source: string, index = 0): ParsedInput {
  const r = readDocumentValue(raw, true);
  if ('error' in r) return { resources: [], errors: [{ source, index, line: r.line, message: `malformed ${raw.json ? 'JSON' : 'YAML'}: ${r.error}` }] };
  if (raw.item) {
    // An element of a List (listItems): an object as it stands, whatever its kind.
    const v = r.value;
    if (v && typeof v === 'object' && !Array.isArray(v)) return { resources: [{ source, index, line: r.line, object: v as Obj }], errors: [] };
    return { resources: [], errors: [{ source, index, line: r.line, message: 'List item is not an object' }] };
  }
  return objectsOf(r.value, source, index, r.line);
}

/**
 * The value of one document as Kubernetes reads it (undefined for an empty one), with the line where it
 * starts, or the input error kubectl would stop at, with its line. `rejectDuplicateKeys`: a YAML key written
 * twice in one mapping is an input error, as the API server's strict field validation (kubectl's default)
 * rejects the object; without it the last value is kept, as YAMLToJSON does.
 */
export function readDocumentValue(raw: RawDocument, rejectDuplicateKeys = false): { value: unknown; line: number } | { error: string; line: number } {
  if (raw.error !== undefined) return { error: raw.error, line: raw.line };
  // A value of a JSON stream, already found valid by the splitter.
  if (raw.json) {
    const dup = rejectDuplicateKeys ? duplicateJsonKey(raw.text) : undefined;
    if (dup) return { error: `${dup.error}${dup.line > 0 ? ` (at line ${raw.line + dup.line})` : ''}`, line: raw.line };
    return { value: JSON.parse(raw.text) as unknown, line: raw.line };
  }
  // JSON documents (kubectl -o json) take the fast path; anything JSON.parse rejects goes to the YAML reader
  // (which also reports a key written twice in a JSON mapping).
  const json = raw.text.trimStart().startsWith('{') ? jsonValue(raw.text) : undefined;
  if (json !== undefined && !(rejectDuplicateKeys && duplicateJsonKey(raw.text))) return { value: json, line: raw.line + leadingLines(raw.text) };
  // Kubernetes' reading of YAML (sigs.k8s.io/yaml: YAML 1.1 scalars, merge keys), see kube-yaml.ts.
  const r = readKubeYaml(raw.text, { rejectDuplicateKeys });
  if ('value' in r) return { value: r.value, line: raw.line + lineAt(raw.text, r.offset) };
  // The document's first line, as for its objects; the message says where in it reading stopped.
  const start = raw.line + leadingLines(raw.text);
  const at = raw.line + lineAt(raw.text, r.offset);
  return { error: `${r.error}${at !== start ? ` (at line ${at})` : ''}`, line: start };
}

/** Every document of a stream as Kubernetes reads it, up to the first error (where kubectl stops). */
export function readYamlStream(text: string): ({ value: unknown; line: number } | { error: string; line: number })[] {
  const out: ({ value: unknown; line: number } | { error: string; line: number })[] = [];
  for (const raw of splitDocuments(text)) {
    const r = readDocumentValue(raw);
    out.push(r);
    if ('error' in r) break;
  }
  return out;
}

/** The first key written twice in one object of a valid JSON text, with its line (from 0). */
function duplicateJsonKey(text: string): { error: string; line: number } | undefined {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  if (i === text.length) return undefined;
  const r = scanJsonValue(text, i, true, true);
  return 'error' in r ? { error: r.error, line: lineAt(text, r.at) } : undefined;
}

/**
 * A `kind: *List` document (what `kubectl get -o yaml|json` prints) as its items, each a document of its own
 * with the line where it starts, so that a cluster dump goes through the audit in batches like separate
 * documents; undefined for any other document, or one that cannot be read (reported when it is parsed).
 * A JSON List is split on its text; a YAML one is read once here (aliases and merge keys may reach across
 * items) and its items handed on as JSON.
 */
export function listItems(raw: RawDocument): RawDocument[] | undefined {
  if (raw.error !== undefined || raw.item || !raw.text.includes('items') || !raw.text.includes('List')) return undefined;
  if (raw.json || raw.text.trimStart().startsWith('{')) {
    const list = jsonListItems(raw.text);
    if (list && isListKind(list.kind) && list.items) {
      let line = raw.line;
      let at = 0;
      return list.items.map(({ start, end }) => {
        line += countNewlines(raw.text, at, start);
        at = start;
        return { text: raw.text.slice(start, end), line, offset: raw.offset, json: true, item: true };
      });
    }
    if (raw.json) return undefined;
  }
  const block = blockListItems(raw);
  if (block) return block;
  const r = readKubeYaml(raw.text, { rejectDuplicateKeys: true, itemOffsets: true });
  if (!('value' in r)) return undefined;
  const v = r.value as Obj | undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v) || !isListKind(v['kind']) || !Array.isArray(v['items'])) return undefined;
  const items = v['items'] as unknown[];
  const offsets = r.items?.length === items.length ? r.items : undefined;
  const listLine = raw.line + lineAt(raw.text, r.offset);
  let line = raw.line;
  let at = 0;
  return items.map((item, k) => {
    if (offsets) {
      line += countNewlines(raw.text, at, offsets[k]!);
      at = offsets[k]!;
    }
    return { text: JSON.stringify(item) ?? 'null', line: offsets ? line : listLine, offset: raw.offset, json: true, item: true };
  });
}

/**
 * The items of a YAML List laid out as kubectl prints one (`items:` at the top level, a block sequence under
 * it, every item starting with `- ` at the sequence's column), each as a YAML document of its own: the item's
 * lines with the sequence's indentation removed, read later like any document (in a worker, in a batch), so a
 * cluster dump is never held as one parsed tree. Items are independent when the document defines no anchor
 * (an alias or a merge key can then reach nothing outside its item), so each reads as it does in the whole.
 * Undefined (the whole document is read instead) for anything else: an anchor, a tab, a CR, a directive or
 * document marker, a flow-style `items`, a line inside the sequence indented less than its item, a List whose
 * other keys do not read as a mapping with a `*List` kind.
 */
function blockListItems(raw: RawDocument): RawDocument[] | undefined {
  const text = raw.text;
  if (/[&\t\r]/.test(text) || /^(%|---|\.\.\.)/m.test(text)) return undefined;
  const lines = text.split('\n');
  const topLevel = (l: string): boolean => l !== '' && l[0] !== ' ' && l[0] !== '#' && l[0] !== '-';
  const at = lines.findIndex((l) => /^items:[ ]*(#.*)?$/.test(l));
  if (at < 0) return undefined;
  let end = at + 1;
  while (end < lines.length && !topLevel(lines[end]!)) end++;
  const blank = (l: string): boolean => /^ *(#.*)?$/.test(l);
  const first = lines.slice(at + 1, end).findIndex((l) => !blank(l));
  if (first < 0) return undefined;
  const dash = /^( *)-( |$)/.exec(lines[at + 1 + first]!);
  if (!dash) return undefined;
  const column = dash[1]!.length;
  const starts: number[] = [];
  for (let i = at + 1 + first; i < end; i++) {
    const l = lines[i]!;
    if (l.startsWith(' '.repeat(column) + '-') && (l.length === column + 1 || l[column + 1] === ' ')) starts.push(i);
    else if (!blank(l) && !l.startsWith(' '.repeat(column + 1))) return undefined;
  }
  // The List without its items must read as one: its kind, and no error kubectl would stop at.
  const rest = readKubeYaml([...lines.slice(0, at), 'items: []', ...lines.slice(end)].join('\n'), { rejectDuplicateKeys: true });
  if (!('value' in rest)) return undefined;
  const list = rest.value as Obj | undefined;
  if (!list || typeof list !== 'object' || Array.isArray(list) || !isListKind(list['kind'])) return undefined;
  const items: RawDocument[] = [];
  for (const [k, start] of starts.entries()) {
    const stop = k + 1 < starts.length ? starts[k + 1]! : end;
    // The item's own column: where its content starts after the dash (`- apiVersion` → column + 2).
    const head = lines[start]!.slice(column + 1);
    const indent = column + 1 + (head.length - head.trimStart().length);
    const body: string[] = [head.trimStart()];
    for (let i = start + 1; i < stop; i++) {
      // Every line loses the same indentation (a comment or space-only line less indented: what it has), so a
      // block scalar keeps its content, comment-like lines included.
      const l = lines[i]!;
      const lead = l.length - l.trimStart().length;
      if (lead < indent && !blank(l) && head.trim() !== '') return undefined;
      body.push(l.slice(Math.min(indent, lead)));
    }
    items.push({ text: body.join('\n'), line: raw.line + start, offset: raw.offset, item: true });
  }
  return items;
}

function isListKind(kind: unknown): boolean {
  return typeof kind === 'string' && kind.endsWith('List');
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function jsonValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function leadingLines(text: string): number {
  const m = /^\s*/.exec(text)![0];
  return m.split('\n').length - 1;
}

/** The objects of one parsed document (a `kind: *List` gives its items). */
function objectsOf(value: unknown, source: string, index: number, line: number): ParsedInput {
  const resources: ParsedResource[] = [];
  const errors: ParseError[] = [];
  if (value === null || value === undefined) return { resources, errors };
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ source, index, line, message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' });
    return { resources, errors };
  }
  const obj = value as Obj;
  if (typeof obj['kind'] === 'string' && obj['kind'].endsWith('List') && Array.isArray(obj['items'])) {
    for (const item of obj['items'] as unknown[]) {
      if (item && typeof item === 'object' && !Array.isArray(item)) resources.push({ source, index: index++, line, object: item as Obj });
      else errors.push({ source, index: index++, line, message: 'List item is not an object' });
    }
    return { resources, errors };
  }
  if (typeof obj['kind'] !== 'string' || typeof obj['apiVersion'] !== 'string') {
    errors.push({ source, index, line, message: 'document has no apiVersion/kind' });
    return { resources, errors };
  }
  resources.push({ source, index, line, object: obj });
  return { resources, errors };
}

export function readManifestFile(file: string, source: string): ParsedInput {
  return parseManifests(readFileSync(file, 'utf8'), source);
}
