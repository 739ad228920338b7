/**
 * What the CEL checks of the pod controls share. Each check (src/controls/<id>/cel.ts) has the same semantics
 * as the Gatekeeper Rego template beside it (gatekeeper.rego.hbs, with templates/gatekeeper/lib.rego.hbs): same
 * parameters, pod level and container level checked independently, init/regular/ephemeral containers, Windows
 * and user-namespace relaxations, image exemptions, absent ≡ null.
 *
 * Conventions:
 * - The pod spec is read through `object.spec` only, never `object.?spec`, so that Kyverno autogen rewrites
 *   the path for workload controllers (`object.spec.template.spec`, CronJob
 *   `object.spec.jobTemplate.spec.template.spec`). Pod metadata is the exception (see restrict-apparmor's POD_METADATA).
 * - Kyverno reports an expression that fails to evaluate as a violation, so no expression may fail on a
 *   valid object: every optional field is read with `.?`.
 * - `x.?a.?b.orValue(d)` reads like Rego's `object.get(x, ["a", "b"], d)`: the default when a step is
 *   absent, null or not a map, the stored value (possibly null) otherwise. Comparisons are written so that
 *   null behaves like Rego's null (`== true`, `!= false`, `!= null && != ''`, ...); lists and maps that are
 *   iterated go through `listOr` / `mapOr` so that null or mistyped values read as empty.
- The same text must type-check where the object is typed (a ValidatingAdmissionPolicy is checked against the
  kinds' OpenAPI schemas), where `object.spec.?securityContext.?runAsUser` is an `optional(int)`: a null
  default is written `orValue(dyn(null))` (an int optional cannot default to a plain `null`), a string that
  may be null is compared with null through `dyn()` (`nonEmpty`), and an object whose keys are ranged over
  is `dyn(v)`. `dyn()` changes nothing at runtime, so Kyverno and gator evaluate exactly what they did.
 * - Parameters arrive as CEL literals in variables named after the parameter (`variables.allowedTypes`),
 *   image exemptions in `variables.exemptImages`; the shared variables below are added to a rule only
 *   when its expressions use them.
 */
import { celString, listOr } from './cel.js';
import type { CelValidation, CelVariable } from './types.js';

export const LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** True when container `c` has a string image matching an exemption (exact, or a prefix ending in `*`). */
export function exempt(c: string): string {
  return (
    `type(${c}.?image.orValue(dyn(null))) == string && variables.exemptImages.exists(p, p == ${c}.image || ` +
    `(p.endsWith('*') && ${c}.image.startsWith(p.substring(0, size(p) - 1))))`
  );
}

/**
 * A Pod UPDATE counts only when it changes a container image, adds or removes a container or init
 * container, adds or changes an ephemeral container, or changes a seccomp annotation (as PSA's
 * isSignificantPodUpdate); metadata-only updates of a Pod that predates a policy pass. Containers are
 * paired by name (the API forbids renaming or reordering them). Only Pods: for workloads `object.kind` is
 * not Pod, and CEL's `&&` then yields false whatever the rest (which autogen rewrites) evaluates to.
 */
export const SKIP_UPDATE = (() => {
  const ann = (o: string, key: string): string => `${o}.?metadata.?annotations[?${key}].orValue('')`;
  const list = (o: string, l: string): string => listOr(`${o}.spec.?${l}.orValue([])`);
  const sameIn = (l: string, c: string): string =>
    `${list('oldObject', l)}.exists(o, type(o) == map && o.?name.orValue('') == ${c}.?name.orValue('') && o.?image.orValue('') == ${c}.?image.orValue(''))`;
  const containerSeccomp = (c: string): string => `'container.seccomp.security.alpha.kubernetes.io/' + string(${c}.?name.orValue(''))`;
  const significant = [
    `${ann('object', "'seccomp.security.alpha.kubernetes.io/pod'")} != ${ann('oldObject', "'seccomp.security.alpha.kubernetes.io/pod'")}`,
    ...['containers', 'initContainers'].map((l) => `size(${list('object', l)}) != size(${list('oldObject', l)})`),
    ...LISTS.map((l) => `${list('object', l)}.exists(c, type(c) == map && !(${sameIn(l, 'c')}))`),
    `variables.containers.exists(c, ${ann('object', containerSeccomp('c'))} != ${ann('oldObject', containerSeccomp('c'))})`,
  ];
  return `object.kind == 'Pod' && oldObject != null && request.operation == 'UPDATE' && type(oldObject) == map && oldObject.?kind.orValue('') == 'Pod' && !(${significant.join(' || ')})`;
})();

/** True when the string `r` matches an image exemption (exact, or a prefix ending in `*`). */
export function exemptRef(r: string): string {
  return `variables.exemptImages.exists(p, p == ${r} || (p.endsWith('*') && ${r}.startsWith(p.substring(0, size(p) - 1))))`;
}

/** String `s` matches pattern `p` (exact, or a prefix ending in `*`). */
export const patternMatches = (p: string, s: string): string => `(${p} == ${s} || (${p}.endsWith('*') && ${s}.startsWith(${p}.substring(0, size(${p}) - 1))))`;

/**
 * The reviewed object's own name: the Pod's, or the workload's for auto-gen rules (no `object.metadata`
 * in the text, so auto-gen does not rewrite it to the template's metadata).
 */
export const OBJECT_NAME = "(type(object.?metadata.?name.orValue(dyn(null))) == string ? object.?metadata.?name.orValue('') : '')";

/** Allowance `a` (an entry of `variables.allowances`) has neither images nor names: it covers its whole scope. */
export const allowanceUnscoped = (a: string): string => `(!has(${a}.images) && !has(${a}.names))`;
export const allowanceNamed = (a: string): string => `${a}.?names.orValue([]).exists(p, ${patternMatches('p', 'variables.objectName')})`;
export const allowanceImage = (a: string, c: string): string =>
  `(type(${c}.?image.orValue(dyn(null))) == string && ${a}.?images.orValue([]).exists(p, ${patternMatches('p', `${c}.image`)}))`;

/** `value` is allowed under `key` for container `c` by an exception with `allow` (lib.rego.hbs allowed_for_container). */
export function allowedForContainer(key: string, value: string, c: string): string {
  return `variables.allowances.exists(w, (${allowanceUnscoped('w')} || ${allowanceNamed('w')} || ${allowanceImage('w', c)}) && ${value} in w.?${key}.orValue([]))`;
}

/** `value` is allowed under `key` for the pod as a whole (lib.rego.hbs allowed_for_pod). */
export function allowedForPod(key: string, value: string): string {
  return `variables.podAllowances.exists(w, ${value} in w.?${key}.orValue([]))`;
}

/**
 * Variables shared by the controls (lib.rego.hbs), in dependency order. A rule gets the ones its
 * expressions reference, directly or through another variable.
 */
export const SHARED_VARIABLES: readonly CelVariable[] = [
  // Every container, in the order Pod Security Admission visits them.
  {
    name: 'containers',
    expression: `(${LISTS.map((l) => `dyn(${listOr(`object.spec.?${l}.orValue([])`)})`).join(' + ')}).filter(c, type(c) == map)`,
  },
  // Pod UPDATEs that Pod Security Admission would not re-evaluate (see SKIP_UPDATE).
  { name: 'skipUpdate', expression: SKIP_UPDATE },
  // Containers whose findings count (not a skipped update, image not exempt).
  { name: 'checked', expression: `variables.skipUpdate ? [] : variables.containers.filter(c, !(${exempt('c')}))` },
  // Pod-level findings do not count in a skipped update, or when the pod has containers and every image is exempt.
  { name: 'podExempt', expression: `variables.skipUpdate || (size(variables.containers) > 0 && variables.containers.all(c, ${exempt('c')}))` },
  { name: 'windows', expression: `object.spec.?os.?name.orValue('') == 'windows'` },
  { name: 'objectName', expression: OBJECT_NAME },
  // Allowances that cover the pod as a whole: unscoped, by name, or by images when every container's image is covered.
  {
    name: 'podAllowances',
    expression:
      `variables.allowances.filter(w, ${allowanceUnscoped('w')} || ${allowanceNamed('w')} || ` +
      `(has(w.images) && size(variables.containers) > 0 && variables.containers.all(c, ${allowanceImage('w', 'c')})))`,
  },
  { name: 'userNamespaced', expression: `object.spec.?hostUsers.orValue(true) == false` },
  // Image references that count: images of checked containers, and image volumes unless the pod is exempt
  // or the reference itself is excepted (lib.rego.hbs `images`). Volumes are read through dyn(v): the image
  // volume source is newer than 1.30, whose typed Volume has no `image` field.
  {
    name: 'images',
    expression:
      `variables.checked.filter(c, type(c.?image.orValue(dyn(null))) == string && c.image != '').map(c, c.image) + ` +
      `(variables.podExempt ? [] : ${listOr('object.spec.?volumes.orValue([])')}.filter(v, type(v) == map && ` +
      `type(dyn(v).?image.?reference.orValue(dyn(null))) == string && dyn(v).image.reference != '' && !(${exemptRef('dyn(v).image.reference')})).map(v, dyn(v).image.reference))`,
  },
];

export const POD_SC = 'object.spec.?securityContext';
/** The optional chain of a field in container `c`'s securityContext. */
export const sc = (c: string, path: string): string => `${c}.?securityContext.?${path}`;
/** A container that sets a /proc mount type other than Default (both procMount controls). */
export const nonDefaultProcMount = (c: string): string => `${sc(c, 'procMount')}.orValue(dyn(null)) != null && ${sc(c, 'procMount')}.orValue(dyn(null)) != 'Default'`;
/** User-namespace relaxation (PSS v1.35): the boolean parameter and `spec.hostUsers: false`. */
export const RELAXED = '(variables.userNamespaceRelaxation == true && variables.userNamespaced)';

/** A pod-level check: passes when `ok` holds or the pod is image-exempt; `unless` relaxes it entirely. */
export function podCheck(ok: string, message: string, unless: readonly string[] = []): CelValidation {
  return { expression: [...unless, 'variables.podExempt', ok].join(' || '), message };
}

/**
 * A container-level check over the non-exempt containers: fails when `bad(c)` holds for one of them.
 * The message expression names the offending containers.
 */
export function containerCheck(bad: (c: string) => string, mustText: string, unless: readonly string[] = []): CelValidation {
  const names = `variables.checked.filter(c, ${bad('c')}).map(c, '"' + c.?name.orValue('') + '"').join(', ')`;
  return {
    expression: [...unless, `!variables.checked.exists(c, ${bad('c')})`].join(' || '),
    message: `Containers ${mustText}.`,
    messageExpression: `${celString('container(s) ')} + ${names} + ${celString(` ${mustText}.`)}`,
  };
}

/**
 * An image-level check over `variables.images`: fails when `bad(i)` holds for one of them. The message
 * expression names the offending images.
 */
export function imageCheck(bad: (i: string) => string, mustText: string): CelValidation {
  const refs = `variables.images.filter(i, ${bad('i')}).map(i, '"' + i + '"').join(', ')`;
  return {
    expression: `!variables.images.exists(i, ${bad('i')})`,
    message: `Images ${mustText}.`,
    messageExpression: `${celString('image(s) ')} + ${refs} + ${celString(` ${mustText}.`)}`,
  };
}

/** A string-ish value that is set: not absent, not null, not empty (Rego: `v != null; v != ""`). */
export const nonEmpty = (v: string): string => `(dyn(${v}) != null && ${v} != '')`;

/** Container `c` sets a seccomp profile whose type is neither allowed nor let through by an exception with allow.seccompTypes. */
export const seccompTypeBad = (c: string): string =>
  `${sc(c, 'seccompProfile')}.orValue(dyn(null)) != null && !(${sc(c, 'seccompProfile.?type')}.orValue('') in variables.allowedTypes) && ` +
  `!(${allowedForContainer('seccompTypes', `${sc(c, 'seccompProfile.?type')}.orValue('')`, c)})`;

/** A capability list (`add` / `drop`) of container `c`. */
export const capabilities = (c: string, which: 'add' | 'drop'): string => listOr(`${sc(c, `capabilities.?${which}`)}.orValue([])`);
