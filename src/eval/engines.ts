/**
 * Running the real engines on a bundle: `gator test` (Gatekeeper's own evaluation, with expansion) and
 * `kyverno apply` (Kyverno's own evaluation, with auto-gen), normalised into per-resource findings so they
 * can be compared with the WASM evaluation and with each other.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, ensureEngine, EngineError, type Logger } from '../engines/index.js';
import { toYaml } from '../emit/yaml.js';
import type { Action, Obj } from './review.js';

export type EngineName = 'wasm' | 'gator' | 'kyverno';

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

const GATOR_ACTIONS: Record<string, Action> = { deny: 'deny', warn: 'warn', dryrun: 'audit' };

/** `gator test` over the given Gatekeeper objects (templates, constraints, expansion templates) and resources. */
export async function gatorFindings(policyObjects: readonly object[], resources: readonly Obj[], log?: Logger): Promise<EngineFindings> {
  const gator = await ensureEngine('gator', log);
  return withTempDir(async (dir) => {
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policyObjects, { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml(resources, { header: false }));
    const r = await capture(gator, gatorArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')));
    return parseGatorOutput(r);
  });
}

/** The `gator test` command line for a policy file and resource files or directories. */
export function gatorArgs(policies: string, ...resources: string[]): string[] {
  return ['test', '-o', 'json', '-f', policies, ...resources.flatMap((r) => ['-f', r])];
}

/** Findings from `gator test -o json` output. */
export function parseGatorOutput(r: { code: number; stdout: string; stderr: string }): EngineFindings {
  // gator exits 1 when a deny violation exists; its JSON is still on stdout.
  const stdout = r.stdout;
  if (r.code !== 0 && !(r.code === 1 && stdout.trim().startsWith('['))) throw new EngineError('engine_failed', `gator test failed (exit ${r.code}): ${r.stderr}`);
  const out: EngineFindings = new Map();
  const text = stdout.trim();
  if (!text || text === 'null') return out;
  for (const v of JSON.parse(text) as { msg: string; enforcementAction: string; constraint: { metadata: { annotations?: Record<string, string>; name: string } }; violatingObject: Obj }[]) {
    const key = keyOf(v.violatingObject);
    const list = out.get(key) ?? [];
    list.push({ control: v.constraint.metadata.annotations?.['kubeharden.io/control'] ?? v.constraint.metadata.name, action: GATOR_ACTIONS[v.enforcementAction] ?? 'deny', message: v.msg });
    out.set(key, list);
  }
  for (const list of out.values()) list.sort(compareFindings);
  return out;
}

/**
 * `kyverno apply` with a policy report. A failed rule is a violation; its action comes from the rule's
 * failureAction (Enforce → deny, Audit → audit, or warn when the policy emits warnings).
 */
export async function kyvernoFindings(policies: readonly object[], resources: readonly Obj[], log?: Logger, exceptions: readonly object[] = []): Promise<EngineFindings> {
  const kyverno = await ensureEngine('kyverno', log);
  return withTempDir(async (dir) => {
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policies, { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml(resources, { header: false }));
    let exceptionFile: string | undefined;
    if (exceptions.length) {
      exceptionFile = join(dir, 'exceptions.yaml');
      writeFileSync(exceptionFile, toYaml(exceptions, { header: false }));
    }
    const r = await capture(kyverno, kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml'), exceptionFile));
    return parseKyvernoOutput(r, policies);
  });
}

/** The `kyverno apply` command line with a JSON policy report. */
export function kyvernoArgs(policies: string, resources: string, exceptions?: string): string[] {
  return ['apply', policies, '--resource', resources, ...(exceptions ? ['--exception', exceptions] : []), '--policy-report', '--output-format', 'json', '--remove-color'];
}

/** Findings from a `kyverno apply --policy-report --output-format json` run of these policies. */
export function parseKyvernoOutput(r: { code: number; stdout: string; stderr: string }, policies: readonly object[]): EngineFindings {
  const actions = new Map<string, Action>();
  for (const p of policies as { metadata: { name: string; annotations?: Record<string, string> }; spec: { emitWarning?: boolean; rules: { name: string; validate?: { failureAction?: string } }[] } }[]) {
    for (const rule of p.spec.rules) {
      const a: Action = rule.validate?.failureAction === 'Enforce' ? 'deny' : p.spec.emitWarning ? 'warn' : 'audit';
      for (const name of [rule.name, `autogen-${rule.name}`.slice(0, 63), `autogen-cronjob-${rule.name}`.slice(0, 63)]) actions.set(`${p.metadata.name}/${name}`, a);
    }
  }
  const controlOf = new Map((policies as { metadata: { name: string; annotations?: Record<string, string> } }[]).map((p) => [p.metadata.name, p.metadata.annotations?.['kubeharden.io/control'] ?? p.metadata.name]));
  const stdout = r.stdout;
  // kyverno exits non-zero when a rule fails; the report is still on stdout.
  const start = stdout.indexOf('{"kind"');
  if (start < 0) throw new EngineError('engine_failed', `kyverno apply failed (exit ${r.code}): ${r.stderr}${stdout.slice(0, 2000)}`);
  const report = JSON.parse(stdout.slice(start)) as { results?: { policy: string; rule: string; result: string; message?: string; resources: Obj[] }[] };
  const out: EngineFindings = new Map();
  for (const x of report.results ?? []) {
    if (x.result === 'error') throw new EngineError('engine_failed', `kyverno: rule ${x.policy}/${x.rule} errored: ${x.message ?? ''}`);
    if (x.result !== 'fail') continue;
    for (const res of x.resources) {
      const key = resourceKey(res['kind'], res['namespace'], res['name']);
      const list = out.get(key) ?? [];
      list.push({ control: controlOf.get(x.policy) ?? x.policy, action: actions.get(`${x.policy}/${x.rule}`) ?? 'deny', message: x.message ?? '' });
      out.set(key, list);
    }
  }
  for (const list of out.values()) list.sort(compareFindings);
  return out;
}

function compareFindings(a: EngineFinding, b: EngineFinding): number {
  return a.control < b.control ? -1 : a.control > b.control ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/** Controls that found something, per resource, as a sorted list (the verdict an engine gives per control). */
export function violatedControls(findings: readonly EngineFinding[] | undefined): string[] {
  return [...new Set((findings ?? []).map((f) => f.control))].sort();
}
