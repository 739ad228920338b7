/**
 * verify-image-signatures as a Kyverno `verifyImages` rule: cosign signatures by public keys or keyless
 * identities, one attestor set where any one entry suffices. Image exceptions become skipImageReferences.
 */
import type { ParamsOf } from '../../controls/types.js';
import type { Controls } from '../../controls/index.js';
import type { AttestorEntry, ImageVerificationCheck } from './types.js';

type Params = ParamsOf<Controls['verify-image-signatures']['params']>;

export function verifyImagesCheck(p: Params): ImageVerificationCheck {
  // Without the public transparency log: no Rekor entry and no certificate timestamp (SCT) required.
  const offline = p.transparencyLog ? {} : { rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } };
  const entries: AttestorEntry[] = [
    ...p.publicKeys.map((publicKeys): AttestorEntry => ({ keys: { publicKeys, ...offline } })),
    ...p.keyless.map((k): AttestorEntry => {
      const [issuer = '', subject = ''] = k.split(' ');
      return { keyless: { issuer, subject, ...offline } };
    }),
  ];
  return {
    verifyImages: {
      imageReferences: [...p.images],
      attestors: [{ count: 1, entries }],
      mutateDigest: p.mutateDigest,
      // With digests pinned by the mutation, validation also checks that every image has one; without the
      // mutation, tags are verified as they are (requiring digests is require-image-digest's job).
      verifyDigest: p.mutateDigest,
      required: true,
    },
    failurePolicy: p.failOpen ? 'Ignore' : 'Fail',
  };
}
