/** The CEL check of disallow-secrets-in-env-vars (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr } from '../../lang/cel/cel.js';
import { containerCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

/** A Secret name allowed by `variables.allowedSecrets` (exact, or a prefix ending in `*`). */
const allowedSecret = (n: string): string =>
  `(type(${n}) == string && variables.allowedSecrets.exists(p, p == ${n} || (p.endsWith('*') && ${n}.startsWith(p.substring(0, size(p) - 1)))))`;

export const check: CelCheck = {
  message: 'Containers must not read Secrets into environment variables.',
  expressions: [
    containerCheck(
      (c) =>
        `(${listOr(`${c}.?env.orValue([])`)}.exists(e, type(e) == map && type(e.?valueFrom.?secretKeyRef.orValue(dyn(null))) == map && ` +
        `!${allowedSecret('e.valueFrom.secretKeyRef.?name.orValue(dyn(null))')}) || ` +
        `${listOr(`${c}.?envFrom.orValue([])`)}.exists(e, type(e) == map && type(e.?secretRef.orValue(dyn(null))) == map && ` +
        `!${allowedSecret('e.secretRef.?name.orValue(dyn(null))')}))`,
      'must not read Secrets into environment variables (env secretKeyRef, envFrom secretRef)',
    ),
  ],
};
