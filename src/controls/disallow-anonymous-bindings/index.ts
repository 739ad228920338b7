import { cel, defineControl, rego, type Manifest } from '../types.js';
import { opt } from '../options.js';
import { CLUSTER_ROLE_BINDING, ROLE_BINDING, binding } from '../kinds.js';
import { check } from './cel.js';

/** The names that always fail, and the one that fails with includeAuthenticated. */
const ANONYMOUS = ['system:anonymous', 'system:unauthenticated'];
const AUTHENTICATED = 'system:authenticated';

const withSubjects = (b: Manifest, subjects: readonly Record<string, unknown>[]): Manifest => ({ ...b, subjects });

export default defineControl({
  id: 'disallow-anonymous-bindings',
  title: 'Disallow bindings to anonymous users',
  description: 'RoleBindings and ClusterRoleBindings must not grant roles to system:anonymous or system:unauthenticated.',
  details: `NSA/CISA "authentication": anonymous requests should be turned off on the API server
(--anonymous-auth=false, NSA-AUTH-2, see the control-plane flags); where they are on, bindings to the
anonymous user or the unauthenticated group are what make them dangerous. A RoleBinding or
ClusterRoleBinding fails when a subject of kind User or Group (kinds compared exactly) is named
system:anonymous or system:unauthenticated, and, when includeAuthenticated is true, system:authenticated
(every user with any credential, including every ServiceAccount of every namespace), unless roleRef.kind
is ClusterRole and roleRef.name is in allowedRoles (exact names). A binding to a namespaced Role is never
allowed by name: anyone who administers a namespace can create a Role named system:discovery with any rules.
allowedRoles defaults to system:basic-user, system:discovery and system:public-info-viewer, the ClusterRoles
of the API server's own bootstrap bindings to these groups (which it reconciles at startup). Names are exact: "System:Anonymous" is another, harmless, name.
ServiceAccount subjects are never anonymous. Checked on CREATE and UPDATE (subjects can be added later): an
UPDATE counts the subjects it adds (a subject listed before, with the same roleRef, passes).`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-2'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [ROLE_BINDING, CLUSTER_ROLE_BINDING] },
  options: {
    includeAuthenticated: opt.boolean('Also fail bindings to the system:authenticated group (every authenticated user). Default: false.'),
    allowedRoles: opt.strings(
      'ClusterRoles (roleRef.kind ClusterRole, roleRef.name exact) that may still be bound to these users and groups. Default: the bootstrap ClusterRoles system:basic-user, system:discovery, system:public-info-viewer.',
      ['system:basic-user', 'system:discovery', 'system:public-info-viewer'],
    ),
  },
  defaults: () => ({ includeAuthenticated: false, allowedRoles: ['system:basic-user', 'system:discovery', 'system:public-info-viewer'] }),
  params: { names: 'strings', allowedRoles: 'strings' },
  lower: (o) => ({
    names: [...ANONYMOUS, ...(o.includeAuthenticated ? [AUTHENTICATED] : [])].sort(),
    allowedRoles: [...new Set(o.allowedRoles)].sort(),
  }),
  samples: [
    { name: 'anonymous-user', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'anonymous-user', 'ClusterRole:view', ['User:system:anonymous']) },
    { name: 'unauthenticated-group', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'unauthenticated-group', 'ClusterRole:cluster-admin', ['Group:system:unauthenticated']) },
    { name: 'anonymous-group', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'anonymous-group', 'ClusterRole:view', ['Group:system:anonymous']) },
    { name: 'unauthenticated-user', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'unauthenticated-user', 'ClusterRole:view', ['User:system:unauthenticated']) },
    { name: 'role-binding-anonymous', expect: 'deny', object: binding(ROLE_BINDING, 'role-binding-anonymous', 'Role:reader', ['User:system:anonymous']) },
    { name: 'role-binding-unauthenticated', expect: 'deny', object: binding(ROLE_BINDING, 'role-binding-unauthenticated', 'ClusterRole:edit', ['Group:system:unauthenticated']) },
    {
      name: 'one-bad-subject-of-several',
      expect: 'deny',
      object: binding(ROLE_BINDING, 'one-bad-subject-of-several', 'ClusterRole:view', ['User:alice', 'Group:developers', 'ServiceAccount:apps:ci', 'Group:system:unauthenticated']),
    },
    // The API server's own bootstrap bindings.
    { name: 'bootstrap-public-info-viewer', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'bootstrap-public-info-viewer', 'ClusterRole:system:public-info-viewer', ['Group:system:authenticated', 'Group:system:unauthenticated']) },
    { name: 'bootstrap-discovery', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'bootstrap-discovery', 'ClusterRole:system:discovery', ['Group:system:authenticated']) },
    { name: 'bootstrap-basic-user', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'bootstrap-basic-user', 'ClusterRole:system:basic-user', ['Group:system:authenticated']) },
    { name: 'allowed-role-for-anonymous', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'allowed-role-for-anonymous', 'ClusterRole:system:public-info-viewer', ['User:system:anonymous']) },
    // allowedRoles are ClusterRoles: a namespaced Role with an allowed name is whatever its namespace put in it.
    { name: 'allowed-name-as-role', expect: 'deny', object: binding(ROLE_BINDING, 'allowed-name-as-role', 'Role:system:public-info-viewer', ['Group:system:unauthenticated']) },
    { name: 'allowed-name-as-role-anonymous', expect: 'deny', object: binding(ROLE_BINDING, 'allowed-name-as-role-anonymous', 'Role:system:discovery', ['User:system:anonymous']) },
    { name: 'allowed-cluster-role-in-role-binding', expect: 'allow', object: binding(ROLE_BINDING, 'allowed-cluster-role-in-role-binding', 'ClusterRole:system:discovery', ['Group:system:unauthenticated']) },
    // Kinds are case-sensitive: the API server refuses a lower-case roleRef or subject kind (422), the policies
    // do not count on it.
    { name: 'allowed-name-kind-case', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'allowed-name-kind-case', 'clusterrole:system:discovery', ['Group:system:unauthenticated']), apiServerRejects: 'roleRef.kind: Unsupported value: "clusterrole"' },
    {
      // roleRef is immutable: the API server refuses this update; the policy does not count on it.
      name: 'update-to-role-kind',
      expect: 'deny',
      apiServerRejects: 'roleRef: Invalid value',
      operation: 'UPDATE',
      oldObject: binding(ROLE_BINDING, 'update-to-role-kind', 'ClusterRole:system:discovery', ['Group:system:unauthenticated']),
      object: binding(ROLE_BINDING, 'update-to-role-kind', 'Role:system:discovery', ['Group:system:unauthenticated']),
    },
    { name: 'allowed-role-lookalike', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'allowed-role-lookalike', 'ClusterRole:system:public-info-viewer-x', ['Group:system:unauthenticated']) },
    // includeAuthenticated is false by default.
    { name: 'authenticated-group', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'authenticated-group', 'ClusterRole:view', ['Group:system:authenticated']) },
    { name: 'regular-subjects', expect: 'allow', object: binding(ROLE_BINDING, 'regular-subjects', 'ClusterRole:edit', ['User:alice', 'Group:developers', 'ServiceAccount:apps:ci']) },
    { name: 'name-case', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'name-case', 'ClusterRole:view', ['Group:System:Unauthenticated', 'User:System:Anonymous']) },
    { name: 'name-lookalike', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'name-lookalike', 'ClusterRole:view', ['User:system:anonymous-reader', 'Group:system:unauthenticated-x']) },
    {
      // A ServiceAccount name is a DNS subdomain: the API server refuses these subjects (422); the policies
      // must still not mistake them for the anonymous user.
      name: 'service-account-named-anonymous',
      expect: 'allow',
      apiServerRejects: 'subjects[0].name: Invalid value: "system:anonymous"',
      object: withSubjects(binding(ROLE_BINDING, 'service-account-named-anonymous', 'ClusterRole:view', []), [
        { kind: 'ServiceAccount', name: 'system:anonymous', namespace: 'apps' },
        { kind: 'ServiceAccount', name: 'system:unauthenticated' },
      ]),
    },
    { name: 'subject-kind-case', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'subject-kind-case', 'ClusterRole:view', ['group:system:unauthenticated']), apiServerRejects: 'subjects[0].kind: Unsupported value: "group"' },
    { name: 'no-subjects', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'no-subjects', 'ClusterRole:view', []) },
    {
      name: 'subjects-absent',
      expect: 'allow',
      object: (({ subjects: _, ...b }) => b)(binding(ROLE_BINDING, 'subjects-absent', 'ClusterRole:view', [])),
    },
    {
      // Bound before the policy: an UPDATE that keeps the subject (a label added) introduces nothing.
      name: 'update-keeps-anonymous-subject',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: binding(ROLE_BINDING, 'update-keeps-anonymous-subject', 'ClusterRole:view', ['User:alice', 'Group:system:unauthenticated']),
      object: binding(ROLE_BINDING, 'update-keeps-anonymous-subject', 'ClusterRole:view', ['User:alice', 'Group:system:unauthenticated'], { labels: { team: 'web' } }),
    },
    {
      name: 'update-swaps-anonymous-subject',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: binding(ROLE_BINDING, 'update-swaps-anonymous-subject', 'ClusterRole:view', ['User:system:anonymous']),
      object: binding(ROLE_BINDING, 'update-swaps-anonymous-subject', 'ClusterRole:view', ['Group:system:unauthenticated']),
    },
    {
      name: 'update-adds-anonymous',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: binding(ROLE_BINDING, 'update-adds-anonymous', 'ClusterRole:view', ['User:alice']),
      object: binding(ROLE_BINDING, 'update-adds-anonymous', 'ClusterRole:view', ['User:alice', 'User:system:anonymous']),
    },
  ],
});
