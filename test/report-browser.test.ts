/**
 * report.html in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the page
 * renders, the matrix has exactly one row per catalogue recommendation, each status cell has its status's
 * colour, and the summary counts match report.json. Writes a screenshot to test-output/report.png.
 * Chromium is required: a missing browser fails this test (CI installs it in .ci/run).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { STATUS_COLORS, STATUSES, type CoverageReport } from '../src/backends/report/index.js';
import { NSA_RECOMMENDATIONS } from '../src/nsa/catalogue.js';
import { ROOT } from './helpers.js';

const CHROMIUM = process.env['KUBEHARDEN_CHROMIUM'] ?? '/usr/bin/chromium';
const BUNDLE = join(ROOT, 'generated', 'reference');
const OUTPUT = join(ROOT, 'test-output');

function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describe('report.html in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const report = JSON.parse(readFileSync(join(BUNDLE, 'report.json'), 'utf8')) as CoverageReport;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(readFileSync(join(BUNDLE, 'report.html'), 'utf8'), { waitUntil: 'load' });
    // Self-contained: nothing fetched besides the page itself.
    expect(requests.filter((u) => !u.startsWith('data:') && u !== 'about:blank')).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders the title and the matrix', async () => {
    expect(await page.title()).toBe('NSA/CISA coverage: reference');
    expect(await page.locator('h1').textContent()).toContain('reference');
    expect(await page.locator('#matrix').isVisible()).toBe(true);
  });

  it('has exactly one row per recommendation, in catalogue order, with the status of report.json', async () => {
    const rows = await page.locator('#matrix tbody tr[data-rec]').evaluateAll((trs) =>
      trs.map((tr) => ({ id: tr.getAttribute('data-rec'), status: tr.getAttribute('data-status'), cell: tr.querySelector('td.status')?.textContent })),
    );
    expect(rows.map((r) => r.id)).toEqual(NSA_RECOMMENDATIONS.map((r) => r.id));
    expect(rows.map((r) => r.status)).toEqual(report.recommendations.map((r) => r.status));
    for (const r of rows) expect(r.cell).toBe(r.status);
  });

  it('colours each status cell with its status colour', async () => {
    // Runs in the page (the test's tsconfig has no DOM lib, hence the cast).
    const cells = await page.locator('#matrix td.status').evaluateAll((tds) => {
      const css = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; color: string } }).getComputedStyle;
      return tds.map((td) => ({ status: td.textContent, bg: css(td).backgroundColor, fg: css(td).color }));
    });
    expect(cells).toHaveLength(NSA_RECOMMENDATIONS.length);
    for (const c of cells) {
      const want = STATUS_COLORS[c.status as (typeof STATUSES)[number]];
      expect(want, c.status ?? '').toBeDefined();
      expect(c.bg).toBe(rgb(want.bg));
      expect(c.fg).toBe(rgb(want.fg));
    }
    // Distinct colours, so statuses can be told apart at a glance.
    expect(new Set(STATUSES.map((s) => STATUS_COLORS[s].bg)).size).toBe(STATUSES.length);
  });

  it('shows per-section counts that match report.json and the rows', async () => {
    const summary = await page.locator('#summary tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        section: tr.getAttribute('data-section'),
        counts: Object.fromEntries([...tr.querySelectorAll('td[data-status]')].map((td) => [td.getAttribute('data-status'), Number(td.textContent)])),
      })),
    );
    expect(summary.map((s) => s.section)).toEqual([...report.sections.map((s) => s.id), 'all']);
    for (const s of report.sections) expect(summary.find((x) => x.section === s.id)!.counts).toEqual(s.counts);
    expect(summary.find((x) => x.section === 'all')!.counts).toEqual(report.totals);
    // And the totals agree with what the matrix shows.
    const shown = await page.locator('#matrix tr[data-rec]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
    for (const s of STATUSES) expect(shown.filter((x) => x === s).length, s).toBe(report.totals[s]);
  });

  it('lists exceptions and namespaces', async () => {
    expect(await page.locator('#exceptions tbody tr').count()).toBe(report.exceptions.length);
    expect(await page.locator('#namespaces tbody tr').count()).toBe(report.namespaces.length);
  });

  it('writes a screenshot', async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const file = join(OUTPUT, 'report.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });
});
