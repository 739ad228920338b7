/** Rendering helpers for the CLI: diagnostics with locations, code frames and hints. */
import { formatPath, type Diagnostic } from '../diagnostics.js';

export function renderDiagnostic(d: Diagnostic, fallbackFile: string): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}` : fallbackFile;
  const lines = [`${where} ${d.severity === 'error' ? '' : `${d.severity} `}${d.code} ${d.message}${d.path.length ? ` (at ${formatPath(d.path)})` : ''}`];
  if (d.loc?.frame) lines.push(d.loc.frame);
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
}
