/** The CEL check of restrict-apparmor (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { celString, mapOr } from '../../lang/cel/cel.js';
import { POD_SC, allowedForContainer, allowedForPod, containerCheck, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

/**
 * The pod's metadata as an optional, by kind. This is the one place that does not rely on autogen's
 * rewriting: autogen turns `object.metadata` into `object.spec.template.metadata` (CronJob:
 * `object.spec.jobTemplate.spec.template.metadata`), a strict selection that fails when the template has
 * no metadata (common in CronJobs), and Kyverno reports a failed evaluation as a violation. The text
 * below contains neither `object.metadata` nor `object.spec`, so autogen leaves it alone.
 */
const POD_METADATA =
  "(object.kind == 'Pod' ? dyn(object).?metadata : object.kind == 'CronJob' ? dyn(object).?spec.?jobTemplate.?spec.?template.?metadata : dyn(object).?spec.?template.?metadata)";

/**
 * AppArmor annotation values that are allowed for the allowed profile types, or for the types an exception
 * with allow.appArmorTypes gives the pod as a whole (gatekeeper.rego.hbs `annotation_allowed`).
 */
function apparmorAnnotationAllowed(v: string): string {
  const allowed = (t: string): string => `(${celString(t)} in variables.allowedTypes || ${allowedForPod('appArmorTypes', celString(t))})`;
  return (
    `(${v} == '' || (${v} == 'runtime/default' && ${allowed('RuntimeDefault')}) || ` +
    `(type(${v}) == string && ${v}.startsWith('localhost/') && ${allowed('Localhost')}) || ` +
    `(${v} == 'unconfined' && ${allowed('Unconfined')}))`
  );
}

export const check: CelCheck = {
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
      `${POD_SC}.?appArmorProfile.?type.orValue(dyn(null)) == null || ${POD_SC}.?appArmorProfile.?type.orValue(dyn(null)) in variables.allowedTypes || ` +
        allowedForPod('appArmorTypes', `${POD_SC}.?appArmorProfile.?type.orValue(dyn(null))`),
      'The pod must not set spec.securityContext.appArmorProfile.type to a disallowed type.',
      ['variables.checkFields != true'],
    ),
    containerCheck(
      (c) =>
        `${sc(c, 'appArmorProfile.?type')}.orValue(dyn(null)) != null && !(${sc(c, 'appArmorProfile.?type')}.orValue(dyn(null)) in variables.allowedTypes) && ` +
        `!(${allowedForContainer('appArmorTypes', `${sc(c, 'appArmorProfile.?type')}.orValue(dyn(null))`, c)})`,
      'must not set securityContext.appArmorProfile.type to a disallowed type',
      ['variables.checkFields != true'],
    ),
  ],
};
