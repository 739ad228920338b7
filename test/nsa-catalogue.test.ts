/** The NSA/CISA catalogue: complete, unique ids, consistent with the control registry and the control-plane files. */
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS, getControl } from '../src/controls/index.js';
import { ARTIFACT_FILES, NSA_RECOMMENDATIONS, NSA_SECTIONS, controlsFor, getRecommendation } from '../src/nsa/catalogue.js';
import { FLAG_ITEMS } from '../src/backends/control-plane/flags.js';
import { controlPlaneBackend } from '../src/backends/control-plane/index.js';
import { lowerCluster } from '../src/ir/lower.js';
import { resolveConfig } from '../src/config/resolve.js';

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `NSA-${prefix}-${i + 1}`);

describe('NSA/CISA catalogue', () => {
  it('lists every recommendation once, in guide order', () => {
    const expected = [...range('POD', 10), ...range('NET', 11), ...range('AUTH', 5), ...range('LOG', 6), ...range('UPG', 3)];
    expect(NSA_RECOMMENDATIONS.map((r) => r.id)).toEqual(expected);
  });

  it('gives each recommendation a section, title, summary and enforce class', () => {
    const prefix = { pod: 'POD', network: 'NET', auth: 'AUTH', logging: 'LOG', upgrade: 'UPG' } as const;
    for (const r of NSA_RECOMMENDATIONS) {
      expect(NSA_SECTIONS.map((s) => s.id)).toContain(r.section);
      expect(r.id.startsWith(`NSA-${prefix[r.section]}-`), r.id).toBe(true);
      expect(r.title.length, r.id).toBeGreaterThan(5);
      expect(r.summary.length, r.id).toBeGreaterThan(40);
      expect(r.enforce.length, r.id).toBeGreaterThan(0);
      // Something to show: a control, an artifact, or why it stays outside kubeharden.
      expect(r.controls.length + r.artifacts.length + (r.outside ? 1 : 0), r.id).toBeGreaterThan(0);
    }
  });

  it('knows every NSA id the controls reference, and lists those controls under it', () => {
    for (const id of CONTROL_IDS) {
      for (const nsa of getControl(id).nsa) {
        const rec = getRecommendation(nsa);
        expect(rec, `${id} references ${nsa}`).toBeDefined();
        expect(controlsFor(rec!)).toContain(id);
      }
    }
    // NSA-POD-4 (a pod security baseline) counts every PSS control.
    const pod4 = controlsFor(getRecommendation('NSA-POD-4')!);
    for (const id of CONTROL_IDS.filter((c) => getControl(c).pss)) expect(pod4).toContain(id);
  });

  it('names only files the control-plane backend writes, and only checklist items that exist', () => {
    const cluster = resolveConfig({}, { today: '2026-11-26' }).config!.clusters[0]!;
    const written = new Set(controlPlaneBackend(lowerCluster(cluster)).map((f) => f.path));
    for (const f of Object.values(ARTIFACT_FILES)) expect(written).toContain(f);
    for (const r of NSA_RECOMMENDATIONS) {
      if (r.artifacts.includes('flags')) expect(FLAG_ITEMS.some((i) => i.nsa.includes(r.id)), r.id).toBe(true);
    }
    for (const item of FLAG_ITEMS) {
      for (const id of item.nsa) expect(getRecommendation(id)?.artifacts, `${item.setting} → ${id}`).toContain('flags');
    }
  });
});
