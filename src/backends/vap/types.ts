/** Object shapes of the native ValidatingAdmissionPolicy target (admissionregistration.k8s.io/v1, the fields kubeharden writes). */
import type { CelValidation, CelVariable } from '../../lang/cel/types.js';

export type Operation = 'CREATE' | 'UPDATE';

export interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: Operation[];
}

/** A resource rule limited to exact object names (`excludeResourceRules` of a binding). */
export interface NamedResourceRule extends ResourceRule {
  resourceNames: string[];
}

export interface NamespaceSelector {
  matchExpressions: { key: 'kubernetes.io/metadata.name'; operator: 'In' | 'NotIn'; values: string[] }[];
}

export interface MatchCondition {
  name: string;
  expression: string;
}

/** `validationActions` of a binding. */
export type ValidationAction = 'Deny' | 'Warn' | 'Audit';

export interface ValidatingAdmissionPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicy';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    failurePolicy: 'Fail' | 'Ignore';
    matchConstraints: { resourceRules: ResourceRule[] };
    matchConditions?: MatchCondition[];
    variables: CelVariable[];
    validations: CelValidation[];
  };
}

export interface ValidatingAdmissionPolicyBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    policyName: string;
    validationActions: ValidationAction[];
    matchResources?: { namespaceSelector?: NamespaceSelector; excludeResourceRules?: NamedResourceRule[] };
  };
}
