/**
 * The engine installer: overrides and their version check, the missing-Go message, the listing, and two
 * processes installing the same engine at once (a real `go install` of opa into a temporary cache; Go's
 * module and build caches make it a link step).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES, ensureEngine } from '../src/engines/index.js';
import { BIN, runCli, tempProject, type CliResult } from './helpers.js';

/** The real CLI, asynchronously (so that two can run at once). */
function runCliAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

const count = (text: string, re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length;

describe('kubeharden engines', () => {
  it('lists the pinned engines and where they are', () => {
    const r = runCli(['engines'], tempProject({}));
    expect(r.status).toBe(0);
    for (const e of Object.values(ENGINES)) expect(r.stdout).toContain(`${e.name} ${e.version}: /`);
  });

  it('without Go, says so and names the fixes instead of failing obscurely', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { PATH: '/nonexistent', KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('opa v1.22.3 is not installed and Go is not available to build it (no `go` on PATH)');
    expect(r.stderr).toContain('Install Go 1.26 or newer');
    expect(r.stderr).toContain('set KUBEHARDEN_OPA to an existing opa binary');
  });

  it('an override that is not an executable is an error naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-bin-'));
    writeFileSync(join(dir, 'opa'), 'not a program');
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_OPA: join(dir, 'opa') });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`KUBEHARDEN_OPA=${join(dir, 'opa')} is not an executable file`);
  });

  it('when Go is there but fails, shows why', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '', GOTOOLCHAIN: 'no-such-toolchain' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('opa v1.22.3 is not installed and Go is not available to build it (`go version` exited 1: go: invalid GOTOOLCHAIN "no-such-toolchain")');
  });

  describe('an override must report the pinned version (another program or release is refused)', () => {
    it('the pinned binary is accepted', async () => {
      const opa = await ensureEngine('opa', () => {});
      const r = runCli(['engines', 'install', 'opa'], tempProject({}), undefined, { KUBEHARDEN_OPA: opa });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`opa v1.22.3: ${opa}`);
    });

    it('another engine, another version, or a program without a version is an error naming the variable', async () => {
      const opa = await ensureEngine('opa', () => {});
      const cases: [string, string, string][] = [
        ['gator', opa, `\`${opa} version\` prints no gator version`],
        ['kyverno', opa, `\`${opa} version\` reports version 1.22.3; kubeharden needs kyverno v1.19.0: point KUBEHARDEN_KYVERNO to kyverno v1.19.0 or unset it`],
        ['opa', '/bin/true', '`/bin/true version` prints no opa version (output: "")'],
        ['opa', '/bin/false', '`/bin/false version` failed (exit 1); kubeharden needs opa v1.22.3: point KUBEHARDEN_OPA to opa v1.22.3'],
      ];
      for (const [engine, path, message] of cases) {
        const r = runCli(['engines', 'install', engine], tempProject({}), undefined, { [ENGINES[engine as 'opa'].envVar]: path });
        expect(r.status, `${engine} ${path}`).toBe(1);
        expect(r.stderr, `${engine} ${path}`).toContain(message);
        expect(r.stdout).toBe('');
      }
    });
  });

  it('two processes installing the same engine at once: one builds, the other waits and reuses it; a dead process’s lock is taken over', async () => {
    await ensureEngine('opa', () => {}); // warms Go's module and build caches
    const cache = mkdtempSync(join(tmpdir(), 'kubeharden-cache-'));
    const dir = join(cache, 'engines', 'opa', 'v1.22.3');
    mkdirSync(dir, { recursive: true });
    // The lock of an install that was killed: its process no longer runs.
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(join(dir, '.install.lock'), `${JSON.stringify({ pid: dead, host: hostname(), started: Date.now() })}\n`);
    const env = { KUBEHARDEN_CACHE_DIR: cache, KUBEHARDEN_OPA: '' };
    const cwd = tempProject({});
    const [a, b] = await Promise.all([runCliAsync(['engines', 'install', 'opa'], cwd, env), runCliAsync(['engines', 'install', 'opa'], cwd, env)]);
    const both = `${a.stderr}\n${b.stderr}`;
    expect([a.status, b.status], both).toEqual([0, 0]);
    expect(a.stdout).toBe(`opa v1.22.3: ${join(dir, 'opa')}\n`);
    expect(b.stdout).toBe(a.stdout);
    expect(count(both, new RegExp(`^kubeharden: taking over the install lock of opa v1\\.22\\.3 \\(process ${dead} no longer runs\\)$`)), both).toBe(1);
    expect(count(both, /^kubeharden: installing opa v1\.22\.3 into /), both).toBe(1);
    expect(count(both, /^kubeharden: another kubeharden process \(pid \d+\) is installing opa v1\.22\.3; waiting for it/), both).toBe(1);
    expect(count(both, /^kubeharden: opa v1\.22\.3 was installed by another process; using it$/), both).toBe(1);
    expect(both).not.toContain('Go is not available');
    expect(existsSync(join(dir, '.install.lock'))).toBe(false);
    expect(spawnSync(join(dir, 'opa'), ['version'], { encoding: 'utf8' }).stdout).toMatch(/^Version: 1\.22\.3$/m);
  }, 600_000);
});
