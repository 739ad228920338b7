/**
 * Splits a YAML stream into its documents without parsing them, so that documents can be parsed in
 * parallel and large inputs never sit in memory whole. A document ends at a line that starts with the
 * marker `---` or `...` followed by whitespace or the end of the line: the YAML spec forbids those lines
 * inside any scalar, so splitting on them agrees with a full parser.
 */

export interface RawDocument {
  /** The document's text (the `---` line that opens it excluded). */
  readonly text: string;
  /** 1-based line in the source where `text` starts. */
  readonly line: number;
  /** Bytes of source consumed up to the end of this document (for progress). */
  readonly offset: number;
}

const MARKER = /^(?:---|\.\.\.)(?:[ \t]|$)/;

/** Incremental splitter: feed chunks, take complete documents, then `end()` for the last one. */
export class DocumentSplitter {
  private carry = '';
  private lines: string[] = [];
  private start = 1;
  private line = 1;
  private consumed = 0;
  private first = true;

  /** Documents completed by this chunk. */
  push(chunk: string): RawDocument[] {
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

  /** The final document, if any. */
  end(): RawDocument[] {
    const out: RawDocument[] = [];
    if (this.carry) this.take(this.carry, false, out);
    this.carry = '';
    this.flush(out);
    return out;
  }

  private take(l: string, newline: boolean, out: RawDocument[]): void {
    const bytes = Buffer.byteLength(l) + (newline ? 1 : 0);
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.startsWith('%')) {
      // A directive (`%YAML 1.2`): only valid before a document's `---`.
      this.consumed += bytes;
      this.line++;
      return;
    }
    if (MARKER.test(l)) {
      this.flush(out);
      this.consumed += bytes;
      this.line++;
      this.start = this.line;
      // `--- {a: 1}` or `--- |` carries content on the marker line: keep it as the document's first line.
      const rest = l.startsWith('---') ? l.slice(3).trimStart() : '';
      if (rest && !rest.startsWith('#')) {
        this.lines.push(' '.repeat(l.length - rest.length) + rest);
        this.start = this.line - 1;
      }
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
