/** Stable derived names (DNS-1123, ≤ 63 characters). */
import { createHash } from 'node:crypto';

/** Joins parts with "-"; if too long, truncates and appends a hash of `salt` (or of the full name). */
export function dnsName(parts: readonly string[], salt?: string): string {
  const full = parts.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (full.length <= 63) return full;
  const hash = createHash('sha256').update(salt ?? full).digest('hex').slice(0, 8);
  return `${full.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** The Gatekeeper constraint kind of a control: `disallow-privileged-containers` → `KhDisallowPrivilegedContainers`. */
export function gatekeeperKind(controlId: string): string {
  return `Kh${controlId.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
}

/** The Rego package of a control's template (the lower-cased kind, as Gatekeeper convention has it). */
export function regoPackage(controlId: string): string {
  return gatekeeperKind(controlId).toLowerCase();
}

/** The pattern convention of exceptions and Gatekeeper matches: an exact value, or a prefix ending in `*`. */
export function matchesPattern(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}

/** Names of the Gatekeeper ExpansionTemplates (Gatekeeper prefixes messages about expanded Pods with them). */
export const EXPAND_WORKLOADS = 'kubeharden-expand-workloads';
export const EXPAND_CRONJOBS = 'kubeharden-expand-cronjobs';
