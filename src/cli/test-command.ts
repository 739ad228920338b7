/** `kubeharden test`: the bundle's self-test (src/audit/self-test.ts), or its run on a real API server (src/audit/apiserver-test.ts), one line per failure and a summary. */
import type { CompileResult } from '../compile.js';
import { apiserverSelfTest } from '../audit/apiserver-test.js';
import { selfTest } from '../audit/self-test.js';
import type { Io } from './io.js';

export async function runTests(result: CompileResult, configDir: string, io: Io, engine: 'wasm' | 'apiserver' = 'wasm'): Promise<number> {
  const run = engine === 'apiserver' ? apiserverSelfTest : selfTest;
  const { passed, failed } = await run(result, configDir, (l) => io.err(l), (line) => io.out(`FAIL ${line}`));
  io.out(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
