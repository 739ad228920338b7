/** The `controlPlane` setting: encryption at rest (the audit policy has no settings). */
import { describe } from '../../controls/options.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import type { EncryptedResource } from '../types.js';
import type { ResolvedControlPlane } from './types.js';
import { checkKeys, hintFor, isObject, uniqSorted } from './util.js';

export const DEFAULT_KMS_ENDPOINT = 'unix:///var/run/kms-plugin/socket.sock';
const PROVIDERS = ['kms', 'aescbc'] as const;
const ENCRYPTED_RESOURCES: readonly EncryptedResource[] = ['configmaps', 'secrets'];

export function resolveControlPlane(d: Diagnostics, value: unknown, path: KeyPath): ResolvedControlPlane {
  const fallback: ResolvedControlPlane = { encryption: { provider: 'kms', kmsEndpoint: DEFAULT_KMS_ENDPOINT, resources: ['secrets'] } };
  if (value === undefined) return fallback;
  if (!isObject(value)) {
    d.error('invalid_value', path, `controlPlane must be an object, got ${describe(value)}`);
    return fallback;
  }
  checkKeys(d, value, path, ['encryption']);
  const enc = value['encryption'];
  const ep = [...path, 'encryption'];
  if (enc === undefined) return fallback;
  if (!isObject(enc)) {
    d.error('invalid_value', ep, `encryption must be an object {provider?, kmsEndpoint?, resources?}, got ${describe(enc)}`);
    return fallback;
  }
  checkKeys(d, enc, ep, ['provider', 'kmsEndpoint', 'resources']);
  let provider: 'kms' | 'aescbc' = 'kms';
  const p = enc['provider'];
  if (p !== undefined) {
    if (p === 'kms' || p === 'aescbc') provider = p;
    else d.error('invalid_value', [...ep, 'provider'], `provider must be one of ${PROVIDERS.join(', ')}, got ${describe(p)}`, hintFor(p, PROVIDERS));
  }
  let kmsEndpoint = DEFAULT_KMS_ENDPOINT;
  const k = enc['kmsEndpoint'];
  if (k !== undefined) {
    if (typeof k === 'string' && /^unix:\/\/\/[^\s]+$/.test(k)) kmsEndpoint = k;
    else d.error('invalid_value', [...ep, 'kmsEndpoint'], `kmsEndpoint must be a unix socket address 'unix:///path', got ${describe(k)}`);
    if (provider !== 'kms') d.warn('ignored_key', [...ep, 'kmsEndpoint'], `kmsEndpoint is only used with provider 'kms' (provider is '${provider}')`);
  }
  let resources: EncryptedResource[] = ['secrets'];
  const r = enc['resources'];
  if (r !== undefined) {
    if (!Array.isArray(r) || r.length === 0) d.error('invalid_value', [...ep, 'resources'], `resources must be a non-empty list of ${ENCRYPTED_RESOURCES.join(', ')}, got ${describe(r)}`);
    else {
      let ok = true;
      r.forEach((x: unknown, i: number) => {
        if (!ENCRYPTED_RESOURCES.includes(x as EncryptedResource)) {
          ok = false;
          d.error('invalid_value', [...ep, 'resources', i], `cannot encrypt ${describe(x)}; supported: ${ENCRYPTED_RESOURCES.join(', ')}`, hintFor(x, ENCRYPTED_RESOURCES));
        }
      });
      if (ok && !r.includes('secrets')) d.warn('secrets_not_encrypted', [...ep, 'resources'], 'secrets are not in resources: Secrets would be stored in etcd unencrypted (NSA-NET-10)');
      if (ok) resources = uniqSorted(r as EncryptedResource[]);
    }
  }
  return { encryption: provider === 'kms' ? { provider, kmsEndpoint, resources } : { provider, resources } };
}
