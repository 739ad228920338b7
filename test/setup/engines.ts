// Installs (or finds) the pinned engines before any test runs. A missing engine is a failure, not a skip:
// this throws when it cannot be installed.
import { ensureEngine } from '../../src/engines/index.js';

export default async function setup(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  for (const engine of ['opa', 'gator', 'kyverno'] as const) await ensureEngine(engine, log);
}
