import { cel, defineControl, rego, type Manifest } from '../types.js';
import { opt } from '../options.js';
import { CLUSTER_ROLE_BINDING, ROLE_BINDING, binding } from '../kinds.js';
import { check } from './cel.js';

/** The forms an allowedSubjects entry can take (ServiceAccount namespaces and names never contain ":"). */
const SUBJECT_REF = /^(?:(?:User|Group):.+|ServiceAccount:[^:]+:[^:]+)$/;

/** The API server's own cluster-admin binding, and kubeadm's (ClusterRoleBinding kubeadm:cluster-admins, v1.29+). */
const DEFAULT_ALLOWED_SUBJECTS = ['Group:system:masters', 'Group:kubeadm:cluster-admins'];

/** A binding whose subjects are given as objects (ServiceAccount subjects without a namespace, etc.). */
const withSubjects = (b: Manifest, subjects: readonly Record<string, unknown>[]): Manifest => ({ ...b, subjects });

export default defineControl({
  id: 'disallow-cluster-admin-binding',
  title: 'Disallow cluster-admin bindings',
  description: 'RoleBindings and ClusterRoleBindings must not grant the cluster-admin ClusterRole to subjects other than the allowed ones.',
  details: `NSA/CISA "role-based access control": cluster-admin can do anything, so bindings to it should be rare,
reviewed and limited to a break-glass group. A RoleBinding or ClusterRoleBinding fails when roleRef.kind is
exactly ClusterRole, roleRef.name is in the roles option (default: cluster-admin) and one of its subjects is
not in allowedSubjects. A RoleBinding counts too: it gives full control of its namespace (Roles, Secrets,
RoleBindings). A RoleBinding to a Role that happens to be named cluster-admin is not checked (a Role holds
only what it lists). Subjects are compared as "User:<name>", "Group:<name>" and
"ServiceAccount:<namespace>:<name>" (kinds and names exactly, case-sensitive; names may contain ":", as in
"Group:system:masters"). A ServiceAccount subject without a namespace means the RoleBinding's own namespace;
in a ClusterRoleBinding it is invalid and never matches an allowed entry. allowedSubjects defaults to
Group:system:masters, the group of the API server's own cluster-admin binding, and Group:kubeadm:cluster-admins,
the group kubeadm (v1.29+) binds cluster-admin to in the ClusterRoleBinding kubeadm:cluster-admins (its
admin.conf credentials carry it; kubeadm creates the binding again whenever a control-plane node joins).
Drop the kubeadm group where kubeadm does not install the cluster; add a break-glass group (kubeharden warns
about entries not of the three forms). A list you give replaces the default. A binding without subjects passes. roleRef is
immutable, so CREATE is what matters, but subjects can be added later and UPDATEs are checked too: an
UPDATE counts the subjects it adds (a subject listed before, with the same roleRef, passes).
Members of system:masters bypass RBAC altogether and admission cannot stop them: who gets that group
(client certificates) is authentication configuration. Who may create bindings at all is RBAC's own job
(the bind and escalate verbs).`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [ROLE_BINDING, CLUSTER_ROLE_BINDING] },
  options: {
    roles: opt.strings('ClusterRoles that only allowed subjects may be bound to (exact names). Default: cluster-admin.', ['cluster-admin', 'admin']),
    allowedSubjects: opt.strings(
      'Subjects that may be bound to them: "User:<name>", "Group:<name>" or "ServiceAccount:<namespace>:<name>". Default: Group:system:masters, Group:kubeadm:cluster-admins.',
      ['Group:system:masters', 'Group:kubeadm:cluster-admins', 'Group:break-glass-admins', 'ServiceAccount:kube-system:cluster-bootstrap'],
    ),
  },
  defaults: () => ({ roles: ['cluster-admin'], allowedSubjects: [...DEFAULT_ALLOWED_SUBJECTS] }),
  sampleOptions: { allowedSubjects: [...DEFAULT_ALLOWED_SUBJECTS, 'Group:break-glass', 'ServiceAccount:apps:deployer', 'ServiceAccount:kube-system:bootstrap', 'User:root@example.com'] },
  lintOptions: (o) =>
    (Array.isArray(o.allowedSubjects) ? o.allowedSubjects : []).flatMap((s, index) =>
      typeof s === 'string' && !SUBJECT_REF.test(s)
        ? [{
            option: 'allowedSubjects',
            index,
            message: `"${s}" is not of the form "User:<name>", "Group:<name>" or "ServiceAccount:<namespace>:<name>", so it matches no subject`,
            hint: 'subject kinds are case-sensitive, and a ServiceAccount needs its namespace',
          }]
        : [],
    ),
  params: { roles: 'strings', allowedSubjects: 'strings' },
  lower: (o) => ({ roles: [...new Set(o.roles)].sort(), allowedSubjects: [...new Set(o.allowedSubjects)].sort() }),
  samples: [
    { name: 'masters-cluster-admin', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'masters-cluster-admin', 'ClusterRole:cluster-admin', ['Group:system:masters']) },
    { name: 'kubeadm-cluster-admins', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'kubeadm-cluster-admins', 'ClusterRole:cluster-admin', ['Group:kubeadm:cluster-admins']) },
    { name: 'kubeadm-group-as-user', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'kubeadm-group-as-user', 'ClusterRole:cluster-admin', ['User:kubeadm:cluster-admins']) },
    { name: 'kubeadm-group-lookalike', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'kubeadm-group-lookalike', 'ClusterRole:cluster-admin', ['Group:kubeadm:cluster-admin']) },
    { name: 'user-cluster-admin', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'user-cluster-admin', 'ClusterRole:cluster-admin', ['User:alice']) },
    { name: 'group-cluster-admin', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'group-cluster-admin', 'ClusterRole:cluster-admin', ['Group:developers']) },
    { name: 'break-glass-group', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'break-glass-group', 'ClusterRole:cluster-admin', ['Group:break-glass']) },
    { name: 'allowed-user', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'allowed-user', 'ClusterRole:cluster-admin', ['User:root@example.com']) },
    { name: 'masters-lookalike', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'masters-lookalike', 'ClusterRole:cluster-admin', ['Group:system:masters-x']) },
    { name: 'masters-prefix', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'masters-prefix', 'ClusterRole:cluster-admin', ['Group:system:master']) },
    { name: 'masters-as-user', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'masters-as-user', 'ClusterRole:cluster-admin', ['User:system:masters']) },
    // Kinds are case-sensitive: the API server refuses a lower-case subject kind (422); the policy denies it anyway.
    { name: 'group-kind-case', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'group-kind-case', 'ClusterRole:cluster-admin', ['group:system:masters']), apiServerRejects: 'subjects[0].kind: Unsupported value: "group"' },
    {
      name: 'one-bad-subject-of-several',
      expect: 'deny',
      object: binding(CLUSTER_ROLE_BINDING, 'one-bad-subject-of-several', 'ClusterRole:cluster-admin', ['Group:system:masters', 'Group:break-glass', 'User:mallory']),
    },
    {
      name: 'service-account-allowed',
      expect: 'allow',
      object: binding(CLUSTER_ROLE_BINDING, 'service-account-allowed', 'ClusterRole:cluster-admin', ['ServiceAccount:kube-system:bootstrap', 'Group:system:masters']),
    },
    { name: 'service-account-other-namespace', expect: 'deny', object: binding(CLUSTER_ROLE_BINDING, 'service-account-other-namespace', 'ClusterRole:cluster-admin', ['ServiceAccount:default:bootstrap']) },
    {
      // Invalid (the API server rejects it), and never allowed: a ClusterRoleBinding has no namespace to lend.
      name: 'cluster-binding-service-account-without-namespace',
      expect: 'deny',
      apiServerRejects: 'subjects[0].namespace: Required value',
      object: withSubjects(binding(CLUSTER_ROLE_BINDING, 'cluster-binding-service-account-without-namespace', 'ClusterRole:cluster-admin', []), [{ kind: 'ServiceAccount', name: 'deployer' }]),
    },
    { name: 'cluster-admin-case', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'cluster-admin-case', 'ClusterRole:Cluster-Admin', ['User:alice']) },
    { name: 'other-cluster-role', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'other-cluster-role', 'ClusterRole:view', ['Group:developers']) },
    { name: 'no-subjects', expect: 'allow', object: binding(CLUSTER_ROLE_BINDING, 'no-subjects', 'ClusterRole:cluster-admin', []) },
    {
      name: 'subjects-absent',
      expect: 'allow',
      object: (({ subjects: _, ...b }) => b)(binding(CLUSTER_ROLE_BINDING, 'subjects-absent', 'ClusterRole:cluster-admin', [])),
    },
    { name: 'role-binding-cluster-admin', expect: 'deny', object: binding(ROLE_BINDING, 'role-binding-cluster-admin', 'ClusterRole:cluster-admin', ['User:alice']) },
    { name: 'role-binding-masters', expect: 'allow', object: binding(ROLE_BINDING, 'role-binding-masters', 'ClusterRole:cluster-admin', ['Group:system:masters']) },
    { name: 'role-binding-role-named-cluster-admin', expect: 'allow', object: binding(ROLE_BINDING, 'role-binding-role-named-cluster-admin', 'Role:cluster-admin', ['User:alice']) },
    { name: 'role-binding-edit', expect: 'allow', object: binding(ROLE_BINDING, 'role-binding-edit', 'ClusterRole:edit', ['ServiceAccount:apps:ci']) },
    {
      name: 'role-binding-service-account-namespace',
      expect: 'allow',
      object: binding(ROLE_BINDING, 'role-binding-service-account-namespace', 'ClusterRole:cluster-admin', ['ServiceAccount:apps:deployer']),
      keepNamespace: true,
    },
    {
      // No namespace: the RoleBinding's own ("apps"), which makes it the allowed apps/deployer.
      name: 'role-binding-service-account-own-namespace',
      expect: 'allow',
      object: withSubjects(binding(ROLE_BINDING, 'role-binding-service-account-own-namespace', 'ClusterRole:cluster-admin', []), [{ kind: 'ServiceAccount', name: 'deployer' }]),
      keepNamespace: true,
    },
    {
      // An empty namespace reads as none, as the RBAC authorizer reads it.
      name: 'role-binding-service-account-empty-namespace',
      expect: 'allow',
      object: withSubjects(binding(ROLE_BINDING, 'role-binding-service-account-empty-namespace', 'ClusterRole:cluster-admin', []), [{ kind: 'ServiceAccount', name: 'deployer', namespace: '' }]),
      keepNamespace: true,
    },
    {
      // The same subject in another namespace is another ServiceAccount (other/deployer).
      name: 'role-binding-service-account-other-namespace',
      expect: 'deny',
      object: withSubjects(binding(ROLE_BINDING, 'role-binding-service-account-other-namespace', 'ClusterRole:cluster-admin', [], { namespace: 'other' }), [{ kind: 'ServiceAccount', name: 'deployer' }]),
      keepNamespace: true,
    },
    {
      name: 'update-adds-subject',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: binding(CLUSTER_ROLE_BINDING, 'update-adds-subject', 'ClusterRole:cluster-admin', ['Group:break-glass']),
      object: binding(CLUSTER_ROLE_BINDING, 'update-adds-subject', 'ClusterRole:cluster-admin', ['Group:break-glass', 'User:alice']),
    },
    {
      // Bound before the policy: an UPDATE that keeps the subject (a label added) introduces nothing.
      name: 'update-keeps-subject',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: binding(CLUSTER_ROLE_BINDING, 'update-keeps-subject', 'ClusterRole:cluster-admin', ['User:alice']),
      object: binding(CLUSTER_ROLE_BINDING, 'update-keeps-subject', 'ClusterRole:cluster-admin', ['User:alice'], { labels: { team: 'platform' } }),
    },
    {
      name: 'update-swaps-subject',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: binding(CLUSTER_ROLE_BINDING, 'update-swaps-subject', 'ClusterRole:cluster-admin', ['User:alice']),
      object: binding(CLUSTER_ROLE_BINDING, 'update-swaps-subject', 'ClusterRole:cluster-admin', ['User:mallory']),
    },
    {
      // roleRef is immutable in the API (the API server refuses this update); were it changed, every subject would be new.
      name: 'update-changes-role-ref',
      expect: 'deny',
      apiServerRejects: 'roleRef: Invalid value',
      operation: 'UPDATE',
      oldObject: binding(CLUSTER_ROLE_BINDING, 'update-changes-role-ref', 'ClusterRole:view', ['User:alice']),
      object: binding(CLUSTER_ROLE_BINDING, 'update-changes-role-ref', 'ClusterRole:cluster-admin', ['User:alice']),
    },
    {
      name: 'update-removes-subject',
      expect: 'allow',
      operation: 'UPDATE',
      oldObject: binding(ROLE_BINDING, 'update-removes-subject', 'ClusterRole:cluster-admin', ['Group:system:masters', 'User:alice']),
      object: binding(ROLE_BINDING, 'update-removes-subject', 'ClusterRole:cluster-admin', ['Group:system:masters']),
    },
  ],
});
