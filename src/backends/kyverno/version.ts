/**
 * Oldest Kyverno the policies are written for: validate.cel (1.11), per-rule `validate.failureAction` and
 * `spec.emitWarning` (1.13); CEL optional syntax and `join` come from the Kubernetes CEL libraries those
 * releases embed. Evaluation was verified with the Kyverno 1.19 CLI.
 */
export const KYVERNO_MIN_VERSION = '1.13.0';

/**
 * Oldest Kyverno for the `policies.kyverno.io/v1` types (ValidatingPolicy, GeneratingPolicy,
 * ImageValidatingPolicy, PolicyException): v1 is served from 1.17 on.
 */
export const KYVERNO_V1_MIN_VERSION = '1.17.0';
