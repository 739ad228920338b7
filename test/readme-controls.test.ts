/**
 * The README's control tables (the controls beyond PSS, with their NSA/CISA ids) and its profiles table
 * against the control registry: a control added, renamed, re-numbered or made opt-in without its README row
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS, getControl } from '../src/controls/index.js';
import { PROFILES } from '../src/config/resolve.js';

const README = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');
const CONTROL_TABLE_HEADER = '| control | NSA/CISA | checks | options (default) |';

/** The rows of every table under CONTROL_TABLE_HEADER: control id, NSA/CISA column, checks column. */
function controlRows(text: string): { id: string; nsa: string; checks: string }[] {
  const lines = text.split('\n');
  const rows: { id: string; nsa: string; checks: string }[] = [];
  lines.forEach((line, i) => {
    if (line !== CONTROL_TABLE_HEADER) return;
    for (let j = i + 2; j < lines.length && lines[j]!.startsWith('|'); j++) {
      const cells = lines[j]!.split(' | ');
      const id = /^\| `([a-z0-9-]+)`$/.exec(cells[0]!)?.[1];
      if (!id) throw new Error(`README line ${j + 1}: no control id in ${cells[0]}`);
      rows.push({ id, nsa: cells[1]!, checks: cells[2]! });
    }
  });
  return rows;
}

describe("README's control tables", () => {
  const rows = controlRows(README);

  it('list every control beyond PSS once, in registry order, and no PSS check', () => {
    const beyondPss = CONTROL_IDS.filter((id) => getControl(id).pss === undefined);
    expect(rows.map((r) => r.id)).toEqual(beyondPss);
  });

  it("give each control's NSA/CISA ids as its metadata declares them", () => {
    for (const r of rows) expect({ id: r.id, nsa: r.nsa }).toEqual({ id: r.id, nsa: getControl(r.id as never).nsa.map((n) => n.replace(/^NSA-/, '')).join(', ') });
  });

  it('mark exactly the opt-in controls as in no profile, and the nsa-cisa row names them as the exceptions', () => {
    const marked = rows.filter((r) => r.checks.includes('**in no profile**')).map((r) => r.id);
    const optIn = CONTROL_IDS.filter((id) => getControl(id).optIn !== undefined);
    expect(marked).toEqual(optIn);
    const profileRow = README.split('\n').find((l) => l.startsWith('| `nsa-cisa` |'))!;
    expect(profileRow).toBe(`| \`nsa-cisa\` | \`pss-restricted\` plus every control in the two tables above except ${optIn.map((id) => `\`${id}\``).join(', ')} |`);
    for (const id of optIn) expect(PROFILES['nsa-cisa'].controls).not.toContain(id);
  });
});
