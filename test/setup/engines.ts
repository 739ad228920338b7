// Installs (or finds) the pinned engines before any test runs. A missing engine is a failure, not a skip:
// this throws when it cannot be installed.
import { ensureEngine } from '../../src/engines/index.js';

export default async function setup(): Promise<void> {
  const opa = await ensureEngine('opa', (line) => process.stderr.write(`${line}\n`));
  process.env['KUBEHARDEN_TEST_OPA'] = opa;
}
