/** The kinds custom controls match (src/custom/control.ts) and have typed field paths for (src/custom/paths.ts). */
import type { ResourceKind } from '../controls/types.js';

/** The Kubernetes kinds a custom control can match with `match.kinds`. */
export const CUSTOM_KINDS = {
  Pod: { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true },
  Service: { group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true },
  ConfigMap: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
  Secret: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true },
  ServiceAccount: { group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true },
  PersistentVolumeClaim: { group: '', version: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true },
  Namespace: { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false },
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', namespaced: true },
  Job: { group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', namespaced: true },
  CronJob: { group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', namespaced: true },
  Ingress: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', namespaced: true },
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', resource: 'roles', namespaced: true },
  ClusterRole: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', namespaced: true },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false },
} as const satisfies Record<string, ResourceKind>;

/** A kind `match.kinds` accepts. */
export type CustomKind = keyof typeof CUSTOM_KINDS;
