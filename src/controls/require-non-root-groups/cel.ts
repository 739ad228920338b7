/** The CEL check of require-non-root-groups (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { POD_SC, containerCheck, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'runAsGroup, fsGroup and supplementalGroups must not be 0.',
  expressions: [
    ...(['runAsGroup', 'fsGroup'] as const).map((f) => podCheck(`${POD_SC}.?${f}.orValue(dyn(null)) != 0`, `The pod must not set spec.securityContext.${f} to 0.`)),
    podCheck(`!${listOr(`${POD_SC}.?supplementalGroups.orValue([])`)}.exists(g, g == 0)`, 'The pod must not include 0 in spec.securityContext.supplementalGroups.'),
    containerCheck((c) => `${sc(c, 'runAsGroup')}.orValue(dyn(null)) == 0`, 'must not set securityContext.runAsGroup to 0'),
    containerCheck((c) => `${sc(c, 'runAsGroup')}.orValue(dyn(null)) == null`, "must set securityContext.runAsGroup (or the pod's) to a non-zero group", [
      'variables.requireSet != true',
      'variables.windows',
      `${POD_SC}.?runAsGroup.orValue(dyn(null)) != null`,
    ]),
    podCheck(`${POD_SC}.?fsGroup.orValue(dyn(null)) != null`, 'The pod must set spec.securityContext.fsGroup to a non-zero group.', ['variables.requireSet != true', 'variables.windows']),
  ],
};
