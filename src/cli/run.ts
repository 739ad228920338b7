/** Process entry: wires the CLI to the real process. */
import { main } from './main.js';

const code = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stdin: () => process.stdin,
  ...(process.stderr.isTTY ? { progress: (line: string) => void process.stderr.write(line ? `\r\x1b[K${line.slice(0, (process.stderr.columns || 80) - 1)}` : '\r\x1b[K') } : {}),
});
process.exitCode = code;
