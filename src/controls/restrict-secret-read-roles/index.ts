import { cel, defineControl, rego } from '../types.js';
import { ADMIN_EDIT_AGGREGATION, BOOTSTRAP_LABEL, EXEMPT_ROLES_DETAILS, aggregatedRole, aggregationSamples, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule, existingViolationSamples, ROLE_UPDATE_DETAILS } from '../rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from '../kinds.js';
import { check } from './cel.js';

const readConfig = rule([''], ['configmaps'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('secrets-reader-aggregate');

const ID = 'restrict-secret-read-roles';
const AGGREGATION_KEYS = [BOOTSTRAP_LABEL, ...ADMIN_EDIT_AGGREGATION];
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
not checked. ${EXEMPT_ROLES_DETAILS} (admin and edit read Secrets; several system: controller roles do.)
Known gap: anyone who can create pods in a namespace can mount and read its Secrets, so combine with the pod
controls. Checked on CREATE and UPDATE.
${ROLE_UPDATE_DETAILS}
Aggregated ClusterRoles (an aggregationRule) are judged by their selectors: kube-controller-manager writes
their rules, so an UPDATE of a ClusterRole that was aggregated before and still is does not have its rules
checked (a CREATE does: such roles are created without rules). A selector fails when it requires no label
the collected roles must carry (empty, or only NotIn/DoesNotExist: it picks cluster-admin and every other
ClusterRole) or when it selects kubernetes.io/bootstrapping or the
aggregate-to-admin / aggregate-to-edit labels (it collects the bootstrap roles' Secret reads). The collected
roles are checked on their own, so labelling a role into admin, edit or view cannot smuggle a Secret read
past this control unless the role's name is exempt; creating an aggregationRule needs cluster-admin-level
rights (the API server demands escalate).`,
  category: 'RBAC (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-AUTH-4', 'NSA-NET-10'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...exemptRolesOption(ID, AGGREGATION_KEYS),
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
    ...exemptionSamples(ID, denied, 'system:kube-controller-manager'),
    ...aggregationSamples(ID, denied, AGGREGATION_KEYS),
    updateAddingRule('update-adds-secret-read', [readConfig], rule([''], ['secrets'], ['list'])),
    ...existingViolationSamples(denied, rule([''], ['secrets'], ['watch']), [rule([''], ['pods'], ['get']), rule([''], ['pods', 'secrets'], ['get'])]),
  ],
});
