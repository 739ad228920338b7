import { defineControl } from './types.js';
import { aggregatedRole, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule, type Rule } from './rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from './kinds.js';

const urls = (nonResourceURLs: string[], verbs: string[]): Rule => ({ nonResourceURLs, verbs });
const readPods = rule([''], ['pods', 'pods/log'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('monitoring');

const ID = 'restrict-rbac-wildcards';
const DEFAULT_EXEMPT_ROLES = ['cluster-admin', 'system:*'];
const denied = [rule(['*'], ['*'], ['*'])];

export default defineControl({
  id: ID,
  title: 'Restrict wildcards in RBAC roles',
  description: 'Role and ClusterRole rules must not use "*" in verbs, apiGroups, resources or nonResourceURLs.',
  details: `NSA/CISA "least privilege": a wildcard grants every verb, group or resource, including those added
later by new API versions and CRDs. A Role or ClusterRole fails when one of its rules has "*" in verbs or
apiGroups, a resource containing "*" ("*", "*/scale", "pods/*"), or exactly "*" in nonResourceURLs. Path
globs such as "/healthz/*" are prefixes that the API server's own roles use, and are allowed. Each failing
rule is reported with its index and its wildcard entries. exemptRoles (role names, exact or a prefix ending
in "*") are never checked; the default, cluster-admin and system:*, lets the API server reconcile its
bootstrap roles at start-up (it does so through admission). The exemption is by name only, for Roles in
every namespace as well as ClusterRoles, so a Role named "system:x" is not checked either: RBAC's own
escalation check still stops anyone from creating a role with permissions they do not hold. ClusterRoles
with an aggregationRule get their rules written by the controller-manager, and that UPDATE is checked like
any other: wildcard rules aggregated from exempt roles are denied there unless the aggregating role is exempt too.
Checked on CREATE and UPDATE.`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-4'],
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...exemptRolesOption(ID, DEFAULT_EXEMPT_ROLES),
  samples: [
    sample('role-explicit', 'allow', ROLE, 'pod-reader', [readPods]),
    sample('cluster-role-explicit', 'allow', CLUSTER_ROLE, 'deployment-manager', [rule(['apps'], ['deployments', 'deployments/scale'], ['get', 'update', 'patch'])]),
    sample('non-resource-url-path-glob', 'allow', CLUSTER_ROLE, 'health-reader', [urls(['/healthz', '/healthz/*', '/readyz'], ['get'])]),
    sample('empty-rules', 'allow', ROLE, 'nothing', []),
    { name: 'aggregated-without-rules', expect: 'allow', object: aggregated },
    sample('role-wildcard-verbs', 'deny', ROLE, 'pod-admin', [rule([''], ['pods'], ['*'])]),
    sample('cluster-role-wildcard-verbs', 'deny', CLUSTER_ROLE, 'pod-admin', [rule([''], ['pods'], ['get', '*'])]),
    sample('role-wildcard-api-groups', 'deny', ROLE, 'any-group-reader', [rule(['*'], ['deployments'], ['get'])]),
    sample('cluster-role-wildcard-resources', 'deny', CLUSTER_ROLE, 'core-reader', [rule([''], ['*'], ['get', 'list'])]),
    sample('role-wildcard-resources-named-group', 'deny', ROLE, 'apps-reader', [rule(['apps'], ['*'], ['get'])]),
    sample('wildcard-resource-with-subresource', 'deny', CLUSTER_ROLE, 'scaler', [rule(['apps'], ['*/scale'], ['update'])]),
    sample('wildcard-subresource', 'deny', ROLE, 'pod-subresources', [rule([''], ['pods/*'], ['get'])]),
    sample('non-resource-url-wildcard', 'deny', CLUSTER_ROLE, 'url-reader', [urls(['*'], ['get'])]),
    sample('everything', 'deny', CLUSTER_ROLE, 'superuser', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    sample('second-rule', 'deny', ROLE, 'mixed', [readPods, rule(['batch'], ['jobs'], ['*'])]),
    ...exemptionSamples(ID, denied),
    updateAddingRule('update-adds-wildcard', [readPods], rule([''], ['secrets'], ['*'])),
  ],
});
