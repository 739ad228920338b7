/**
 * CEL checks of the Service, Ingress and ServiceAccount controls (same semantics as their Rego templates).
 * These rules match the objects themselves (no auto-gen), so fields are read with `object.?…` throughout.
 */
import type { Emitter } from './emitters.js';

type Ids = 'disallow-nodeport-services';

export const serviceEmitters: { [K in Ids]: Emitter<K> } = {
  'disallow-nodeport-services': () => ({
    message: 'Services must not be of type NodePort.',
    expressions: [{ expression: "object.?spec.?type.orValue('') != 'NodePort'", message: 'Services must not be of type NodePort.' }],
  }),
};
