/**
 * `kubeharden vap-check` and the oracle's type check behind it (src/engines/vap.ts, src/engines/vap/main.go):
 * - the reference bundle's ValidatingAdmissionPolicies type-check clean at the lowest minor a VAP can target
 *   (1.30, against k8s.io/kubernetes v1.30.14's own published schemas), every expression compiling for every
 *   kind its policy matches, and their estimated cost stays within the API server's limits at 10 items;
 * - the cost gate can fail (a bundle at 1,000 items), naming the policies;
 * - what the type check adds to the API server's TypeChecker: a variable that does not compile for one of the
 *   matched kinds (the TypeChecker types it dyn and says nothing), and cost estimates at stated sizes, where
 *   option values written into the policy as literals count at their real size.
 */
import { describe, expect, it } from 'vitest';
import { releaseSchemas, vapTypecheck } from '../src/engines/vap.js';
import { ROOT, runCli, tempProject } from './helpers.js';

type Obj = Record<string, any>;
const log = (line: string): void => console.log(line);

interface Report {
  readonly assumedItems: number[];
  readonly within: number;
  readonly clusters: { cluster: string; kubernetesVersion: string; release: string; runtimeBudget: number; perCallLimit: number; policies: Obj[] }[];
  readonly problems: string[];
}

describe('kubeharden vap-check', () => {
  it('the reference bundle at Kubernetes 1.30: type-check clean for every kind, accepted, within the cost limits at 10 items', () => {
    const r = runCli(['vap-check', '--kubernetes-version', '1.30', '--format', 'json'], ROOT);
    log(r.stderr.trim());
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.problems).toEqual([]);
    expect(report.assumedItems).toEqual([10, 100]);
    expect(report.within).toBe(10);
    const [c] = report.clusters;
    expect(report.clusters.length).toBe(1);
    expect([c!.cluster, c!.kubernetesVersion, c!.release]).toEqual(['reference', '1.30', 'v1.30.14']);
    expect(c!.policies.length).toBeGreaterThan(100);
    for (const p of c!.policies) {
      expect([p['name'], p['warnings'], p['compileErrors'], p['rejectedOnCreate']]).toEqual([p['name'], [], [], []]);
      expect(p['kinds'].length, p['name']).toBeGreaterThan(0);
      expect(p['assumedTotals'][0], p['name']).toBeLessThanOrEqual(c!.runtimeBudget);
      for (const cost of p['costs']) expect(cost['assumed'][0], `${p['name']} ${cost['fieldRef']}`).toBeLessThanOrEqual(c!.perCallLimit);
      // Larger objects cost more, never less.
      expect(p['assumedTotals'][1], p['name']).toBeGreaterThanOrEqual(p['assumedTotals'][0]);
    }
    // Pod policies are typed as the kinds they match: the workloads' policies as every controller.
    const kinds = new Map(c!.policies.map((p) => [String(p['name']), p['kinds'] as string[]]));
    expect(kinds.get('disallow-privileged-containers')).toEqual(['Pod']);
    expect([...(kinds.get('disallow-privileged-containers.workloads') ?? [])].sort()).toEqual(['DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);
    expect(kinds.get('disallow-privileged-containers.cronjobs')).toEqual(['CronJob']);
  }, 600_000);

  it('fails when an estimate at --within items is over a limit, naming the policies; the table says the same', () => {
    const dir = tempProject({
      'policies.config.ts': `import { defineConfig } from 'kubeharden';\n\nexport default defineConfig({ name: 'small', profile: 'pss-restricted', kubernetesVersion: '1.37', vap: { enabled: true } });\n`,
    });
    const r = runCli(['vap-check', '--items', '10', '--within', '1000'], dir);
    log(r.stderr.trim());
    expect(r.status, r.stderr).toBe(1);
    const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
    expect(fails.length).toBeGreaterThan(0);
    expect(fails.every((l) => / at 1000 items is over the per-(policy budget|expression limit) /.test(l)), fails.join('\n')).toBe(true);
    expect(fails.some((l) => l.startsWith('FAIL small: require-drop-all-capabilities'))).toBe(true);
    expect(r.stdout).toMatch(/^POLICY +TYPE CHECK +COST N=10 +COST N=1000 +WORST EXPRESSION N=1000$/m);
    expect(r.stdout).toMatch(/^small: Kubernetes 1\.37 \(schemas of v1\.37\.2\)/m);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ problem\(s\) in \d+ policies; policies over the per-policy budget \(estimates, upper bounds\): 0 at N=10, \d+ at N=1000$/);
  }, 600_000);

  it('usage errors exit 2', () => {
    for (const args of [['--items', '0'], ['--items', 'ten'], ['--within', '-1'], ['--kubernetes-version', '1.29'], ['--format', 'yaml']]) {
      const r = runCli(['vap-check', ...args], ROOT);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^kubeharden vap-check: /);
    }
  });
});

describe('the oracle type check: what it adds to the TypeChecker', () => {
  const policy = (name: string, resources: string[], variables: { name: string; expression: string }[], expression: string): Obj => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [resources[0] === 'pods' ? '' : 'rbac.authorization.k8s.io'], apiVersions: ['v1'], resources, operations: ['CREATE', 'UPDATE'] }] },
      variables,
      validations: [{ expression }],
    },
  });

  it('a variable that does not compile for one matched kind is a compile error of that kind; costs come from literals at their size and from the object at N', async () => {
    const typed = await vapTypecheck(
      [
        // Role has no aggregationRule: the TypeChecker reports nothing (the variable becomes dyn).
        policy('aggregation', ['roles', 'clusterroles'], [{ name: 'selectors', expression: 'object.?aggregationRule.?clusterRoleSelectors.orValue([])' }], 'size(variables.selectors) < 10'),
        // The same through dyn(object): compiles for both.
        policy('aggregation-dyn', ['roles', 'clusterroles'], [{ name: 'selectors', expression: 'dyn(object).?aggregationRule.?clusterRoleSelectors.orValue([])' }], 'size(variables.selectors) < 10'),
        // A loop over a literal of 3 strings, and one over the containers: only the second grows with N.
        policy('literal', ['pods'], [{ name: 'allowed', expression: "['a', 'b', 'c']" }], "variables.allowed.all(a, a != '')"),
        policy('containers', ['pods'], [], "object.spec.containers.all(c, c.name != '')"),
      ],
      '1.37',
      releaseSchemas('1.37', log),
      { log, assumed: { items: [1, 10, 100], chars: 64 } },
    );
    expect(typed.errors).toEqual([]);
    const by = new Map(typed.policies.map((p) => [p.name, p]));
    expect(by.get('aggregation')!.warnings).toEqual([]);
    expect(by.get('aggregation')!.compileErrors.map((w) => [w.fieldRef, w.warning.split('\n')[0]])).toEqual([
      ['spec.variables[0].expression', expect.stringMatching(/^Role: ERROR: .*undefined field 'aggregationRule'/)],
    ]);
    expect(by.get('aggregation-dyn')!.compileErrors).toEqual([]);
    // The cost of the expression that reads the variable is still estimated (from ClusterRole).
    expect(by.get('aggregation')!.costs.every((c) => c.error === undefined)).toBe(true);
    const literal = by.get('literal')!.costs.find((c) => c.fieldRef === 'spec.validations[0].expression')!;
    expect(new Set(literal.assumed).size).toBe(1);
    const containers = by.get('containers')!.costs.find((c) => c.fieldRef === 'spec.validations[0].expression')!;
    expect(containers.assumed[0]).toBeLessThan(containers.assumed[1]!);
    expect(containers.assumed[1]).toBeLessThan(containers.assumed[2]!);
    // As the API server estimates it (no maxItems: bounded by the request size only), far above the stated sizes.
    expect(containers.max).toBeGreaterThan(containers.assumed[2]! * 100);
  }, 600_000);
});
