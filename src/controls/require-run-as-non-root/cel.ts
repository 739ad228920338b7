/** The CEL check of require-run-as-non-root (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, RELAXED, containerCheck, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Containers must run with runAsNonRoot: true (set on the pod or on every container).',
  expressions: [
    podCheck(`${POD_SC}.?runAsNonRoot.orValue(dyn(null)) != false`, 'The pod must not set spec.securityContext.runAsNonRoot to false.', [RELAXED]),
    containerCheck((c) => `${sc(c, 'runAsNonRoot')}.orValue(dyn(null)) == false`, 'must not set securityContext.runAsNonRoot to false', [RELAXED]),
    containerCheck((c) => `${sc(c, 'runAsNonRoot')}.orValue(dyn(null)) == null`, "must set securityContext.runAsNonRoot to true (or the pod's)", [
      RELAXED,
      `${POD_SC}.?runAsNonRoot.orValue(dyn(null)) == true`,
    ]),
  ],
};
