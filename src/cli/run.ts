/** Process entry: wires the CLI to the real process. */
import { main } from './main.js';

// A reader that stops early (`kubeharden audit … | head`) closes the pipe: the rest of the output is dropped
// quietly and the command still ends with its own exit code (no EPIPE stack trace).
let stdoutOpen = true;
let stderrOpen = true;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutOpen = false;
});
process.stderr.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stderrOpen = false;
});

const code = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  out: (s) => void (stdoutOpen && process.stdout.write(`${s}\n`)),
  err: (s) => void (stderrOpen && process.stderr.write(`${s}\n`)),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stdin: () => process.stdin,
  ...(process.stderr.isTTY ? { progress: (line: string) => void (stderrOpen && process.stderr.write(line ? `\r\x1b[K${line.slice(0, (process.stderr.columns || 80) - 1)}` : '\r\x1b[K')) } : {}),
});
process.exitCode = code;
