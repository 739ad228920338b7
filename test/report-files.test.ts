/**
 * The coverage report is computed from the IR; the files of the bundle are what a cluster gets. For the
 * reference config and every golden scenario, each status the report states (per control and engine, PSA
 * defaults and labels, control-plane files) must be what the emitted files contain (test/support/report-files.ts
 * reads them back), and the check must notice a policy or file a backend dropped.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type CompiledCluster } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { readFixtures } from '../src/config/fixtures.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { CoverageReport } from '../src/backends/report/index.js';
import type { UserConfig } from '../src/config/types.js';
import { reportVersusFiles } from './support/report-files.js';
import { ROOT, TODAY } from './helpers.js';

const GOLDEN = join(ROOT, 'test', 'golden');
const scenarios = readdirSync(GOLDEN).filter((d) => statSync(join(GOLDEN, d)).isDirectory()).sort();

function reportOf(c: CompiledCluster): CoverageReport {
  const f = c.files.find((x) => x.path === 'report.json')!;
  return JSON.parse((f as { text: string }).text) as CoverageReport;
}

async function clustersOf(dir: string, withFixtures: boolean): Promise<readonly CompiledCluster[]> {
  const raw = await loadConfig(join(dir, 'policies.config.ts'));
  const fixtures = withFixtures ? readFixtures(dir, resolveConfig(raw, { today: TODAY }).config!).inputs : undefined;
  return compile(raw, { today: TODAY, ...(fixtures ? { fixtures } : {}) }).clusters;
}

describe('the report states what the files contain', () => {
  it('for the reference config', async () => {
    const clusters = await clustersOf(ROOT, true);
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of clusters) expect(reportVersusFiles(reportOf(c), c.files), c.cluster.name).toEqual([]);
  });

  for (const s of scenarios) {
    it(`for golden scenario ${s}`, async () => {
      const clusters = await clustersOf(join(GOLDEN, s), false);
      expect(clusters.length).toBeGreaterThan(0);
      for (const c of clusters) expect(reportVersusFiles(reportOf(c), c.files), `${s}/${c.cluster.name}`).toEqual([]);
    });
  }

  // Shapes the scenarios above do not all have: default-deny whose API-server egress reaches the metadata
  // address, the metadata policy with no namespace to get it, a namespace-only default-deny, a non-exempt
  // kube-* namespace (no PSA labels), observe rollout, warn next to audit and enforce, every profile.
  const edges: Record<string, UserConfig> = {
    'api egress over the metadata range': {
      name: 'edge-a',
      profile: 'nsa-cisa',
      controls: { 'allowed-registries': false, 'verify-image-signatures': false },
      network: { defaultDeny: true, apiServerEgress: { cidrs: ['169.254.0.0/16'] } },
      namespaces: { apps: {}, 'kube-tools': { pss: 'baseline' }, batch: { controls: { 'require-seccomp-profile': 'warn', 'require-run-as-non-root': 'audit' } } },
    },
    'metadata policy without namespaces': {
      name: 'edge-b',
      profile: 'pss-baseline',
      network: { blockCloudMetadata: true },
      namespaces: { ops: { network: { defaultDeny: true } } },
    },
    'observe rollout': {
      name: 'edge-c',
      profile: 'pss-restricted',
      rollout: 'observe',
      network: { defaultDeny: true },
      resources: { quota: true },
      namespaceObjects: { optInLabel: 'team.example.com/isolate=yes' },
      namespaces: { apps: { controls: { 'disallow-host-path': 'audit' } }, legacy: { pss: 'baseline' } },
    },
  };
  for (const [what, config] of Object.entries(edges)) {
    it(`for a config with ${what}`, () => {
      const clusters = compile(config, { today: TODAY }).clusters;
      for (const c of clusters) expect(reportVersusFiles(reportOf(c), c.files), c.cluster.name).toEqual([]);
    });
  }

  it('notices a policy, a label or a file the bundle lacks', async () => {
    const [c] = await clustersOf(ROOT, true);
    const report = reportOf(c!);
    const without = (drop: (path: string) => boolean): string[] => reportVersusFiles(report, c!.files.filter((f) => !drop(f.path)));
    // One Kyverno policy dropped: the report claims what the files do not contain.
    const kyverno = without((p) => p === 'kyverno/disallow-host-path.yaml');
    expect(kyverno.length).toBeGreaterThan(0);
    expect(kyverno.every((l) => l.includes('disallow-host-path: report says kyverno'))).toBe(true);
    // All Gatekeeper constraints dropped.
    expect(without((p) => p.startsWith('gatekeeper/constraints/')).some((l) => / \S+: report says gatekeeper \["enforce/.test(l))).toBe(true);
    // The PSA labels, and a control-plane file.
    expect(without((p) => p.startsWith('psa/')).some((l) => l.startsWith('PSA labels of '))).toBe(true);
    expect(without((p) => p === 'control-plane/admission-configuration.yaml')).toContain('PSA defaults: report says ' + JSON.stringify(report.psaDefaults) + ', files say undefined');
    expect(without((p) => p === 'control-plane/audit-policy.yaml')).toContain('NSA-LOG-1 control-plane/audit-policy.yaml: report says present=true, files say false');
  });
});
