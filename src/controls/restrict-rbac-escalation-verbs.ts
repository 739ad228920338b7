import { defineControl } from './types.js';
import { aggregatedRole, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule } from './rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from './kinds.js';

const RBAC = 'rbac.authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';
const CERTS = 'certificates.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';
const readPods = rule([''], ['pods'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('platform-operator');

const ID = 'restrict-rbac-escalation-verbs';
const DEFAULT_EXEMPT_ROLES = ['admin', 'cluster-admin', 'edit', 'system:*'];
const denied = [rule([''], ['serviceaccounts'], ['impersonate'])];

export default defineControl({
  id: ID,
  title: 'Restrict RBAC escalation verbs',
  description: 'Role and ClusterRole rules must not grant escalate, bind, impersonate or other privilege-escalating permissions.',
  details: `NSA/CISA "least privilege": some permissions let their holder step past RBAC. A Role or ClusterRole
fails when one of its rules grants: escalate or bind on roles or clusterroles (group rbac.authorization.k8s.io:
create roles with permissions one lacks, bind any role); impersonate on users, groups or serviceaccounts
(group "") or on uids or userextras/<any> (group authentication.k8s.io); any verb on nodes/proxy (group "":
the kubelet API, which runs commands in every pod of the node); update or patch on
certificatesigningrequests/approval or approve on signers (group certificates.k8s.io: issue client
certificates for any identity); create, update or patch on mutatingwebhookconfigurations or
validatingwebhookconfigurations (group admissionregistration.k8s.io: intercept or switch off admission).
Wildcards count: verb "*" grants every verb, apiGroup "*" every group, resource "*" every resource and
subresource, "*/<sub>" that subresource of every resource, and "<res>/*" is read as every subresource of res
(the authorizer does not expand it today; it is treated as if it did). A rule counts only when its verbs,
groups and resources all match one of these; resourceNames do not narrow it (a grant on one object is still
a grant). Each failing rule is reported with its index and what it grants. exemptRoles (role names, exact
or a prefix ending in "*", for Roles and ClusterRoles alike) are never checked; the default, admin,
cluster-admin, edit and system:*, lets the API server reconcile its bootstrap roles (admin and edit grant
impersonate on serviceaccounts). Only RBAC rules are seen here: escalation by creating pods that mount a
powerful ServiceAccount's token, or through bindings to existing roles, is not covered (combine with the pod
and binding controls). Checked on CREATE and UPDATE.
ClusterRoles with an aggregationRule are checked when the controller-manager writes their aggregated rules
(an UPDATE): a collected rule that fails is denied there, even when it comes from an exempt role, unless the
aggregating role is exempt too.`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-4'],
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...exemptRolesOption(ID, DEFAULT_EXEMPT_ROLES),
  samples: [
    sample('read-roles', 'allow', CLUSTER_ROLE, 'role-auditor', [rule([RBAC], ['roles', 'clusterroles', 'rolebindings'], ['get', 'list', 'watch'])]),
    sample('manage-role-bindings', 'allow', ROLE, 'binding-manager', [rule([RBAC], ['rolebindings'], ['create', 'update', 'patch', 'delete'])]),
    sample('escalate-in-other-group', 'allow', ROLE, 'custom-escalate', [rule(['example.com'], ['roles'], ['escalate', 'bind'])]),
    sample('impersonate-users-in-named-group', 'allow', CLUSTER_ROLE, 'not-impersonating', [rule([AUTHN], ['users', 'groups', 'serviceaccounts'], ['impersonate'])]),
    sample('impersonate-uids-in-core-group', 'allow', CLUSTER_ROLE, 'uids-core', [rule([''], ['uids', 'userextras/scopes'], ['impersonate'])]),
    sample('nodes-without-proxy', 'allow', CLUSTER_ROLE, 'node-reader', [rule([''], ['nodes', 'nodes/status', 'nodes/metrics'], ['get', 'list', 'watch'])]),
    sample('csr-create-and-update', 'allow', CLUSTER_ROLE, 'csr-requester', [rule([CERTS], ['certificatesigningrequests', 'certificatesigningrequests/status'], ['create', 'get', 'update'])]),
    sample('csr-approval-read', 'allow', CLUSTER_ROLE, 'csr-viewer', [rule([CERTS], ['certificatesigningrequests/approval'], ['get'])]),
    sample('signers-sign', 'allow', CLUSTER_ROLE, 'signer', [rule([CERTS], ['signers'], ['sign'], { resourceNames: ['example.com/signer'] })]),
    sample('webhooks-read-and-delete', 'allow', CLUSTER_ROLE, 'webhook-viewer', [rule([ADMISSION], ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], ['get', 'list', 'delete'])]),
    sample('empty-rules', 'allow', ROLE, 'nothing', []),
    { name: 'aggregated-without-rules', expect: 'allow', object: aggregated },
    sample('escalate-roles', 'deny', ROLE, 'role-escalator', [rule([RBAC], ['roles'], ['escalate'])]),
    sample('bind-cluster-roles', 'deny', CLUSTER_ROLE, 'binder', [rule([RBAC], ['clusterroles'], ['bind'], { resourceNames: ['view'] })]),
    sample('wildcard-verb-on-roles', 'deny', ROLE, 'role-admin', [rule([RBAC], ['roles'], ['*'])]),
    sample('wildcard-group-on-roles', 'deny', CLUSTER_ROLE, 'any-group-escalate', [rule(['*'], ['clusterroles'], ['escalate'])]),
    sample('wildcard-resource-in-rbac-group', 'deny', CLUSTER_ROLE, 'rbac-binder', [rule([RBAC], ['*'], ['bind'])]),
    sample('everything', 'deny', CLUSTER_ROLE, 'superuser', [rule(['*'], ['*'], ['*'])]),
    sample('impersonate-users', 'deny', CLUSTER_ROLE, 'user-impersonator', [rule([''], ['users'], ['impersonate'])]),
    sample('impersonate-groups', 'deny', CLUSTER_ROLE, 'group-impersonator', [rule([''], ['groups'], ['impersonate'])]),
    sample('impersonate-service-accounts', 'deny', ROLE, 'sa-impersonator', [rule([''], ['serviceaccounts'], ['impersonate'])]),
    sample('impersonate-uids', 'deny', CLUSTER_ROLE, 'uid-impersonator', [rule([AUTHN], ['uids'], ['impersonate'])]),
    sample('impersonate-user-extras', 'deny', CLUSTER_ROLE, 'extras-impersonator', [rule([AUTHN], ['userextras/scopes'], ['impersonate'])]),
    sample('impersonate-any-subresource-named', 'deny', CLUSTER_ROLE, 'scopes-impersonator', [rule([AUTHN], ['*/scopes'], ['impersonate'])]),
    sample('nodes-proxy', 'deny', CLUSTER_ROLE, 'node-proxy', [rule([''], ['nodes/proxy'], ['get'])]),
    sample('nodes-all-subresources', 'deny', CLUSTER_ROLE, 'node-subresources', [rule([''], ['nodes/*'], ['get', 'create'])]),
    sample('proxy-of-every-resource', 'deny', CLUSTER_ROLE, 'proxy-everything', [rule([''], ['*/proxy'], ['get'])]),
    sample('csr-approval', 'deny', CLUSTER_ROLE, 'csr-approver', [rule([CERTS], ['certificatesigningrequests/approval'], ['update', 'patch'])]),
    sample('signers-approve', 'deny', CLUSTER_ROLE, 'signer-approver', [rule([CERTS], ['signers'], ['approve'], { resourceNames: ['example.com/signer'] })]),
    sample('mutating-webhooks-create', 'deny', CLUSTER_ROLE, 'webhook-installer', [rule([ADMISSION], ['mutatingwebhookconfigurations'], ['create'])]),
    sample('validating-webhooks-patch', 'deny', CLUSTER_ROLE, 'webhook-patcher', [rule([ADMISSION], ['validatingwebhookconfigurations'], ['patch'])]),
    sample('second-rule', 'deny', ROLE, 'mixed', [readPods, rule([''], ['serviceaccounts'], ['impersonate'])]),
    ...exemptionSamples(ID, denied),
    updateAddingRule('update-adds-escalation', [readPods], rule([RBAC], ['roles'], ['bind', 'escalate'])),
  ],
});
