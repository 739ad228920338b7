/** Rendering helpers for the CLI: diagnostics with locations, code frames and hints; plain tables. */
import { formatPath, type Diagnostic } from '../diagnostics.js';

export function renderDiagnostic(d: Diagnostic, fallbackFile: string): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}` : fallbackFile;
  const lines = [`${where} ${d.severity === 'error' ? '' : `${d.severity} `}${d.code} ${d.message}${d.path.length ? ` (at ${formatPath(d.path)})` : ''}`];
  if (d.loc?.frame) lines.push(d.loc.frame);
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
