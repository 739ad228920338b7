/** What the Role and ClusterRole controls share: the exemptRoles option and sample builders. */
import type { Manifest, ResourceKind, Sample } from './types.js';
import { opt } from './options.js';
import { CLUSTER_ROLE, ROLE, object, role } from './kinds.js';

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

/**
 * The `exemptRoles` option of a role control: names (exact or a prefix ending in "*") never checked, by
 * default the bootstrap roles the API server reconciles through admission. The built-in samples also
 * exempt `<id>.exempt-exact` and `<id>.exempt-prefix-*`: the sample suites rename every object to
 * "<control>.<sample>", so exemptions are exercised through names of that form.
 */
export function exemptRolesOption(id: string, defaults: readonly string[]) {
  return {
    options: {
      exemptRoles: opt.strings(
        `Roles and ClusterRoles never checked: exact names or prefixes ending in "*". Default: ${defaults.join(', ')} (the bootstrap roles the API server reconciles).`,
        defaults,
      ),
    },
    defaults: () => ({ exemptRoles: [...defaults] }),
    sampleOptions: { exemptRoles: [...defaults, `${id}.exempt-exact`, `${id}.exempt-prefix-*`] },
    lintOptions: (o: { readonly exemptRoles?: readonly string[] }) =>
      (Array.isArray(o.exemptRoles) ? o.exemptRoles : []).flatMap((r, index) =>
        r === '*' ? [{ option: 'exemptRoles', index, message: '"*" exempts every role, so the control never fails', hint: 'list role names or name prefixes such as "system:*"' }] : [],
      ),
    params: { exemptRoles: 'strings' } as const,
    lower: (o: { readonly exemptRoles: readonly string[] }) => ({ exemptRoles: [...new Set(o.exemptRoles)].sort() }),
  };
}

/**
 * The samples of `exemptRolesOption`'s sample names, with rules that would otherwise fail: an exact name and
 * a prefix match pass, a longer look-alike of the exact name and a name one character short of the prefix
 * do not.
 */
export function exemptionSamples(id: string, denied: Rule[]): Sample[] {
  return [
    roleSample('exempt-exact', 'allow', CLUSTER_ROLE, `${id}.exempt-exact`, denied),
    roleSample('exempt-exact-lookalike', 'deny', CLUSTER_ROLE, `${id}.exempt-exact-lookalike`, denied),
    roleSample('exempt-prefix-role', 'allow', ROLE, `${id}.exempt-prefix-role`, denied),
    roleSample('exempt-prefix', 'deny', ROLE, `${id}.exempt-prefix`, denied),
  ];
}

/** An UPDATE of a Role named `name` that adds `added` to its `before` rules. */
export function updateAddingRule(name: string, before: Rule[], added: Rule): Sample {
  return { name, expect: 'deny', operation: 'UPDATE', oldObject: role(ROLE, name, before), object: role(ROLE, name, [...before, added]) };
}
