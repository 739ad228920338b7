/** The inputs of an audit: named sources of YAML or JSON, each read as a stream (possibly more than once). */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { displayPath, expandPaths, type UnreadablePath } from '../eval/manifests.js';

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

/** The inputs of an audit, in the order given; paths that name nothing; standard input's spool to remove. */
export interface CollectedInputs {
  readonly inputs: readonly AuditInput[];
  readonly missing: readonly string[];
  /** What paths or directory entries name but cannot be read (dangling symbolic links, link loops). */
  readonly unreadable: readonly UnreadablePath[];
  /** Removes the spooled standard input, if any. */
  cleanup(): void;
}

/**
 * Inputs from paths, in the order given: directories expand to their manifest files, sorted; `-` is standard
 * input, spooled to a temporary file (it is read twice, Namespace labels first, and never held in memory).
 */
export async function collectInputs(paths: readonly string[], cwd: string, stdin: () => AsyncIterable<string | Buffer>): Promise<CollectedInputs> {
  const inputs: AuditInput[] = [];
  const missing: string[] = [];
  const unreadable: UnreadablePath[] = [];
  let spooled: string | undefined;
  for (const p of paths) {
    if (p === '-') {
      if (spooled === undefined) {
        spooled = join(mkdtempSync(join(tmpdir(), 'kubeharden-stdin-')), 'stdin.yaml');
        await pipeline(Readable.from(stdin()), createWriteStream(spooled));
      }
      inputs.push(fileInput(spooled, '-', statSync(spooled).size));
      continue;
    }
    const found = expandPaths([p], cwd);
    missing.push(...found.missing);
    unreadable.push(...found.unreadable);
    for (const f of found.files) {
      let size: number | undefined;
      try {
        size = statSync(f).size;
      } catch {
        // Reported when read.
      }
      inputs.push(fileInput(f, displayPath(f, cwd), size));
    }
  }
  const spool = spooled;
  return { inputs, missing, unreadable, cleanup: () => void (spool && rmSync(dirname(spool), { recursive: true, force: true })) };
}
