/** The Namespace objects of the audited input, whose labels set their namespaces' Pod Security Admission. */
import type { AuditInput } from './input.js';
import { prescan } from './prescan.js';

/** A Namespace of the input: its string labels, and where it is defined (`source:line`). */
export interface InputNamespace {
  readonly labels: Record<string, string>;
  readonly source: string;
}

const NAMESPACE_DOC = /^[ \t-]*["']?kind["']?[ \t]*:[ \t]*["']?Namespace["']?[ \t]*,?[ \t]*$|"kind"\s*:\s*"Namespace"/m;

/**
 * The Namespace objects of the inputs (a first, cheap pass: only documents that mention `kind: Namespace`
 * are parsed). The last definition of a namespace wins, as when the input is applied in order.
 */
export async function scanNamespaces(inputs: readonly AuditInput[]): Promise<Map<string, InputNamespace>> {
  const found = new Map<string, InputNamespace>();
  await prescan(inputs, NAMESPACE_DOC, (r, source) => {
    const md = (r.object['metadata'] ?? {}) as { name?: unknown; labels?: unknown };
    if (r.object['kind'] !== 'Namespace' || typeof md.name !== 'string') return;
    const labels = md.labels && typeof md.labels === 'object' ? Object.fromEntries(Object.entries(md.labels).filter(([, v]) => typeof v === 'string')) : {};
    found.set(md.name, { labels: labels as Record<string, string>, source: `${source}:${r.line}` });
  });
  return found;
}
