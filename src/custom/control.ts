/**
 * Custom controls: a control written in the config (`customControls: [defineControl({...})]`) with the check
 * expression builder of src/custom/expr.ts, turned into a control definition of the same shape as the
 * built-in ones (src/controls/types.ts), so every backend, the WASM evaluator, the engine suites, the README,
 * the report, `list` and `explain` treat it as they treat a built-in control.
 *
 * - Gatekeeper: a Rego module written from the check (`regoTerm`), reading the options from the Constraint's
 *   parameters and honouring exceptions by name (the shared library's `name_exempt`); the CEL block (config
 *   `gatekeeper.engines`) is the Kyverno check read through Gatekeeper's parameters, as for built-ins.
 * - Kyverno and ValidatingAdmissionPolicies: one CEL validation, options read as `variables.<option>` (literal
 *   lists per instance, written by the backends as for built-ins).
 * - `match: { workloads: true }`: Pods, and every workload controller judged by its pod template. Gatekeeper
 *   sees workloads as the Pods its ExpansionTemplates make of them, so its Rego reads the object as it is. The
 *   CEL targets get no such expansion (Kyverno's autogen only rewrites the text `object.spec` /
 *   `object.metadata`, which the builder's null-safe output never contains; VAP has no autogen): their CEL
 *   chooses, by the reviewed object's `kind`, the check with every path moved into the pod template
 *   (`spec.template`, CronJob `spec.jobTemplate.spec.template`) or the check as written (a Pod). The object
 *   is read untyped (`dyn(object)`), so the API server's TypeChecker checks no path of the branches a kind
 *   cannot take. Paths must name pod template fields (`spec…`, `metadata.labels…`, `metadata.annotations…`):
 *   a Pod's name, namespace or owner references are not in a template.
 * - Every CREATE and UPDATE is checked whole (no old-object comparison, no Pod Security Admission update
 *   rule): a label removed by an UPDATE is denied like a Pod created without it.
 * - Exceptions: by name and by namespace (no image exceptions: a custom check is no per-container check).
 *
 * Nothing here registers anything: the config's custom controls are in force only while that config is
 * resolved, compiled or evaluated (`withControls`, src/controls/index.ts).
 */
import { checkText, elementNames, rebase, rootPaths, type Expr } from './ast.js';
import { celTerm } from './cel.js';
import { and, not, oneOf, or, str } from './expr.js';
import { evaluate } from './evaluate.js';
import { regoString, regoTerm } from './rego.js';
import { cel, type AnyControl, type Manifest, type ResourceKind, type Severity } from '../controls/types.js';
import type { OptionSpecs } from '../controls/options.js';
import { PROFILE_NAMES, type ProfileName } from '../config/types.js';

import { CUSTOM_KINDS, type CustomKind } from './kinds.js';
import { POD_TEMPLATE_PATH, podTemplateKindOf } from '../lang/cel/pod-template.js';
import { WORKLOAD_KINDS, type WorkloadKind } from '../eval/review.js';

export { CUSTOM_KINDS, type CustomKind } from './kinds.js';

/** The workload controllers a `workloads: true` control judges by their pod template, and where it sits. */
export const WORKLOAD_TEMPLATES: Readonly<Record<WorkloadKind, readonly string[]>> = Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, POD_TEMPLATE_PATH[podTemplateKindOf(k)]])) as Record<WorkloadKind, readonly string[]>;

/** A sample of a custom control: an object and the verdict the check must give it. */
export interface CustomSample {
  /** Unique within the control, kebab-case. */
  readonly name: string;
  readonly expect: 'allow' | 'deny';
  /**
   * The object as submitted, with `apiVersion`, `kind` and `metadata.name`: for `workloads: true` a Pod (the
   * suites also wrap it into every workload controller) or a workload controller (checked as it is); for
   * `kinds`, an object of one of them.
   */
  readonly object: Manifest;
  /**
   * For an object the Kubernetes API server itself refuses as invalid (a label value that is a number, a
   * list where a string belongs): a part of its message. `kubeharden test --engine apiserver` then expects
   * that refusal instead of an admission verdict; the policy engines still judge the object (an older or
   * unvalidated server, or a manifest audited offline).
   */
  readonly apiServerRejects?: string;
}

/** One option of a custom control: a list of strings, with its default. */
export interface CustomOption {
  /** What the option means (`kubeharden explain`). */
  readonly description: string;
  /** Its value when the config sets none. */
  readonly default: readonly string[];
}

/** What a custom control checks: listed kinds, or Pods and every workload controller's pod template. */
export type CustomMatch = { readonly kinds: readonly [CustomKind, ...CustomKind[]]; readonly workloads?: undefined } | { readonly workloads: true; readonly kinds?: undefined };

/** The definition of a custom control (the argument of `defineControl`). */
export interface CustomControlDefinition<Id extends string, O extends string> {
  /** The control id: kebab-case, not a built-in id. */
  readonly id: Id;
  readonly title: string;
  /** One sentence, shown in `list`, annotations and docs. */
  readonly description: string;
  /** Longer text for `explain` (default: the description). */
  readonly details?: string;
  readonly severity: Severity;
  /** NSA/CISA recommendation ids it implements (e.g. `NSA-POD-3`); they count in the coverage report. */
  readonly nsa?: readonly string[];
  /**
   * The profiles that turn it on (a config with one of them has the control in its default mode unless its
   * `controls` says otherwise); default: none, so it is on only where the config's `controls` sets it.
   */
  readonly profiles?: readonly ProfileName[];
  readonly match: CustomMatch;
  /** The options the check reads (`option(name)`): lists of strings, with their defaults. */
  readonly options?: { readonly [K in O]: CustomOption };
  /**
   * The option values the samples are judged with (at build time, by `kubeharden test` and in the bundle's
   * engine suites), over the defaults: e.g. the teams of a team-label check whose default list is empty.
   */
  readonly sampleOptions?: { readonly [K in O]?: readonly string[] };
  /** The message of a violation. */
  readonly message: string;
  /** What must hold for an object to pass (a boolean expression of src/custom/expr.ts). */
  readonly check: Expr<'bool', NoInfer<O>>;
  /** Objects with the verdict the check must give them (at least one allowed and one denied). */
  readonly samples: readonly CustomSample[];
}

/** A custom control: a control definition the config's `customControls` takes, with its id and option names as types. */
export type CustomControl<Id extends string = string, O extends string = string> = AnyControl & {
  readonly id: Id;
  /** The option names, for the config's types only (never set). */
  readonly __options?: O;
  /** The definition as given, kept for located diagnostics. */
  readonly definition: CustomControlDefinition<Id, O>;
  /** Set (and nothing but `id` and `definition`) when the definition is malformed: the config build reports it. */
  readonly problem?: CustomControlError;
};

/** Where a custom control's definition is wrong: a key path into the definition and a message. */
export class CustomControlError extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    message: string,
    /** A string literal of the config's source the problem is about (a field path), to locate it more precisely. */
    readonly literal?: string,
  ) {
    super(message);
    this.name = 'CustomControlError';
  }
}

const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const OPTION = /^[a-z][A-Za-z0-9]*$/;
/** CEL variables the backends define beside a control's options (Kyverno, Gatekeeper's CEL block, VAP). */
const RESERVED_OPTIONS = new Set([
  'exemptImages', 'exemptNames', 'allowances', 'params', 'anyObject', 'constraintParams', 'objectNames', 'nameExempt', 'objectName',
  'containers', 'skipUpdate', 'checked', 'podExempt', 'windows', 'podAllowances', 'userNamespaced', 'images', 'object', 'oldObject', 'request',
]);
/** ObjectMeta's fields: a path below `metadata` must name one. */
const OBJECT_META = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The path problem of a root path of a custom check, or undefined (see the module comment). */
function pathProblem(path: readonly string[], workloads: boolean): string | undefined {
  const shown = path.join('.');
  if (path[0] === 'metadata') {
    if (path.length > 1 && !OBJECT_META.has(path[1]!)) return `field path "${shown}": metadata has no field "${path[1]}" (ObjectMeta: ${[...OBJECT_META].join(', ')})`;
    if (workloads && !(path[1] === 'labels' || path[1] === 'annotations'))
      return `field path "${shown}": a workloads control reads the pod template, which carries only metadata.labels and metadata.annotations`;
    return undefined;
  }
  if (workloads && path[0] !== 'spec') return `field path "${shown}": a workloads control reads the pod template: paths start with spec, metadata.labels or metadata.annotations`;
  return undefined;
}

/** The apiVersion of a kind (`v1`, `apps/v1`). */
const apiVersionOf = (k: ResourceKind): string => (k.group ? `${k.group}/${k.version}` : k.version);

/** What a custom control's CEL and Rego read for an option. */
const celOption = (name: string): string => `variables.${name}`;
const regoOption = (name: string): string => `object.get(k.params, ${regoString(name)}, [])`;

/**
 * The check of a `workloads: true` control for the CEL targets: by the reviewed object's kind, the check on
 * the pod template of a workload controller, or on the object itself (a Pod, or Gatekeeper's expanded Pod).
 */
function podViewCheck(check: Expr<'bool', string>): Expr<'bool', string> {
  const kind = str('kind', '');
  const templated = Object.entries(WORKLOAD_TEMPLATES);
  const branches = [...new Set(templated.map(([, p]) => p.join('.')))].map((p) => {
    const kinds = templated.filter(([, q]) => q.join('.') === p).map(([k]) => k);
    return and(oneOf(kind, kinds), rebase(check, p.split('.')));
  });
  const templatedKinds = templated.map(([k]) => k);
  return or(...branches, and(not(oneOf(kind, templatedKinds)), check));
}

/**
 * Defines a custom control for the config's `customControls`. The definition is checked here (ids, options,
 * field paths, samples' shape); the config build then checks that every sample gets the verdict it expects
 * (evaluating the check offline) and reports problems at the definition's file:line:column. Throws
 * CustomControlError for a malformed definition.
 *
 * ```ts
 * defineControl({
 *   id: 'require-team-label', title: 'Require a team label', severity: 'medium',
 *   description: 'Pods must carry the label team with a known team.',
 *   match: { workloads: true },
 *   options: { teams: { description: 'The teams.', default: ['payments'] } },
 *   message: 'Pods must carry the label team with one of the teams.',
 *   check: oneOf(label('team'), option('teams')),
 *   samples: [...],
 * });
 * ```
 */
export function defineControl<const Id extends string, const O extends string = never>(def: CustomControlDefinition<Id, O>): CustomControl<Id, O> {
  try {
    return build(def);
  } catch (e) {
    if (!(e instanceof CustomControlError)) throw e;
    // Reported by the config build at the definition's file:line:column (resolve: customControls).
    return Object.freeze({ id: isObj(def) && typeof def.id === 'string' ? def.id : '', definition: def, problem: e }) as unknown as CustomControl<Id, O>;
  }
}

function build<const Id extends string, const O extends string>(def: CustomControlDefinition<Id, O>): CustomControl<Id, O> {
  if (!isObj(def)) throw new CustomControlError([], 'defineControl takes an object');
  const text = (key: string, v: unknown): string => {
    if (typeof v !== 'string' || v.trim() === '') throw new CustomControlError([key], `${key} must be a non-empty string`);
    return checkText(v, key);
  };
  const id = text('id', def.id);
  if (!ID.test(id) || id.length > 50) throw new CustomControlError(['id'], `id "${id}" must be kebab-case (lower-case letters, digits, "-"), at most 50 characters`);
  const title = text('title', def.title);
  const description = text('description', def.description);
  const message = text('message', def.message);
  if (def.details !== undefined) text('details', def.details);
  if (!['low', 'medium', 'high'].includes(def.severity as string)) throw new CustomControlError(['severity'], 'severity must be low, medium or high');
  const nsa = def.nsa ?? [];
  if (!Array.isArray(nsa) || nsa.some((n) => typeof n !== 'string' || !/^NSA-[A-Z]+-\d+$/.test(n))) throw new CustomControlError(['nsa'], 'nsa must list NSA/CISA recommendation ids such as "NSA-POD-3"');
  const profiles = def.profiles ?? [];
  const profileNames: readonly string[] = PROFILE_NAMES;
  if (!Array.isArray(profiles) || profiles.some((p) => !profileNames.includes(p as string))) throw new CustomControlError(['profiles'], `profiles must list profile names (${profileNames.join(', ')})`);

  // What it matches.
  const match = def.match as unknown;
  if (!isObj(match) || (match['workloads'] === undefined) === (match['kinds'] === undefined)) throw new CustomControlError(['match'], 'match must be { workloads: true } or { kinds: [...] }');
  const workloads = match['workloads'] !== undefined;
  if (workloads && match['workloads'] !== true) throw new CustomControlError(['match', 'workloads'], 'match.workloads must be true (or use match.kinds)');
  let kinds: ResourceKind[] | undefined;
  if (!workloads) {
    const ks = match['kinds'];
    if (!Array.isArray(ks) || ks.length === 0) throw new CustomControlError(['match', 'kinds'], 'match.kinds must list at least one kind');
    kinds = ks.map((k, i) => {
      if (typeof k !== 'string' || !Object.hasOwn(CUSTOM_KINDS, k)) throw new CustomControlError(['match', 'kinds', i], `match.kinds: ${JSON.stringify(k)} is not one of ${Object.keys(CUSTOM_KINDS).join(', ')}`);
      return CUSTOM_KINDS[k as CustomKind];
    });
    if (new Set(kinds).size !== kinds.length) throw new CustomControlError(['match', 'kinds'], 'match.kinds lists a kind twice');
  }

  // Options.
  const options = (def.options ?? {}) as Record<string, CustomOption>;
  if (!isObj(options)) throw new CustomControlError(['options'], 'options must be an object of { description, default }');
  const defaults: Record<string, readonly string[]> = {};
  const specs: Record<string, { kind: 'strings'; description: string }> = {};
  for (const [name, o] of Object.entries(options)) {
    if (!OPTION.test(name) || RESERVED_OPTIONS.has(name)) throw new CustomControlError(['options', name], `option name "${name}" must be camelCase letters and digits, and not one of ${[...RESERVED_OPTIONS].join(', ')}`);
    if (!isObj(o) || typeof o.description !== 'string' || !Array.isArray(o.default) || o.default.some((v) => typeof v !== 'string'))
      throw new CustomControlError(['options', name], `option ${name} must be { description: string, default: string[] }`);
    o.default.forEach((v, i) => checkText(v, `options.${name}.default[${i}]`));
    defaults[name] = [...o.default];
    specs[name] = { kind: 'strings', description: o.description };
  }

  const sampleOptions: Record<string, readonly string[]> = {};
  if (def.sampleOptions !== undefined) {
    if (!isObj(def.sampleOptions)) throw new CustomControlError(['sampleOptions'], 'sampleOptions must be an object of option lists');
    for (const [name, v] of Object.entries(def.sampleOptions as Record<string, unknown>)) {
      if (!Object.hasOwn(specs, name)) throw new CustomControlError(['sampleOptions', name], `sampleOptions.${name}: options declares no option "${name}"`);
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new CustomControlError(['sampleOptions', name], `sampleOptions.${name} must be a list of strings`);
      sampleOptions[name] = v.map((x, i) => checkText(x, `sampleOptions.${name}[${i}]`));
    }
  }

  // The check: a boolean expression reading only declared options and valid paths.
  const check = def.check as Expr<'bool', string>;
  if (!isObj(check) || check.type !== 'bool' || !isObj(check.node)) throw new CustomControlError(['check'], 'check must be a boolean expression of the builder (and(...), oneOf(...), eq(...), …)');
  for (const name of check.options) if (!Object.hasOwn(specs, name)) throw new CustomControlError(['check'], `check reads option "${name}", which options does not declare`, name);
  try {
    elementNames(check.node, String);
  } catch (e) {
    throw new CustomControlError(['check'], (e as Error).message);
  }
  for (const path of rootPaths(check.node)) {
    const problem = pathProblem(path, workloads);
    if (problem) throw new CustomControlError(['check'], problem, path.join('.'));
  }
  const celCheck = workloads ? podViewCheck(check) : check;
  const celExpression = celTerm(celCheck, { object: 'dyn(object)', option: celOption });
  const regoExpression = regoTerm(check, { input: 'k.obj', option: regoOption });

  // Samples: shape only here; their verdicts are checked when the config is built.
  if (!Array.isArray(def.samples)) throw new CustomControlError(['samples'], 'samples must be a list of { name, expect, object }');
  const names = new Set<string>();
  const accepted = workloads ? ['Pod', ...Object.keys(WORKLOAD_TEMPLATES)] : kinds!.map((k) => k.kind);
  def.samples.forEach((s, i) => {
    if (!isObj(s)) throw new CustomControlError(['samples', i], 'a sample is { name, expect, object }');
    if (typeof s.name !== 'string' || !ID.test(s.name)) throw new CustomControlError(['samples', i, 'name'], 'a sample name must be kebab-case');
    if (names.has(s.name)) throw new CustomControlError(['samples', i, 'name'], `sample name "${s.name}" is used twice`);
    names.add(s.name);
    if (s.expect !== 'allow' && s.expect !== 'deny') throw new CustomControlError(['samples', i, 'expect'], 'expect must be "allow" or "deny"');
    const o = s.object as unknown;
    if (!isObj(o)) throw new CustomControlError(['samples', i, 'object'], 'a sample object must be an object');
    if (s.apiServerRejects !== undefined && (typeof s.apiServerRejects !== 'string' || s.apiServerRejects === '')) throw new CustomControlError(['samples', i, 'apiServerRejects'], 'apiServerRejects is a part of the API server\'s message (a non-empty string)');
    const kind = o['kind'];
    if (typeof kind !== 'string' || !accepted.includes(kind)) throw new CustomControlError(['samples', i, 'object'], `the sample object's kind must be one of ${accepted.join(', ')}, got ${JSON.stringify(kind)}`);
    const k = (CUSTOM_KINDS as Record<string, ResourceKind>)[kind] ?? (kind === 'ReplicaSet' ? { group: 'apps', version: 'v1' } : kind === 'ReplicationController' ? { group: '', version: 'v1' } : undefined);
    if (k && o['apiVersion'] !== apiVersionOf(k as ResourceKind)) throw new CustomControlError(['samples', i, 'object'], `a ${kind} sample needs apiVersion "${apiVersionOf(k as ResourceKind)}"`);
    if (!isObj(o['metadata']) || typeof o['metadata']['name'] !== 'string' || !ID.test(o['metadata']['name'])) throw new CustomControlError(['samples', i, 'object'], 'a sample object needs metadata.name (a DNS label)');
  });
  for (const expect of ['allow', 'deny'] as const) {
    if (!def.samples.some((s) => s.expect === expect)) throw new CustomControlError(['samples'], `samples need at least one object the check must ${expect}`);
  }

  const shown = workloads ? 'Pods, and the pod template of every workload controller (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob)' : kinds!.map((k) => k.kind).join(', ');
  const optionText = Object.keys(specs).length ? ` Options: ${Object.entries(specs).map(([n, o]) => `${n} (${o.description} Default: ${JSON.stringify(defaults[n])})`).join('; ')}.` : '';
  const details = `${def.details ?? description}

A custom control (defined in the config with defineControl). It checks ${shown}, on every CREATE and UPDATE
(the whole object, not only what an update changes).${optionText} Exceptions by name and namespace apply;
exceptions by image do not (the check is not per container). The check, as the CEL the Kyverno policies and
ValidatingAdmissionPolicies carry:
${celExpression}`;

  const samples = def.samples.map((s) => ({ name: s.name, expect: s.expect, object: s.object, ...(s.object['kind'] === 'Pod' || !workloads ? {} : { podOnly: true }), ...(s.apiServerRejects !== undefined ? { apiServerRejects: s.apiServerRejects } : {}) }));
  const control: AnyControl = {
    id,
    title,
    description,
    details,
    category: 'Custom controls',
    severity: def.severity,
    nsa: [...nsa],
    ...(profiles.length ? {} : { optIn: 'a custom control in no profile: on where the config sets it in controls' }),
    engines: {
      gatekeeper: {
        kind: 'regoModule',
        render: ({ package: pkg, libPackage }) => `package ${pkg}

import data.${libPackage} as k

# ${title} (custom control ${id}): the check below must hold.
violation contains {"msg": ${regoString(message)}} if {
	not k.name_exempt
	${regoExpression} == false
}
`,
      },
      kyverno: cel({ message, expressions: [{ expression: celExpression, message }] }),
    },
    ...(kinds ? { target: { kinds } } : {}),
    options: specs as OptionSpecs,
    defaults: () => ({ ...defaults }),
    // An option whose default is empty has no sane default: the control cannot be switched on without it.
    requiredOptions: Object.keys(specs).filter((n) => defaults[n]!.length === 0),
    sampleOptions,
    params: Object.fromEntries(Object.keys(specs).map((n) => [n, 'strings' as const])),
    lower: (o) => Object.fromEntries(Object.keys(specs).map((n) => [n, [...((o as Record<string, readonly string[]>)[n] ?? [])]])),
    samples,
    custom: {
      workloads,
      profiles: [...new Set(profiles)],
      holds: (object, opts) => {
        if (!workloads || !isObj(object)) return evaluate(check, object, opts);
        const template = (WORKLOAD_TEMPLATES as Record<string, readonly string[]>)[String(object['kind'])];
        return evaluate(template ? rebase(check, template) : check, object, opts);
      },
    },
  };
  return Object.freeze({ ...control, definition: def }) as unknown as CustomControl<Id, O>;
}

/** Whether `v` was made by `defineControl` (a malformed definition included: see `problem`). */
export function isCustomControl(v: unknown): v is CustomControl {
  return isObj(v) && Object.hasOwn(v, 'definition') && typeof v['id'] === 'string' && (isObj(v['custom']) || v['problem'] instanceof CustomControlError);
}
