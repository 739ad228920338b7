/**
 * The coverage report (REPORT.md, report.json, report.html): one row per NSA/CISA recommendation, statuses
 * derived from the compiled files (never from the config alone), exceptions and the per-namespace picture.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import type { UserConfig } from '../src/config/types.js';
import { JSON_COMMENT, STATUSES, type CoverageReport } from '../src/backends/report/index.js';
import { gapText } from '../src/backends/report/model.js';
import { getControl } from '../src/controls/index.js';
import { statedGaps, unsupportedReason } from '../src/controls/types.js';
import { NSA_RECOMMENDATIONS } from '../src/nsa/catalogue.js';
import { generatedFiles, isGenerated } from '../src/emit/write.js';

const TODAY = '2026-11-26';

function build(config: UserConfig): { report: CoverageReport; out: Map<string, string>; compiled: ReturnType<typeof compile> } {
  const compiled = compile(config, { today: TODAY });
  const name = compiled.config.clusters[0]!.name;
  const out = new Map<string, string>();
  for (const [p, c] of compiled.output) if (p.startsWith(`${name}/`)) out.set(p.slice(name.length + 1), c);
  return { report: JSON.parse(out.get('report.json')!) as CoverageReport, out, compiled };
}
const rec = (r: CoverageReport, id: string) => r.recommendations.find((x) => x.id === id)!;
const control = (r: CoverageReport, recId: string, id: string) => rec(r, recId).controls.find((c) => c.id === id)!;

const config: UserConfig = {
  name: 'demo',
  profile: 'pss-restricted',
  namespaces: { apps: {}, legacy: { pss: 'baseline' }, batch: { controls: { 'require-seccomp-profile': 'warn' } } },
  exceptions: [{ control: 'disallow-host-namespaces', namespaces: ['apps'], images: ['registry.example.com/agent:*'], reason: 'Reads node logs | ticket OPS-1', expires: '2027-01-31' }],
};

describe('coverage report', () => {
  const { report, out } = build(config);

  it('has one entry per catalogue recommendation, and counts that add up', () => {
    expect(report.$comment).toBe(JSON_COMMENT);
    expect(report.recommendations.map((r) => r.id)).toEqual(NSA_RECOMMENDATIONS.map((r) => r.id));
    const total = STATUSES.reduce((n, s) => n + report.totals[s], 0);
    expect(total).toBe(NSA_RECOMMENDATIONS.length);
    for (const s of STATUSES) {
      expect(report.sections.reduce((n, sec) => n + sec.counts[s], 0), s).toBe(report.totals[s]);
      expect(report.totals[s]).toBe(report.recommendations.filter((r) => r.status === s).length);
    }
  });

  it('reads engines and modes from the bundle', () => {
    const c = control(report, 'NSA-POD-6', 'disallow-host-namespaces');
    expect(c).toEqual({ id: 'disallow-host-namespaces', state: 'enforced', engines: { kyverno: ['enforce'], gatekeeper: ['enforce'], psa: ['enforce', 'audit', 'warn'] }, gaps: [] });
    expect(control(report, 'NSA-POD-8', 'require-seccomp-profile').engines.kyverno).toEqual(['enforce', 'warn']);
    expect(rec(report, 'NSA-POD-6').status).toBe('enforced');
  });

  it('every planned control exists, and a control the profile leaves off is a gap of the cluster', () => {
    const none = { kyverno: [], gatekeeper: [], psa: [] };
    expect(report.recommendations.flatMap((r) => r.controls).filter((c) => c.state === 'not-implemented')).toEqual([]);
    // A control that exists but the profile leaves off is a gap of this cluster, not of kubeharden.
    const pod2 = rec(report, 'NSA-POD-2');
    expect(pod2.status).toBe('not-covered');
    expect(pod2.controls).toEqual([{ id: 'require-readonly-root-fs', state: 'off', engines: none, gaps: [] }]);
    expect(rec(report, 'NSA-POD-1').status).toBe('partial');
    expect(rec(report, 'NSA-UPG-1')).toMatchObject({ status: 'not-covered', gaps: ['outside kubeharden: Patching is an operational process.'] });
    // The control that states the admission gap is off here: the gap is the control itself.
    expect(rec(report, 'NSA-POD-9')).toMatchObject({ status: 'not-covered', gaps: ['off in this cluster: disallow-automount-sa-token, disallow-serviceaccount-token-automount'] });
  });

  it('states per control and engine what is only partly checked, and why (one list with the unsupported engines)', () => {
    const { report: r, out: files } = build({ name: 'demo', profile: 'nsa-cisa' });
    // Enforced in Kyverno fully, in Gatekeeper partly: namespaces/status and /finalize never reach its webhook.
    const labels = control(r, 'NSA-POD-4', 'enforce-psa-namespace-labels');
    expect(labels.state).toBe('enforced');
    expect(labels.engines.kyverno).toEqual(['enforce']);
    expect(labels.engines.gatekeeper).toEqual(['enforce']);
    expect(labels.gaps).toEqual([{ engine: 'gatekeeper', extent: 'partial', what: expect.stringContaining('namespaces/status'), why: expect.stringContaining('validatingWebhookCustomRules') }]);
    expect(rec(r, 'NSA-POD-4').status).toBe('partial');
    expect(rec(r, 'NSA-POD-4').gaps).toContain(
      `Gatekeeper checks enforce-psa-namespace-labels only partly, not ${labels.gaps[0]!.what}: ${labels.gaps[0]!.why}`,
    );
    // Markdown: the engine columns say how many controls an engine checks only partly; the control list marks them.
    const md = files.get('REPORT.md')!;
    const row = md.split('\n').find((l) => l.startsWith('| NSA-POD-4 |'))!;
    const cells = row.split(' | ');
    expect(cells.slice(4, 7)).toEqual([expect.not.stringContaining('partly'), expect.stringMatching(/^\d+\/\d+ \(enforce\+warn\), 2 partly$/), expect.anything()]);
    expect(md).toContain('enforce-psa-namespace-labels: Kyverno enforce, Gatekeeper enforce (partly)');
    // The version pin check has the same gap and warns by default in both engines.
    const version = control(r, 'NSA-POD-4', 'require-current-psa-version');
    expect(version.engines).toMatchObject({ kyverno: ['warn'], gatekeeper: ['warn'] });
    expect(version.gaps).toEqual(labels.gaps);
    expect(rec(r, 'NSA-POD-4').gaps.some((g) => g.startsWith('reported, not enforced: ') && g.includes('require-current-psa-version'))).toBe(true);
    expect(md).toContain('require-current-psa-version: Kyverno warn, Gatekeeper warn (partly)');
    // HTML: the same, per engine cell.
    const html = files.get('report.html')!;
    const tr = html.split('\n').find((l) => l.startsWith('<tr data-rec="NSA-POD-4"'))!;
    expect(tr).toContain('<td data-engine="gatekeeper" data-partly="2">');
    expect(tr).toContain('<td data-engine="kyverno" data-partly="0">');
    expect(tr).toContain('only partly, not label changes written through namespaces/status');
    // The bundle README's engine columns say the same: Kyverno yes, Gatekeeper partly.
    const readmeRow = files.get('README.md')!.split('\n').find((l) => l.startsWith('| `enforce-psa-namespace-labels` |'))!;
    expect(readmeRow).toMatch(/\| yes \| partly: not label changes written through namespaces\/status and namespaces\/finalize \|/);
    // What admission cannot see stays a gap, whatever the bundle enforces: stated by the control, for every engine.
    const tokens = rec(r, 'NSA-POD-9');
    expect(tokens.status).toBe('partial');
    expect(tokens.gaps.filter((g) => g.startsWith('admission cannot check (disallow-automount-sa-token): '))).toEqual([expect.stringContaining('kubernetes.io/service-account-token')]);
    expect(control(r, 'NSA-POD-9', 'disallow-automount-sa-token').gaps).toEqual([
      { engine: 'admission', extent: 'partial', what: expect.stringContaining('kubernetes.io/service-account-token'), why: expect.stringContaining('kubeharden audit') },
    ]);
    expect(tokens.controls.filter((c) => c.engines.kyverno.length).length).toBeGreaterThan(0);
    expect(md.split('\n').find((l) => l.startsWith('| NSA-POD-9 |'))).toContain(', 1 partly');
    // A control's engines.gatekeeper `unsupported` reason is the unsupported entry of the same list.
    expect(statedGaps(getControl('verify-image-signatures'))).toEqual([{ engine: 'gatekeeper', extent: 'unsupported', what: 'the whole control', why: unsupportedReason(getControl('verify-image-signatures'), 'gatekeeper') }]);
    expect(gapText('verify-image-signatures', statedGaps(getControl('verify-image-signatures'))[0]!)).toBe(`Gatekeeper cannot express verify-image-signatures: ${unsupportedReason(getControl('verify-image-signatures'), 'gatekeeper')}`);
    // A control that is off states no gap.
    const { report: off } = build({ name: 'demo', profile: 'nsa-cisa', controls: { 'enforce-psa-namespace-labels': false, 'require-current-psa-version': false } });
    expect(control(off, 'NSA-POD-4', 'enforce-psa-namespace-labels')).toMatchObject({ state: 'off', gaps: [] });
    expect(rec(off, 'NSA-POD-4').gaps.join('\n')).not.toContain('only partly');
  });

  it('reports control-plane files and checklist items as such', () => {
    expect(rec(report, 'NSA-LOG-1')).toMatchObject({ status: 'artifact', gaps: [] });
    expect(rec(report, 'NSA-LOG-1').artifacts.map((a) => a.file)).toEqual(['control-plane/audit-policy.yaml', 'control-plane/FLAGS.md']);
    expect(rec(report, 'NSA-AUTH-3').status).toBe('checklist');
    expect(rec(report, 'NSA-NET-6').status).toBe('artifact');
  });

  it('lists exceptions and the per-namespace picture', () => {
    expect(report.exceptions).toEqual([{ controls: ['disallow-host-namespaces'], namespaces: ['apps'], images: ['registry.example.com/agent:*'], reason: 'Reads node logs | ticket OPS-1', expires: '2027-01-31' }]);
    const ns = Object.fromEntries(report.namespaces.map((n) => [n.namespace, n]));
    expect(Object.keys(ns)).toEqual(['apps', 'batch', 'gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system', 'kyverno', 'legacy']);
    expect(ns['apps']).toMatchObject({ configured: 'restricted', exceptions: [0], differences: [{ control: 'disallow-host-namespaces', change: 'images excepted: registry.example.com/agent:*' }] });
    // An image exception keeps PSA from enforcing there; audit and warn still report.
    expect(ns['apps']!.psa).toMatchObject({ enforce: 'privileged', audit: 'restricted', warn: 'restricted' });
    // Only warning about the restricted seccomp check keeps the baseline one (no Unconfined) enforced there.
    expect(ns['batch']!.differences).toEqual([
      { control: 'restrict-seccomp', change: 'on (enforce)' },
      { control: 'require-seccomp-profile', change: 'warn instead of enforce' },
    ]);
    expect(ns['batch']!.psa).toMatchObject({ enforce: 'baseline', audit: 'restricted', warn: 'restricted' });
    expect(ns['legacy']!.psa).toMatchObject({ enforce: 'baseline' });
    expect(ns['kube-system']).toMatchObject({ configured: 'exempt', differences: [], exceptions: [] });
    // Unlabeled namespaces: PSA only audits and warns by default (psa.defaultEnforce).
    expect(report.psaDefaults).toEqual({ enforce: 'privileged', audit: 'restricted', warn: 'restricted', version: 'v1.37' });
    const md = out.get('REPORT.md')!;
    expect(md).toContain('Reads node logs \\| ticket OPS-1');
    expect(md).toContain('2027-01-31');
  });

  it('never claims enforcement in audit mode', () => {
    const { report: r } = build({ name: 'demo', defaultMode: 'audit' });
    expect(r.totals.enforced).toBe(0);
    expect(rec(r, 'NSA-POD-6').status).toBe('audit');
    const c = control(r, 'NSA-POD-6', 'disallow-host-namespaces');
    expect(c.state).toBe('reported');
    expect(c.engines).toEqual({ kyverno: ['audit'], gatekeeper: ['audit'], psa: ['audit', 'warn'] });
  });

  it('shows a control switched off as a gap', () => {
    const { report: r } = build({ name: 'demo', profile: 'pss-baseline', controls: { 'disallow-host-path': false } });
    const c = control(r, 'NSA-POD-6', 'disallow-host-path');
    // Only PSA's audit/warn labels (baseline) still look at it.
    expect(c).toMatchObject({ state: 'reported', engines: { kyverno: [], gatekeeper: [], psa: ['audit', 'warn'] } });
    expect(rec(r, 'NSA-POD-6').status).toBe('partial');
    expect(rec(r, 'NSA-POD-6').gaps).toContain('reported, not enforced: disallow-host-path');
    // Restricted controls are off in a baseline profile.
    expect(control(r, 'NSA-POD-7', 'disallow-privilege-escalation').state).toBe('off');
  });

  it('writes a self-contained HTML page with one row per recommendation', () => {
    const html = out.get('report.html')!;
    expect(html).toMatch(/^<!-- Generated by kubeharden[^\n]*-->\n<!DOCTYPE html>\n/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|https?:|url\(|@import/i);
    expect(html.match(/<tr data-rec="/g)).toHaveLength(NSA_RECOMMENDATIONS.length);
    for (const r of report.recommendations) expect(html).toContain(`<tr data-rec="${r.id}" data-status="${r.status}">`);
    expect(html).toContain('Reads node logs | ticket OPS-1');
  });

  it('marks report files as generated, so stale ones are pruned', () => {
    expect(isGenerated(out.get('report.json')!)).toBe(true);
    expect(isGenerated(out.get('report.html')!)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'kh-report-'));
    mkdirSync(join(dir, 'demo'));
    for (const f of ['report.json', 'report.html', 'REPORT.md']) writeFileSync(join(dir, 'demo', f), out.get(f)!);
    writeFileSync(join(dir, 'demo', 'mine.json'), '{"a": 1}\n');
    writeFileSync(join(dir, 'demo', 'mine.html'), '<!DOCTYPE html>\n');
    expect(generatedFiles(dir)).toEqual(['demo/REPORT.md', 'demo/report.html', 'demo/report.json']);
  });
});
