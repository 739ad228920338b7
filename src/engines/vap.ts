/**
 * The ValidatingAdmissionPolicy oracle: a small Go program (`src/engines/vap/`) that evaluates
 * ValidatingAdmissionPolicies and their bindings with the API server's own admission code
 * (k8s.io/apiserver v0.37.2: plugin/policy/validating, plugin/policy/generic, plugin/policy/matching) —
 * resource rules, excludeResourceRules, namespaceSelector, objectSelector, matchConditions, params,
 * validationActions, failurePolicy, messageExpression, auditAnnotations, `oldObject` on UPDATE — and
 * type-checks them (the API server's TypeChecker, library availability per Kubernetes minor, estimated
 * CEL cost). One process compiles every policy once and evaluates every request.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, capture, type Logger } from './index.js';
import { ensureGoHelper, goModDownload, type GoHelper } from './go-helper.js';
import { KUBERNETES_RELEASES } from '../controls/bootstrap-cluster-roles.js';

export const VAP_CHECK: GoHelper = {
  name: 'vap-check',
  dir: 'vap',
  envVar: 'KUBEHARDEN_VAP_CHECK',
  describe: (goMod) => `k8s.io/apiserver ${/k8s\.io\/apiserver\s+(v\S+)/.exec(goMod)?.[1] ?? 'unknown'}`,
};

export function ensureVapChecker(log?: Logger): Promise<string> {
  return ensureGoHelper(VAP_CHECK, log);
}

export type VapAction = 'Deny' | 'Warn' | 'Audit';

export interface VapRequest {
  /** Unique within one call. */
  readonly id: string;
  readonly operation: 'CREATE' | 'UPDATE';
  readonly object: object;
  /** UPDATE: the stored object. */
  readonly oldObject?: object;
  /** The request's namespace ('' for a cluster-scoped object); default: the object's metadata.namespace. */
  readonly namespace?: string;
  /** The resource (plural), e.g. `pods`; default: guessed from the kind as the API machinery does. */
  readonly resource?: string;
  /** e.g. `ephemeralcontainers` (with operation UPDATE and resource `pods`). */
  readonly subResource?: string;
  readonly userInfo?: { readonly username?: string; readonly uid?: string; readonly groups?: readonly string[]; readonly extra?: Readonly<Record<string, readonly string[]>> };
}

export interface VapParamKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly resource?: string;
  readonly namespaced: boolean;
}

export interface VapInput {
  readonly policies: readonly object[];
  readonly bindings: readonly object[];
  /** Param objects (any kind; ConfigMap and Secret are known, other kinds through paramKinds or their objects). */
  readonly params?: readonly object[];
  readonly paramKinds?: readonly VapParamKind[];
  /** Namespaces with their labels; a request's namespace that is not given exists with only `kubernetes.io/metadata.name`. */
  readonly namespaces?: readonly object[];
}

export interface VapDecision {
  readonly policy: string;
  readonly binding?: string;
  readonly action: VapAction;
  readonly message: string;
  readonly reason?: string;
  /** The decision comes from an error (compilation, evaluation, configuration, params) under failurePolicy Fail. */
  readonly error: boolean;
}

export interface VapResult {
  readonly matched: readonly { readonly policy: string; readonly binding: string }[];
  readonly decisions: readonly VapDecision[];
  /** Errors under failurePolicy Ignore: the API server admits, the oracle still reports them. */
  readonly ignoredErrors: readonly { readonly policy: string; readonly binding?: string; readonly message: string }[];
  readonly auditAnnotations: readonly { readonly policy: string; readonly key: string; readonly value: string }[];
  /** What the API server answers: allowed, the text of its error for the first denial, the warnings. */
  readonly allowed: boolean;
  readonly status?: string;
  readonly warnings: readonly string[];
}

export interface VapEvaluation {
  readonly policies: readonly { readonly name: string; readonly compileErrors: readonly string[]; readonly bindings: readonly string[] }[];
  readonly results: ReadonlyMap<string, VapResult>;
  /** Input objects the oracle could not read or use (bindings of a policy not given, bad params…). */
  readonly errors: readonly string[];
}

export interface VapCost {
  readonly fieldRef: string;
  readonly kind: string;
  readonly min: number;
  readonly max: number;
  readonly exceedsPerCallLimit: boolean;
  readonly error?: string;
  /** The maximum estimate at each of the call's `assumedItems` (the worst kind). */
  readonly assumed: readonly number[];
}

export interface VapTypecheck {
  readonly kubernetesVersion: string;
  readonly perCallLimit: number;
  readonly runtimeBudget: number;
  readonly policies: readonly {
    readonly name: string;
    readonly kinds: readonly string[];
    readonly warnings: readonly { readonly fieldRef: string; readonly warning: string }[];
    readonly rejectedOnCreate: readonly string[];
    /**
     * Expressions (variables included) that do not compile with `object` typed as one of the matched kinds:
     * the TypeChecker types such a variable dyn and reports nothing, so these are what it misses.
     */
    readonly compileErrors: readonly { readonly fieldRef: string; readonly warning: string }[];
    readonly costs: readonly VapCost[];
    readonly maxTotal: number;
    readonly exceedsRuntimeBudget: boolean;
    /** maxTotal at each of the call's `assumedItems`. */
    readonly assumedTotals: readonly number[];
  }[];
  readonly errors: readonly string[];
}

async function runChecker(doc: object, options: { log?: Logger; checker?: string }): Promise<unknown> {
  const bin = options.checker ?? (await ensureVapChecker(options.log));
  const { stdout, stderr, code } = await capture(bin, [], { input: JSON.stringify(doc) });
  if (code !== 0) throw new EngineError('vap_check_failed', `${bin} exited with code ${code}:\n${stderr.trim()}`);
  try {
    return JSON.parse(stdout);
  } catch {
    throw new EngineError('vap_check_failed', `${bin} printed no JSON: ${stdout.slice(0, 500)}`);
  }
}

/**
 * Evaluates every request against the policies and bindings, in one process. Throws when the oracle cannot
 * be built or run, or when a request cannot be evaluated (a bad object or operation): never an allow.
 */
export async function vapEvaluate(input: VapInput, requests: readonly VapRequest[], options: { log?: Logger; checker?: string } = {}): Promise<VapEvaluation> {
  const ids = new Set<string>();
  for (const r of requests) {
    if (ids.has(r.id)) throw new EngineError('vap_check_failed', `duplicate request id ${JSON.stringify(r.id)}`);
    ids.add(r.id);
  }
  const out = (await runChecker({ mode: 'evaluate', ...input, requests }, options)) as {
    policies: VapEvaluation['policies'];
    results: (VapResult & { id: string; error?: string; decisions: (Omit<VapDecision, 'error'> & { error?: boolean })[] })[];
    errors: string[];
  };
  const results = new Map<string, VapResult>();
  const errors: string[] = [];
  for (const r of out.results) {
    if (r.error) errors.push(`${r.id}: ${r.error}`);
    else if (!ids.has(r.id)) errors.push(`unexpected result for ${JSON.stringify(r.id)}`);
    else {
      const { id, error: _e, ...rest } = r;
      results.set(id, { ...rest, decisions: r.decisions.map((d) => ({ ...d, error: d.error === true })) });
    }
  }
  for (const id of ids) if (!results.has(id) && !errors.some((e) => e.startsWith(`${id}: `))) errors.push(`${id}: no result`);
  if (errors.length) throw new EngineError('vap_check_failed', `vap-check could not evaluate ${errors.length} of ${requests.length} requests:\n${errors.slice(0, 20).join('\n')}`);
  return { policies: out.policies, results, errors: out.errors };
}

/** What a cost estimate at stated sizes assumes: lists and maps of at most `items` entries (one estimate per value), strings of at most `chars` characters. */
export interface AssumedSizes {
  readonly items: readonly number[];
  readonly chars: number;
}

/**
 * Type-checks the policies for a Kubernetes minor: the API server's TypeChecker warnings (typed against the
 * given OpenAPI v3 documents, keyed by their path, e.g. `api/v1`, `apis/apps/v1`), the expressions an API
 * server of that minor rejects on create, and the estimated CEL cost of each expression: as the schemas bound
 * the object (lists without maxItems are bounded by the request size only, so nested loops saturate), and
 * again at each of `assumed.items`.
 */
export async function vapTypecheck(policies: readonly object[], kubernetesVersion: string, schemas: Readonly<Record<string, unknown>>, options: { log?: Logger; checker?: string; assumed?: AssumedSizes } = {}): Promise<VapTypecheck> {
  const assumed = options.assumed ? { assumedItems: options.assumed.items, assumedChars: options.assumed.chars } : {};
  return (await runChecker({ mode: 'typecheck', policies, kubernetesVersion, schemas, ...assumed }, options)) as VapTypecheck;
}

/**
 * vapTypecheck for many policies, each distinct check once: what the type checker reads of a policy is the
 * kinds it matches and the expressions, so policies that differ only in name, namespace or object selectors
 * (a control's instances per mode scope) get the result of their first one, under their own name. Returns
 * one entry per input policy, in input order, and the number of distinct checks run.
 */
export async function vapTypecheckDistinct(policies: readonly Readonly<Record<string, any>>[], kubernetesVersion: string, schemas: Readonly<Record<string, unknown>>, options: { log?: Logger; checker?: string; assumed?: AssumedSizes } = {}): Promise<VapTypecheck & { readonly distinct: number }> {
  const checked = (p: Readonly<Record<string, any>>): string => {
    const { matchConstraints, variables, validations, matchConditions, auditAnnotations, paramKind } = (p['spec'] ?? {}) as Record<string, any>;
    return JSON.stringify([matchConstraints?.['resourceRules'], variables, validations, matchConditions, auditAnnotations, paramKind]);
  };
  const representative = new Map<string, Readonly<Record<string, any>>>();
  for (const p of policies) if (!representative.has(checked(p))) representative.set(checked(p), p);
  const typed = await vapTypecheck([...representative.values()], kubernetesVersion, schemas, options);
  const byName = new Map(typed.policies.map((p) => [p.name, p]));
  const nameOf = (p: Readonly<Record<string, any>>): string => String(p['metadata']?.['name']);
  const out: VapTypecheck['policies'][number][] = [];
  for (const p of policies) {
    const r = byName.get(nameOf(representative.get(checked(p))!));
    if (r) out.push({ ...r, name: nameOf(p) });
  }
  return { ...typed, policies: out, distinct: representative.size };
}

/** The API groups whose `v1` documents a type check loads: every kind a kubeharden policy matches. */
const SCHEMA_PATHS = ['api/v1', ...['apps', 'batch', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'policy', 'admissionregistration.k8s.io'].map((g) => `apis/${g}/v1`)];

/**
 * The OpenAPI v3 documents of the core and the `apis/<group>/v1` groups of the release standing for a minor
 * (KUBERNETES_RELEASES: the pinned release of each supported minor, as the bootstrap roles were read from),
 * keyed as the API server's /openapi/v3 index names them (`api/v1`, `apis/apps/v1`, …), read from
 * `api/openapi-spec/v3` of k8s.io/kubernetes in the Go module cache (`go mod download`, from the module proxy
 * the first time).
 */
export function releaseSchemas(minor: string, log?: Logger): Record<string, unknown> {
  const release = KUBERNETES_RELEASES[minor];
  if (!release) throw new EngineError('vap_check_failed', `no Kubernetes release is pinned for ${minor} (pinned: ${Object.keys(KUBERNETES_RELEASES).join(', ')})`);
  log?.(`kubeharden: OpenAPI schemas of Kubernetes ${release} (k8s.io/kubernetes@${release} from the Go module cache; the first time, go mod download fetches it: about a minute)`);
  const specs = join(goModDownload('k8s.io/kubernetes', release).dir, 'api', 'openapi-spec', 'v3');
  if (!existsSync(specs)) throw new EngineError('vap_check_failed', `k8s.io/kubernetes@${release} has no api/openapi-spec/v3`);
  const out: Record<string, unknown> = {};
  for (const path of SCHEMA_PATHS) out[path] = JSON.parse(readFileSync(join(specs, `${path.replaceAll('/', '__')}_openapi.json`), 'utf8'));
  return out;
}
