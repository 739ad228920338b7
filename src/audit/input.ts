/** An input of the audit: a named source of YAML or JSON, read as a stream (possibly more than once). */
import { createReadStream } from 'node:fs';

export interface AuditInput {
  /** The name results refer to (a path relative to the working directory, or `-`). */
  readonly source: string;
  /** Size in bytes when known (for progress). */
  readonly size?: number;
  open(): AsyncIterable<string | Buffer>;
}

export function fileInput(path: string, source: string, size?: number): AuditInput {
  return { source, ...(size !== undefined ? { size } : {}), open: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}
