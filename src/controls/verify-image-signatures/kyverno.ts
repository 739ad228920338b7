/**
 * verify-image-signatures as a Kyverno `verifyImages` rule: cosign signatures by public keys or keyless
 * identities, one attestor set where any one entry suffices. Image exceptions become skipImageReferences.
 * Kyverno substitutes variables in these fields: user values go through kyvernoLiteral.
 */
import type { ParamsOf } from '../types.js';
import { kyvernoLiteral, type AttestorEntry, type ImageVerificationCheck } from '../../lang/kyverno.js';

/** The control's parameters (its definition's `params`), declared here so that the check below is typed by them. */
export const PARAMS = { images: 'strings', publicKeys: 'strings', keyless: 'strings', transparencyLog: 'boolean', mutateDigest: 'boolean', failOpen: 'boolean' } as const;

type Params = ParamsOf<typeof PARAMS>;

export function verifyImagesCheck(p: Params): ImageVerificationCheck {
  // Without the public transparency log: no Rekor entry and no certificate timestamp (SCT) required.
  const offline = p.transparencyLog ? {} : { rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } };
  const entries: AttestorEntry[] = [
    ...p.publicKeys.map((key): AttestorEntry => ({ keys: { publicKeys: kyvernoLiteral(key), ...offline } })),
    ...p.keyless.map((k): AttestorEntry => {
      const [issuer = '', subject = ''] = k.split(' ');
      return { keyless: { issuer: kyvernoLiteral(issuer), subject: kyvernoLiteral(subject), ...offline } };
    }),
  ];
  return {
    verifyImages: {
      imageReferences: p.images.map(kyvernoLiteral),
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
