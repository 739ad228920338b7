/** What the Role and ClusterRole controls share: the exemptRoles option, aggregation selectors and sample builders. */
import type { Manifest, ResourceKind, Sample } from './types.js';
import { opt } from './options.js';
import { CLUSTER_ROLE, ROLE, object, role } from './kinds.js';
import { minor, type KubernetesVersion } from '../pss/versions.js';
import { bootstrapClusterRoles } from './bootstrap-cluster-roles.js';

export type Rule = Record<string, unknown>;

/** A policy rule; `extra` adds fields such as resourceNames. */
export const rule = (apiGroups: string[], resources: string[], verbs: string[], extra: Rule = {}): Rule => ({ apiGroups, resources, verbs, ...extra });

/** A sample Role or ClusterRole named `roleName` with these rules. */
export const roleSample = (name: string, expect: 'allow' | 'deny', kind: ResourceKind, roleName: string, rules: Rule[], metadata: Rule = {}): Sample => ({
  name,
  expect,
  object: role(kind, roleName, rules, {}, metadata),
});

/** A ClusterRole whose rules the controller-manager aggregates (created without rules). */
export const aggregatedRole = (name: string): Manifest =>
  object(CLUSTER_ROLE, name, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`example.com/aggregate-to-${name}`]: 'true' } }] } });

/** exemptRoles entry that stands for the bootstrap ClusterRoles of the target Kubernetes version. */
export const BOOTSTRAP_ROLES = '@bootstrap';
/** exemptRoles entry that stands for the policy engines' own ClusterRoles (ENGINE_CLUSTER_ROLES). */
export const ENGINE_ROLES = '@engines';

/**
 * The ClusterRoles Gatekeeper and Kyverno install for themselves, by exact name: Gatekeeper v3.23.0
 * (deploy/gatekeeper.yaml and the Helm chart's hook roles) and Kyverno v1.19.0 (Helm chart, release name
 * "kyverno", whose names start with the release name). gatekeeper-manager-role grants "*"; the Kyverno
 * controllers manage webhooks, policies and Secrets; kyverno:rbac:admin:policies is aggregated into admin.
 */
export const ENGINE_CLUSTER_ROLES: readonly string[] = [
  'gatekeeper-admin-upgrade-crds',
  'gatekeeper-delete-webhook-configs',
  'gatekeeper-manager-role',
  'gatekeeper-update-namespace-label',
  'gatekeeper-update-namespace-label-post-upgrade',
  ...['admission-controller', 'background-controller', 'cleanup-controller', 'reports-controller'].flatMap((c) => [`kyverno:${c}`, `kyverno:${c}:additional`, `kyverno:${c}:core`]),
  'kyverno:migrate-resources',
  ...['policies', 'policyreports', 'reports', 'updaterequests'].flatMap((r) => [`kyverno:rbac:admin:${r}`, `kyverno:rbac:view:${r}`]),
].sort();

/** exemptRoles with @bootstrap and @engines expanded to names, deduplicated and sorted. */
export function expandExemptRoles(entries: readonly string[], version: KubernetesVersion): string[] {
  const names = entries.flatMap((e) => (e === BOOTSTRAP_ROLES ? bootstrapClusterRoles(minor(version)) : e === ENGINE_ROLES ? ENGINE_CLUSTER_ROLES : [e]));
  return [...new Set(names)].sort();
}

/**
 * Label keys whose aggregationRule selectors collect the rules of exempt ClusterRoles: the bootstrap roles'
 * own label, and the bootstrap aggregation labels of admin and edit (their aggregated rules read Secrets and
 * impersonate ServiceAccounts).
 */
export const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
export const ADMIN_EDIT_AGGREGATION = ['rbac.authorization.k8s.io/aggregate-to-admin', 'rbac.authorization.k8s.io/aggregate-to-edit'];

/**
 * The `exemptRoles` option of a role control and its aggregation check: ClusterRole names (exact or a prefix
 * ending in "*") never checked, by default @bootstrap (the ClusterRoles the API server reconciles through
 * admission, exact names of the target version) and @engines (Gatekeeper's and Kyverno's). Namespaced
 * Roles are never exempt by name. `aggregationKeys` are the selector label keys that fail (see
 * lib.rego.hbs `aggregation_findings`). The built-in samples also exempt `<id>.exempt-exact` and
 * `<id>.exempt-prefix-*`: the sample suites rename objects to "<control>.<sample>", so exemptions are
 * exercised through names of that form.
 */
export function exemptRolesOption(id: string, aggregationKeys: readonly string[]) {
  const defaults = [BOOTSTRAP_ROLES, ENGINE_ROLES];
  return {
    options: {
      exemptRoles: opt.strings(
        `ClusterRoles never checked: exact names or prefixes ending in "*" (Roles in a namespace are always checked). ` +
          `"${BOOTSTRAP_ROLES}" stands for the bootstrap ClusterRoles of the target Kubernetes version (exact names), "${ENGINE_ROLES}" for ` +
          `Gatekeeper's and Kyverno's own ClusterRoles. Default: ${defaults.join(', ')}. "system:*" exempts every name with that prefix (opt-in).`,
        [...defaults, 'system:*'],
      ),
    },
    defaults: () => ({ exemptRoles: [...defaults] }),
    sampleOptions: { exemptRoles: [...defaults, `${id}.exempt-exact`, `${id}.exempt-prefix-*`] },
    lintOptions: (o: { readonly exemptRoles?: readonly string[] }) =>
      (Array.isArray(o.exemptRoles) ? o.exemptRoles : []).flatMap((r, index) =>
        r === '*' ? [{ option: 'exemptRoles', index, message: '"*" exempts every ClusterRole, so the control never fails for them', hint: 'list ClusterRole names or name prefixes, and @bootstrap' }] : [],
      ),
    params: { exemptRoles: 'strings', aggregationKeys: 'strings' } as const,
    lower: (o: { readonly exemptRoles: readonly string[] }, version: KubernetesVersion) => ({
      exemptRoles: expandExemptRoles(o.exemptRoles, version),
      aggregationKeys: [...aggregationKeys].sort(),
    }),
  };
}

/**
 * The samples of `exemptRolesOption`: an exact name and a prefix match pass as ClusterRoles, a longer
 * look-alike of the exact name and a name one character short of the prefix do not; a namespaced Role with
 * an exempt name is checked; real bootstrap names (`bootstrapName`, unique to the control, and the shared
 * ones through a namespaced Role) keep their names in every engine.
 */
export function exemptionSamples(id: string, denied: Rule[], bootstrapName: string): Sample[] {
  const keep = (s: Sample): Sample => ({ ...s, keepName: true, keepNamespace: true });
  const inNs = { namespace: id };
  return [
    roleSample('exempt-exact', 'allow', CLUSTER_ROLE, `${id}.exempt-exact`, denied),
    roleSample('exempt-exact-lookalike', 'deny', CLUSTER_ROLE, `${id}.exempt-exact-lookalike`, denied),
    roleSample('exempt-prefix-cluster-role', 'allow', CLUSTER_ROLE, `${id}.exempt-prefix-cluster-role`, denied),
    roleSample('exempt-prefix', 'deny', CLUSTER_ROLE, `${id}.exempt-prefix`, denied),
    // A namespaced Role is never exempt by name (a name no ClusterRole sample has: kyverno test lists
    // results by name).
    keep(roleSample('exempt-prefix-as-role', 'deny', ROLE, `${id}.exempt-prefix-role`, denied, inNs)),
    keep(roleSample('bootstrap-cluster-role', 'allow', CLUSTER_ROLE, bootstrapName, denied)),
    keep(roleSample('bootstrap-name-as-role', 'deny', ROLE, 'system:discovery', denied, inNs)),
    keep(roleSample('cluster-admin-as-role', 'deny', ROLE, 'cluster-admin', denied, inNs)),
    // Not a bootstrap name: the system: prefix alone exempts nothing.
    keep(roleSample('system-prefix-cluster-role', 'deny', CLUSTER_ROLE, `system:${id}`, denied)),
  ];
}

/**
 * The aggregation samples: a ClusterRole with an aggregationRule is judged by its selectors. The rules the
 * controller-manager wrote (an UPDATE) are not checked; selectors that collect every role, roles by the
 * absence of labels, or the bootstrap roles fail; `reserved` adds a selector on each control-specific key.
 */
export function aggregationSamples(id: string, denied: Rule[], reserved: readonly string[]): Sample[] {
  const agg = (name: string, selectors: unknown[], rules?: Rule[]): Manifest =>
    object(CLUSTER_ROLE, name, { aggregationRule: { clusterRoleSelectors: selectors }, ...(rules ? { rules } : {}) });
  const own = [{ matchLabels: { [`example.com/aggregate-to-${id}`]: 'true' } }];
  return [
    {
      name: 'aggregated-rules-written-by-controller',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: agg(`${id}.aggregated`, own),
      object: agg(`${id}.aggregated`, own, denied),
    },
    { name: 'aggregated-created-with-rules', expect: 'deny', object: agg(`${id}.aggregated-with-rules`, own, denied) },
    { name: 'aggregated-empty-selector', expect: 'deny', object: agg(`${id}.aggregated-empty`, [{}]) },
    { name: 'aggregated-negative-selector', expect: 'deny', object: agg(`${id}.aggregated-negative`, [{ matchExpressions: [{ key: 'example.com/private', operator: 'DoesNotExist' }] }]) },
    { name: 'aggregated-bootstrap-selector', expect: 'deny', object: agg(`${id}.aggregated-bootstrap`, [...own, { matchLabels: { [BOOTSTRAP_LABEL]: 'rbac-defaults' } }]) },
    {
      name: 'aggregated-bootstrap-selector-expression',
      expect: 'deny',
      object: agg(`${id}.aggregated-bootstrap-expression`, [{ matchLabels: { 'example.com/team': 'a' }, matchExpressions: [{ key: BOOTSTRAP_LABEL, operator: 'Exists' }] }]),
    },
    {
      name: 'aggregated-update-to-empty-selector',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: agg(`${id}.aggregated-widened`, own),
      object: agg(`${id}.aggregated-widened`, [{}], []),
    },
    { name: 'aggregated-positive-expression', expect: 'allow', object: agg(`${id}.aggregated-expression`, [{ matchExpressions: [{ key: 'example.com/aggregate', operator: 'In', values: ['true'] }] }]) },
    { name: 'aggregated-view', expect: 'allow', object: agg(`${id}.aggregated-view`, [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }]) },
    ...reserved.map((key, i): Sample => ({ name: `aggregated-reserved-selector-${i + 1}`, expect: 'deny', object: agg(`${id}.aggregated-reserved-${i + 1}`, [{ matchLabels: { [key]: 'true' } }]) })),
  ];
}

/** An UPDATE of a Role named `name` that adds `added` to its `before` rules. */
export function updateAddingRule(name: string, before: Rule[], added: Rule): Sample {
  return { name, expect: 'deny', operation: 'UPDATE', oldObject: role(ROLE, name, before), object: role(ROLE, name, [...before, added]) };
}

/** How `exemptRoles` works, in the details of the role controls that share its default. */
export const EXEMPT_ROLES_DETAILS = `exemptRoles names ClusterRoles that are never checked (exact names, or a prefix ending in "*"); a Role in a
namespace is always checked, whatever its name (a namespace admin can call a Role cluster-admin or
system:discovery). The default is @bootstrap, the exact names of the ClusterRoles the API server of the
target version creates and reconciles through admission, and @engines, Gatekeeper's and Kyverno's own
ClusterRoles (gatekeeper-manager-role, kyverno:admission-controller, …). A ClusterRole with an exempt name is
trusted whoever creates it: list only the engines you run, and keep "system:*" (every name with that
prefix, such as a new "system:anything") as an explicit opt-in. Bootstrap Roles in kube-system and
kube-public are covered by those namespaces being exempt.`;

/**
 * UPDATEs of roles that already fail (created before the policy): an UPDATE counts only the rules and
 * selectors it introduces. Keeping the offending rules (a label added, the rules reordered) or an offending
 * selector passes; adding another offending rule, or widening an allowed rule into one (`widen`: before,
 * after), fails.
 */
export function existingViolationSamples(denied: Rule[], added: Rule, widen: readonly [Rule, Rule]): Sample[] {
  const labelled = { labels: { 'app.kubernetes.io/managed-by': 'Helm' } };
  const harmless = rule([''], ['configmaps'], ['get']);
  const update = (name: string, expect: 'allow' | 'deny', before: Manifest, after: Manifest): Sample => ({
    name,
    expect,
    ...(expect === 'allow' ? { expectWithoutOldObject: 'deny' as const } : {}),
    operation: 'UPDATE',
    oldObject: before,
    object: after,
  });
  const selectors = { aggregationRule: { clusterRoleSelectors: [{}] } };
  return [
    update('update-keeps-offending-rules', 'allow', role(ROLE, 'kept', denied), role(ROLE, 'kept', denied, {}, labelled)),
    update('update-reorders-offending-rules', 'allow', role(CLUSTER_ROLE, 'reordered', [...denied, harmless]), role(CLUSTER_ROLE, 'reordered', [harmless, ...denied])),
    update('update-adds-second-offending-rule', 'deny', role(ROLE, 'second', denied), role(ROLE, 'second', [...denied, added], {}, labelled)),
    update('update-widens-rule', 'deny', role(CLUSTER_ROLE, 'widened', [harmless, widen[0]]), role(CLUSTER_ROLE, 'widened', [harmless, widen[1]])),
    update('aggregated-keeps-existing-selector', 'allow', object(CLUSTER_ROLE, 'kept-selector', selectors), object(CLUSTER_ROLE, 'kept-selector', selectors, labelled)),
  ];
}

/** How the role controls judge an UPDATE, in their details. */
export const ROLE_UPDATE_DETAILS = `An UPDATE counts only what it introduces: a rule or aggregationRule selector
the role already had, exactly, passes (a role created before the policy can still be labelled, annotated or
have its rules reordered); a rule that gains a verb, a resource or a group is a new rule and is checked.`;
