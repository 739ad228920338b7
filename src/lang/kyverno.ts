/**
 * Kyverno policy text outside CEL: the `verifyImages` shapes a control can declare, and how a user value is
 * written in a field where Kyverno substitutes variables.
 */

export type FailureAction = 'Enforce' | 'Audit';

/** One cosign attestor entry: public keys or a keyless identity. */
export interface AttestorEntry {
  keys?: { publicKeys: string; rekor?: { ignoreTlog: boolean }; ctlog?: { ignoreSCT: boolean } };
  keyless?: { issuer: string; subject: string; rekor?: { ignoreTlog: boolean }; ctlog?: { ignoreSCT: boolean } };
}

/** A `verifyImages` entry (cosign signatures). */
export interface ImageVerification {
  failureAction?: FailureAction;
  imageReferences: string[];
  skipImageReferences?: string[];
  attestors: { count: number; entries: AttestorEntry[] }[];
  mutateDigest: boolean;
  verifyDigest: boolean;
  required: boolean;
}

/** What verify-image-signatures declares for Kyverno instead of a CEL check. */
export interface ImageVerificationCheck {
  readonly verifyImages: Omit<ImageVerification, 'failureAction' | 'skipImageReferences'>;
  /** The policy's webhook failure policy (verification errors and timeouts). */
  readonly failurePolicy: 'Fail' | 'Ignore';
}

/**
 * A user value in a Kyverno field that Kyverno substitutes variables in (not CEL: verifyImages image
 * references and attestors): every `{{` is written `\{{`, which Kyverno reads as a literal `{{` (its
 * variable pattern skips `{{` after a backslash, and substitution turns `\{{` back into `{{`). In a run of
 * braces an odd one goes first, so that no two unescaped braces are ever adjacent.
 */
export function kyvernoLiteral(s: string): string {
  return s.replace(/\{\{+/g, (run) => (run.length % 2 ? '{' : '') + '\\{{'.repeat(Math.floor(run.length / 2)));
}
