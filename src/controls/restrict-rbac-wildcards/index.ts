import { cel, defineControl, rego } from '../types.js';
import { BOOTSTRAP_LABEL, EXEMPT_ROLES_DETAILS, aggregatedRole, aggregationSamples, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule, existingViolationSamples, ROLE_UPDATE_DETAILS, type Rule } from '../rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from '../kinds.js';
import { check } from './cel.js';

const urls = (nonResourceURLs: string[], verbs: string[]): Rule => ({ nonResourceURLs, verbs });
const readPods = rule([''], ['pods', 'pods/log'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('monitoring');

const ID = 'restrict-rbac-wildcards';
const denied = [rule(['*'], ['*'], ['*'])];

export default defineControl({
  id: ID,
  title: 'Restrict wildcards in RBAC roles',
  description: 'Role and ClusterRole rules must not use "*" in verbs, apiGroups, resources or nonResourceURLs.',
  details: `NSA/CISA "least privilege": a wildcard grants every verb, group or resource, including those added
later by new API versions and CRDs. A Role or ClusterRole fails when one of its rules has "*" in verbs or
apiGroups, a resource containing "*" ("*", "*/scale", "pods/*"), or exactly "*" in nonResourceURLs. Path
globs such as "/healthz/*" are prefixes that the API server's own roles use, and are allowed. Each failing
rule is reported with its index and its wildcard entries. ${EXEMPT_ROLES_DETAILS}
Aggregated ClusterRoles (an aggregationRule) are judged by their selectors: kube-controller-manager writes
their rules, so an UPDATE of a ClusterRole that was aggregated before and still is does not have its rules
checked (a CREATE does: such roles are created without rules). A selector fails when it requires no label
the collected roles must carry (empty, or only NotIn/DoesNotExist: it picks cluster-admin and every other
ClusterRole) or when it selects kubernetes.io/bootstrapping (it collects the bootstrap roles,
cluster-admin's "*" included). The collected roles are checked on their own, so labelling a role into
admin, edit or view cannot smuggle a wildcard past this control unless the role's name is exempt; creating an
aggregationRule needs cluster-admin-level rights (the API server demands escalate).
Checked on CREATE and UPDATE.
${ROLE_UPDATE_DETAILS}`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...exemptRolesOption(ID, [BOOTSTRAP_LABEL]),
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
    ...exemptionSamples(ID, denied, 'system:controller:generic-garbage-collector'),
    ...aggregationSamples(ID, denied, [BOOTSTRAP_LABEL]),
    updateAddingRule('update-adds-wildcard', [readPods], rule([''], ['secrets'], ['*'])),
    ...existingViolationSamples(denied, rule(['*'], ['pods'], ['get']), [rule(['apps'], ['deployments'], ['get']), rule(['apps'], ['deployments'], ['get', '*'])]),
  ],
});
