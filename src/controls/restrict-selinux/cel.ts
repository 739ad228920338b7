/** The CEL check of restrict-selinux (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { POD_SC, allowedForContainer, allowedForPod, containerCheck, nonEmpty, podCheck, sc } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

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

export const check: CelCheck = {
  message: 'SELinux options must use an allowed type and no custom user or role.',
  expressions: [
    podCheck(`!${badSelinux(`${POD_SC}.?seLinuxOptions`, (t) => allowedForPod('seLinuxTypes', t))}`, 'The pod must not set spec.securityContext.seLinuxOptions to a disallowed type, or any user or role.'),
    containerCheck((c) => badSelinux(sc(c, 'seLinuxOptions'), (t) => allowedForContainer('seLinuxTypes', t, c)), 'must not set securityContext.seLinuxOptions to a disallowed type, or any user or role'),
  ],
};
