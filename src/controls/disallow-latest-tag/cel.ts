/** The CEL check of disallow-latest-tag (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { imageCheck } from '../../lang/cel/pod.js';
import type { CelCheck } from '../../lang/cel/types.js';

export const check: CelCheck = {
  message: 'Images must name a tag other than latest, or a digest.',
  expressions: [
    imageCheck((i) => `${i}.matches('(^|/)[^/@:]+:latest(@|$)')`, 'must not use the latest tag'),
    imageCheck((i) => `!${i}.contains('@') && !${i}.matches('(^|/)[^/@:]+:[^/@:]+$')`, 'must name a tag or a digest'),
  ],
};
