/** The CEL check of require-image-digest (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { imageCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Images must be pinned by digest (@sha256:<64 hex digits>).',
  expressions: [imageCheck((i) => `!${i}.matches('@sha256:[a-f0-9]{64}$')`, 'must be pinned by digest (@sha256:<64 hex digits>)')],
};
