/**
 * The ValidatingAdmissionPolicy oracle: a small Go program (`src/engines/vap/`) that evaluates
 * ValidatingAdmissionPolicies and their bindings with the API server's own admission code
 * (k8s.io/apiserver v0.37.2: plugin/policy/validating, plugin/policy/generic, plugin/policy/matching) —
 * resource rules, excludeResourceRules, namespaceSelector, objectSelector, matchConditions, params,
 * validationActions, failurePolicy, messageExpression, auditAnnotations, `oldObject` on UPDATE — and
 * type-checks them (the API server's TypeChecker, library availability per Kubernetes minor, estimated
 * CEL cost). One process compiles every policy once and evaluates every request.
 */
import { EngineError, capture, type Logger } from './index.js';
import { ensureGoHelper, type GoHelper } from './go-helper.js';

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
    readonly costs: readonly VapCost[];
    readonly maxTotal: number;
    readonly exceedsRuntimeBudget: boolean;
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

/**
 * Type-checks the policies for a Kubernetes minor: the API server's TypeChecker warnings (typed against the
 * given OpenAPI v3 documents, keyed by their path, e.g. `api/v1`, `apis/apps/v1`), the expressions an API
 * server of that minor rejects on create, and the estimated CEL cost of each expression.
 */
export async function vapTypecheck(policies: readonly object[], kubernetesVersion: string, schemas: Readonly<Record<string, unknown>>, options: { log?: Logger; checker?: string } = {}): Promise<VapTypecheck> {
  return (await runChecker({ mode: 'typecheck', policies, kubernetesVersion, schemas }, options)) as VapTypecheck;
}
