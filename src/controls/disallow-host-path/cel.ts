/** The CEL check of disallow-host-path (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { celString, listOr } from '../../lang/cel/cel.js';
import { podCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';
import { CANONICAL_PATH } from '../options.js';

/**
 * hostPath volume source `h` names a path an exception with allow.hostPaths lets the pod mount: exactly, or below
 * a directory written `<dir>/*`, and only in canonical form (gatekeeper.rego.hbs `allowed_by_exception`).
 */
function hostPathAllowed(h: string): string {
  const path = `${h}.?path.orValue(dyn(null))`;
  return (
    `(type(${h}) == map && type(${path}) == string && ${path}.matches(${celString(CANONICAL_PATH)}) && ` +
    `variables.podAllowances.exists(w, w.?hostPaths.orValue([]).exists(p, p == ${path} || ` +
    `(p.endsWith('/*') && ${path}.startsWith(p.substring(0, size(p) - 1))))))`
  );
}

export const check: CelCheck = {
  message: 'hostPath volumes are not allowed.',
  expressions: [
    podCheck(
      `!${listOr('object.spec.?volumes.orValue([])')}.exists(v, type(v) == map && v.?hostPath.orValue(dyn(null)) != null && !${hostPathAllowed('v.hostPath')})`,
      'The pod must not use hostPath volumes.',
    ),
  ],
};
