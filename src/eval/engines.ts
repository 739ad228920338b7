/**
 * Running the real engines on a bundle: `gator test` (Gatekeeper's own evaluation, with expansion) and
 * `kyverno apply` (Kyverno's own evaluation, with auto-gen), normalised into per-resource findings so they
 * can be compared with the WASM evaluation and with each other.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, ensureEngine, EngineError, type Logger } from '../engines/index.js';
import { toYaml } from '../emit/yaml.js';
import { CLUSTER_SCOPED_KINDS, type Action, type Obj } from './review.js';
import { mapLimit } from './map-limit.js';

/** The engines an audit can compare (vap: the ValidatingAdmissionPolicy oracle, src/eval/vap.ts). */
export type EngineName = 'wasm' | 'gator' | 'kyverno' | 'vap';

export interface EngineFinding {
  readonly control: string;
  readonly action: Action;
  readonly message: string;
}

/** Findings per resource, keyed by `resourceKey`. Resources with no finding are absent. */
export type EngineFindings = Map<string, EngineFinding[]>;

/** `Kind/namespace/name` (namespace empty for none). */
export function resourceKey(kind: unknown, namespace: unknown, name: unknown): string {
  return `${String(kind)}/${typeof namespace === 'string' ? namespace : ''}/${String(name ?? '')}`;
}

export function keyOf(o: Obj): string {
  const m = (o['metadata'] ?? {}) as Obj;
  return resourceKey(o['kind'], m['namespace'], m['name']);
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-engine-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const GATOR_ACTIONS: Readonly<Record<string, Action>> = { deny: 'deny', warn: 'warn', dryrun: 'audit' };

/**
 * Which of a template's engines gator runs: `native` (gator's default, `--enable-k8s-native-validation=true`) runs
 * the CEL block of a template that has one, `rego` (`=false`) the Rego block.
 */
export type GatorEngine = 'native' | 'rego';

/** The gator flag for `engine` (what `gator test` and `gator verify` take). */
export function nativeValidationFlag(engine: GatorEngine): string {
  return `--enable-k8s-native-validation=${engine === 'native'}`;
}

/** `gator test` over the given Gatekeeper objects (templates, constraints, expansion templates) and resources. */
export async function gatorFindings(policyObjects: readonly object[], resources: readonly Obj[], log?: Logger, engine: GatorEngine = 'native'): Promise<EngineFindings> {
  return runGator(gatorInput(policyObjects, resources, engine), log);
}

/** The files an engine run reads (name → exact bytes), with what is needed to parse its answer. */
interface EngineInput {
  readonly files: Readonly<Record<string, string>>;
  readonly policyObjects: readonly object[];
  /** Kyverno: the PolicyExceptions given with `--exception`. */
  readonly exceptionObjects?: readonly object[];
  readonly resources: readonly Obj[];
  /** Flags the engine gets besides its files (part of what a shared run is keyed on). */
  readonly flags?: readonly string[];
}

function gatorInput(policyObjects: readonly object[], resources: readonly Obj[], engine: GatorEngine = 'native'): EngineInput {
  return {
    files: { 'policies.yaml': toYaml(policyObjects, { header: false }), 'resources.yaml': toYaml(resources, { header: false }) },
    policyObjects,
    resources,
    flags: [nativeValidationFlag(engine)],
  };
}

async function runGator(input: EngineInput, log?: Logger): Promise<EngineFindings> {
  const gator = await ensureEngine('gator', log);
  return withTempDir(async (dir) => {
    writeInput(dir, input);
    const r = await capture(gator, [...gatorArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')), ...(input.flags ?? [])]);
    return parseGatorOutput(r, input.policyObjects);
  });
}

function writeInput(dir: string, input: EngineInput): void {
  for (const [name, text] of Object.entries(input.files)) writeFileSync(join(dir, name), text);
}

/** The `gator test` command line for a policy file and resource files or directories. */
export function gatorArgs(policies: string, ...resources: string[]): string[] {
  return ['test', '-o', 'json', '-f', policies, ...resources.flatMap((r) => ['-f', r])];
}

/**
 * Findings from `gator test -o json` output. Anything but a well-formed answer is an error, never an allow
 * or a default deny: output on stderr, an exit code other than 0 (no deny) or 1 (a deny among the
 * violations), empty output (gator prints `null` when nothing violates), an enforcement action or a
 * constraint the bundle does not have (with `policyObjects`, the constraints given to gator).
 */
export function parseGatorOutput(r: { code: number; stdout: string; stderr: string }, policyObjects?: readonly object[]): EngineFindings {
  const fail = (why: string): never => {
    throw new EngineError('engine_failed', `gator test ${why} (exit ${r.code})${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 2000)}` : ''}`);
  };
  if (r.code !== 0 && r.code !== 1) fail('failed');
  if (r.stderr.trim()) fail('wrote to stderr');
  const text = r.stdout.trim();
  if (!text) fail('printed nothing (it prints null when nothing violates)');
  let violations: unknown;
  try {
    violations = JSON.parse(text);
  } catch {
    fail(`printed no JSON: ${text.slice(0, 500)}`);
  }
  const out: EngineFindings = new Map();
  if (violations === null) {
    if (r.code !== 0) fail('found no violation but exited non-zero');
    return out;
  }
  if (!Array.isArray(violations)) fail(`printed ${typeof violations} instead of a list of violations`);
  const controls = policyObjects ? constraintControls(policyObjects) : undefined;
  let denied = false;
  for (const v of violations as { msg?: unknown; enforcementAction?: unknown; constraint?: { kind?: unknown; metadata?: { annotations?: Record<string, string>; name?: unknown } }; violatingObject?: Obj }[]) {
    const constraint = `${String(v.constraint?.kind)}/${String(v.constraint?.metadata?.name)}`;
    const control = controls ? controls.get(constraint) : (v.constraint?.metadata?.annotations?.['kubeharden.io/control'] ?? (v.constraint?.metadata?.name as string | undefined));
    if (control === undefined) fail(`reported a violation of ${constraint}, which is not a constraint of the bundle`);
    const action = GATOR_ACTIONS[String(v.enforcementAction)];
    if (action === undefined) fail(`reported enforcement action ${JSON.stringify(v.enforcementAction)} for ${constraint}; kubeharden knows ${Object.keys(GATOR_ACTIONS).join(', ')}`);
    if (typeof v.msg !== 'string' || !v.violatingObject || typeof v.violatingObject !== 'object') fail(`reported a violation of ${constraint} without a message or object`);
    if (action === 'deny') denied = true;
    const key = keyOf(v.violatingObject!);
    const list = out.get(key) ?? [];
    list.push({ control: control!, action: action!, message: v.msg as string });
    out.set(key, list);
  }
  if (denied !== (r.code === 1)) fail(denied ? 'found a deny violation but exited 0' : 'exited 1 without a deny violation');
  for (const list of out.values()) list.sort(compareFindings);
  return out;
}

/** Control of each constraint (`Kind/name`) among Gatekeeper objects: its kubeharden.io/control annotation, else its name. */
function constraintControls(objects: readonly object[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects as { apiVersion?: string; kind?: string; metadata?: { name?: string; annotations?: Record<string, string> } }[]) {
    if (!o.apiVersion?.startsWith('constraints.gatekeeper.sh/') || !o.metadata?.name) continue;
    out.set(`${o.kind}/${o.metadata.name}`, o.metadata.annotations?.['kubeharden.io/control'] ?? o.metadata.name);
  }
  return out;
}

/**
 * `kyverno apply` with a policy report. A failed rule is a violation; its action comes from the rule's
 * failureAction (Enforce → deny, Audit → audit, or warn when the policy emits warnings).
 */
export async function kyvernoFindings(policies: readonly object[], resources: readonly Obj[], log?: Logger, exceptions: readonly object[] = []): Promise<EngineFindings> {
  const out: EngineFindings = new Map();
  // Two runs at a time: each CLI process uses more than one thread.
  await mapLimit(kyvernoGroups(policies, resources), 2, async (g) => {
    const found = await runKyverno(kyvernoInput(g.policies, g.resources, exceptionsFor(exceptions, g.policies)), log);
    for (const [key, list] of found) out.set(key, [...(out.get(key) ?? []), ...list]);
  });
  for (const list of out.values()) list.sort(compareFindings);
  return out;
}

/**
 * The runs `kyvernoFindings` makes: resources grouped by the policies that can reach their kind, each group
 * with those policies only; resources no policy can reach need no run. The Kyverno CLI compiles every policy
 * it was given for every resource (cmd/cli/kubectl-kyverno/processor, v1.19), so a Role costs the compiling of
 * every Pod policy when they run together: grouping by kind keeps a mixed input's cost near the sum of its
 * kinds' costs. A policy's reach is over-estimated, never under-estimated (see policyReach): a policy that
 * does not match a resource gives no result for it, so leaving it out of that resource's run changes nothing.
 */
export function kyvernoGroups(policies: readonly object[], resources: readonly Obj[]): { policies: object[]; resources: Obj[] }[] {
  const reach = policies.map(policyReach);
  const groups = new Map<string, { policies: object[]; resources: Obj[] }>();
  for (const o of resources) {
    const which = policies.flatMap((_, i) => (reach[i]!(o) ? [i] : []));
    if (!which.length) continue;
    const key = which.join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { policies: which.map((i) => policies[i]!), resources: [] }));
    g.resources.push(o);
  }
  return [...groups.values()];
}

/** The Pod controllers: a Pod policy reaches them through autogen (legacy and CEL types alike). */
const POD_CONTROLLER_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;

/**
 * Which resources a Kyverno policy may give a result for, judged by kind alone and over-estimated: ClusterPolicy
 * and Policy by the kinds their rules match (a rule without kinds, or a wildcard, reaches every kind; a Pod
 * rule every Pod controller), ValidatingPolicy by its resource rules and autogen controllers. Any other kind
 * of policy, or a shape not read here, reaches everything.
 */
function policyReach(p: object): (o: Obj) => boolean {
  const all = (): boolean => true;
  const kind = (p as { kind?: unknown }).kind;
  if (kind === 'ClusterPolicy' || kind === 'Policy') {
    const kinds = new Set<string>();
    for (const rule of ((p as KyvernoPolicy).spec?.rules ?? []) as KyvernoRuleShape[]) {
      const m = rule.match as { any?: unknown; all?: unknown; resources?: unknown } | undefined;
      if (!m) return all;
      const filters = [...(Array.isArray(m.any) ? m.any : []), ...(Array.isArray(m.all) ? m.all : []), ...(m.resources ? [{ resources: m.resources }] : [])] as { resources?: { kinds?: unknown } }[];
      if (!filters.length) return all;
      for (const f of filters) {
        const ks = f?.resources?.kinds;
        if (!Array.isArray(ks) || !ks.length) return all;
        for (const k of ks) {
          if (typeof k !== 'string' || /[*?]/.test(k)) return all;
          // `Kind`, `version/Kind`, `group/version/Kind`, `Kind/subresource`: every segment that may be a kind.
          for (const seg of k.split('/')) kinds.add(seg);
        }
      }
    }
    if (kinds.has('Pod')) for (const c of POD_CONTROLLER_KINDS) kinds.add(c);
    return (o) => kinds.has(String(o['kind']));
  }
  if (kind === 'ValidatingPolicy') {
    const resources = new Set<string>();
    const rules = (p as ValidatingPolicyShape).spec?.matchConstraints?.resourceRules;
    if (!Array.isArray(rules) || !rules.length) return all;
    for (const r of rules) {
      if (!Array.isArray(r.resources) || !r.resources.length) return all;
      for (const res of r.resources) {
        if (typeof res !== 'string' || res.includes('*')) return all;
        resources.add(res.split('/')[0]!);
      }
    }
    // Autogen (pkg/cel/autogen) only for a policy matching exactly one rule for `pods`: the controllers it lists,
    // or Kyverno's default ones (every Pod controller but ReplicationController).
    if (rules.length === 1 && rules[0]!.resources!.length === 1 && rules[0]!.resources![0] === 'pods') {
      const listed = (p as ValidatingPolicyShape).spec.autogen?.podControllers?.controllers;
      for (const c of Array.isArray(listed) ? listed : POD_CONTROLLER_KINDS.filter((k) => k !== 'ReplicationController').map(resourceOfKind)) resources.add(c);
    }
    return (o) => resources.has(resourceOfKind(String(o['kind'])));
  }
  return all;
}

/**
 * The exceptions that name one of these policies (v2: `spec.exceptions[].policyName`; v1:
 * `spec.policyRefs[].name`); an exception of another shape is always kept.
 */
function exceptionsFor(exceptions: readonly object[], policies: readonly object[]): object[] {
  const names = new Set(policies.map((p) => (p as { metadata?: { name?: unknown } }).metadata?.name));
  return exceptions.filter((e) => {
    const spec = (e as { spec?: { exceptions?: unknown; policyRefs?: unknown } }).spec;
    const refs = Array.isArray(spec?.exceptions) ? (spec.exceptions as { policyName?: unknown }[]).map((x) => x?.policyName) : Array.isArray(spec?.policyRefs) ? (spec.policyRefs as { name?: unknown }[]).map((x) => x?.name) : undefined;
    return refs === undefined || refs.some((n) => names.has(n));
  });
}

/**
 * A Namespace as the API server stores it: with the `kubernetes.io/metadata.name` label, which it sets on every
 * Namespace (immutable, since Kubernetes 1.21) before validating admission. ValidatingPolicies select namespaces
 * by that label, and a Namespace object by its own labels; the Kyverno CLI reads them from the file as given.
 */
export function withNamespaceNameLabel(o: Obj): Obj {
  if (o['kind'] !== 'Namespace' || o['apiVersion'] !== 'v1') return o;
  const md = (o['metadata'] ?? {}) as Obj;
  const labels = (md['labels'] ?? {}) as Record<string, unknown>;
  if (typeof md['name'] !== 'string' || labels['kubernetes.io/metadata.name'] !== undefined) return o;
  return { ...o, metadata: { ...md, labels: { ...labels, 'kubernetes.io/metadata.name': md['name'] } } };
}

function kyvernoInput(policies: readonly object[], given: readonly Obj[], exceptions: readonly object[]): EngineInput {
  const resources = policies.some(isValidatingPolicy) ? given.map(withNamespaceNameLabel) : given;
  const files: Record<string, string> = { 'policies.yaml': toYaml(policies, { header: false }), 'resources.yaml': toYaml(resources, { header: false }) };
  if (exceptions.length) files['exceptions.yaml'] = toYaml(exceptions, { header: false });
  return { files, policyObjects: policies, exceptionObjects: exceptions, resources };
}

async function runKyverno(input: EngineInput, log?: Logger): Promise<EngineFindings> {
  const kyverno = await ensureEngine('kyverno', log);
  return withTempDir(async (dir) => {
    writeInput(dir, input);
    const exceptionFile = input.files['exceptions.yaml'] === undefined ? undefined : join(dir, 'exceptions.yaml');
    const r = await capture(kyverno, kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml'), exceptionFile, kyvernoWarningsAsErrors([...input.policyObjects, ...(input.exceptionObjects ?? [])])));
    return parseKyvernoOutput(r, input.policyObjects, input.resources);
  });
}

/**
 * Engine runs for many callers: calls whose input files are byte-identical share one process run, and at most
 * `limit` processes run at a time. An engine's verdict is a function of the bytes it reads, so the key is a
 * SHA-256 of exactly those bytes (every file, with its name and length): any difference, however small, gets
 * its own run. The findings returned are shared between the callers of one run: read them, do not change them.
 */
export class EngineRuns {
  private readonly results = new Map<string, Promise<EngineFindings>>();
  private running = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Calls made, per engine. */
  readonly calls: Record<'gator' | 'kyverno', number> = { gator: 0, kyverno: 0 };
  /** Engine processes started, per engine (one per distinct input). */
  readonly runs: Record<'gator' | 'kyverno', number> = { gator: 0, kyverno: 0 };
  /** The most engine processes that ran at once. */
  peak = 0;

  constructor(
    private readonly limit = 2,
    private readonly log?: Logger,
  ) {
    if (!(limit >= 1)) throw new RangeError(`EngineRuns: limit must be at least 1, not ${limit}`);
  }

  /** `gatorFindings`, run once per distinct input (and engine). */
  gator(policyObjects: readonly object[], resources: readonly Obj[], engine: GatorEngine = 'native'): Promise<EngineFindings> {
    const input = gatorInput(policyObjects, resources, engine);
    return this.share('gator', input, () => runGator(input, this.log));
  }

  /** `kyvernoFindings`, run once per distinct input. */
  kyverno(policies: readonly object[], resources: readonly Obj[], exceptions: readonly object[] = []): Promise<EngineFindings> {
    const input = kyvernoInput(policies, resources, exceptions);
    return this.share('kyverno', input, () => runKyverno(input, this.log));
  }

  private share(engine: 'gator' | 'kyverno', input: EngineInput, run: () => Promise<EngineFindings>): Promise<EngineFindings> {
    this.calls[engine]++;
    const key = `${engine}:${inputDigest(input)}`;
    let result = this.results.get(key);
    if (!result) {
      result = this.slot(() => {
        this.runs[engine]++;
        return run();
      });
      this.results.set(key, result);
    }
    return result;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    // A finished run hands its slot to the next waiting one, so no newcomer can slip in between.
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.peak = Math.max(this.peak, ++this.active);
    try {
      return await fn();
    } finally {
      this.active--;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** SHA-256 over every input file (name, byte length, bytes) and the flags, so no two different inputs can run together. */
function inputDigest(input: EngineInput): string {
  const h = createHash('sha256');
  h.update(`${JSON.stringify(input.flags ?? [])}\u0000`);
  for (const name of Object.keys(input.files).sort()) {
    const bytes = Buffer.from(input.files[name]!, 'utf8');
    h.update(`${name}\u0000${bytes.length}\u0000`).update(bytes);
  }
  return h.digest('hex');
}

/**
 * The `kyverno apply` command line with a JSON policy report. `warningsAsErrors` (kyvernoWarningArgs) makes
 * the CLI refuse deprecated constructs.
 */
export function kyvernoArgs(policies: string, resources: string, exceptions?: string, warningsAsErrors = false): string[] {
  return ['apply', policies, '--resource', resources, ...(exceptions ? ['--exception', exceptions] : []), '--policy-report', '--output-format', 'json', '--remove-color', ...(warningsAsErrors ? ['--warnings-as-errors'] : [])];
}

/**
 * Whether a Kyverno CLI run over these objects (policies and exceptions) can use `--warnings-as-errors`: yes
 * unless one of them is a legacy `kyverno.io` kind. The CLI's deprecation warnings (Kyverno 1.19.1,
 * cmd/cli/kubectl-kyverno: policy and exception loaders, pkg/deprecations) are warnings about legacy kinds
 * alone, so for ClusterPolicies the flag would fail on the deprecation itself: such runs go without it,
 * and parseKyvernoOutput accepts exactly those warnings and nothing else.
 */
export function kyvernoWarningsAsErrors(objects: readonly object[]): boolean {
  return !(objects as { apiVersion?: unknown }[]).some((o) => isLegacyKyvernoKind(o.apiVersion));
}

/** The flags kyvernoWarningsAsErrors stands for, for `kyverno apply` and `kyverno test`. */
export function kyvernoWarningArgs(objects: readonly object[]): string[] {
  return kyvernoWarningsAsErrors(objects) ? ['--warnings-as-errors'] : [];
}

function isLegacyKyvernoKind(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && apiVersion.startsWith('kyverno.io/');
}

/** The warning the Kyverno 1.19 CLI prints for each object of a legacy kind (the deprecation itself). */
export const KYVERNO_LEGACY_DEPRECATION =
  /^Warning: (?:\S.*: )?kyverno\.io\/v\w+ (?:ClusterPolicy|Policy|ClusterCleanupPolicy|CleanupPolicy|PolicyException) is deprecated and will be removed in a future release; migrate to [^;]+ \(policies\.kyverno\.io\), see https:\/\/kyverno\.io\/docs\/guides\/migration-to-cel\/$/;

interface KyvernoPolicy {
  kind?: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { emitWarning?: boolean; rules: KyvernoRuleShape[] };
}

/** The fields of a `policies.kyverno.io/v1` ValidatingPolicy that decide its action and scope. */
interface ValidatingPolicyShape {
  kind: 'ValidatingPolicy';
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    validationActions?: string[];
    matchConstraints?: { resourceRules?: { apiGroups?: string[]; resources?: string[]; operations?: string[] }[]; namespaceSelector?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] } };
    autogen?: { podControllers?: { controllers?: string[] } };
    matchConditions?: unknown[];
  };
}

function isValidatingPolicy(p: object): p is ValidatingPolicyShape {
  return (p as { kind?: unknown }).kind === 'ValidatingPolicy';
}

const VALIDATION_ACTIONS: Readonly<Record<string, Action>> = { Deny: 'deny', Warn: 'warn', Audit: 'audit' };

interface KyvernoRuleShape {
  name: string;
  match?: Record<string, unknown>;
  exclude?: Record<string, unknown>;
  validate?: { failureAction?: string };
  verifyImages?: unknown;
  generate?: unknown;
  mutate?: unknown;
  [key: string]: unknown;
}

/** The Pod controllers Kyverno generates `autogen-` rules for (CronJob: `autogen-cronjob-`). */
const AUTOGEN_CONTROLLERS: ReadonlySet<string> = new Set(['DaemonSet', 'Deployment', 'Job', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

/** How Kyverno's CEL validation words an expression that failed to evaluate (reported as a fail). */
const KYVERNO_CEL_ERROR = /^expression '[^]*' resulted in error: /;

/** The policy report line that precedes the JSON report; anything else Kyverno prints is a problem. */
const KYVERNO_PREAMBLE = /^Applying \d+ policy rule\(s\) to \d+ resource\(s\)( with \d+ exception\(s\))?\.\.\.$/;

/**
 * Findings from a `kyverno apply --policy-report --output-format json` run of these policies. Only pass and
 * fail are answers, and a skip caused by one of the bundle's PolicyExceptions. Errors: any other result
 * (error, warn, other skips), a fail that is a CEL expression failing to evaluate, a result for a policy, rule or resource that was not given, anything printed
 * besides the report (e.g. Kyverno's "Policies Skipped" or "Invalid Policies" lists), output on stderr, an
 * exit code that does not match the results, and — with `resources` — a validate rule that gave no result
 * for a resource in its scope (a policy Kyverno silently dropped).
 */
export function parseKyvernoOutput(r: { code: number; stdout: string; stderr: string }, policies: readonly object[], resources?: readonly Obj[]): EngineFindings {
  const fail = (why: string): never => {
    throw new EngineError('engine_failed', `kyverno apply ${why} (exit ${r.code})${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 2000)}` : ''}`);
  };
  const ps = policies.filter((p) => !isValidatingPolicy(p)) as KyvernoPolicy[];
  const vps = policies.filter(isValidatingPolicy);
  const vpByName = new Map(vps.map((p) => [p.metadata.name, p]));
  const actions = new Map<string, Action>();
  const controlOf = new Map<string, string>();
  for (const p of vps) {
    controlOf.set(p.metadata.name, p.metadata.annotations?.['kubeharden.io/control'] ?? p.metadata.name);
    const [a, ...more] = (p.spec.validationActions ?? []).map((x) => VALIDATION_ACTIONS[x]);
    // One action per policy: kubeharden writes exactly one (Deny, Audit or Warn).
    if (a === undefined || more.length) fail(`was given ValidatingPolicy ${p.metadata.name} with validationActions ${JSON.stringify(p.spec.validationActions)}; kubeharden writes exactly one of ${Object.keys(VALIDATION_ACTIONS).join(', ')}`);
    // ValidatingPolicies have no rules: the report names none.
    actions.set(`${p.metadata.name}/`, a!);
  }
  for (const p of ps) {
    controlOf.set(p.metadata.name, p.metadata.annotations?.['kubeharden.io/control'] ?? p.metadata.name);
    for (const rule of p.spec.rules) {
      const a: Action = rule.validate?.failureAction === 'Enforce' || (rule.verifyImages as { failureAction?: string }[] | undefined)?.[0]?.failureAction === 'Enforce' ? 'deny' : p.spec.emitWarning ? 'warn' : 'audit';
      for (const name of [rule.name, ...autogenNames(rule.name)]) actions.set(`${p.metadata.name}/${name}`, a);
    }
  }
  if (r.stderr.trim()) fail('wrote to stderr');
  const stdout = r.stdout;
  // kyverno exits 1 when a rule fails or errors; the report is still on stdout.
  const start = stdout.indexOf('{"kind"');
  // Skipped and invalid policies are listed (between dividers) before the report, or instead of it.
  // A legacy kind's deprecation warning is expected (runs with legacy kinds go without --warnings-as-errors).
  const preamble = stdout
    .slice(0, start < 0 ? undefined : start)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^-{10,}$/.test(l) && !KYVERNO_PREAMBLE.test(l) && !KYVERNO_LEGACY_DEPRECATION.test(l));
  if (preamble.length) fail(`reported: ${preamble.join('\n').slice(0, 2000)}`);
  if (start < 0) fail('printed no policy report');
  let report: { results?: { policy: string; rule?: string; result: string; message?: string; source?: string; resources?: Obj[] }[] };
  try {
    report = JSON.parse(stdout.slice(start)) as typeof report;
  } catch {
    return fail(`printed a policy report that is not JSON: ${stdout.slice(start, start + 500)}`);
  }
  const given = resources ? new Map(resources.map((o) => [kyvernoKeyOf(o), o])) : undefined;
  // A kind kubeharden does not know as cluster-scoped may come back without the `default` namespace.
  const givenKey = (key: string): string | undefined => (given?.has(key) ? key : given?.has(key.replace(/^([^/]*)\/\//, '$1/default/')) ? key.replace(/^([^/]*)\/\//, '$1/default/') : undefined);
  const out: EngineFindings = new Map();
  const answered = new Set<string>();
  let failed = false;
  for (const x of report.results ?? []) {
    const where = `${x.policy}/${x.rule ?? ''}`;
    const action = actions.get(where);
    if (!controlOf.has(x.policy)) fail(`reported a result for policy ${x.policy}, which was not given`);
    if (action === undefined) fail(`reported a result for rule ${where}, which the policy does not have`);
    const vp = vpByName.get(x.policy);
    // A ValidatingPolicy whose matchConditions leave the object out (exceptions by name) reports `skip`
    // with the message `skip`; an object a v1 PolicyException exempts whole is skipped too.
    const exempted =
      x.result === 'skip' &&
      (/^rule (is )?skipped due to policy exceptions?/i.test(x.message ?? '') || (vp !== undefined && x.source === 'KyvernoValidatingPolicy' && (x.message === 'skip' ? (vp.spec.matchConditions?.length ?? 0) > 0 : /exception/i.test(x.message ?? ''))));
    if (x.result !== 'pass' && x.result !== 'fail' && !exempted) fail(`gave ${x.result} for rule ${where}${x.message ? `: ${x.message}` : ''}`);
    // Kyverno reports a CEL expression that failed to evaluate as a failed rule: an error, not a deny.
    if (x.result === 'fail' && KYVERNO_CEL_ERROR.test(x.message ?? '')) fail(`could not evaluate rule ${where}: ${x.message}`);
    for (const res of x.resources ?? []) {
      const key = resourceKey(res['kind'], res['namespace'], res['name']);
      const known = given ? givenKey(key) : key;
      if (known === undefined) fail(`reported a result for ${key}, which was not given`);
      answered.add(`${x.policy}\u0000${known}`);
      if (x.result !== 'fail') continue;
      failed = true;
      const list = out.get(key) ?? [];
      list.push({ control: controlOf.get(x.policy)!, action: action!, message: x.message ?? '' });
      out.set(key, list);
    }
  }
  if ((r.code !== 0) !== failed) fail(failed ? 'found violations but exited 0' : 'failed');
  if (given) {
    const silent: string[] = [];
    for (const p of [...ps, ...vps]) {
      for (const [key, o] of given) {
        if (!answered.has(`${p.metadata.name}\u0000${key}`) && (isValidatingPolicy(p) ? vpInScope(p, o) : inScope(p, o))) silent.push(`${p.metadata.name} on ${key}`);
      }
    }
    if (silent.length) fail(`gave no result for ${silent.length} policy/resource pair(s) in scope (was a policy dropped?): ${silent.slice(0, 10).join(', ')}`);
  }
  for (const list of out.values()) list.sort(compareFindings);
  return out;
}

function autogenNames(rule: string): string[] {
  return [`autogen-${rule}`.slice(0, 63), `autogen-cronjob-${rule}`.slice(0, 63)];
}

/** A resource's key as Kyverno reports it: a namespaced object without a namespace is in `default`. */
export function kyvernoKeyOf(o: Obj): string {
  const md = (o['metadata'] ?? {}) as Obj;
  const namespaced = !CLUSTER_SCOPED_KINDS.has(String(o['kind']));
  return resourceKey(o['kind'], namespaced && !md['namespace'] ? 'default' : md['namespace'], md['name']);
}

/**
 * Whether a validate or verifyImages rule of the policy applies to a CREATE of `o`, for the match and
 * exclude blocks kubeharden writes (kinds, names, namespaces, operations under `any`; Pod rules also reach
 * the Pod controllers through autogen). A rule with anything else is not counted as in scope.
 */
function inScope(p: KyvernoPolicy, o: Obj): boolean {
  const kind = String(o['kind']);
  const md = (o['metadata'] ?? {}) as Obj;
  const name = typeof md['name'] === 'string' ? md['name'] : '';
  const ns = kind === 'Namespace' ? name : CLUSTER_SCOPED_KINDS.has(kind) ? '' : typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
  const autogen = canAutogen(p);
  const blocks = (b: Record<string, unknown> | undefined): Record<string, unknown>[] | undefined => {
    if (b === undefined) return [];
    const keys = Object.keys(b);
    if (keys.some((k) => k !== 'any') || !Array.isArray(b['any'])) return undefined;
    const out: Record<string, unknown>[] = [];
    for (const f of b['any'] as { resources?: Record<string, unknown> }[]) {
      if (!f || Object.keys(f).some((k) => k !== 'resources') || !f.resources) return undefined;
      if (Object.keys(f.resources).some((k) => !['kinds', 'names', 'namespaces', 'operations'].includes(k))) return undefined;
      out.push(f.resources);
    }
    return out;
  };
  const matches = (f: Record<string, unknown>, forKind: string): boolean => {
    const kinds = f['kinds'] as string[] | undefined;
    if (kinds && !kinds.includes(forKind)) return false;
    const ops = f['operations'] as string[] | undefined;
    if (ops && !ops.includes('CREATE')) return false;
    const names = f['names'] as string[] | undefined;
    if (names && !names.some((n) => wildcard(n, name))) return false;
    const nss = f['namespaces'] as string[] | undefined;
    if (nss && !nss.some((n) => wildcard(n, ns))) return false;
    return true;
  };
  for (const rule of p.spec.rules) {
    if (!rule.validate && !rule.verifyImages) continue;
    if (Object.keys(rule).some((k) => !['name', 'match', 'exclude', 'validate', 'verifyImages', 'skipBackgroundRequests'].includes(k))) continue;
    const match = blocks(rule.match);
    const exclude = blocks(rule.exclude);
    if (!match || !match.length || !exclude) continue;
    // A Pod rule reaches a controller as its autogen rule; the blocks then apply to the controller.
    const forKind = autogen && (AUTOGEN_CONTROLLERS.has(kind) || kind === 'CronJob') && match.some((f) => (f['kinds'] as string[] | undefined)?.includes('Pod')) ? 'Pod' : kind;
    if (forKind === 'Pod' && kind !== 'Pod' && !autogen) continue;
    if (match.some((f) => matches(f, forKind)) && !exclude.some((f) => matches({ ...f, kinds: f['kinds'] === undefined ? undefined : (f['kinds'] as string[]).map((k) => (k === kind ? forKind : k)) }, forKind))) return true;
  }
  return false;
}

/** The plural resource of a kind (the kinds kubeharden's policies match: Pods, controllers, target kinds). */
function resourceOfKind(kind: string): string {
  const k = kind.toLowerCase();
  return k.endsWith('s') ? `${k}es` : `${k}s`;
}

/**
 * Whether a ValidatingPolicy applies to a CREATE of `o`, for the matchConstraints kubeharden writes (resource
 * rules, a namespace selector on kubernetes.io/metadata.name) and its autogen controllers. Objects its
 * matchConditions leave out still get a result (skip), so they count as in scope.
 */
function vpInScope(p: ValidatingPolicyShape, o: Obj): boolean {
  const kind = String(o['kind']);
  const md = (o['metadata'] ?? {}) as Obj;
  const mc = p.spec.matchConstraints ?? {};
  const resource = resourceOfKind(kind);
  const rules = (mc.resourceRules ?? []).filter((r) => (r.operations ?? []).includes('CREATE'));
  const podRule = rules.length === 1 && (rules[0]!.resources ?? []).join() === 'pods';
  const matchesKind = rules.some((r) => (r.resources ?? []).includes(resource)) || (podRule && (p.spec.autogen?.podControllers?.controllers ?? []).includes(resource));
  if (!matchesKind) return false;
  if (CLUSTER_SCOPED_KINDS.has(kind) && kind !== 'Namespace') return true;
  const ns = kind === 'Namespace' ? String(md['name'] ?? '') : typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
  return (mc.namespaceSelector?.matchExpressions ?? []).every((e) => {
    if (e.key !== 'kubernetes.io/metadata.name') return false;
    if (e.operator === 'In') return (e.values ?? []).includes(ns);
    if (e.operator === 'NotIn') return !(e.values ?? []).includes(ns);
    return false;
  });
}

/** Kyverno's autogen condition (pkg/autogen/v1 CanAutoGen): no generate rule, no names or selectors, no Pod mixed with other kinds, and some block names a Pod (controller) kind. */
function canAutogen(p: KyvernoPolicy): boolean {
  if (p.metadata.annotations?.['pod-policies.kyverno.io/autogen-controllers'] !== undefined) return false;
  let needed = false;
  for (const rule of p.spec.rules) {
    if (rule.generate) return false;
    for (const b of [rule.match, rule.exclude]) {
      if (!b) continue;
      for (const key of ['any', 'all']) {
        for (const f of (b[key] as { resources?: Record<string, unknown> }[] | undefined) ?? []) {
          const res = f.resources ?? {};
          const kinds = (res['kinds'] as string[] | undefined) ?? [];
          if (res['name'] || (res['names'] as unknown[] | undefined)?.length || res['selector'] || res['annotations'] || (kinds.length > 1 && kinds.includes('Pod'))) return false;
          if (kinds.some((k) => k === 'Pod' || k === 'CronJob' || AUTOGEN_CONTROLLERS.has(k))) needed = true;
        }
      }
    }
  }
  return needed;
}

/** Kyverno's wildcard match: `*` any run of characters, `?` one character. */
function wildcard(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(value);
}

function compareFindings(a: EngineFinding, b: EngineFinding): number {
  return a.control < b.control ? -1 : a.control > b.control ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/** Controls that found something, per resource, as a sorted list (the verdict an engine gives per control). */
export function violatedControls(findings: readonly EngineFinding[] | undefined): string[] {
  return [...new Set((findings ?? []).map((f) => f.control))].sort();
}
