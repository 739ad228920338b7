/** Object shapes the Kyverno backend emits (the subset of `kyverno.io/v1` ClusterPolicy kubeharden writes). */

export type FailureAction = 'Enforce' | 'Audit';

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

export interface ResourceFilter {
  resources: {
    kinds?: string[];
    namespaces?: string[];
    operations?: ('CREATE' | 'UPDATE')[];
  };
}

export interface KyvernoRule {
  name: string;
  match: { any: ResourceFilter[] };
  exclude?: { any: ResourceFilter[] };
  /** Image signature checks (verify-image-signatures); such a rule has no `validate`. */
  verifyImages?: ImageVerification[];
  validate?: {
    failureAction: FailureAction;
    message: string;
    cel: {
      variables: CelVariable[];
      expressions: CelValidation[];
    };
  };
}

export interface ClusterPolicy {
  apiVersion: 'kyverno.io/v1';
  kind: 'ClusterPolicy';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    background: boolean;
    emitWarning?: boolean;
    webhookTimeoutSeconds?: number;
    webhookConfiguration?: { failurePolicy: 'Fail' | 'Ignore'; timeoutSeconds?: number };
    rules: KyvernoRule[];
  };
}

export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1';
  kind: 'Kustomization';
  resources: string[];
}

/** What a control's emitter returns: the check itself, independent of scope, mode and parameter values. */
export interface CelCheck {
  /** Short sentence used as the rule's `validate.message`. */
  readonly message: string;
  /** Control-specific variables (after the shared ones); may read params, `exemptImages` and shared variables. */
  readonly variables?: readonly CelVariable[];
  readonly expressions: readonly CelValidation[];
}

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

/** What the verify-image-signatures emitter returns instead of a CEL check. */
export interface ImageVerificationCheck {
  readonly verifyImages: Omit<ImageVerification, 'failureAction' | 'skipImageReferences'>;
  /** The policy's webhook failure policy (verification errors and timeouts). */
  readonly failurePolicy: 'Fail' | 'Ignore';
}

/** `kyverno.io/v2` PolicyException (exceptions by object name). */
export interface PolicyException {
  apiVersion: 'kyverno.io/v2';
  kind: 'PolicyException';
  metadata: { name: string; namespace: string; annotations: Record<string, string> };
  spec: {
    exceptions: { policyName: string; ruleNames: string[] }[];
    match: { any: { resources: { kinds: string[]; names: string[]; namespaces?: string[] } }[] };
  };
}
