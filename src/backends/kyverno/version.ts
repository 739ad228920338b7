/**
 * Oldest Kyverno the policies are written for: validate.cel (1.11), per-rule `validate.failureAction` and
 * `spec.emitWarning` (1.13); CEL optional syntax and `join` come from the Kubernetes CEL libraries those
 * releases embed. Evaluation was verified with the Kyverno 1.19 CLI.
 */
export const KYVERNO_MIN_VERSION = '1.13.0';
