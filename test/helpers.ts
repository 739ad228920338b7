/** Shared test helpers: compile configs in memory, load the WASM evaluator, run the real CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/compile.js';
import type { UserConfig } from '../src/config/types.js';
import { loadEvaluator, type BundleEvaluator } from '../src/eval/bundle.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'kubeharden.js');

/**
 * "Today" for the repository's own tests and checks (vitest.config.ts and .ci/run set KUBEHARDEN_TODAY to it),
 * so that exceptions in policies.config.ts expiring later never fail a run unrelated to them. Users keep the
 * real clock: test/resolve.test.ts shows an expired exception failing a build without the pin.
 */
export const TODAY = '2026-11-26';

const evaluators = new Map<string, Promise<BundleEvaluator>>();

/** The WASM evaluator of a config's (single) cluster; cached per config. */
export function evaluatorFor(config: UserConfig): Promise<BundleEvaluator> {
  const key = JSON.stringify(config);
  let ev = evaluators.get(key);
  if (!ev) {
    const cc = compile(config, { today: TODAY }).clusters[0]!;
    ev = loadEvaluator(cc, () => {});
    evaluators.set(key, ev);
  }
  return ev;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in `cwd`; ANSI stripped. */
export function runCli(args: string[], cwd: string, input?: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', env: { ...process.env, KUBEHARDEN_TODAY: TODAY, ...env } });
  const strip = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
  return { status: r.status ?? -1, stdout: strip(r.stdout), stderr: strip(r.stderr) };
}

/** A temp directory with the given files. */
export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-test-'));
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}
