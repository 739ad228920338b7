import { defineControl } from './types.js';
import { aggregatedRole, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule } from './rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from './kinds.js';

const readConfig = rule([''], ['configmaps'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('secrets-reader-aggregate');

const ID = 'restrict-secret-read-roles';
const DEFAULT_EXEMPT_ROLES = ['admin', 'cluster-admin', 'edit', 'system:*'];
const denied = [rule([''], ['secrets'], ['get'])];

export default defineControl({
  id: ID,
  title: 'Restrict reading Secrets in RBAC roles',
  description: 'Role and ClusterRole rules must not grant get, list or watch on Secrets.',
  details: `NSA/CISA "least privilege" and "secrets": whoever can read a Secret holds its credentials. A Role or
ClusterRole fails when one of its rules grants get, list or watch on secrets in the core group "".
Wildcards count: verb "*", apiGroup "*" and resource "*" all match (a "secrets/*" resource names
subresources, not Secrets, and does not). list and watch return the values of every Secret, not only their
names. resourceNames do not narrow it (reading one named Secret is still reading a Secret). Each failing
rule is reported with its index and the verbs it grants. Writing Secrets (create, update, patch, delete) is
not checked. exemptRoles (role names, exact or a prefix ending in "*", for Roles and ClusterRoles alike)
are never checked; the default, admin, cluster-admin, edit and system:*, lets the API server reconcile its
bootstrap roles (admin and edit read Secrets; several system: controller roles do). Known gap: anyone who
can create pods in a namespace can mount and read its Secrets, so combine with the pod controls. Checked on
CREATE and UPDATE.
ClusterRoles with an aggregationRule are checked when the controller-manager writes their aggregated rules
(an UPDATE): a collected rule that fails is denied there, even when it comes from an exempt role, unless the
aggregating role is exempt too.`,
  category: 'RBAC (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-AUTH-4', 'NSA-NET-10'],
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...exemptRolesOption(ID, DEFAULT_EXEMPT_ROLES),
  samples: [
    sample('config-maps-read', 'allow', ROLE, 'config-reader', [readConfig]),
    sample('secrets-write-only', 'allow', ROLE, 'secret-writer', [rule([''], ['secrets'], ['create', 'update', 'patch', 'delete'])]),
    sample('secrets-in-named-group', 'allow', CLUSTER_ROLE, 'external-secrets-reader', [rule(['example.com'], ['secrets'], ['get', 'list', 'watch'])]),
    sample('secrets-subresources', 'allow', ROLE, 'secret-subresources', [rule([''], ['secrets/*'], ['get'])]),
    sample('resource-name-case', 'allow', ROLE, 'capitalised', [rule([''], ['Secrets'], ['get'])]),
    sample('empty-rules', 'allow', ROLE, 'nothing', []),
    { name: 'aggregated-without-rules', expect: 'allow', object: aggregated },
    sample('role-get', 'deny', ROLE, 'secret-getter', [rule([''], ['secrets'], ['get'])]),
    sample('cluster-role-list', 'deny', CLUSTER_ROLE, 'secret-lister', [rule([''], ['secrets'], ['list'])]),
    sample('role-watch', 'deny', ROLE, 'secret-watcher', [rule([''], ['secrets'], ['watch'])]),
    sample('wildcard-verb', 'deny', ROLE, 'secret-admin', [rule([''], ['secrets'], ['*'])]),
    sample('wildcard-group', 'deny', CLUSTER_ROLE, 'any-group-secrets', [rule(['*'], ['secrets'], ['get'])]),
    sample('wildcard-resource', 'deny', ROLE, 'core-reader', [rule([''], ['*'], ['list'])]),
    sample('everything', 'deny', CLUSTER_ROLE, 'superuser', [rule(['*'], ['*'], ['*'])]),
    sample('named-secret', 'deny', ROLE, 'one-secret', [rule([''], ['secrets'], ['get'], { resourceNames: ['db-credentials'] })]),
    sample('second-rule', 'deny', CLUSTER_ROLE, 'mixed', [readConfig, rule(['', 'apps'], ['deployments', 'secrets'], ['get', 'list', 'watch'])]),
    ...exemptionSamples(ID, denied),
    updateAddingRule('update-adds-secret-read', [readConfig], rule([''], ['secrets'], ['list'])),
  ],
});
