/** Object shapes the Kyverno backend emits (the subset of `kyverno.io/v1` ClusterPolicy kubeharden writes). */
import type { CelValidation, CelVariable } from '../../lang/cel/types.js';
import type { FailureAction, ImageVerification } from '../../lang/kyverno.js';

// The check a control declares and the verifyImages shapes are written with the controls (src/lang).
export type { CelCheck, CelValidation, CelVariable } from '../../lang/cel/types.js';
export type { AttestorEntry, FailureAction, ImageVerification, ImageVerificationCheck } from '../../lang/kyverno.js';

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

/** A `policies.kyverno.io/v1` resource rule (admissionregistration's NamedRuleWithOperations, the fields kubeharden writes). */
export interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: ('CREATE' | 'UPDATE')[];
}

export interface NamespaceSelector {
  matchExpressions: { key: 'kubernetes.io/metadata.name'; operator: 'In' | 'NotIn'; values: string[] }[];
}

export interface MatchCondition {
  name: string;
  expression: string;
}

/** `validationActions` of a ValidatingPolicy: the whole policy denies, audits or warns. */
export type ValidationAction = 'Deny' | 'Audit' | 'Warn';

/** `policies.kyverno.io/v1` ValidatingPolicy (the subset kubeharden writes). */
export interface ValidatingPolicy {
  apiVersion: 'policies.kyverno.io/v1';
  kind: 'ValidatingPolicy';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    validationActions: ValidationAction[];
    evaluation: { background: { enabled: boolean } };
    matchConstraints: { resourceRules: ResourceRule[]; namespaceSelector?: NamespaceSelector };
    /** Pod policies: the controllers Kyverno derives policies for (the pod paths rewritten by its autogen). */
    autogen?: { podControllers: { controllers: string[] } };
    matchConditions?: MatchCondition[];
    variables: CelVariable[];
    validations: CelValidation[];
  };
}

/** `policies.kyverno.io/v1` PolicyException: exempts the images it lists where the policies read `exceptions.allowedImages`. */
export interface PolicyExceptionV1 {
  apiVersion: 'policies.kyverno.io/v1';
  kind: 'PolicyException';
  metadata: { name: string; namespace: string; annotations: Record<string, string> };
  spec: {
    policyRefs: { name: string; kind: 'ValidatingPolicy' }[];
    matchConditions?: MatchCondition[];
    images: string[];
    expiresAt: string;
    properties: Record<string, string>;
  };
}
