/** What an evaluator is built from, as plain data (it crosses a thread boundary to the audit's workers). */
import type { Constraint } from '../backends/gatekeeper/types.js';
import type { PsaOptions } from './aggregate.js';

export interface EvaluatorSpec {
  readonly templates: readonly (readonly [string, string])[];
  readonly libs: readonly string[];
  readonly v0: boolean;
  readonly constraints: readonly Constraint[];
  /** Pod Security Admission per namespace, when the audit models it. */
  readonly psa?: PsaOptions;
}
