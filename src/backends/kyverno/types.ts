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
