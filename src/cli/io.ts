/** What the CLI reads and writes: the process, or a test's capture of it. */
export interface Io {
  readonly cwd: string;
  out(s: string): void;
  err(s: string): void;
  readStdin(): Promise<string>;
  /** Standard input as a stream (large inputs are not held in memory); `readStdin` when absent. */
  stdin?(): AsyncIterable<string | Buffer>;
  /** Rewrites a one-line status on a terminal ('' clears it); absent when stderr is not a TTY. */
  progress?(line: string): void;
}
