/**
 * `kubeharden vap-check`: the bundle's ValidatingAdmissionPolicies type-checked as an API server of the cluster's
 * Kubernetes minor type-checks them, against that release's own OpenAPI schemas, with each policy's estimated
 * CEL cost: offline, through the VAP oracle (src/engines/vap.ts).
 *
 * The schemas give most lists no maxItems, so the API server's own estimate of a loop over containers (or
 * over their env) is bounded only by the request size and saturates; the API server enforces its budget at
 * runtime instead (an expression over it fails, and `failurePolicy: Fail` counts that as a violation). So the
 * cost is also estimated at stated sizes (`--items`: every list and map at most N entries, strings at most
 * ASSUMED_CHARS characters; parameters written into a policy as literals count at their real size). These
 * are upper bounds (every loop over every list at its maximum, every string operation on the longest string);
 * the check fails when one at `--within` items (default 10) is over the API server's per-expression limit or
 * per-policy budget.
 */
import { releaseSchemas, vapTypecheckDistinct, type VapTypecheck } from '../engines/vap.js';
import { KUBERNETES_RELEASES } from '../controls/bootstrap-cluster-roles.js';
import { vapObjectsOf } from '../eval/vap.js';
import { VAP_MIN_VERSION } from '../config/resolve/cluster.js';
import { minor, type KubernetesVersion } from '../pss/versions.js';
import { table } from '../table.js';
import { parse, UsageError } from './args.js';
import { clusterNamed, compileConfigFile } from './compile-config.js';
import type { Io } from './io.js';

/** The string length the estimates at stated sizes assume (names, images, annotation values). */
export const ASSUMED_CHARS = 1024;
const DEFAULT_ITEMS = [10, 100];
const DEFAULT_WITHIN = 10;

export const VAP_CHECK_USAGE = `Usage: kubeharden vap-check [--config F] [--cluster NAME] [--kubernetes-version 1.NN] [--items N,N…]
                            [--within N] [--format table|json]

Type-checks the bundle's ValidatingAdmissionPolicies (vap/) as an API server of the cluster's Kubernetes minor
does (the API server's own type checker, as kube-controller-manager writes it into status.typeChecking),
against that release's published API schemas (k8s.io/kubernetes from the Go module proxy, cached), and reports
each policy's estimated CEL cost. No cluster is needed.

The schemas bound few lists, so the estimate of a loop over a Pod's containers is bounded only by the request
size; the API server enforces the cost budget at runtime (an expression over it fails, and failurePolicy: Fail
counts that as a violation). The cost is therefore estimated again with every list and map of the object at
most N entries (values of unknown type too) and every string at most ${ASSUMED_CHARS.toLocaleString('en-US')} characters, once per N;
option values written into a policy count at their real size. The estimates are upper bounds (every loop at
its longest list, every string operation on the longest string): an object's actual cost is usually far
lower.

Options:
  -c, --config F               the config file (default: policies.config.ts in the working directory)
  --cluster NAME               one cluster of the config (default: every cluster with a vap/ target)
  --kubernetes-version 1.NN    check for this minor (≥ ${VAP_MIN_VERSION}) instead of the cluster's own
  --items N,N…                 the sizes to estimate at (default ${DEFAULT_ITEMS.join(',')})
  --within N                   fail when an estimate at N items is over the per-expression limit or the
                               per-policy budget (default ${DEFAULT_WITHIN}; 0: report costs only)
  --format F                   table (default) or json
  -h, --help                   this text

Exit codes: 0 every policy type-checks without a warning (every expression, variables included, compiles
for every kind the policy matches), an API server of the minor accepts it, and its estimates at --within
items are within the limits; 1 otherwise, or an invalid config; 2 usage error.`;

interface ClusterReport {
  readonly cluster: string;
  readonly kubernetesVersion: string;
  readonly release: string;
  readonly check: VapTypecheck & { readonly distinct: number };
}

export async function runVapCheck(args: readonly string[], io: Io): Promise<number> {
  const { values } = parse({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      cluster: { type: 'string' },
      'kubernetes-version': { type: 'string' },
      items: { type: 'string' },
      within: { type: 'string' },
      format: { type: 'string', default: 'table' },
    },
  });
  if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`--format must be table or json, got "${values.format}"`);
  const items = values.items === undefined ? DEFAULT_ITEMS : values.items.split(',').map((s) => s.trim());
  if (!items.length || items.some((n) => !/^[1-9][0-9]{0,6}$/.test(String(n)))) throw new UsageError(`--items must be positive whole numbers separated by commas (at most 9999999), got "${values.items}"`);
  const within = values.within === undefined ? DEFAULT_WITHIN : /^(0|[1-9][0-9]{0,6})$/.test(values.within) ? Number(values.within) : undefined;
  if (within === undefined) throw new UsageError(`--within must be a whole number (0 to 9999999), got "${values.within}"`);
  const sizes = [...new Set([...items.map(Number), ...(within ? [within] : [])])].sort((a, b) => a - b);
  const gate = within ? sizes.indexOf(within) : -1;
  const override = values['kubernetes-version'];
  const vapMinors = Object.keys(KUBERNETES_RELEASES).filter((m) => minor(m as KubernetesVersion) >= minor(VAP_MIN_VERSION));
  if (override !== undefined && !vapMinors.includes(override)) {
    throw new UsageError(`--kubernetes-version must be a minor a ValidatingAdmissionPolicy can target: ${vapMinors.join(', ')}; got "${override}"`);
  }

  const compiled = await compileConfigFile(io, values.config);
  if (!compiled) return 1;
  const all = compiled.result.clusters;
  const clusters = values.cluster === undefined ? all : [clusterNamed(all, values.cluster)];
  const targets = clusters.flatMap((cc) => {
    const bundle = vapObjectsOf(cc);
    return bundle ? [{ cc, bundle }] : [];
  });
  if (!targets.length) {
    io.err(`kubeharden vap-check: the config builds no vap/ target${values.cluster !== undefined ? ` for cluster ${values.cluster}` : ''}: enable \`vap: { enabled: true }\``);
    return 1;
  }

  const log = (line: string): void => io.err(line);
  const reports: ClusterReport[] = [];
  for (const { cc, bundle } of targets) {
    // An override is one of the supported minors (checked above).
    const version = (override ?? cc.cluster.version) as KubernetesVersion;
    if (minor(version) < minor(VAP_MIN_VERSION)) throw new UsageError(`cluster ${cc.cluster.name} targets ${version}; ValidatingAdmissionPolicy v1 needs ${VAP_MIN_VERSION} or later`);
    const started = Date.now();
    const schemas = releaseSchemas(version, log);
    const check = await vapTypecheckDistinct(bundle.policies as Record<string, unknown>[], version, schemas, { log, assumed: { items: sizes, chars: ASSUMED_CHARS } });
    log(`kubeharden: ${cc.cluster.name}: ${check.policies.length} ValidatingAdmissionPolicies type-checked for ${version} (${check.distinct} distinct checks) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    reports.push({ cluster: cc.cluster.name, kubernetesVersion: version, release: KUBERNETES_RELEASES[version]!, check });
  }

  const largest = sizes.length - 1;
  const problems = reports.flatMap((r) => [
    ...r.check.errors.map((e) => `${r.cluster}: ${e}`),
    ...r.check.policies.flatMap((p) => [
      ...p.warnings.map((w) => `${r.cluster}: ${p.name} ${w.fieldRef}: ${w.warning}`),
      ...p.rejectedOnCreate.map((e) => `${r.cluster}: ${p.name}: an API server of ${r.kubernetesVersion} refuses it: ${e}`),
      ...p.compileErrors.map((w) => `${r.cluster}: ${p.name} ${w.fieldRef}: does not compile for ${w.warning}`),
      ...(gate < 0 ? [] : p.costs.filter((c) => (c.assumed[gate] ?? 0) > r.check.perCallLimit).map((c) => `${r.cluster}: ${p.name} ${c.fieldRef}: estimated cost ${fmt(c.assumed[gate]!)} at ${within} items is over the per-expression limit ${fmt(r.check.perCallLimit)}`)),
      ...(gate >= 0 && (p.assumedTotals[gate] ?? 0) > r.check.runtimeBudget ? [`${r.cluster}: ${p.name}: estimated cost ${fmt(p.assumedTotals[gate]!)} at ${within} items is over the per-policy budget ${fmt(r.check.runtimeBudget)}`] : []),
    ]),
  ]);

  if (values.format === 'json') {
    io.out(JSON.stringify({ assumedItems: sizes, assumedChars: ASSUMED_CHARS, within, clusters: reports.map((r) => ({ cluster: r.cluster, kubernetesVersion: r.kubernetesVersion, release: r.release, perCallLimit: r.check.perCallLimit, runtimeBudget: r.check.runtimeBudget, policies: r.check.policies, errors: r.check.errors })), problems }, null, 2));
  } else {
    for (const r of reports) {
      io.out(`${r.cluster}: Kubernetes ${r.kubernetesVersion} (schemas of ${r.release}); estimated CEL cost per policy (all its expressions) with lists and maps of at most N items; per-policy budget ${fmt(r.check.runtimeBudget)}, per-expression limit ${fmt(r.check.perCallLimit)}`);
      const head = ['POLICY', 'TYPE CHECK', ...sizes.map((n) => `COST N=${n}`), `WORST EXPRESSION N=${sizes[largest]}`];
      const rows = r.check.policies.map((p) => {
        const worst = Math.max(0, ...p.costs.map((c) => c.assumed[largest] ?? 0));
        const status = p.warnings.length || p.compileErrors.length ? `${p.warnings.length + p.compileErrors.length} finding(s)` : p.rejectedOnCreate.length ? 'refused' : 'ok';
        return [p.name, status, ...p.assumedTotals.map((t) => `${fmt(t)}${t > r.check.runtimeBudget ? ' (over)' : ''}`), fmt(worst)];
      });
      io.out(table(head, rows));
    }
    for (const line of problems) io.out(`FAIL ${line}`);
    const all = reports.flatMap((r) => r.check.policies.map((p) => ({ p, budget: r.check.runtimeBudget })));
    const over = sizes.map((n, i) => `${all.filter(({ p, budget }) => (p.assumedTotals[i] ?? 0) > budget).length} at N=${n}`).join(', ');
    const clean = `${all.length} policies type-check clean, are accepted by the minor's API server${within ? ` and stay within the cost limits at ${within} items` : ''}`;
    io.out(`${problems.length ? `${problems.length} problem(s) in ${all.length} policies` : clean}; policies over the per-policy budget (estimates, upper bounds): ${over}`);
  }
  return problems.length ? 1 : 0;
}

function fmt(n: number): string {
  return n >= Number.MAX_SAFE_INTEGER ? 'unbounded' : n.toLocaleString('en-US');
}
