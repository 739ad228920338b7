/** Object shapes the Gatekeeper backend emits (the subset kubeharden writes). */
import type { CelSource } from './cel.js';

export interface ConstraintTemplate {
  apiVersion: 'templates.gatekeeper.sh/v1';
  kind: 'ConstraintTemplate';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    crd: { spec: { names: { kind: string }; validation: { openAPIV3Schema: JsonSchema } } };
    targets: GatekeeperTarget[];
  };
}

export type GatekeeperCode = { engine: 'Rego'; source: { version: 'v1'; rego: string; libs: string[] } } | { engine: 'K8sNativeValidation'; source: CelSource };

export type GatekeeperTarget =
  | { target: 'admission.k8s.gatekeeper.sh'; code: GatekeeperCode[] }
  | { target: 'admission.k8s.gatekeeper.sh'; rego: string; libs: string[] };

export interface JsonSchema {
  type: 'object' | 'array' | 'string' | 'boolean' | 'integer';
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
}

export interface Constraint {
  apiVersion: 'constraints.gatekeeper.sh/v1beta1';
  kind: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    enforcementAction: 'deny' | 'dryrun' | 'warn';
    match: { kinds: { apiGroups: string[]; kinds: string[] }[]; namespaces?: string[]; excludedNamespaces?: string[] };
    parameters: Record<string, unknown>;
  };
}

export interface ExpansionTemplate {
  apiVersion: 'expansion.gatekeeper.sh/v1beta1';
  kind: 'ExpansionTemplate';
  metadata: { name: string };
  spec: {
    applyTo: { groups: string[]; kinds: string[]; versions: string[] }[];
    templateSource: string;
    generatedGVK: { group: string; version: string; kind: string };
  };
}
