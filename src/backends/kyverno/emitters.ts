/**
 * The CEL check of every control, with the same semantics as the control's Gatekeeper Rego template
 * (templates/gatekeeper/<id>.rego.hbs and lib.rego.hbs): same parameters, pod level and container level
 * checked independently, init/regular/ephemeral containers, Windows and user-namespace relaxations, image
 * exemptions, absent ≡ null.
 *
 * Conventions:
 * - The pod spec is read through `object.spec` only, never `object.?spec`, so that Kyverno autogen rewrites
 *   the path for workload controllers (`object.spec.template.spec`, CronJob
 *   `object.spec.jobTemplate.spec.template.spec`). Pod metadata is the exception (see POD_METADATA).
 * - Kyverno reports an expression that fails to evaluate as a violation, so no expression may fail on a
 *   valid object: every optional field is read with `.?`.
 * - `x.?a.?b.orValue(d)` reads like Rego's `object.get(x, ["a", "b"], d)`: the default when a step is
 *   absent, null or not a map, the stored value (possibly null) otherwise. Comparisons are written so that
 *   null behaves like Rego's null (`== true`, `!= false`, `!= null && != ''`, ...); lists and maps that are
 *   iterated go through `listOr` / `mapOr` so that null or mistyped values read as empty.
 * - Parameters arrive as CEL literals in variables named after the parameter (`variables.allowedTypes`),
 *   image exemptions in `variables.exemptImages`; the shared variables below are added to a rule only
 *   when its expressions use them.
 */
import type { ControlId, Controls } from '../../controls/index.js';
import type { ParamsOf } from '../../controls/types.js';
import type { Unsupported } from '../types.js';
import { celString, listOr, mapOr } from './cel.js';
import type { CelCheck, CelValidation, CelVariable, ImageVerificationCheck } from './types.js';
import { verifyImagesCheck } from './verify-images.js';
import { serviceEmitters } from './emitters-services.js';
import { namespaceEmitters } from './emitters-namespaces.js';
import { rbacRoleEmitters } from './emitters-rbac-roles.js';
import { rbacBindingEmitters } from './emitters-rbac-bindings.js';
import { CANONICAL_PATH } from '../../config/allow.js';

const LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** True when container `c` has a string image matching an exemption (exact, or a prefix ending in `*`). */
function exempt(c: string): string {
  return (
    `type(${c}.?image.orValue(null)) == string && variables.exemptImages.exists(p, p == ${c}.image || ` +
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
const SKIP_UPDATE = (() => {
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
function exemptRef(r: string): string {
  return `variables.exemptImages.exists(p, p == ${r} || (p.endsWith('*') && ${r}.startsWith(p.substring(0, size(p) - 1))))`;
}

/** String `s` matches pattern `p` (exact, or a prefix ending in `*`). */
const patternMatches = (p: string, s: string): string => `(${p} == ${s} || (${p}.endsWith('*') && ${s}.startsWith(${p}.substring(0, size(${p}) - 1))))`;

/**
 * The reviewed object's own name: the Pod's, or the workload's for auto-gen rules (no `object.metadata`
 * in the text, so auto-gen does not rewrite it to the template's metadata).
 */
const OBJECT_NAME = "(type(object.?metadata.?name.orValue(null)) == string ? object.?metadata.?name.orValue('') : '')";

/** Allowance `a` (an entry of `variables.allowances`) has neither images nor names: it covers its whole scope. */
const allowanceUnscoped = (a: string): string => `(!has(${a}.images) && !has(${a}.names))`;
const allowanceNamed = (a: string): string => `${a}.?names.orValue([]).exists(p, ${patternMatches('p', 'variables.objectName')})`;
const allowanceImage = (a: string, c: string): string =>
  `(type(${c}.?image.orValue(null)) == string && ${a}.?images.orValue([]).exists(p, ${patternMatches('p', `${c}.image`)}))`;

/** `value` is allowed under `key` for container `c` by an exception with `allow` (lib.rego.hbs allowed_for_container). */
function allowedForContainer(key: string, value: string, c: string): string {
  return `variables.allowances.exists(w, (${allowanceUnscoped('w')} || ${allowanceNamed('w')} || ${allowanceImage('w', c)}) && ${value} in w.?${key}.orValue([]))`;
}

/** `value` is allowed under `key` for the pod as a whole (lib.rego.hbs allowed_for_pod). */
function allowedForPod(key: string, value: string): string {
  return `variables.podAllowances.exists(w, ${value} in w.?${key}.orValue([]))`;
}

/** Host port `port` is in a range an exception with allow.hostPorts gives container `c` (restrict-host-ports.rego.hbs). */
function hostPortAllowedFor(port: string, c: string): string {
  return (
    `variables.allowances.exists(w, (${allowanceUnscoped('w')} || ${allowanceNamed('w')} || ${allowanceImage('w', c)}) && ` +
    `w.?hostPorts.orValue([]).exists(r, ${port} >= r.min && ${port} <= r.max))`
  );
}

/**
 * hostPath volume source `h` names a path an exception with allow.hostPaths lets the pod mount: exactly, or below
 * a directory written `<dir>/*`, and only in canonical form (disallow-host-path.rego.hbs `allowed_by_exception`).
 */
function hostPathAllowed(h: string): string {
  const path = `${h}.?path.orValue(null)`;
  return (
    `(type(${h}) == map && type(${path}) == string && ${path}.matches(${celString(CANONICAL_PATH)}) && ` +
    `variables.podAllowances.exists(w, w.?hostPaths.orValue([]).exists(p, p == ${path} || ` +
    `(p.endsWith('/*') && ${path}.startsWith(p.substring(0, size(p) - 1))))))`
  );
}

/**
 * Variables shared by the controls (lib.rego.hbs), in dependency order. A rule gets the ones its
 * expressions reference, directly or through another variable.
 */
export const SHARED_VARIABLES: readonly CelVariable[] = [
  // Every container, in the order Pod Security Admission visits them.
  {
    name: 'containers',
    expression: `(${LISTS.map((l) => listOr(`object.spec.?${l}.orValue([])`)).join(' + ')}).filter(c, type(c) == map)`,
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
  // or the reference itself is excepted (lib.rego.hbs `images`).
  {
    name: 'images',
    expression:
      `variables.checked.filter(c, type(c.?image.orValue(null)) == string && c.image != '').map(c, c.image) + ` +
      `(variables.podExempt ? [] : ${listOr('object.spec.?volumes.orValue([])')}.filter(v, type(v) == map && ` +
      `type(v.?image.?reference.orValue(null)) == string && v.image.reference != '' && !(${exemptRef('v.image.reference')})).map(v, v.image.reference))`,
  },
];

const POD_SC = 'object.spec.?securityContext';

/**
 * The pod's metadata as an optional, by kind. This is the one place that does not rely on autogen's
 * rewriting: autogen turns `object.metadata` into `object.spec.template.metadata` (CronJob:
 * `object.spec.jobTemplate.spec.template.metadata`), a strict selection that fails when the template has
 * no metadata (common in CronJobs), and Kyverno reports a failed evaluation as a violation. The text
 * below contains neither `object.metadata` nor `object.spec`, so autogen leaves it alone.
 */
const POD_METADATA =
  "(object.kind == 'Pod' ? object.?metadata : object.kind == 'CronJob' ? object.?spec.?jobTemplate.?spec.?template.?metadata : object.?spec.?template.?metadata)";
/** The optional chain of a field in container `c`'s securityContext. */
const sc = (c: string, path: string): string => `${c}.?securityContext.?${path}`;
/** A container that sets a /proc mount type other than Default (both procMount controls). */
const nonDefaultProcMount = (c: string): string => `${sc(c, 'procMount')}.orValue(null) != null && ${sc(c, 'procMount')}.orValue(null) != 'Default'`;
/** User-namespace relaxation (PSS v1.35): the boolean parameter and `spec.hostUsers: false`. */
const RELAXED = '(variables.userNamespaceRelaxation == true && variables.userNamespaced)';

/** A pod-level check: passes when `ok` holds or the pod is image-exempt; `unless` relaxes it entirely. */
function podCheck(ok: string, message: string, unless: readonly string[] = []): CelValidation {
  return { expression: [...unless, 'variables.podExempt', ok].join(' || '), message };
}

/**
 * A container-level check over the non-exempt containers: fails when `bad(c)` holds for one of them.
 * The message expression names the offending containers.
 */
function containerCheck(bad: (c: string) => string, mustText: string, unless: readonly string[] = []): CelValidation {
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
function imageCheck(bad: (i: string) => string, mustText: string): CelValidation {
  const refs = `variables.images.filter(i, ${bad('i')}).map(i, '"' + i + '"').join(', ')`;
  return {
    expression: `!variables.images.exists(i, ${bad('i')})`,
    message: `Images ${mustText}.`,
    messageExpression: `${celString('image(s) ')} + ${refs} + ${celString(` ${mustText}.`)}`,
  };
}

/**
 * The reference as the container runtime reads it (allowed-registries.rego.hbs `canonical`): names whose
 * first path component is not a host are on Docker Hub, single-component ones under library/.
 */
const canonicalImage = (i: string): string =>
  `(!${i}.contains('/') ? 'docker.io/library/' + ${i} : ${i}.matches('^docker[.]io/[^/]*$') ? 'docker.io/library/' + ${i}.substring(10) : ` +
  `${i}.matches('^([^/]*[.:][^/]*|localhost)/') ? ${i} : 'docker.io/' + ${i})`;

/** A resources field of container `c` named by the string `r` (one of RESOURCE_FIELDS). */
const resourceField = (c: string, r: string): string =>
  `(${r} == 'requests.cpu' ? ${c}.?resources.?requests.?cpu : ${r} == 'requests.memory' ? ${c}.?resources.?requests.?memory : ` +
  `${r} == 'limits.cpu' ? ${c}.?resources.?limits.?cpu : ${c}.?resources.?limits.?memory).orValue(null)`;

/** A Secret name allowed by `variables.allowedSecrets` (exact, or a prefix ending in `*`). */
const allowedSecret = (n: string): string =>
  `(type(${n}) == string && variables.allowedSecrets.exists(p, p == ${n} || (p.endsWith('*') && ${n}.startsWith(p.substring(0, size(p) - 1)))))`;

/**
 * The namespace of the object under review: its own, for workloads too (not the pod template's, which has
 * none); none counts as default. Like POD_METADATA, the text avoids `object.metadata` so autogen leaves it.
 */
const OBJECT_NAMESPACE: CelVariable = {
  name: 'objectNamespace',
  expression: `object.?metadata.?namespace.orValue('') == '' ? 'default' : object.?metadata.?namespace.orValue('')`,
};

/** A string-ish value that is set: not absent, not null, not empty (Rego: `v != null; v != ""`). */
const nonEmpty = (v: string): string => `(${v} != null && ${v} != '')`;

const PROBE_HANDLERS = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle.?postStart', 'lifecycle.?preStop'];

/**
 * SELinux options that are not allowed: any user or role, or a type outside the list and not `excepted` (each
 * may be ""); `excepted(type)` is the check for types an exception with allow.seLinuxTypes lets through.
 */
function badSelinux(opts: string, excepted: (type: string) => string): string {
  const user = `${opts}.?user.orValue('')`;
  const role = `${opts}.?role.orValue('')`;
  const type = `${opts}.?type.orValue('')`;
  return `(${nonEmpty(user)} || ${nonEmpty(role)} || (${nonEmpty(type)} && !(${type} in variables.allowedTypes) && !(${excepted(type)})))`;
}

/**
 * AppArmor annotation values that are allowed for the allowed profile types, or for the types an exception
 * with allow.appArmorTypes gives the pod as a whole (restrict-apparmor.rego.hbs `annotation_allowed`).
 */
function apparmorAnnotationAllowed(v: string): string {
  const allowed = (t: string): string => `(${celString(t)} in variables.allowedTypes || ${allowedForPod('appArmorTypes', celString(t))})`;
  return (
    `(${v} == '' || (${v} == 'runtime/default' && ${allowed('RuntimeDefault')}) || ` +
    `(type(${v}) == string && ${v}.startsWith('localhost/') && ${allowed('Localhost')}) || ` +
    `(${v} == 'unconfined' && ${allowed('Unconfined')}))`
  );
}

/** Container `c` sets a seccomp profile whose type is neither allowed nor let through by an exception with allow.seccompTypes. */
const seccompTypeBad = (c: string): string =>
  `${sc(c, 'seccompProfile')}.orValue(null) != null && !(${sc(c, 'seccompProfile.?type')}.orValue('') in variables.allowedTypes) && ` +
  `!(${allowedForContainer('seccompTypes', `${sc(c, 'seccompProfile.?type')}.orValue('')`, c)})`;

/** A capability list (`add` / `drop`) of container `c`. */
const capabilities = (c: string, which: 'add' | 'drop'): string => listOr(`${sc(c, `capabilities.?${which}`)}.orValue([])`);

export type Emitter<K extends ControlId> = (params: ParamsOf<Controls[K]['params']>) => CelCheck | ImageVerificationCheck | Unsupported;

/** One entry per control: a missing control is a compile error. */
export const emitters: { [K in ControlId]: Emitter<K> } = {
  'disallow-host-process': () => ({
    message: 'Windows HostProcess is not allowed (windowsOptions.hostProcess must be unset or false).',
    expressions: [
      podCheck(`${POD_SC}.?windowsOptions.?hostProcess.orValue(false) != true`, 'The pod must not set spec.securityContext.windowsOptions.hostProcess to true.'),
      containerCheck((c) => `${sc(c, 'windowsOptions.?hostProcess')}.orValue(false) == true`, 'must not set securityContext.windowsOptions.hostProcess to true'),
    ],
  }),

  'disallow-host-namespaces': () => ({
    message: 'Sharing the host network, PID or IPC namespace is not allowed.',
    expressions: (['hostNetwork', 'hostPID', 'hostIPC'] as const).map((f) =>
      podCheck(`object.spec.?${f}.orValue(false) != true`, `The pod must not set spec.${f} to true.`, [allowedForPod('hostNamespaces', celString(f))]),
    ),
  }),

  'disallow-privileged-containers': () => ({
    message: 'Privileged containers are not allowed.',
    expressions: [containerCheck((c) => `${sc(c, 'privileged')}.orValue(false) == true`, 'must not set securityContext.privileged to true')],
  }),

  'restrict-capabilities-baseline': () => ({
    message: 'Containers may only add capabilities from the allowed list.',
    expressions: [
      containerCheck(
        (c) => `${capabilities(c, 'add')}.exists(a, !(a in variables.allowedCapabilities) && !(${allowedForContainer('capabilities', 'a', c)}))`,
        'must not add capabilities outside the allowed list',
      ),
    ],
  }),

  'disallow-host-path': () => ({
    message: 'hostPath volumes are not allowed.',
    expressions: [
      podCheck(
        `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && v.?hostPath.orValue(null) != null && !${hostPathAllowed('v.hostPath')})`,
        'The pod must not use hostPath volumes.',
      ),
    ],
  }),

  'restrict-host-ports': () => ({
    message: 'Host ports are not allowed (hostPort must be unset or 0, or in an allowed range).',
    expressions: [
      containerCheck(
        (c) =>
          `${listOr(`${c}.?ports.orValue([])`)}.exists(p, type(p) == map && p.?hostPort.orValue(0) != null && p.?hostPort.orValue(0) != 0 && ` +
          `!variables.allowedRanges.exists(r, p.hostPort >= r.min && p.hostPort <= r.max) && !${hostPortAllowedFor('p.hostPort', c)})`,
        'must not use host ports outside the allowed ranges',
      ),
    ],
  }),

  'restrict-probe-lifecycle-host': () => ({
    message: 'Probes and lifecycle handlers must not set httpGet.host or tcpSocket.host.',
    expressions: [
      containerCheck(
        (c) =>
          `[${PROBE_HANDLERS.flatMap((h) => ['httpGet', 'tcpSocket'].map((a) => `${c}.?${h}.?${a}.?host.orValue('')`)).join(', ')}]` +
          `.exists(h, ${nonEmpty('h')})`,
        'must not set a host in probes or lifecycle handlers (httpGet.host, tcpSocket.host)',
      ),
    ],
  }),

  'restrict-apparmor': () => ({
    message: 'AppArmor profiles must be of an allowed type where set.',
    variables: [
      { name: 'podMetadata', expression: `${POD_METADATA}.orValue({})` },
      { name: 'annotations', expression: mapOr('variables.podMetadata.?annotations.orValue({})') },
    ],
    expressions: [
      podCheck(
        `!variables.annotations.exists(k, type(k) == string && k.startsWith('container.apparmor.security.beta.kubernetes.io/') && ` +
          `!${apparmorAnnotationAllowed('variables.annotations[k]')})`,
        'The pod must not set AppArmor annotations (container.apparmor.security.beta.kubernetes.io/*) to a disallowed profile.',
      ),
      podCheck(
        `${POD_SC}.?appArmorProfile.?type.orValue(null) == null || ${POD_SC}.?appArmorProfile.?type.orValue(null) in variables.allowedTypes || ` +
          allowedForPod('appArmorTypes', `${POD_SC}.?appArmorProfile.?type.orValue(null)`),
        'The pod must not set spec.securityContext.appArmorProfile.type to a disallowed type.',
        ['variables.checkFields != true'],
      ),
      containerCheck(
        (c) =>
          `${sc(c, 'appArmorProfile.?type')}.orValue(null) != null && !(${sc(c, 'appArmorProfile.?type')}.orValue(null) in variables.allowedTypes) && ` +
          `!(${allowedForContainer('appArmorTypes', `${sc(c, 'appArmorProfile.?type')}.orValue(null)`, c)})`,
        'must not set securityContext.appArmorProfile.type to a disallowed type',
        ['variables.checkFields != true'],
      ),
    ],
  }),

  'restrict-selinux': () => ({
    message: 'SELinux options must use an allowed type and no custom user or role.',
    expressions: [
      podCheck(`!${badSelinux(`${POD_SC}.?seLinuxOptions`, (t) => allowedForPod('seLinuxTypes', t))}`, 'The pod must not set spec.securityContext.seLinuxOptions to a disallowed type, or any user or role.'),
      containerCheck((c) => badSelinux(sc(c, 'seLinuxOptions'), (t) => allowedForContainer('seLinuxTypes', t, c)), 'must not set securityContext.seLinuxOptions to a disallowed type, or any user or role'),
    ],
  }),

  'restrict-proc-mount': () => ({
    message: 'Containers must use the Default /proc mount.',
    expressions: [
      containerCheck(nonDefaultProcMount, 'must not set securityContext.procMount to a value other than Default', [RELAXED]),
    ],
  }),

  'restrict-seccomp': () => ({
    message: 'Seccomp profiles must be of an allowed type where set.',
    expressions: [
      podCheck(
        `${POD_SC}.?seccompProfile.orValue(null) == null || ${POD_SC}.?seccompProfile.?type.orValue('') in variables.allowedTypes || ` +
          allowedForPod('seccompTypes', `${POD_SC}.?seccompProfile.?type.orValue('')`),
        'The pod must not set spec.securityContext.seccompProfile.type to a disallowed type.',
      ),
      containerCheck((c) => seccompTypeBad(c), 'must not set securityContext.seccompProfile.type to a disallowed type'),
    ],
  }),

  'restrict-sysctls': () => ({
    message: 'Only allowed sysctls may be set.',
    expressions: [
      podCheck(
        `!${listOr(`${POD_SC}.?sysctls.orValue([])`)}.exists(s, type(s) == map && !(s.?name.orValue('') in variables.allowedSysctls) && !(${allowedForPod('sysctls', "s.?name.orValue('')")}))`,
        'The pod must not set sysctls outside the allowed list.',
      ),
    ],
  }),

  'restrict-volume-types': () => ({
    message: 'Only allowed volume types may be used.',
    expressions: [
      podCheck(
        `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && ` +
          `v.exists(k, k != 'name' && v[k] != null && !(k in variables.allowedVolumeTypes) && !(${allowedForPod('volumeTypes', 'k')})))`,
        'The pod must not use volume types outside the allowed list.',
      ),
    ],
  }),

  'disallow-privilege-escalation': () => ({
    message: 'Containers must set securityContext.allowPrivilegeEscalation to false.',
    expressions: [
      containerCheck((c) => `${sc(c, 'allowPrivilegeEscalation')}.orValue(true) != false`, 'must set securityContext.allowPrivilegeEscalation to false', [
        'variables.windows',
      ]),
    ],
  }),

  'require-run-as-non-root': () => ({
    message: 'Containers must run with runAsNonRoot: true (set on the pod or on every container).',
    expressions: [
      podCheck(`${POD_SC}.?runAsNonRoot.orValue(null) != false`, 'The pod must not set spec.securityContext.runAsNonRoot to false.', [RELAXED]),
      containerCheck((c) => `${sc(c, 'runAsNonRoot')}.orValue(null) == false`, 'must not set securityContext.runAsNonRoot to false', [RELAXED]),
      containerCheck((c) => `${sc(c, 'runAsNonRoot')}.orValue(null) == null`, "must set securityContext.runAsNonRoot to true (or the pod's)", [
        RELAXED,
        `${POD_SC}.?runAsNonRoot.orValue(null) == true`,
      ]),
    ],
  }),

  'disallow-run-as-root-user': () => ({
    message: 'Pods and containers must not set runAsUser to 0.',
    expressions: [
      podCheck(`${POD_SC}.?runAsUser.orValue(null) != 0`, 'The pod must not set spec.securityContext.runAsUser to 0.', [RELAXED]),
      containerCheck((c) => `${sc(c, 'runAsUser')}.orValue(null) == 0`, 'must not set securityContext.runAsUser to 0', [RELAXED]),
    ],
  }),

  'require-seccomp-profile': () => ({
    message: 'Every container must run with an allowed seccomp profile (set on the pod or the container).',
    variables: [
      {
        name: 'podProfileValid',
        expression:
          `${POD_SC}.?seccompProfile.orValue(null) != null && (${POD_SC}.?seccompProfile.?type.orValue('') in variables.allowedTypes || ` +
          `${allowedForPod('seccompTypes', `${POD_SC}.?seccompProfile.?type.orValue('')`)})`,
      },
    ],
    expressions: [
      podCheck(
        `${POD_SC}.?seccompProfile.orValue(null) == null || variables.podProfileValid`,
        'The pod must not set spec.securityContext.seccompProfile.type to a disallowed type.',
        ['variables.windows'],
      ),
      containerCheck((c) => seccompTypeBad(c), 'must not set securityContext.seccompProfile.type to a disallowed type', ['variables.windows']),
      containerCheck((c) => `${sc(c, 'seccompProfile')}.orValue(null) == null`, "must set securityContext.seccompProfile.type (or the pod's) to an allowed type", [
        'variables.windows',
        'variables.podProfileValid',
      ]),
    ],
  }),

  'require-drop-all-capabilities': () => ({
    message: 'Containers must drop ALL capabilities and add back only allowed ones.',
    expressions: [
      containerCheck((c) => `!('ALL' in ${capabilities(c, 'drop')})`, 'must drop ALL capabilities (securityContext.capabilities.drop)', ['variables.windows']),
      containerCheck(
        (c) => `${capabilities(c, 'add')}.exists(a, !(a in variables.allowedCapabilities) && !(${allowedForContainer('capabilities', 'a', c)}))`,
        'must not add capabilities outside the allowed list',
        ['variables.windows'],
      ),
    ],
  }),

  'require-default-proc-mount': () => ({
    message: 'Containers must use the Default /proc mount, also in user-namespaced pods.',
    expressions: [
      containerCheck(nonDefaultProcMount, 'must not set securityContext.procMount to a value other than Default'),
    ],
  }),

  'require-non-root-groups': () => ({
    message: 'runAsGroup, fsGroup and supplementalGroups must not be 0.',
    expressions: [
      ...(['runAsGroup', 'fsGroup'] as const).map((f) => podCheck(`${POD_SC}.?${f}.orValue(null) != 0`, `The pod must not set spec.securityContext.${f} to 0.`)),
      podCheck(`!${listOr(`${POD_SC}.?supplementalGroups.orValue([])`)}.exists(g, g == 0)`, 'The pod must not include 0 in spec.securityContext.supplementalGroups.'),
      containerCheck((c) => `${sc(c, 'runAsGroup')}.orValue(null) == 0`, 'must not set securityContext.runAsGroup to 0'),
      containerCheck((c) => `${sc(c, 'runAsGroup')}.orValue(null) == null`, "must set securityContext.runAsGroup (or the pod's) to a non-zero group", [
        'variables.requireSet != true',
        'variables.windows',
        `${POD_SC}.?runAsGroup.orValue(null) != null`,
      ]),
      podCheck(`${POD_SC}.?fsGroup.orValue(null) != null`, 'The pod must set spec.securityContext.fsGroup to a non-zero group.', ['variables.requireSet != true', 'variables.windows']),
    ],
  }),

  'require-readonly-root-fs': () => ({
    message: 'Containers must set securityContext.readOnlyRootFilesystem to true.',
    expressions: [
      containerCheck((c) => `${sc(c, 'readOnlyRootFilesystem')}.orValue(null) != true`, 'must set securityContext.readOnlyRootFilesystem to true', ['variables.windows']),
    ],
  }),

  'disallow-automount-sa-token': () => ({
    message: 'Pods must set spec.automountServiceAccountToken to false.',
    expressions: [
      podCheck('object.spec.?automountServiceAccountToken.orValue(null) == false', 'The pod must set spec.automountServiceAccountToken to false.'),
      // The token mounted explicitly: a projected volume with a serviceAccountToken source (any audience).
      podCheck(
        `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && ` +
          `${listOr('v.?projected.?sources.orValue([])')}.exists(s, type(s) == map && s.?serviceAccountToken.orValue(null) != null))`,
        'The pod must not project a service account token into a volume.',
      ),
    ],
  }),

  'require-drop-net-raw': () => ({
    message: 'Containers must drop NET_RAW (or ALL) and not add it back.',
    expressions: [
      // Runtimes upper-case the names and containerd prepends CAP_: "CAP_NET_RAW" in drop leaves NET_RAW.
      // An exception with allow.capabilities naming NET_RAW lets the container keep it, and add it by that exact name.
      containerCheck(
        (c) => `!${capabilities(c, 'drop')}.exists(d, type(d) == string && d.upperAscii() in ['NET_RAW', 'ALL']) && !(${allowedForContainer('capabilities', "'NET_RAW'", c)})`,
        'must drop NET_RAW (or ALL) in securityContext.capabilities.drop',
        ['variables.windows'],
      ),
      // In add the CAP_ prefix counts too: a runtime that strips it would grant NET_RAW.
      containerCheck(
        (c) =>
          `${capabilities(c, 'add')}.exists(a, type(a) == string && a.upperAscii() in ['NET_RAW', 'ALL', 'CAP_NET_RAW', 'CAP_ALL'] && ` +
          `!(a == 'NET_RAW' && ${allowedForContainer('capabilities', "'NET_RAW'", c)}))`,
        'must not add NET_RAW (or ALL) back in securityContext.capabilities.add',
        ['variables.windows'],
      ),
    ],
  }),

  'block-ephemeral-containers': () => ({
    message: 'Ephemeral containers are not allowed.',
    expressions: [
      {
        expression: `variables.skipUpdate || !${listOr('object.spec.?ephemeralContainers.orValue([])')}.exists(c, type(c) == map && !(${exempt('c')}))`,
        message: 'Ephemeral containers are not allowed.',
      },
    ],
  }),

  'allowed-registries': () => ({
    message: 'Images must come from an allowed registry.',
    expressions: [imageCheck((i) => `!variables.registries.exists(p, ${canonicalImage(i)}.startsWith(p))`, 'must come from an allowed registry')],
  }),

  'disallow-latest-tag': () => ({
    message: 'Images must name a tag other than latest, or a digest.',
    expressions: [
      imageCheck((i) => `${i}.matches('(^|/)[^/@:]+:latest(@|$)')`, 'must not use the latest tag'),
      imageCheck((i) => `!${i}.contains('@') && !${i}.matches('(^|/)[^/@:]+:[^/@:]+$')`, 'must name a tag or a digest'),
    ],
  }),

  'verify-image-signatures': verifyImagesCheck,

  'require-image-digest': () => ({
    message: 'Images must be pinned by digest (@sha256:<64 hex digits>).',
    expressions: [imageCheck((i) => `!${i}.matches('@sha256:[a-f0-9]{64}$')`, 'must be pinned by digest (@sha256:<64 hex digits>)')],
  }),

  'require-resource-limits-requests': () => ({
    message: 'Containers must set the required resource requests and limits.',
    variables: [
      // Regular and init containers only: ephemeral containers cannot set resources.
      {
        name: 'resourceContainers',
        expression:
          `variables.skipUpdate ? [] : (${listOr('object.spec.?initContainers.orValue([])')} + ${listOr('object.spec.?containers.orValue([])')})` +
          `.filter(c, type(c) == map && !(${exempt('c')}))`,
      },
    ],
    expressions: [
      {
        expression: `!variables.resourceContainers.exists(c, variables.required.exists(r, !${nonEmpty(resourceField('c', 'r'))}))`,
        message: 'Containers must set the required resource requests and limits.',
        messageExpression:
          `${celString('container(s) ')} + variables.resourceContainers.filter(c, variables.required.exists(r, !${nonEmpty(resourceField('c', 'r'))}))` +
          `.map(c, '"' + c.?name.orValue('') + '"').join(', ') + ${celString(' must set resources ')} + variables.required.join(', ') + '.'`,
      },
    ],
  }),

  'disallow-secrets-in-env-vars': () => ({
    message: 'Containers must not read Secrets into environment variables.',
    expressions: [
      containerCheck(
        (c) =>
          `(${listOr(`${c}.?env.orValue([])`)}.exists(e, type(e) == map && type(e.?valueFrom.?secretKeyRef.orValue(null)) == map && ` +
          `!${allowedSecret('e.valueFrom.secretKeyRef.?name.orValue(null)')}) || ` +
          `${listOr(`${c}.?envFrom.orValue([])`)}.exists(e, type(e) == map && type(e.?secretRef.orValue(null)) == map && ` +
          `!${allowedSecret('e.secretRef.?name.orValue(null)')}))`,
        'must not read Secrets into environment variables (env secretKeyRef, envFrom secretRef)',
      ),
    ],
  }),

  'disallow-default-namespace': () => ({
    message: 'Pods and workloads must not be created in the default namespace.',
    variables: [OBJECT_NAMESPACE],
    expressions: [podCheck('!(variables.objectNamespace in variables.namespaces)', 'Pods and workloads must not be created in a disallowed namespace.')],
  }),

  ...serviceEmitters,
  ...namespaceEmitters,
  ...rbacRoleEmitters,
  ...rbacBindingEmitters,
};
