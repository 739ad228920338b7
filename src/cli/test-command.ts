/** `kubeharden test`: the bundle's self-test (src/audit/self-test.ts), or its run on a real API server (src/audit/apiserver-test.ts), one line per failure and a summary. */
import type { CompileResult } from '../compile.js';
import { apiserverSelfTest } from '../audit/apiserver-test.js';
import { selfTest } from '../audit/self-test.js';
import type { Io } from './io.js';

/** `bundleProblem`: why the committed bundle is not what the config builds (a failure of its own), if it is not. */
export async function runTests(result: CompileResult, configDir: string, io: Io, engine: 'wasm' | 'apiserver' = 'wasm', bundleProblem?: string): Promise<number> {
  const run = engine === 'apiserver' ? apiserverSelfTest : selfTest;
  if (bundleProblem) io.out(`FAIL ${bundleProblem}`);
  const counts = await run(result, configDir, (l) => io.err(l), (line) => io.out(`FAIL ${line}`));
  const passed = counts.passed + (bundleProblem ? 0 : 1);
  const failed = counts.failed + (bundleProblem ? 1 : 0);
  io.out(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
