/** The plain data of Pod Security Admission in an audit (built by src/audit/psa.ts, read by the aggregate evaluator in workers). */
import type { Constraint } from '../backends/gatekeeper/types.js';
import type { PssLevelName } from '../config/types.js';
import type { KubernetesVersion } from '../pss/versions.js';
import { matchesPattern } from '../names.js';

export type PsaMode = 'enforce' | 'warn' | 'audit';
export const PSA_MODES: readonly PsaMode[] = ['enforce', 'warn', 'audit'];

/** A namespace's PSA settings: level and version per mode, and where they come from. */
export interface NamespacePsa {
  readonly modes: Readonly<Record<PsaMode, { level: PssLevelName; version: KubernetesVersion }>>;
  readonly from: string;
}

/** What the audit workers need (plain data): PSS constraints per level@version and the namespaces' settings. */
export interface PsaSpec {
  /** Constraints (one per PSS check) of each `level@version` key. */
  readonly sets: Readonly<Record<string, readonly Constraint[]>>;
  readonly namespaces: Readonly<Record<string, NamespacePsa>>;
  /** For namespaces not listed: the AdmissionConfiguration defaults. */
  readonly defaults: NamespacePsa;
  readonly exempt: readonly string[];
}

/** The settings PSA applies in a namespace, or undefined when the namespace is exempt. */
export function psaIn(spec: PsaSpec, namespace: string): NamespacePsa | undefined {
  if (spec.exempt.some((p) => matchesPattern(p, namespace))) return undefined;
  return spec.namespaces[namespace] ?? spec.defaults;
}

