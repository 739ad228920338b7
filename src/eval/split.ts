/**
 * Splits a manifest stream into its documents without parsing them, so that documents can be parsed in
 * parallel and large inputs never sit in memory whole. The split is kubectl's (k8s.io/apimachinery's
 * YAMLOrJSONDecoder, which kubectl's resource builder reads files and stdin with):
 * - A stream whose first character other than (Unicode) white space is `{`, within its first 4096 bytes,
 *   is read as JSON: a series of JSON values one after another (`{...}{...}`, one per line, or anything
 *   between them that JSON counts as white space), each a document. When the first or the second value
 *   is not valid JSON, kubectl reads the rest of the stream as YAML instead, from the end of the last
 *   value it read (white space up to and including the first line end skipped); from the third value on,
 *   an invalid one ends the stream with an error.
 * - Any other stream is YAML (k8s.io/apimachinery's YAMLReader): a document ends at a line that starts
 *   with `---` followed by nothing but whitespace or a comment; a line starting with `---` followed by
 *   anything else (`--- {a: 1}`, `---x`) is an input error, as kubectl rejects it. `...` lines and
 *   directives stay in the document, where the YAML reader handles them. CRLF line ends read as LF.
 */

export interface RawDocument {
  /** The document's text (the `---` line that opens it excluded). */
  readonly text: string;
  /** 1-based line in the source where `text` starts. */
  readonly line: number;
  /** Bytes of source consumed up to the end of this document (for progress). */
  readonly offset: number;
  /** Set when the document cannot be read at all (an invalid `---` line, invalid JSON): the reason. */
  readonly error?: string;
  /** A value of a JSON stream (valid JSON, read as JSON), rather than a YAML document. */
  readonly json?: true;
  /** An element of a `kind: *List` document's items (see `listItems` in manifests.ts): one object, never a List itself. */
  readonly item?: true;
}

/** How many bytes kubectl looks at to tell a JSON stream from YAML (GuessJSONStream's buffer). */
const JSON_SNIFF_BYTES = 4096;
/** encoding/json's maximum nesting depth. */
const JSON_MAX_DEPTH = 10000;

/** Incremental splitter: feed chunks, take complete documents, then `end()` for the last one. */
export class DocumentSplitter {
  /** Until the first character that is not white space: JSON or YAML? */
  private mode: 'sniff' | 'json' | 'yaml' = 'sniff';
  /** Sniffing and JSON: the text not handed on yet (in JSON, from the end of the last value read). */
  private pending = '';
  /** JSON: values read; an incomplete value is not scanned again before `pending` is this long. */
  private values = 0;
  private rescanAt = 0;
  /** The stream ended in an error: the rest is not read (kubectl stops there). */
  private stopped = false;
  // YAML: the lines of the current document.
  private carry = '';
  private lines: string[] = [];
  private start = 1;
  private line = 1;
  private consumed = 0;
  private first = true;

  /** Documents completed by this chunk. */
  push(chunk: string): RawDocument[] {
    if (this.stopped) return [];
    if (this.mode === 'yaml') return this.yamlPush(chunk);
    this.pending += chunk;
    if (this.mode === 'sniff' && !this.sniff(false)) return [];
    return this.mode === 'json' ? this.jsonScan(false) : this.yamlPush(this.takePending());
  }

  /** The final document, if any. */
  end(): RawDocument[] {
    if (this.stopped) return [];
    if (this.mode === 'sniff') this.sniff(true);
    if (this.mode === 'json') return this.jsonScan(true);
    const out = this.pending ? this.yamlPush(this.takePending()) : [];
    return [...out, ...this.yamlEnd()];
  }

  private takePending(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }

  /**
   * GuessJSONStream: JSON when the first character that is not white space (Go's unicode.IsSpace) is `{`
   * and starts within the first 4096 bytes. False while that cannot be told yet.
   */
  private sniff(final: boolean): boolean {
    const text = this.pending;
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (!isGoSpace(c)) {
        this.mode = c === 0x7b && bytes < JSON_SNIFF_BYTES ? 'json' : 'yaml';
        return true;
      }
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      if (bytes >= JSON_SNIFF_BYTES) break;
    }
    if (!final && bytes < JSON_SNIFF_BYTES) return false;
    this.mode = 'yaml';
    return true;
  }

  /** Reads the JSON values of `pending`; `final`: the stream ends there. */
  private jsonScan(final: boolean): RawDocument[] {
    const out: RawDocument[] = [];
    if (!final && this.pending.length < this.rescanAt) return out;
    for (;;) {
      const text = this.pending;
      let i = 0;
      while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
      if (i === text.length) {
        // Only white space after the last value: the end of the stream, or more to come.
        if (final) this.pending = '';
        return out;
      }
      const r = scanJsonValue(text, i, final);
      if ('more' in r) {
        this.rescanAt = text.length * 2;
        return out;
      }
      if ('error' in r) return [...out, ...this.jsonFailed(r.error, r.at, final)];
      const line = this.line + countLines(text, 0, i);
      const value = text.slice(i, r.end);
      this.line = line + countLines(value, 0, value.length);
      this.consumed += Buffer.byteLength(text.slice(0, r.end));
      out.push({ text: value, line, offset: this.consumed, json: true });
      this.values++;
      this.pending = text.slice(r.end);
      this.rescanAt = 0;
    }
  }

  /**
   * A value that is not valid JSON: within the first two values, kubectl reads the rest as YAML from the
   * end of the last value, after the white space up to and including the first line end; later, the
   * stream ends with the error.
   */
  private jsonFailed(message: string, at: number, final: boolean): RawDocument[] {
    const text = this.pending;
    const stop = (): RawDocument[] => {
      this.stopped = true;
      this.pending = '';
      return [{ text: '', line: this.line + countLines(text, 0, at), offset: this.consumed + Buffer.byteLength(text.slice(0, at)), error: message, json: true }];
    };
    if (this.values > 1) return stop();
    // consumeWhitespace: Unicode white space, up to and including the first line end. It reads four bytes
    // at a time: with fewer left, it fails and kubectl reports the JSON error.
    let i = 0;
    for (;;) {
      if (!hasBytes(text, i, 4)) {
        if (!final) {
          this.rescanAt = text.length + 1;
          return [];
        }
        return stop();
      }
      const c = text.charCodeAt(i);
      // Go decodes the rune: U+FFFD (what invalid UTF-8 reads as here) is an error.
      if (c === 0xfffd) return stop();
      if (!isGoSpace(c)) break;
      i++;
      if (c === 0x0a) break;
    }
    this.line += countLines(text, 0, i);
    this.consumed += Buffer.byteLength(text.slice(0, i));
    this.start = this.line;
    this.first = false;
    this.mode = 'yaml';
    this.pending = '';
    const out = this.yamlPush(text.slice(i));
    return final ? [...out, ...this.yamlEnd()] : out;
  }

  private yamlPush(chunk: string): RawDocument[] {
    if (this.first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      this.first = chunk.length === 0;
    }
    const text = this.carry + chunk;
    const parts = text.split('\n');
    this.carry = parts.pop()!;
    const out: RawDocument[] = [];
    for (const l of parts) this.take(l, true, out);
    return out;
  }

  private yamlEnd(): RawDocument[] {
    const out: RawDocument[] = [];
    if (this.carry) this.take(this.carry, false, out);
    this.carry = '';
    this.flush(out);
    return out;
  }

  private take(l: string, newline: boolean, out: RawDocument[]): void {
    const bytes = Buffer.byteLength(l) + (newline ? 1 : 0);
    if (newline && l.endsWith('\r')) l = l.slice(0, -1);
    if (l.startsWith('---')) {
      // kubectl allows only whitespace or a comment after the separator (Go's strings.TrimSpace), and
      // fails before it returns the document the bad line ends.
      const rest = l.slice(3).replace(/^[\s\u0085]+|[\s\u0085]+$/g, '');
      const bad = rest !== '' && !rest.startsWith('#');
      if (bad) {
        out.push({ text: '', line: this.line, offset: this.consumed + bytes, error: `invalid document separator: ${rest} (kubectl accepts only a comment after ---)` });
        this.lines = [];
      } else this.flush(out);
      this.consumed += bytes;
      this.line++;
      this.start = this.line;
      return;
    }
    this.lines.push(l);
    this.consumed += bytes;
    this.line++;
  }

  private flush(out: RawDocument[]): void {
    if (this.lines.length && this.lines.some((l) => l.trim() && !l.trimStart().startsWith('#'))) {
      out.push({ text: this.lines.join('\n'), line: this.start, offset: this.consumed });
    }
    this.lines = [];
  }
}

/** Every document of a whole text. */
export function splitDocuments(text: string): RawDocument[] {
  const s = new DocumentSplitter();
  return [...s.push(text), ...s.end()];
}

/** Go's unicode.IsSpace. */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Whether `text` holds at least `n` UTF-8 bytes from `i`. */
function hasBytes(text: string, i: number, n: number): boolean {
  let bytes = 0;
  for (let j = i; j < text.length && bytes < n; j++) {
    const c = text.charCodeAt(j);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return bytes >= n;
}

/** White space between JSON tokens. */
function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function describe(c: number): string {
  return c === 0x27 ? "'\\''" : c < 0x20 || c > 0x7e ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `'${String.fromCharCode(c)}'`;
}

type JsonScan = { readonly end: number } | { readonly error: string; readonly at: number } | { readonly more: true };

/**
 * The extent of the JSON value that starts at `text[i]` (not white space), as encoding/json's Decoder
 * reads it: where it ends, the position of the first character that makes it invalid JSON, or `more` when
 * the text ends first and the stream goes on (`final`: it does not). A value ends as soon as it is
 * complete: `{}x` is the value `{}` (x belongs to the next one), and so is a number at the first character
 * that cannot continue it (`01` is 0 then 1).
 */
export function scanJsonValue(text: string, i: number, final: boolean, rejectDuplicateKeys = false): JsonScan {
  const n = text.length;
  /** Open containers: true for an object, false for an array. */
  const stack: boolean[] = [];
  /** With `rejectDuplicateKeys`: the keys of each open object (undefined for arrays). */
  const keys: (Set<string> | undefined)[] = [];
  const eof = (at: number): JsonScan => (final ? { error: 'unexpected end of JSON input', at } : { more: true });
  const skip = (k: number): number => {
    while (k < n && isJsonSpace(text.charCodeAt(k))) k++;
    return k;
  };
  /** A string from its opening quote at k: the position after the closing quote. */
  const string = (k: number): JsonScan => {
    for (k++; k < n; ) {
      const c = text.charCodeAt(k);
      if (c === 0x22) return { end: k + 1 };
      if (c < 0x20) return { error: `invalid character ${describe(c)} in string literal`, at: k };
      if (c !== 0x5c) {
        k++;
        continue;
      }
      if (k + 1 >= n) return eof(n);
      const e = text.charCodeAt(k + 1);
      if (e === 0x75) {
        for (let h = 2; h < 6; h++) {
          if (k + h >= n) return eof(n);
          if (!isHex(text.charCodeAt(k + h))) return { error: `invalid character ${describe(text.charCodeAt(k + h))} in \\u hexadecimal character escape`, at: k + h };
        }
        k += 6;
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) k += 2;
      else return { error: `invalid character ${describe(e)} in string escape code`, at: k + 1 };
    }
    return eof(n);
  };
  /** Digits from k (at least one required). */
  const digits = (k: number, what: string): JsonScan => {
    if (k >= n) return eof(n);
    if (!isDigit(text.charCodeAt(k))) return { error: `invalid character ${describe(text.charCodeAt(k))} ${what}`, at: k };
    while (k < n && isDigit(text.charCodeAt(k))) k++;
    return k < n || final ? { end: k } : { more: true };
  };
  const number = (k: number): JsonScan => {
    if (text.charCodeAt(k) === 0x2d) k++;
    if (k >= n) return eof(n);
    let r: JsonScan;
    if (text.charCodeAt(k) === 0x30) r = k + 1 < n || final ? { end: k + 1 } : { more: true };
    else r = digits(k, 'in numeric literal');
    if (!('end' in r)) return r;
    k = r.end;
    if (k < n && text.charCodeAt(k) === 0x2e) {
      r = digits(k + 1, 'after decimal point in numeric literal');
      if (!('end' in r)) return r;
      k = r.end;
    }
    if (k < n && (text.charCodeAt(k) === 0x65 || text.charCodeAt(k) === 0x45)) {
      k++;
      if (k < n && (text.charCodeAt(k) === 0x2b || text.charCodeAt(k) === 0x2d)) k++;
      r = digits(k, 'in exponent of numeric literal');
      if (!('end' in r)) return r;
      k = r.end;
    }
    return { end: k };
  };
  const literal = (k: number, word: string): JsonScan => {
    for (let j = 0; j < word.length; j++) {
      if (k + j >= n) return eof(n);
      if (text.charCodeAt(k + j) !== word.charCodeAt(j)) return { error: `invalid character ${describe(text.charCodeAt(k + j))} in literal ${word} (expecting '${word[j]}')`, at: k + j };
    }
    return { end: k + word.length };
  };
  /** An object key and its colon from k: the position of the value. */
  const key = (k: number): JsonScan => {
    if (k >= n) return eof(n);
    if (text.charCodeAt(k) !== 0x22) return { error: `invalid character ${describe(text.charCodeAt(k))} looking for beginning of object key string`, at: k };
    const r = string(k);
    if (!('end' in r)) return r;
    if (rejectDuplicateKeys) {
      const raw = text.slice(k + 1, r.end - 1);
      const name = raw.includes('\\') ? (JSON.parse(text.slice(k, r.end)) as string) : raw;
      const seen = keys[keys.length - 1]!;
      if (seen.has(name)) return { error: `duplicate key ${JSON.stringify(name)}: the API server rejects it (strict field validation), kubectl would apply only the last value`, at: k };
      seen.add(name);
    }
    k = skip(r.end);
    if (k >= n) return eof(n);
    if (text.charCodeAt(k) !== 0x3a) return { error: `invalid character ${describe(text.charCodeAt(k))} after object key`, at: k };
    k = skip(k + 1);
    return k >= n ? eof(n) : { end: k };
  };
  let k = i;
  for (;;) {
    // A value starts at k.
    const c = text.charCodeAt(k);
    let r: JsonScan;
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= JSON_MAX_DEPTH) return { error: 'exceeded max depth', at: k };
      const object = c === 0x7b;
      const j = skip(k + 1);
      if (j >= n) return eof(n);
      if (text.charCodeAt(j) === (object ? 0x7d : 0x5d)) r = { end: j + 1 };
      else {
        stack.push(object);
        if (rejectDuplicateKeys) keys.push(object ? new Set() : undefined);
        if (object) {
          r = key(j);
          if (!('end' in r)) return r;
          k = r.end;
        } else k = j;
        continue;
      }
    } else if (c === 0x22) r = string(k);
    else if (c === 0x2d || isDigit(c)) r = number(k);
    else if (c === 0x74) r = literal(k, 'true');
    else if (c === 0x66) r = literal(k, 'false');
    else if (c === 0x6e) r = literal(k, 'null');
    else return { error: `invalid character ${describe(c)} looking for beginning of value`, at: k };
    if (!('end' in r)) return r;
    k = r.end;
    // After a value: close containers, or go on to the next element.
    for (;;) {
      if (!stack.length) return { end: k };
      k = skip(k);
      if (k >= n) return eof(n);
      const d = text.charCodeAt(k);
      const object = stack[stack.length - 1]!;
      if (d === (object ? 0x7d : 0x5d)) {
        stack.pop();
        if (rejectDuplicateKeys) keys.pop();
        k++;
        continue;
      }
      if (d !== 0x2c) return { error: `invalid character ${describe(d)} after ${object ? 'object key:value pair' : 'array element'}`, at: k };
      k = skip(k + 1);
      if (k >= n) return eof(n);
      if (object) {
        const r2 = key(k);
        if (!('end' in r2)) return r2;
        k = r2.end;
      }
      break;
    }
  }
}

/**
 * The elements of a JSON object's top-level `items` array and its `kind`, read from the text (no value is
 * built): where each element starts and ends. Undefined when `text` is not one valid JSON object, or names
 * `items` or `kind` twice (the document is then read whole, and the duplicate reported).
 */
export function jsonListItems(text: string): { kind: unknown; items?: { start: number; end: number }[] } | undefined {
  const n = text.length;
  const skip = (k: number): number => {
    while (k < n && isJsonSpace(text.charCodeAt(k))) k++;
    return k;
  };
  const valueEnd = (k: number): number | undefined => {
    const r = scanJsonValue(text, k, true);
    return 'end' in r ? r.end : undefined;
  };
  let k = skip(0);
  if (text.charCodeAt(k) !== 0x7b) return undefined;
  k = skip(k + 1);
  let kind: unknown;
  let items: { start: number; end: number }[] | undefined;
  const named = new Set<string>();
  if (text.charCodeAt(k) === 0x7d) return skip(k + 1) === n ? { kind } : undefined;
  for (;;) {
    if (text.charCodeAt(k) !== 0x22) return undefined;
    const keyEnd = valueEnd(k);
    if (keyEnd === undefined) return undefined;
    const key = JSON.parse(text.slice(k, keyEnd)) as string;
    k = skip(keyEnd);
    if (text.charCodeAt(k) !== 0x3a) return undefined;
    k = skip(k + 1);
    if (key === 'items' || key === 'kind') {
      if (named.has(key)) return undefined;
      named.add(key);
    }
    if (key === 'items' && text.charCodeAt(k) === 0x5b) {
      items = [];
      k = skip(k + 1);
      if (text.charCodeAt(k) === 0x5d) k++;
      else
        for (;;) {
          const end = valueEnd(k);
          if (end === undefined) return undefined;
          items.push({ start: k, end });
          k = skip(end);
          const c = text.charCodeAt(k);
          k = skip(k + 1);
          if (c === 0x5d) break;
          if (c !== 0x2c) return undefined;
        }
    } else {
      const end = valueEnd(k);
      if (end === undefined) return undefined;
      if (key === 'kind') kind = JSON.parse(text.slice(k, end)) as unknown;
      else if (key === 'items') items = undefined;
      k = end;
    }
    k = skip(k);
    const c = text.charCodeAt(k);
    k = skip(k + 1);
    if (c === 0x7d) return k >= n ? { kind, ...(items ? { items } : {}) } : undefined;
    if (c !== 0x2c) return undefined;
  }
}
