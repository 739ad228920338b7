/** The shape of a control's CEL check: variables, then validations that pass when their expression is true. */

/** A CEL variable of a validate.cel block; later variables may read earlier ones as `variables.<name>`. */
export interface CelVariable {
  name: string;
  expression: string;
}

/** One CEL validation: passes when `expression` is true. */
export interface CelValidation {
  expression: string;
  message: string;
  /** Optional CEL string built at evaluation time; Kyverno falls back to `message` when it fails. */
  messageExpression?: string;
}

/**
 * A control's CEL check: the check itself, independent of scope, mode and parameter values (parameters reach it
 * as variables, see backends/kyverno ruleVariables).
 */
export interface CelCheck {
  /** Short sentence used as the rule's `validate.message`. */
  readonly message: string;
  /** Control-specific variables (after the shared ones); may read params, `exemptImages` and shared variables. */
  readonly variables?: readonly CelVariable[];
  readonly expressions: readonly CelValidation[];
}
