/** The engine installer: overrides, the missing-Go message, and the listing (no network, no build). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../src/engines/index.js';
import { runCli, tempProject } from './helpers.js';

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
    expect(r.stderr).toContain('opa v1.22.3 is not installed and Go is not available to build it');
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
});
