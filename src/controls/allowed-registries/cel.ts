/** The CEL check of allowed-registries (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { imageCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

/**
 * The reference as the container runtime reads it (gatekeeper.rego.hbs `canonical`): names whose
 * first path component is not a host are on Docker Hub, single-component ones under library/.
 */
const canonicalImage = (i: string): string =>
  `(!${i}.contains('/') ? 'docker.io/library/' + ${i} : ${i}.matches('^docker[.]io/[^/]*$') ? 'docker.io/library/' + ${i}.substring(10) : ` +
  `${i}.matches('^([^/]*[.:][^/]*|localhost)/') ? ${i} : 'docker.io/' + ${i})`;

export const check: CelCheck = {
  message: 'Images must come from an allowed registry.',
  expressions: [imageCheck((i) => `!variables.registries.exists(p, ${canonicalImage(i)}.startsWith(p))`, 'must come from an allowed registry')],
};
