/**
 * Pod Security Admission's own test fixtures (k8s.io/pod-security-admission v0.37.2, test/testdata/<level>/
 * v1.<minor>/{pass,fail}/*.yaml, read from the Go module cache as `go mod download` places them) through
 * `kubeharden audit --engine vap`: a bundle of the pss-baseline or pss-restricted profile, with its vap/
 * target, denies exactly the fixtures PSA's checker denies at that level and version, and the fixtures'
 * folder says (but for one fixture written for API-server defaulting, below), at every version where
 * ValidatingAdmissionPolicy is GA. One audit per level and version.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { psaEvaluate, type PsaLevel } from '../src/engines/psa.js';
import { goModDownload } from '../src/engines/go-helper.js';
import { parse } from 'yaml';
import { runCli, tempProject } from './helpers.js';

const MODULE = 'k8s.io/pod-security-admission';
const VERSION = 'v0.37.2';
const VERSIONS = ['1.30', '1.34', '1.37'] as const;
const LEVELS: readonly PsaLevel[] = ['baseline', 'restricted'];

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Fixtures written for an API server's defaulting, which the PSA checker (the library on the Pod as given) does
 * not apply: `restrictedvolumes0` has a volume without a source ("implicit empty dir" in the fixture's
 * generator), which the API server defaults to `emptyDir` before admission. The checker then fails it; the
 * fixture, and the VAP bundle, pass it. The test fails when the set changes either way.
 */
const BEFORE_DEFAULTING: Readonly<Record<PsaLevel, readonly string[]>> = { baseline: [], restricted: ['restrictedvolumes0.yaml'] };

interface Fixture {
  readonly file: string;
  readonly expect: 'pass' | 'fail';
  readonly pod: Record<string, unknown>;
}

describe("Pod Security Admission's fixtures: audit --engine vap = PSA", () => {
  let testdata: string;
  beforeAll(() => {
    testdata = join(goModDownload(MODULE, VERSION).dir, 'test', 'testdata');
  }, 300_000);

  it.each(LEVELS.flatMap((level) => VERSIONS.map((v) => [level, v] as const)))('%s at Kubernetes %s', async (level, v) => {
    const fixtures: Fixture[] = (['pass', 'fail'] as const).flatMap((expect) => {
      const dir = join(testdata, level, `v${v}`, expect);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => ({ file: join(dir, f), expect, pod: parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown> }));
    });
    expect(fixtures.filter((f) => f.expect === 'fail').length).toBeGreaterThan(20);
    expect(fixtures.filter((f) => f.expect === 'pass').length).toBeGreaterThan(5);
    const psa = await psaEvaluate(fixtures.map((f, i) => ({ id: String(i), level, version: `v${v}`, pod: f.pod })), { log });
    const dir = tempProject({
      'policies.config.ts': `import { defineConfig } from 'kubeharden';\n\nexport default defineConfig({ name: 'psa', profile: 'pss-${level}', kubernetesVersion: '${v}', vap: { enabled: true } });\n`,
    });
    const r = runCli(['audit', '--engine', 'vap', '--format', 'json', ...fixtures.map((f) => f.file)], dir);
    const out = JSON.parse(r.stdout) as { errors: unknown[]; resources: { source: string; verdict: string; violations: { engine: string }[] }[] };
    expect(out.errors, r.stderr).toEqual([]);
    expect(r.status).toBe(1);
    const verdicts = new Map(out.resources.map((x) => [x.source, x.verdict]));
    expect(verdicts.size).toBe(fixtures.length);
    const disagreements: string[] = [];
    const undefaulted: string[] = [];
    fixtures.forEach((f, i) => {
      const psaVerdict = psa.get(String(i))!.allowed ? 'pass' : 'fail';
      const vap = verdicts.get(f.file) === 'deny' ? 'fail' : 'pass';
      const name = f.file.split('/').at(-1)!;
      if (psaVerdict !== f.expect) undefaulted.push(name);
      if (vap !== f.expect || (psaVerdict !== f.expect && !BEFORE_DEFAULTING[level].includes(name))) disagreements.push(`${f.file}: fixture ${f.expect}, PSA ${psaVerdict}, vap ${vap}`);
    });
    expect(disagreements).toEqual([]);
    expect(undefaulted).toEqual(BEFORE_DEFAULTING[level]);
    expect(out.resources.every((x) => x.violations.every((y) => y.engine === 'vap'))).toBe(true);
  }, 300_000);
});
