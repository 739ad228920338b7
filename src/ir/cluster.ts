/**
 * The cluster part of the IR: each cluster's effective settings, validated and deeply readonly, as
 * config/resolve produces them from the user's config. Backends read this (through BundleIR), never the
 * config or the resolver.
 */
import type { ControlId } from '../controls/index.js';
import type { PssLevel } from '../controls/types.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { EncryptedResource, Mode, ProfileName, PssLevelName, Rollout } from '../config/types.js';
import type { ResolvedNamespaceObjects } from '../config/namespace-objects.js';
import type { AllowKey } from '../config/allow.js';

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type OptionValues = Readonly<Record<string, Json>>;

/** What the exceptions of one scope let through for a control: by image, by name, by value. */
export interface ScopeExceptions {
  /** Images excepted in this scope (exact or `prefix*`), sorted. */
  readonly exemptImages: readonly string[];
  /** Pod and workload names excepted in this scope (exact or `prefix*`), sorted. */
  readonly exemptNames: readonly string[];
  /** Values exceptions with `allow` let through in this scope, sorted (see Allowance). */
  readonly allowances: readonly Allowance[];
}

/** Effective settings of a control in one scope (the cluster default or one namespace). */
export interface ControlSettings extends ScopeExceptions {
  readonly enabled: boolean;
  readonly mode: Mode;
  readonly options: OptionValues;
  /**
   * The Pod Security Admission enforce level the bundle labels this scope with (psa/), kept only for
   * controls that follow it (`followsPssLevel`).
   */
  readonly pssLevel?: PssLevelName;
}

/**
 * What one exception with `allow` lets through: the values per key, for containers of the excepted images,
 * or for the objects excepted by name; with neither, for everything in the scope it applies to.
 */
export interface Allowance {
  readonly images?: readonly string[];
  readonly names?: readonly string[];
  readonly values: Readonly<Partial<Record<AllowKey, readonly string[]>>>;
}

export interface ResolvedControl {
  readonly id: ControlId;
  /** False when the control has no PSS semantics at the target version (e.g. probe hosts before 1.34). */
  readonly applicable: boolean;
  /** Cluster-wide settings. */
  readonly cluster: ControlSettings;
  /** Namespaces whose settings differ from the cluster-wide ones, sorted by name. */
  readonly namespaces: readonly { readonly namespace: string; readonly settings: ControlSettings }[];
  /** Controls that replace this one where they apply (PSS overrides), with where this one still applies. */
  readonly supersededBy?: ControlId;
}

export interface ResolvedException {
  readonly controls: readonly ControlId[];
  readonly namespaces?: readonly string[];
  readonly images?: readonly string[];
  readonly names?: readonly string[];
  /** Only these values are allowed (absent: the controls are excepted whole). */
  readonly allow?: Readonly<Partial<Record<AllowKey, readonly string[]>>>;
  readonly reason: string;
  readonly expires: string;
}

export interface ResolvedNamespace {
  readonly name: string;
  readonly pss: PssLevelName;
  readonly exempt: boolean;
  /** Listed under `psa.infraNamespaces`: PSA labels and PSS levels only, no namespace objects. */
  readonly infra?: true;
}

export interface ResolvedFixture {
  readonly file: string;
  readonly expect: 'allow' | Readonly<Partial<Record<ControlId, 'allow' | 'deny'>>>;
}

export interface ResolvedCluster {
  readonly name: string;
  readonly profile: ProfileName;
  readonly level: PssLevel;
  readonly version: KubernetesVersion;
  readonly defaultMode: Mode;
  readonly exemptNamespaces: readonly string[];
  readonly controls: readonly ResolvedControl[];
  readonly namespaces: readonly ResolvedNamespace[];
  readonly exceptions: readonly ResolvedException[];
  readonly fixtures: readonly ResolvedFixture[];
  readonly regoVersion: 'v1' | 'v0';
  /** The engines each ConstraintTemplate carries (config `gatekeeper.engines`): Rego, and CEL when it holds 'CEL'. */
  readonly gatekeeperEngines: readonly ('Rego' | 'CEL')[];
  /** `generateVAP` on the templates' CEL blocks (config `gatekeeper.generateVAP`, default false). */
  readonly gatekeeperGenerateVAP: boolean;
  /** Which Kyverno policy types `kyverno/` holds (config `kyverno.policyType`). */
  readonly kyvernoPolicyType: 'ValidatingPolicy' | 'ClusterPolicy';
  /** Whether `vap/` holds native ValidatingAdmissionPolicies (config `vap.enabled`). */
  readonly vap: { readonly enabled: boolean };
  readonly controlPlane: ResolvedControlPlane;
  /** NetworkPolicies, ResourceQuota and LimitRange generated per namespace (config/namespace-objects.ts). */
  readonly namespaceObjects: ResolvedNamespaceObjects;
  // Safe rollout (config/resolve/rollout.ts).
  /** `observe`: nothing is rejected (enforce became warn, PSA enforces nothing, no namespace objects). */
  readonly rollout: Rollout;
  /** The policy engines' namespaces (also in exemptNamespaces), sorted. */
  readonly engineNamespaces: readonly string[];
  readonly psa: ResolvedPsa;
}

export interface ResolvedControlPlane {
  readonly encryption: {
    readonly provider: 'kms' | 'aescbc';
    /** Set for `kms` only. */
    readonly kmsEndpoint?: string;
    /** Sorted. */
    readonly resources: readonly EncryptedResource[];
  };
}

export interface ResolvedPsa {
  /** The AdmissionConfiguration's enforce level for unlabeled namespaces (capped by what the policies enforce). */
  readonly defaultEnforce: PssLevelName;
}

