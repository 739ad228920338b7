import { cel, defineControl, rego } from '../types.js';
import { ADMIN_EDIT_AGGREGATION, BOOTSTRAP_LABEL, aggregatedRole, aggregationSamples, exemptionSamples, exemptRolesOption, roleSample as sample, rule, updateAddingRule, existingViolationSamples, ROLE_UPDATE_DETAILS } from '../rbac-roles.js';
import { CLUSTER_ROLE, ROLE } from '../kinds.js';
import { minor } from '../../pss/versions.js';
import { check } from './cel.js';

const RBAC = 'rbac.authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';
const CERTS = 'certificates.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';
const readPods = rule([''], ['pods'], ['get', 'list', 'watch']);
const aggregated = aggregatedRole('platform-operator');

const ID = 'restrict-rbac-escalation-verbs';
const AGGREGATION_KEYS = [BOOTSTRAP_LABEL, ...ADMIN_EDIT_AGGREGATION];
const denied = [rule([''], ['serviceaccounts'], ['impersonate'])];
const constrained = [rule([AUTHN], ['users', 'groups'], ['impersonate:user-info'])];
const roles = exemptRolesOption(ID, AGGREGATION_KEYS);

/** Constrained impersonation (k8s.io/apiserver ConstrainedImpersonation): alpha in 1.35, beta and on by default from 1.36. */
export const CONSTRAINED_IMPERSONATION_SINCE = 35;
const IMPERSONATION_MODES = ['arbitrary-node', 'serviceaccount', 'user-info'];
/** ValidatingAdmissionPolicy (alpha 1.26, GA 1.30) and MutatingAdmissionPolicy (alpha 1.32, GA 1.36). */
const VALIDATING_POLICIES_SINCE = 26;
const MUTATING_POLICIES_SINCE = 32;

/** The admission policy resources Kubernetes 1.<m> serves (where their feature gate can be on). */
function admissionPolicies(m: number): string[] {
  return [
    ...(m >= MUTATING_POLICIES_SINCE ? ['mutatingadmissionpolicies', 'mutatingadmissionpolicybindings'] : []),
    ...(m >= VALIDATING_POLICIES_SINCE ? ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'] : []),
  ];
}

export default defineControl({
  id: ID,
  title: 'Restrict RBAC escalation verbs',
  description: 'Role and ClusterRole rules must not grant escalate, bind, impersonate or other privilege-escalating permissions.',
  details: `NSA/CISA "least privilege": some permissions let their holder step past RBAC or switch admission off.
A Role or ClusterRole fails when one of its rules grants: escalate or bind on roles or clusterroles (group
rbac.authorization.k8s.io: create roles with permissions one lacks, bind any role); impersonate on users,
groups or serviceaccounts (group "") or on uids or userextras/<any> (group authentication.k8s.io); from
Kubernetes 1.35 on (ConstrainedImpersonation: alpha in 1.35, beta and on by default from 1.36), the
constrained impersonation verbs impersonate:user-info, impersonate:serviceaccount or impersonate:arbitrary-node
on users, groups, serviceaccounts, nodes, uids or userextras/<any> (group authentication.k8s.io), and any
impersonate-on:<mode>:<verb> verb (impersonate:associated-node, which lets a node agent act only as the node
its pod runs on, is not counted); create on serviceaccounts/token (group "": mint a token for any
ServiceAccount of the namespace); any verb on nodes/proxy (group "": the kubelet API, which runs commands in
every pod of the node); update or patch on namespaces/status or namespaces/finalize (group "": these
subresources carry label changes, so they relabel a namespace's Pod Security level where a webhook does not
see them, see enforce-psa-namespace-labels); update or patch on certificatesigningrequests/approval or
approve on signers (group certificates.k8s.io: issue client certificates for any identity); create, update,
patch, delete or deletecollection on mutatingwebhookconfigurations or validatingwebhookconfigurations, and
update, patch, delete or deletecollection on validatingadmissionpolicies and their bindings (1.26+) and
mutatingadmissionpolicies and their bindings (1.32+) (group admissionregistration.k8s.io: intercept or switch
off admission); and the policy engines' own objects: update, patch, delete or deletecollection on Kyverno
clusterpolicies and policies (kyverno.io), on every resource of policies.kyverno.io, and on every resource of
templates.gatekeeper.sh, constraints.gatekeeper.sh, expansion.gatekeeper.sh and mutations.gatekeeper.sh;
create, update or patch on policyexceptions (kyverno.io, policies.kyverno.io) and on Gatekeeper's configs
(config.gatekeeper.sh, whose match list exempts namespaces). Wildcards count: verb "*" grants every verb,
apiGroup "*" every group, resource "*" every resource and subresource, "*/<sub>" that subresource of every
resource, and "<res>/*" is read as every subresource of res (the authorizer does not expand it today; it is
treated as if it did). A rule counts only when its verbs, groups and resources all match one of these;
resourceNames do not narrow it (a grant on one object is still a grant). Each failing rule is reported with
its index and what it grants. exemptRoles names ClusterRoles that are never checked (exact names, or a prefix
ending in "*"); a Role in a namespace is always checked, whatever its name. The default is @bootstrap, the
exact names of the ClusterRoles the API server of the target version creates and reconciles through
admission (admin and edit impersonate ServiceAccounts, system:node mints tokens), and @engines, Gatekeeper's
and Kyverno's own ClusterRoles (gatekeeper-manager-role, kyverno:admission-controller, … ; Kyverno's
kyverno:rbac:admin:policies is aggregated into admin and lets namespace admins manage Kyverno policies).
A ClusterRole with an exempt name is trusted whoever creates it: list only the engines you run, and keep
"system:*" (every name with that prefix, such as a new "system:anything") as an explicit opt-in. Bootstrap
Roles in kube-system and kube-public are covered by those namespaces being exempt. Only RBAC rules are seen
here: escalation by creating pods that mount a powerful ServiceAccount's token, or through bindings to
existing roles, is not covered (combine with the pod and binding controls). Checked on CREATE and UPDATE.
${ROLE_UPDATE_DETAILS}
Aggregated ClusterRoles (an aggregationRule) are judged by their selectors: kube-controller-manager writes
their rules, so an UPDATE of a ClusterRole that was aggregated before and still is does not have its rules
checked (a CREATE does: roles are created without rules). A selector fails when it requires no label the
collected roles must carry (empty, or only NotIn/DoesNotExist: it picks cluster-admin and every other
ClusterRole) or when it selects kubernetes.io/bootstrapping or the aggregate-to-admin / aggregate-to-edit
labels (it collects the bootstrap roles' impersonation and Secret reads). Labelling one's own ClusterRole
into admin, edit or view does not smuggle rules past this control: that role is checked by its own rules,
unless its name is exempt. A selector on the label of another exempt role (such as Kyverno's
rbac.kyverno.io/aggregate-to-admission-controller) is not recognised; creating an aggregationRule needs
cluster-admin-level rights (the API server demands escalate).`,
  category: 'RBAC (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-AUTH-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [ROLE, CLUSTER_ROLE] },
  ...roles,
  params: { ...roles.params, impersonationModes: 'strings', admissionPolicies: 'strings' },
  lower: (o, version) => ({
    ...roles.lower(o, version),
    impersonationModes: minor(version) >= CONSTRAINED_IMPERSONATION_SINCE ? [...IMPERSONATION_MODES] : [],
    admissionPolicies: admissionPolicies(minor(version)),
  }),
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
    sample('webhooks-read', 'allow', CLUSTER_ROLE, 'webhook-viewer', [rule([ADMISSION], ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], ['get', 'list', 'watch'])]),
    sample('admission-policies-create-and-read', 'allow', CLUSTER_ROLE, 'policy-author', [rule([ADMISSION], ['validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'mutatingadmissionpolicies'], ['create', 'get', 'list'])]),
    sample('admission-policy-status', 'allow', CLUSTER_ROLE, 'policy-status', [rule([ADMISSION], ['validatingadmissionpolicies/status'], ['update', 'patch'])]),
    sample('service-account-token-read', 'allow', ROLE, 'token-reader', [rule([''], ['serviceaccounts', 'serviceaccounts/token'], ['get', 'list'])]),
    sample('namespaces-update', 'allow', CLUSTER_ROLE, 'namespace-labeller', [rule([''], ['namespaces'], ['get', 'update', 'patch']), rule([''], ['namespaces/status', 'namespaces/finalize'], ['get'])]),
    sample('engine-objects-read-and-create', 'allow', CLUSTER_ROLE, 'policy-viewer', [
      rule(['kyverno.io', 'policies.kyverno.io'], ['clusterpolicies', 'policies', 'validatingpolicies', 'policyreports'], ['get', 'list', 'watch', 'create']),
      rule(['templates.gatekeeper.sh', 'constraints.gatekeeper.sh'], ['*'], ['get', 'list', 'watch', 'create']),
    ]),
    sample('engine-status-subresources', 'allow', CLUSTER_ROLE, 'policy-status-writer', [rule(['constraints.gatekeeper.sh', 'policies.kyverno.io'], ['*/status'], ['update', 'patch'])]),
    sample('policy-exceptions-read-and-delete', 'allow', ROLE, 'exception-cleaner', [rule(['kyverno.io'], ['policyexceptions'], ['get', 'list', 'delete'])]),
    sample('associated-node-impersonation', 'allow', CLUSTER_ROLE, 'node-agent', [rule([AUTHN], ['nodes'], ['impersonate:associated-node'])]),
    sample('constrained-impersonation-core-group', 'allow', CLUSTER_ROLE, 'core-constrained', [rule([''], ['serviceaccounts', 'users'], ['impersonate:serviceaccount', 'impersonate:user-info'])]),
    { ...sample('constrained-impersonation-before-1-35', 'allow', CLUSTER_ROLE, 'future-impersonator', constrained), versions: { to: CONSTRAINED_IMPERSONATION_SINCE - 1 } },
    { ...sample('mutating-admission-policies-before-1-32', 'allow', CLUSTER_ROLE, 'future-map-admin', [rule([ADMISSION], ['mutatingadmissionpolicies'], ['delete'])]), versions: { to: 31 } },
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
    sample('service-account-token-create', 'deny', ROLE, 'token-minter', [rule([''], ['serviceaccounts/token'], ['create'])]),
    sample('service-account-subresources-create', 'deny', ROLE, 'sa-subresources', [rule([''], ['serviceaccounts/*'], ['create'])]),
    sample('namespaces-status-update', 'deny', CLUSTER_ROLE, 'namespace-status-writer', [rule([''], ['namespaces/status'], ['update'])]),
    sample('namespaces-finalize-patch', 'deny', CLUSTER_ROLE, 'namespace-finalizer', [rule([''], ['namespaces/finalize'], ['patch'])]),
    sample('validating-webhooks-delete', 'deny', CLUSTER_ROLE, 'webhook-deleter', [rule([ADMISSION], ['validatingwebhookconfigurations'], ['delete'])]),
    sample('mutating-webhooks-deletecollection', 'deny', CLUSTER_ROLE, 'webhook-sweeper', [rule([ADMISSION], ['mutatingwebhookconfigurations'], ['deletecollection'])]),
    sample('admission-group-wildcard-delete', 'deny', CLUSTER_ROLE, 'admission-cleaner', [rule([ADMISSION], ['*'], ['delete'])]),
    { ...sample('validating-admission-policies-delete', 'deny', CLUSTER_ROLE, 'vap-deleter', [rule([ADMISSION], ['validatingadmissionpolicies'], ['delete'])]), versions: { from: 26 } },
    { ...sample('validating-admission-policy-bindings-patch', 'deny', CLUSTER_ROLE, 'vap-binder', [rule([ADMISSION], ['validatingadmissionpolicybindings'], ['patch'])]), versions: { from: 26 } },
    { ...sample('mutating-admission-policies-update', 'deny', CLUSTER_ROLE, 'map-editor', [rule([ADMISSION], ['mutatingadmissionpolicies', 'mutatingadmissionpolicybindings'], ['update'])]), versions: { from: 32 } },
    sample('kyverno-cluster-policies-delete', 'deny', CLUSTER_ROLE, 'kyverno-policy-deleter', [rule(['kyverno.io'], ['clusterpolicies'], ['delete'])]),
    sample('kyverno-policies-patch', 'deny', ROLE, 'kyverno-policy-editor', [rule(['kyverno.io'], ['policies'], ['patch'])]),
    sample('kyverno-exceptions-create', 'deny', ROLE, 'kyverno-excepter', [rule(['kyverno.io'], ['policyexceptions'], ['create'])]),
    sample('kyverno-cel-policies-update', 'deny', CLUSTER_ROLE, 'kyverno-cel-editor', [rule(['policies.kyverno.io'], ['validatingpolicies'], ['update'])]),
    sample('kyverno-cel-exceptions-create', 'deny', ROLE, 'kyverno-cel-excepter', [rule(['policies.kyverno.io'], ['policyexceptions'], ['create'])]),
    sample('gatekeeper-templates-delete', 'deny', CLUSTER_ROLE, 'template-deleter', [rule(['templates.gatekeeper.sh'], ['constrainttemplates'], ['delete'])]),
    sample('gatekeeper-constraints-any-kind', 'deny', CLUSTER_ROLE, 'constraint-editor', [rule(['constraints.gatekeeper.sh'], ['k8sdisallowprivilegedcontainers'], ['update', 'patch'])]),
    sample('gatekeeper-expansion-delete', 'deny', CLUSTER_ROLE, 'expansion-deleter', [rule(['expansion.gatekeeper.sh'], ['expansiontemplate'], ['delete'])]),
    sample('gatekeeper-mutators-patch', 'deny', CLUSTER_ROLE, 'mutator-editor', [rule(['mutations.gatekeeper.sh'], ['assign', 'modifyset'], ['patch'])]),
    sample('gatekeeper-config-create', 'deny', CLUSTER_ROLE, 'gatekeeper-configurer', [rule(['config.gatekeeper.sh'], ['configs'], ['create'])]),
    sample('engine-groups-wildcard-verb', 'deny', CLUSTER_ROLE, 'policy-admin', [rule(['kyverno.io'], ['*'], ['*'])]),
    { ...sample('constrained-impersonation', 'deny', CLUSTER_ROLE, 'constrained-impersonator', constrained), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    { ...sample('constrained-impersonation-serviceaccounts', 'deny', CLUSTER_ROLE, 'sa-constrained', [rule([AUTHN], ['serviceaccounts'], ['impersonate:serviceaccount'])]), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    { ...sample('constrained-impersonation-arbitrary-node', 'deny', CLUSTER_ROLE, 'node-constrained', [rule([AUTHN], ['nodes'], ['impersonate:arbitrary-node'])]), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    { ...sample('constrained-impersonation-user-extras', 'deny', CLUSTER_ROLE, 'extras-constrained', [rule([AUTHN], ['userextras/scopes'], ['impersonate:user-info'])]), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    { ...sample('impersonate-on-verb', 'deny', ROLE, 'impersonate-on', [rule(['apps'], ['deployments'], ['impersonate-on:serviceaccount:get'])]), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    { ...sample('wildcard-verb-on-authentication-identities', 'deny', CLUSTER_ROLE, 'authn-everything', [rule([AUTHN], ['users'], ['*'])]), versions: { from: CONSTRAINED_IMPERSONATION_SINCE } },
    ...exemptionSamples(ID, denied, 'system:controller:clusterrole-aggregation-controller'),
    ...aggregationSamples(ID, denied, AGGREGATION_KEYS),
    updateAddingRule('update-adds-escalation', [readPods], rule([RBAC], ['roles'], ['bind', 'escalate'])),
    ...existingViolationSamples(denied, rule([''], ['users'], ['impersonate']), [rule([RBAC], ['roles'], ['get']), rule([RBAC], ['roles'], ['get', 'bind'])]),
  ],
});
