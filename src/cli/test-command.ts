/** `kubeharden test`: the bundle's self-test (src/audit/self-test.ts), one line per failure and a summary. */
import type { CompileResult } from '../compile.js';
import { selfTest } from '../audit/self-test.js';
import type { Io } from './io.js';

export async function runTests(result: CompileResult, configDir: string, io: Io): Promise<number> {
  const { passed, failed } = await selfTest(result, configDir, (l) => io.err(l), (line) => io.out(`FAIL ${line}`));
  io.out(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
