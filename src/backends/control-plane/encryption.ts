/**
 * Encryption at rest (`--encryption-provider-config`, NSA-NET-6 / NSA-NET-10). The first provider encrypts
 * new writes; `identity` comes last so data written before encryption was enabled can still be read (after
 * enabling, rewrite every Secret once: `kubectl get secrets -A -o json | kubectl replace -f -`).
 * kubeharden never writes key material: the aescbc key is a placeholder that the API server rejects until
 * it is replaced on the control-plane nodes.
 */
import type { ResolvedControlPlane } from '../../ir/cluster.js';

/** Not valid base64, so an unedited file fails API server start-up instead of encrypting with a known key. */
export const AESCBC_KEY_PLACEHOLDER = '<REPLACE: base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`; never commit it>';
export const KMS_PROVIDER_NAME = 'kubeharden-kms';

export function encryptionConfiguration(cp: ResolvedControlPlane): object {
  const { provider, kmsEndpoint, resources } = cp.encryption;
  const first =
    provider === 'kms'
      ? { kms: { apiVersion: 'v2', name: KMS_PROVIDER_NAME, endpoint: kmsEndpoint, timeout: '3s' } }
      : { aescbc: { keys: [{ name: 'key1', secret: AESCBC_KEY_PLACEHOLDER }] } };
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: [...resources], providers: [first, { identity: {} }] }],
  };
}
