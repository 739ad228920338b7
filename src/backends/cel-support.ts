/**
 * Which controls the CEL targets can express, from the control definitions alone (no backend objects): the
 * Gatekeeper CEL block and native ValidatingAdmissionPolicies both run the control's Kyverno CEL check. Shared
 * by those backends, the bundle README and the coverage report.
 */
import { getControl, type ControlId } from '../controls/index.js';
import type { CelCheck } from '../lang/cel/types.js';

/** The CEL check of a control, when it has one (every control Gatekeeper's CEL can run: see `celBlockWhy`). */
export function gatekeeperCelCheck(id: ControlId): CelCheck | undefined {
  const k = getControl(id).engines.kyverno;
  return k.kind === 'cel' ? k.check : undefined;
}

/** Why a control's template keeps Rego only when CEL is on, or undefined when it gets a CEL block. */
export function celBlockWhy(id: ControlId): string | undefined {
  const c = getControl(id);
  if (c.engines.gatekeeper.kind === 'unsupported') return c.engines.gatekeeper.why;
  if (!gatekeeperCelCheck(id)) return 'its check is no CEL expression (Kyverno verifies image signatures with its own verifyImages rules)';
  return undefined;
}

/** Why no ValidatingAdmissionPolicy can check a control, or undefined when `vap/` holds its policies. */
export function vapUnsupportedReason(id: ControlId): string | undefined {
  const k = getControl(id).engines.kyverno;
  if (k.kind === 'cel') return undefined;
  if (k.kind === 'imageVerification') return 'CEL in the API server cannot fetch signatures or transparency-log entries from a registry (no external calls), so no ValidatingAdmissionPolicy can verify image signatures';
  return `the control has no CEL check (${k.why})`;
}

