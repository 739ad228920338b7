/**
 * Splits a YAML stream into its documents without parsing them, so that documents can be parsed in
 * parallel and large inputs never sit in memory whole. The split is kubectl's (k8s.io/apimachinery's
 * YAMLReader): a document ends at a line that starts with `---` followed by nothing but whitespace or a
 * comment; a line starting with `---` followed by anything else (`--- {a: 1}`, `---x`) is an input error,
 * as kubectl rejects it. `...` lines and directives stay in the document, where the YAML reader handles
 * them. CRLF line ends read as LF.
 */

export interface RawDocument {
  /** The document's text (the `---` line that opens it excluded). */
  readonly text: string;
  /** 1-based line in the source where `text` starts. */
  readonly line: number;
  /** Bytes of source consumed up to the end of this document (for progress). */
  readonly offset: number;
  /** Set when the document cannot be read at all (an invalid `---` line): the reason. */
  readonly error?: string;
}

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
