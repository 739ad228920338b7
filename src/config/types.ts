/**
 * The policies.config.ts DSL. Everything here is a type the editor shows on hover; `defineConfig` only
 * gives the config object its type. Runtime validation (config/resolve/) mirrors these types exactly.
 */
import type { ControlId, Controls } from '../controls/index.js';
import type { OptionsOf } from '../controls/options.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { AllowKey, AllowValues, ControlsAllowing } from './allow.js';
import type { Mode } from '../controls/types.js';

/** What happens when a resource violates a control (defined beside the controls, which name their own default). */
export type { Mode };

/**
 * Built-in starting points. `pss-baseline`/`pss-restricted` turn on exactly the Pod Security Standards checks
 * of that level; `nsa-cisa` is `pss-restricted` plus the NSA/CISA pod controls beyond PSS (all but the opt-in
 * block-ephemeral-containers; allowed-registries once its registries are listed).
 */
/** The profiles a config can start from (src/config/resolve/profiles.ts says what each turns on). */
export const PROFILE_NAMES = ['pss-baseline', 'pss-restricted', 'nsa-cisa'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** A Pod Security Standards level, as used in Pod Security Admission labels. */
export type PssLevelName = 'privileged' | 'baseline' | 'restricted';

/** A calendar date, `YYYY-MM-DD`. */
export type IsoDate = `${number}-${number}-${number}`;

/** Settings of one control: `true`/`false` to switch it on or off, a mode, or an object with options. */
export type ControlSetting<Id extends ControlId> =
  | boolean
  | Mode
  | {
      /** Switch the control on or off (default: on when the profile or this entry names it). */
      readonly enabled?: boolean;
      /** Overrides the bundle's `defaultMode` for this control. */
      readonly mode?: Mode;
      /** The control's typed options; unspecified options keep their defaults. */
      readonly options?: keyof Controls[Id]['options'] extends never
        ? Readonly<Record<string, never>>
        : Partial<OptionsOf<Controls[Id]['options']>>;
    };

/**
 * What the config's types know of a custom control (a `defineControl` result): its id and option names.
 */
export interface CustomControlRef {
  readonly id: string;
  readonly __options?: string;
}

/** Settings of one custom control: as for a built-in one, its options being lists of strings. */
export type CustomControlSetting<O extends string> =
  | boolean
  | Mode
  | {
      readonly enabled?: boolean;
      readonly mode?: Mode;
      /** The control's options (lists of strings); unspecified options keep their defaults. */
      readonly options?: [O] extends [never] ? Readonly<Record<string, never>> : { readonly [P in O]?: readonly string[] };
    };

/** The ids of the custom controls `X`. */
export type CustomIdOf<X extends CustomControlRef> = X['id'];

/**
 * Per-control settings keyed by control id: the built-in ones and the config's custom controls (`X`). An
 * unknown id is a type error.
 */
export type ControlsConfig<X extends CustomControlRef = never> = { readonly [Id in ControlId]?: ControlSetting<Id> } & {
  readonly [K in X as K['id']]?: CustomControlSetting<NonNullable<K['__options']>>;
};

/** Rules for one namespace. */
export interface NamespaceConfig<X extends CustomControlRef = never> {
  /**
   * The Pod Security level of this namespace: its PSA labels, and which PSS controls apply in it
   * (`baseline` switches restricted-only controls off here; `privileged` switches every PSS control off).
   */
  readonly pss?: PssLevelName;
  /** Per-control relaxations in this namespace (switch off, change mode, other options). */
  readonly controls?: ControlsConfig<X>;
  /** Overrides of the cluster's `network` settings in this namespace (field by field). */
  readonly network?: NetworkSettings;
  /** Overrides of the cluster's `resources` settings in this namespace (`quota`, `limitRange` each replace). */
  readonly resources?: NamespaceResourceSettings;
}

// --- Exceptions (what they except, and what they allow) ---

/** The scope, reason and expiry every exception has. */
export interface ExceptionScope {
  /** Namespaces the exception applies in (default: every namespace). */
  readonly namespaces?: readonly string[];
  /**
   * Container images the exception applies to: exact references, or prefixes ending in `*`.
   * Pod-level findings are excepted only when every container of the pod matches.
   */
  readonly images?: readonly string[];
  /**
   * Names of the Pods and workloads (Deployment, CronJob, …) the exception applies to: exact names, or
   * prefixes ending in `*`. List a workload's own name and the prefix of the Pods its controller creates,
   * e.g. `['web', 'web-*']`. Cannot be combined with `images`.
   */
  readonly names?: readonly string[];
  /** Why this exception exists (shown in the bundle README and reports). Required. */
  readonly reason: string;
  /** Last day the exception is valid, `YYYY-MM-DD`. After it the build fails; within 30 days it warns. */
  readonly expires: IsoDate;
}

/**
 * A time-limited exception to one or more controls. Expired exceptions fail the build. Without `allow` it
 * excepts the whole control(s) in its scope; with `allow` it lets through only the named values (for the
 * controls that have such sub-checks, see `AllowValues`).
 */
export type ExceptionConfig<X extends CustomControlRef = never> = ExceptionScope &
  (
    | {
        /** The control(s) excepted. */
        readonly control: ControlId | CustomIdOf<X> | readonly (ControlId | CustomIdOf<X>)[];
        readonly allow?: undefined;
      }
    | { readonly [K in AllowKey]: AllowingException<K> }[AllowKey]
  );

/** An exception that allows only the values of one `allow` key, for controls that understand it. */
export interface AllowingException<K extends AllowKey> {
  /** The control(s) relaxed: each must understand every key of `allow`. */
  readonly control: ControlsAllowing<K> | readonly ControlsAllowing<K>[];
  /** Exactly what the exception lets through; every other check of the control still applies. */
  readonly allow: { readonly [P in K]: AllowValues[P] } & { readonly [P in Exclude<AllowKey, K>]?: undefined };
}

// --- end of exceptions ---

/** A manifest file with the verdict expected from each control, checked by `kubeharden test`. */
export interface FixtureConfig<X extends CustomControlRef = never> {
  /** Path to a YAML/JSON file (one or more documents), relative to the config file. */
  readonly file: string;
  /** `allow`: no enabled control denies any document; or the verdict per control. */
  readonly expect: 'allow' | { readonly [Id in ControlId | CustomIdOf<X>]?: 'allow' | 'deny' };
}

export interface GatekeeperSettings {
  /**
   * `v1` (default): Rego v1 in `code[].engine: Rego` (Gatekeeper ≥ 3.19).
   * `v0`: the legacy `targets[].rego` field for older Gatekeeper (same source, which imports rego.v1).
   */
  readonly regoVersion?: 'v1' | 'v0';
  /**
   * The engines each ConstraintTemplate carries. `['Rego']` (default): Rego only. `['Rego', 'CEL']`: also a
   * `K8sNativeValidation` (CEL) block built from the control's CEL check (Gatekeeper ≥ 3.18, needs
   * `regoVersion: 'v1'`). Gatekeeper runs only the CEL block when both are present; controls whose CEL cannot
   * run in Gatekeeper keep Rego only (the bundle README lists them).
   */
  readonly engines?: readonly ('Rego' | 'CEL')[];
  /**
   * With CEL: let Gatekeeper generate a ValidatingAdmissionPolicy from each template (`generateVAP: true`).
   * Default `false`, written out on every CEL block: generated policies inherit `failurePolicy: Fail` and can
   * deadlock the control plane (open-policy-agent/gatekeeper#4530).
   */
  readonly generateVAP?: boolean;
}

/** Which Kyverno policy types the bundle's `kyverno/` directory holds. */
export interface KyvernoSettings {
  /**
   * `ValidatingPolicy` (default): the `policies.kyverno.io/v1` types (ValidatingPolicy, GeneratingPolicy,
   * ImageValidatingPolicy, PolicyException), GA since Kyverno 1.17 and the only ones Kyverno 1.20 executes.
   * `ClusterPolicy`: the legacy `kyverno.io/v1` ClusterPolicy and `kyverno.io/v2` PolicyException, for
   * Kyverno 1.13–1.16 clusters.
   */
  readonly policyType?: 'ValidatingPolicy' | 'ClusterPolicy';
}

/** The native ValidatingAdmissionPolicy target (`vap/` in the bundle). */
export interface VapSettings {
  /**
   * `true`: `vap/` holds a ValidatingAdmissionPolicy and its bindings per control instance, enforced by the
   * API server itself (admissionregistration.k8s.io/v1, Kubernetes ≥ 1.30). Default: `false`.
   */
  readonly enabled?: boolean;
}

/** Which API resources are encrypted at rest in etcd. */
export type EncryptedResource = 'secrets' | 'configmaps';

/** Encryption at rest of API data in etcd (`control-plane/encryption-config.yaml`). */
export interface EncryptionSettings {
  /**
   * `kms` (default): a KMS v2 plugin holds the key outside the cluster (preferred by NSA/CISA).
   * `aescbc`: a local AES-CBC key, written into the file on the control-plane nodes by you (the
   * generated file holds a placeholder, never a key).
   */
  readonly provider?: 'kms' | 'aescbc';
  /** The KMS plugin's socket (`unix:///…`). Default: `unix:///var/run/kms-plugin/socket.sock`. Only with `provider: 'kms'`. */
  readonly kmsEndpoint?: `unix:///${string}`;
  /** Resources to encrypt. Default: `['secrets']`. */
  readonly resources?: readonly EncryptedResource[];
}

/** Control-plane files written to `generated/<cluster>/control-plane/` (what admission cannot enforce). */
export interface ControlPlaneSettings {
  readonly encryption?: EncryptionSettings;
}

// --- Namespace network and resource objects (NSA-NET-2, NSA-NET-3, NSA-NET-4, NSA-NET-11) ---

/**
 * NetworkPolicies written for the non-exempt namespaces the config names (`generated/<cluster>/network/`)
 * and generated by a Kyverno ClusterPolicy there and in namespaces with `namespaceObjects.optInLabel`. They only take effect with a network plugin that implements
 * NetworkPolicy, and they do not apply to hostNetwork pods.
 */
export interface NetworkSettings {
  /**
   * `default-deny`: a NetworkPolicy selecting every pod for Ingress and Egress with no rules, so only
   * flows opened by other policies are allowed. Default: `false` (it cuts every flow the namespace's
   * workloads do not explicitly allow; the `nsa-cisa` profile turns it on).
   */
  readonly defaultDeny?: boolean;
  /** With `defaultDeny`: `allow-dns`, egress to kube-dns in kube-system on UDP and TCP 53. Default: `true`. */
  readonly allowDns?: boolean;
  /**
   * `kubeharden-allow-api-server`: with `defaultDeny`, egress to the Kubernetes API server, for operators,
   * controllers and anything else that talks to it. `cidrs`: the API server endpoints (`kubectl get
   * endpointslices -n default -l kubernetes.io/service-name=kubernetes`; the `kubernetes` Service's ClusterIP
   * is translated before NetworkPolicy applies, so list the endpoints). `ports`: default `[443, 6443]`.
   * Default: none.
   */
  readonly apiServerEgress?: NetworkAllowSettings;
  /**
   * `kubeharden-allow-webhooks`: with `defaultDeny`, ingress from the API server to admission and conversion
   * webhooks served in the namespace. `cidrs`: the addresses the API server connects from (control-plane
   * nodes; the API server runs in the host network). `ports`: the webhook ports; default: every port.
   * Default: none.
   */
  readonly webhookIngress?: NetworkAllowSettings;
  /**
   * `allow-egress-except-cloud-metadata`: egress to everything except the cloud metadata addresses (169.254.169.254/32,
   * fd00:ec2::254/128). Only written when `defaultDeny` is off: default-deny already blocks the metadata
   * service, and an "everything except" policy would re-open all other egress. Default: `false`.
   */
  readonly blockCloudMetadata?: boolean;
}

/** Addresses (CIDRs) and ports one allow rule opens under default-deny. */
export interface NetworkAllowSettings {
  /** IPv4 or IPv6 CIDRs, e.g. `'10.0.0.10/32'`. Required, at least one. */
  readonly cidrs: readonly string[];
  /** TCP ports (1-65535). */
  readonly ports?: readonly number[];
}

/**
 * Which namespaces get the namespace objects (default-deny, quota, limit range). Only those the config
 * names under `namespaces` (never the exempt ones), plus, in clusters with Kyverno, those carrying
 * `optInLabel`: unlisted namespaces get nothing.
 */
export interface NamespaceObjectScope {
  /**
   * A label `key=value` that opts a namespace in to the cluster-wide objects (Kyverno generate policies
   * match it, also on namespaces created later), e.g. `'kubeharden.io/isolate=true'`. Default: none.
   */
  readonly optInLabel?: string;
}

/** A Kubernetes resource quantity, e.g. `'500m'`, `'2'`, `'512Mi'`, `'10Gi'`. */
export type Quantity = string;

/** Resources a namespace ResourceQuota can cap (`spec.hard` keys). */
export type QuotaResource =
  | 'requests.cpu' | 'requests.memory' | 'limits.cpu' | 'limits.memory'
  | 'requests.ephemeral-storage' | 'limits.ephemeral-storage' | 'requests.storage'
  | 'pods' | 'services' | 'services.loadbalancers' | 'services.nodeports'
  | 'persistentvolumeclaims' | 'configmaps' | 'secrets';

export interface ResourceQuotaSettings {
  /** Aggregate caps for the namespace. Replaces the default caps as a whole when given. */
  readonly hard?: { readonly [R in QuotaResource]?: Quantity };
}

/** Per-container amounts in a LimitRange. */
export interface ContainerResources {
  readonly cpu?: Quantity;
  readonly memory?: Quantity;
  readonly 'ephemeral-storage'?: Quantity;
}

/** The `Container` item of a LimitRange; each field given replaces that field's default. */
export interface LimitRangeSettings {
  /** Limits filled into containers that set none. Default: cpu 500m, memory 512Mi. */
  readonly default?: ContainerResources;
  /** Requests filled into containers that set none. Default: cpu 100m, memory 128Mi. */
  readonly defaultRequest?: ContainerResources;
  /** Largest limit a container may set. Default: cpu 2, memory 4Gi. */
  readonly max?: ContainerResources;
  /** Smallest request a container may set. Default: none. */
  readonly min?: ContainerResources;
}

/**
 * A ResourceQuota and a LimitRange per namespace the config names (`generated/<cluster>/resources/`, and a
 * Kyverno generate policy, which also serves namespaces with `namespaceObjects.optInLabel`). `true` uses the defaults; an object adjusts them.
 * Both default to off (the `nsa-cisa` profile turns them on).
 */
export interface NamespaceResourceSettings {
  /** `namespace-quota`. Default caps: requests cpu 4 / memory 8Gi, limits cpu 8 / memory 16Gi, 50 pods. */
  readonly quota?: boolean | ResourceQuotaSettings;
  /** `container-limits`: per-container defaults and bounds (keeps pods admissible under a cpu/memory quota). */
  readonly limitRange?: boolean | LimitRangeSettings;
}

// --- end of namespace network and resource objects ---

// --- Safe rollout: observe mode, the policy engines' namespaces, PSA defaults ---

/**
 * `enforce` (default): each control in its configured mode. `observe`: the same bundle, but nothing is
 * rejected: controls in `enforce` mode warn instead (Kyverno Audit with admission warnings, Gatekeeper
 * `warn`; both record violations in their reports), PSA enforces nothing (audit and warn keep the levels),
 * and namespace objects (NetworkPolicies, quotas), which have no audit mode, are left out.
 */
export type Rollout = 'observe' | 'enforce';

/** The policy engines' own namespaces: exempt from every control in both engines and from PSA. */
export interface PolicyEngineSettings {
  /**
   * Namespaces of the admission engines (their pods, service accounts and webhooks). Default:
   * `['gatekeeper-system', 'kyverno']` (the namespaces the Gatekeeper and Kyverno Helm charts are installed
   * into). Set `[]` only when the engines run in a namespace of `exemptNamespaces`.
   */
  readonly namespaces?: readonly string[];
}

/** Pod Security Admission beyond the per-namespace labels. */
export interface PsaSettings {
  /**
   * The `enforce` level of the kube-apiserver AdmissionConfiguration for namespaces without a
   * `pod-security.kubernetes.io/enforce` label. Default: `privileged` (unlabeled infrastructure namespaces
   * keep working); `audit` and `warn` carry the cluster's level. Never above what the policies enforce.
   */
  readonly defaultEnforce?: PssLevelName;
  /**
   * Infrastructure namespaces (CSI node plugins, node exporters, CNI agents) and their Pod Security level:
   * PSA labels of that level, the PSS controls above it off there, and no namespace objects.
   */
  readonly infraNamespaces?: { readonly [namespace: string]: PssLevelName };
}

// --- end of safe rollout ---

/** Settings that a cluster entry may override (`X`: the config's custom controls). */
export interface ClusterSettings<X extends CustomControlRef = never> {
  /** The baseline profile to start from. */
  readonly profile?: ProfileName;
  /** The Kubernetes minor the bundle targets; pins the PSS version in every policy and PSA label. */
  readonly kubernetesVersion?: KubernetesVersion;
  /** Mode of every control that does not set its own. Default: `enforce`. */
  readonly defaultMode?: Mode;
  /** Namespaces no control applies in (PSA exemptions too). Default: kube-system, kube-public, kube-node-lease. */
  readonly exemptNamespaces?: readonly string[];
  /** Per-control settings. */
  readonly controls?: ControlsConfig<X>;
  /** Per-namespace rules, keyed by namespace name. */
  readonly namespaces?: { readonly [namespace: string]: NamespaceConfig<X> };
  /** Time-limited exceptions. */
  readonly exceptions?: readonly ExceptionConfig<X>[];
  /**
   * How far ahead (in days) an exception's `expires` may lie before resolving warns that it is too distant
   * to be a real deadline (a whole number ≥ 1). Default: 365.
   */
  readonly exceptionHorizonDays?: number;
  /** Manifests with expected verdicts for `kubeharden test`. */
  readonly fixtures?: readonly FixtureConfig<X>[];
  readonly gatekeeper?: GatekeeperSettings;
  /** Kyverno output. */
  readonly kyverno?: KyvernoSettings;
  /** Native ValidatingAdmissionPolicies (`vap/`). */
  readonly vap?: VapSettings;
  /** Control-plane files: the audit policy, encryption at rest, the flags checklist. Defaults suit most clusters. */
  readonly controlPlane?: ControlPlaneSettings;
  /** NetworkPolicies per namespace (default-deny, DNS, cloud metadata). Namespaces may override each field. */
  readonly network?: NetworkSettings;
  /** ResourceQuota and LimitRange per namespace. Namespaces may override them. */
  readonly resources?: NamespaceResourceSettings;
  /** Which namespaces get the namespace objects: those named under `namespaces`, plus an opt-in label. */
  readonly namespaceObjects?: NamespaceObjectScope;
  /** `observe` builds the bundle so that nothing is rejected (see Rollout). Default: `enforce`. */
  readonly rollout?: Rollout;
  /** The policy engines' own namespaces (exempt in both engines). */
  readonly policyEngines?: PolicyEngineSettings;
  /** PSA defaults for unlabeled namespaces, and infrastructure namespaces. */
  readonly psa?: PsaSettings;
}

/** The whole policies.config.ts (`X`: its custom controls). */
export interface UserConfig<X extends CustomControlRef = never> extends ClusterSettings<X> {
  /**
   * Controls of your own, written with `defineControl` and the check builder (`import { defineControl, label,
   * oneOf, option } from 'kubeharden'`): set them in `controls` like built-in ones (they are off until set).
   */
  readonly customControls?: readonly X[];
  /** Name of the (single) cluster; the bundle goes to `generated/<name>/`. Default: `cluster`. */
  readonly name?: string;
  /**
   * Several clusters/environments sharing the settings above. Each entry overrides parts of them
   * (controls and namespaces merge per key, exceptions and fixtures add up, other fields replace) and is
   * built into `generated/<cluster>/`. When present, `name` is not used.
   */
  readonly clusters?: { readonly [cluster: string]: ClusterSettings<X> };
}

/**
 * Gives a config object its type (the identity function). Generic only in its custom controls, inferred from
 * `customControls`: the object literal is still checked against a concrete type, with TypeScript's
 * excess-property checks at every level, so a misspelt key is a compile error.
 */
export function defineConfig<const X extends CustomControlRef = never>(config: UserConfig<X>): UserConfig<X> {
  return config;
}
