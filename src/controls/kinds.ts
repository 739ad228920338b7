/**
 * The kinds non-pod controls check, and builders for their samples. A sample object is placed in the
 * `apps` namespace when its kind is namespaced (the suites move it into their own namespace).
 */
import type { ControlTarget, Manifest, PartialGap, ResourceKind } from './types.js';

export const SERVICE: ResourceKind = { group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true };
export const INGRESS: ResourceKind = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', namespaced: true };
export const SERVICE_ACCOUNT: ResourceKind = { group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true };
export const NAMESPACE: ResourceKind = { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false };

/**
 * What a control on Namespace labels checks — Namespaces, and the namespaces/status and namespaces/finalize
 * writes that can change labels too — and the gap that leaves in Gatekeeper.
 */
export const NAMESPACE_LABEL_TARGET = {
  gaps: [
    {
      engine: 'gatekeeper',
      what: 'label changes written through namespaces/status and namespaces/finalize',
      why: "Gatekeeper's own install does not forward these subresources to its webhook; add both to its webhook rules (Helm value validatingWebhookCustomRules) to close it",
    },
  ],
  target: { kinds: [NAMESPACE], subresources: ['finalize', 'status'] },
} as const satisfies { gaps: readonly PartialGap[]; target: ControlTarget };
const RBAC = 'rbac.authorization.k8s.io';
export const ROLE: ResourceKind = { group: RBAC, version: 'v1', kind: 'Role', resource: 'roles', namespaced: true };
export const CLUSTER_ROLE: ResourceKind = { group: RBAC, version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false };
export const ROLE_BINDING: ResourceKind = { group: RBAC, version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', namespaced: true };
export const CLUSTER_ROLE_BINDING: ResourceKind = { group: RBAC, version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false };

type Obj = Record<string, unknown>;

/** An object of `kind` named `name` with the given top-level fields (spec, rules, subjects, …). */
export function object(kind: ResourceKind, name: string, fields: Obj = {}, metadata: Obj = {}): Manifest {
  return {
    apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version,
    kind: kind.kind,
    metadata: { name, ...(kind.namespaced ? { namespace: 'apps' } : {}), ...metadata },
    ...fields,
  };
}

/** A Service with one port selecting `app: web`; `spec` is merged over that. */
export function service(name: string, spec: Obj = {}, metadata: Obj = {}): Manifest {
  return object(SERVICE, name, { spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], ...spec } }, metadata);
}

/** A Role or ClusterRole with these policy rules. */
export function role(kind: ResourceKind, name: string, rules: readonly Obj[], extra: Obj = {}, metadata: Obj = {}): Manifest {
  return object(kind, name, { rules, ...extra }, metadata);
}

/** A subject of a binding: `User:alice`, `Group:devs`, `ServiceAccount:<namespace>:<name>`. */
export function subject(ref: string): Obj {
  const [kind, ...rest] = ref.split(':');
  if (kind === 'ServiceAccount') return { kind, name: rest[1], namespace: rest[0] };
  return { kind, apiGroup: RBAC, name: rest.join(':') };
}

/** A RoleBinding or ClusterRoleBinding of `roleRef` (`ClusterRole:<name>` or `Role:<name>`) to subjects. */
export function binding(kind: ResourceKind, name: string, roleRef: string, subjects: readonly string[], metadata: Obj = {}): Manifest {
  const [refKind, ...refName] = roleRef.split(':');
  return object(kind, name, { roleRef: { apiGroup: RBAC, kind: refKind, name: refName.join(':') }, subjects: subjects.map(subject) }, metadata);
}
