import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OptionSpecs, OptionsOf, PortRange } from './options.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { CelCheck } from '../lang/cel/types.js';
import type { ImageVerificationCheck } from '../lang/kyverno.js';

/** What happens when a resource violates a control: reject it, record it in audit results, or warn the client. */
export type Mode = 'enforce' | 'audit' | 'warn';

export type Severity = 'low' | 'medium' | 'high';
export type PssLevel = 'baseline' | 'restricted';

/** Types of the values a control passes to the engines (Gatekeeper `spec.parameters`, Kyverno CEL literals). */
export interface ParamTypeMap {
  boolean: boolean;
  strings: readonly string[];
  ranges: readonly PortRange[];
}
export type ParamType = keyof ParamTypeMap;
export type ParamSpecs = Readonly<Record<string, ParamType>>;
export type ParamsOf<P extends ParamSpecs> = { readonly [K in keyof P]: ParamTypeMap[P[K]] };

/** What a scope adds to a control's options when lowering (see `followsPssLevel`). */
export interface LowerContext {
  readonly level: 'privileged' | PssLevel;
}

/** A kind a non-pod control checks: API group and version, kind, plural resource, namespaced or not. */
export interface ResourceKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name (AdmissionReview `resource`). */
  readonly resource: string;
  readonly namespaced: boolean;
}

/**
 * What a control checks: absent = Pods, and the workload controllers through Kyverno auto-gen and
 * Gatekeeper expansion; `kinds` = those objects themselves (Services, Ingresses, RBAC objects, …).
 */
export interface ControlTarget {
  readonly kinds: readonly ResourceKind[];
  /**
   * Subresources of these kinds whose writes can change what the control checks (`status`, `finalize`):
   * Kyverno rules match them too (`Namespace/status`); Gatekeeper sees them when its webhook forwards them.
   */
  readonly subresources?: readonly string[];
}

/** A JSON object a sample starts from (a Pod manifest, or an object of the control's target kinds). */
export type Manifest = { readonly [key: string]: unknown };

/** An object with its expected verdict for one control, evaluated by every engine we run. */
export interface Sample {
  /** Unique (within the control), kebab-case. */
  readonly name: string;
  readonly expect: 'allow' | 'deny';
  /** The Pod (or, for a control with a `target`, the object of one of its kinds) as submitted. */
  readonly object: Manifest;
  /** `UPDATE` samples carry the object before the change (ephemeral containers only arrive that way). */
  readonly operation?: 'CREATE' | 'UPDATE';
  readonly oldObject?: Manifest;
  /**
   * The verdict when `object` is evaluated on its own, as a CREATE (what offline CLIs without the old
   * object see), when it differs from `expect`: e.g. a metadata-only UPDATE of a Pod that already violates.
   */
  readonly expectWithoutOldObject?: 'allow' | 'deny';
  /** The sample applies to target versions in this inclusive range of minors (e.g. `{ from: 34 }`). */
  readonly versions?: { readonly from?: number; readonly to?: number };
  /** True when the object only exists as a Pod (ephemeral containers): no workload variants are derived. */
  readonly podOnly?: boolean;
  /**
   * The object's namespace (or its absence) is what the sample tests: the bundle suites keep it instead of
   * moving the object into their own namespace.
   */
  readonly keepNamespace?: boolean;
  /**
   * The object's name is what the sample tests (a bootstrap role name, a look-alike of one): the bundle suites
   * keep it instead of renaming the object to `<control>.<sample>`. Names must stay unique per kind and
   * namespace across all controls' samples.
   */
  readonly keepName?: boolean;
  /** The subresource an UPDATE sample is written through (`status`, `finalize`): gator sees it in the review. */
  readonly subResource?: string;
  /**
   * Set when the pinned kube-apiserver's own validation (decoding, field validation, Pod Security Admission's
   * namespace label check) refuses the object: a part of its message. The attack never reaches admission
   * there; the sample stays for the policy engines, which see objects the API server has not validated
   * (offline audits, older releases, webhooks ordered before validation), and the API server suite proves
   * the refusal (test/apiserver.test.ts). Every other sample must be an object the API server accepts.
   */
  readonly apiServerRejects?: string;
}

/** A warning about one option value: the option, the list index, the problem, a fix. */
export interface OptionWarning {
  readonly option: string;
  readonly index?: number;
  readonly message: string;
  readonly hint?: string;
}

export interface PssInfo {
  readonly level: PssLevel;
  /** The check ID in the Pod Security Admission code. */
  readonly check: string;
  /** First Kubernetes minor in which PSS has this check (targets below it skip the control). */
  readonly since?: number;
  /** Baseline control this restricted control replaces where both apply (PSA `OverrideCheckIDs`). */
  readonly overrides?: string;
}

/** An engine a control can fall short in: one policy engine, or `admission` for every admission engine alike. */
export type GapEngine = 'kyverno' | 'gatekeeper' | 'psa' | 'admission';

/** Something an engine does not check for a control, with the reason. */
export interface PartialGap {
  readonly engine: GapEngine;
  /** What goes unchecked, e.g. "label changes written through namespaces/status". */
  readonly what: string;
  /** Why, and what closes it where something can. */
  readonly why: string;
}

/** A stated gap of a control: the whole control (an engine declared `unsupported`) or a part of it. */
export interface StatedGap extends PartialGap {
  readonly extent: 'unsupported' | 'partial';
}

/** Why an engine cannot implement a control: the bundle README and the coverage report show the reason. */
export interface Unsupported {
  readonly kind: 'unsupported';
  readonly why: string;
}

/** The control's Gatekeeper ConstraintTemplate is rendered from this Rego (Handlebars) template file. */
export interface RegoTemplate {
  readonly kind: 'rego';
  /** Absolute path of the template, in the control's folder (copied beside the compiled definition in dist/). */
  readonly file: string;
}

/**
 * The control's Gatekeeper ConstraintTemplate carries this Rego module, written by the compiler (a custom
 * control's check compiled by src/custom/rego.ts), given the module's package and the shared library's.
 */
export interface RegoModule {
  readonly kind: 'regoModule';
  render(names: { readonly package: string; readonly libPackage: string }): string;
}

/** The control's Kyverno rules are `validate.cel` rules with this check. */
export interface CelImplementation {
  readonly kind: 'cel';
  readonly check: CelCheck;
}

/** The control's Kyverno rules are `verifyImages` rules built from its parameters (verify-image-signatures). */
export interface ImageVerificationImplementation<P extends ParamSpecs> {
  readonly kind: 'imageVerification';
  check(params: ParamsOf<P>): ImageVerificationCheck;
}

/**
 * What implements a control in each engine, or why nothing can. Every engine is required: a control without
 * its Rego or its CEL is a type error in its own definition.
 */
export interface EngineImplementations<P extends ParamSpecs> {
  readonly gatekeeper: RegoTemplate | RegoModule | Unsupported;
  readonly kyverno: CelImplementation | ImageVerificationImplementation<P> | Unsupported;
}

/** The engines a control declares an implementation for, in report order. */
export const DECLARED_ENGINES = ['gatekeeper', 'kyverno'] as const;
export type DeclaredEngine = (typeof DECLARED_ENGINES)[number];

/** `engines.<engine>`: the engine cannot implement the control, for this reason. */
export function unsupported(why: string): Unsupported {
  return { kind: 'unsupported', why };
}

/** `engines.gatekeeper`: the Rego template at `file`, e.g. `new URL('./gatekeeper.rego.hbs', import.meta.url)`. */
export function rego(file: URL): RegoTemplate {
  return { kind: 'rego', file: fileURLToPath(file) };
}

/** `engines.kyverno`: a `validate.cel` check. */
export function cel(check: CelCheck): CelImplementation {
  return { kind: 'cel', check };
}

/** `engines.kyverno`: `verifyImages` rules from the control's parameters. */
export function imageVerification<P extends ParamSpecs>(check: (params: ParamsOf<P>) => ImageVerificationCheck): ImageVerificationImplementation<P> {
  return { kind: 'imageVerification', check };
}

/** True when the control declares an implementation for `engine` (not `unsupported`). */
export function implementedBy(c: { readonly engines: EngineImplementations<ParamSpecs> }, engine: DeclaredEngine): boolean {
  return c.engines[engine].kind !== 'unsupported';
}

/** Why `engine` cannot implement the control, or undefined when it declares an implementation. */
export function unsupportedReason(c: { readonly engines: EngineImplementations<ParamSpecs> }, engine: DeclaredEngine): string | undefined {
  const e = c.engines[engine];
  return e.kind === 'unsupported' ? e.why : undefined;
}

/** Every gap a control states, one list: each engine declared `unsupported` (whole control), then `gaps`. */
export function statedGaps(c: { readonly engines: EngineImplementations<ParamSpecs>; readonly gaps?: readonly PartialGap[] }): StatedGap[] {
  return [
    ...DECLARED_ENGINES.flatMap((engine) => {
      const why = unsupportedReason(c, engine);
      return why === undefined ? [] : [{ engine, extent: 'unsupported' as const, what: 'the whole control', why }];
    }),
    ...(c.gaps ?? []).map((g) => ({ engine: g.engine, extent: 'partial' as const, what: g.what, why: g.why })),
  ];
}

export interface ControlDefinition<Id extends string, O extends OptionSpecs, P extends ParamSpecs> {
  readonly id: Id;
  readonly title: string;
  /** One sentence, shown in `list`, annotations and docs. */
  readonly description: string;
  /** Longer text for `explain`: exact semantics, version differences, known gaps. */
  readonly details: string;
  readonly category: string;
  readonly severity: Severity;
  /** NSA/CISA recommendation ids (kubeharden's numbering, e.g. `NSA-POD-5`). */
  readonly nsa: readonly string[];
  readonly pss?: PssInfo;
  /**
   * Why no profile turns this control on, when none does. Otherwise the profiles follow the metadata: a PSS
   * check is in the profiles of its level and above, a control with NSA/CISA ids in nsa-cisa.
   */
  readonly optIn?: string;
  /**
   * Per engine, what implements the control (`rego(…)`, `cel(…)`, `imageVerification(…)`) or why nothing can
   * (`unsupported('…')`). An unsupported engine gets no policy for the control (Gatekeeper: no template or
   * constraint, and no WASM evaluation); the bundle README and the coverage report show the reason, the
   * `unsupported` entry of the control's stated gaps (see `statedGaps`).
   */
  readonly engines: EngineImplementations<P>;
  /**
   * What an engine checks only partly for this control, and why (the coverage report lists them per control
   * and counts the recommendation as partly covered): e.g. writes an engine's webhook is not sent, or objects
   * admission cannot see. Keep `details` saying the same for `explain`.
   */
  readonly gaps?: readonly PartialGap[];
  /** The kinds a non-pod control checks (absent: Pods and workloads). */
  readonly target?: ControlTarget;
  /**
   * The options a config sets for this control (`controls.<id>.options`): name → kind, allowed values and the
   * description `explain` shows; `defaults` gives their values per Kubernetes version.
   */
  readonly options: O;
  defaults(version: KubernetesVersion): OptionsOf<O>;
  /**
   * List options that have no sane default and must be non-empty for the control to run (e.g. the
   * registries of allowed-registries); a group `[a, b]` needs at least one of them. A profile leaves such
   * a control off until they are given.
   */
  readonly requiredOptions?: readonly ((keyof O & string) | readonly (keyof O & string)[])[];
  /**
   * Warnings about valid but risky option values (reported by resolve with the option's path), e.g. a
   * registry prefix without a trailing "/".
   */
  lintOptions?(options: Partial<OptionsOf<O>>): readonly OptionWarning[];
  /** Options the built-in samples are evaluated with, over the defaults (only where a required option has none). */
  readonly sampleOptions?: Partial<OptionsOf<O>>;
  readonly params: P;
  /**
   * Set when the control's parameters depend on the Pod Security Admission enforce level the bundle gives
   * each scope (the level of its psa/ labels): `lower` then receives it as `context.level`.
   */
  readonly followsPssLevel?: boolean;
  /**
   * The mode a profile gives this control where the config's `defaultMode` is `enforce` (absent: `enforce`):
   * `warn` for a finding that should be shown, not block, unless the user sets the control to `enforce`. A
   * `defaultMode` of `audit` or `warn` applies to it as to every control; a mode set for the control wins.
   */
  readonly defaultMode?: Mode;
  /**
   * Set for a control defined in the config (`customControls`, src/custom/control.ts): it exists only while
   * that config is compiled or evaluated (see `withControls` in src/controls/index.ts).
   */
  readonly custom?: CustomInfo;
  /** Options + target version (+ the scope's PSS level, see followsPssLevel) → engine-neutral parameters. */
  lower(options: OptionsOf<O>, version: KubernetesVersion, context?: LowerContext): ParamsOf<P>;
  readonly samples: readonly Sample[];
}

export type AnyControl = ControlDefinition<string, OptionSpecs, ParamSpecs>;

/** What a custom control keeps of its definition beyond the engine implementations. */
export interface CustomInfo {
  /** Pods and every workload controller's pod template (`match: { workloads: true }`), or only the listed kinds. */
  readonly workloads: boolean;
  /** The profiles that turn it on (none: only the config's `controls` does). */
  readonly profiles: readonly string[];
  /** Whether the check holds for an object, with these option lists (evaluated in Node: src/custom/evaluate.ts). */
  holds(object: unknown, options: Readonly<Record<string, readonly string[]>>): boolean;
}

/** The option fields of a control without options or parameters (spread into its definition). */
export const NO_OPTIONS = {
  options: {},
  defaults: () => ({}),
  params: {},
  lower: () => ({}),
} as const;

/**
 * Keeps the literal types of a control definition, and checks when the definition loads that the Rego
 * template it declares exists (an error naming the control and the file, not a failed read at render time).
 */
export function defineControl<const Id extends string, const O extends OptionSpecs, const P extends ParamSpecs>(
  def: ControlDefinition<Id, O, P>,
): ControlDefinition<Id, O, P> {
  const g = def.engines.gatekeeper;
  if (g.kind === 'rego' && !existsSync(g.file)) {
    throw new Error(`control ${def.id}: engines.gatekeeper names the Rego template ${g.file}, which does not exist`);
  }
  return def;
}

/** The kinds a control checks, or undefined for a pod control (Pods and workloads). */
export function targetKinds(c: Pick<AnyControl, 'target'>): readonly ResourceKind[] | undefined {
  return c.target?.kinds;
}

/**
 * Whether exceptions by image apply to a control: pod controls, whose checks go container by container. Not
 * to controls of other kinds, nor to custom controls (their check is not per container: the config refuses
 * image exceptions for them), so their templates and rules carry no `exemptImages`.
 */
export function takesImageExceptions(c: Pick<AnyControl, 'target' | 'custom'>): boolean {
  return !targetKinds(c) && !c.custom;
}

/**
 * False for a control whose check needs an outside service (verify-image-signatures: the registry): it has
 * no samples and stays out of the offline suites (the bundle's engine suites, `kubeharden test`, audits).
 */
export function checkableOffline(c: Pick<AnyControl, 'samples'>): boolean {
  return c.samples.length > 0;
}

/** True for a control that checks Pods (and workloads through auto-gen/expansion). */
export function isPodControl(c: Pick<AnyControl, 'target'>): boolean {
  return c.target === undefined;
}
