/**
 * Custom check expressions (src/custom/expr.ts) give the same verdict in Rego and in CEL on every object.
 *
 * A corpus of expressions covering every operation is compiled to Rego and to CEL, and evaluated on objects
 * from a seeded generator (Pods, Ingresses and a custom Widget kind with absent fields, nulls, values of the
 * wrong type, empty and non-empty lists, mixed-case and non-ASCII strings, strings that almost match) and on
 * hand-written objects:
 * - the Rego by the real opa binary, in one `opa eval --strict-builtin-errors` over all of them (so a built-in
 *   called with a wrong-typed argument fails the run), every verdict a boolean: never undefined;
 * - the CEL by the ValidatingAdmissionPolicy oracle (src/engines/vap.ts: the API server's admission code), one
 *   policy and binding per expression, every object a CREATE; a Deny is a false expression, and any error,
 *   compile error or policy that does not match fails the test.
 * The verdicts must be identical for every (expression, object) pair, each corpus expression must be true on
 * some objects and false on others, and hand-written cases pin the expected verdict.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vapEvaluate, type VapRequest } from '../src/engines/vap.js';
import {
  all, and, eq, exists, hasLabel, int, list, oneOf, option, startsWith, str, toCel, toRego, type Expr,
} from '../src/custom/expr.js';
import { checkRegex } from '../src/custom/regex.js';
import { OfflineUnsupported, evaluate } from '../src/custom/evaluate.js';
import { CORPUS, HAND, HAND_EXPRS, OPTIONS, corpusCases, corpusExprs, evalRego, type CorpusCase, type CorpusExpr, type Verdicts } from './support/custom-expr-corpus.js';

const RESOURCES: Readonly<Record<string, string>> = { Pod: 'pods', Ingress: 'ingresses', Widget: 'widgets' };
const RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
  { apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['ingresses'] },
  { apiGroups: ['example.com'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['widgets'] },
];

interface Run {
  readonly exprs: readonly CorpusExpr[];
  readonly cases: readonly CorpusCase[];
  readonly rego: Verdicts;
  readonly cel: Verdicts;
  readonly regoMs: number;
  readonly celMs: number;
}

let dir: string;
let run: Run;

/** Every expression on every case with the ValidatingAdmissionPolicy oracle, in one process. */
async function evalCel(exprs: Run['exprs'], cases: Run['cases']): Promise<Verdicts> {
  const policyName = (i: number): string => `kh-expr-${i}`;
  const policies = exprs.map(([name, e], i) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: policyName(i) },
    spec: { failurePolicy: 'Fail', matchConstraints: { resourceRules: RULES }, validations: [{ expression: toCel(e, { options: OPTIONS }), message: name }] },
  }));
  const bindings = exprs.map((_, i) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName(i) },
    spec: { policyName: policyName(i), validationActions: ['Deny'] },
  }));
  const requests: VapRequest[] = cases.map((c) => ({ id: c.id, operation: 'CREATE', object: c.object, namespace: 'default', resource: RESOURCES[String(c.object['kind'])]! }));
  const ev = await vapEvaluate({ policies, bindings }, requests);
  const problems: string[] = [...ev.errors];
  for (const p of ev.policies) for (const e of p.compileErrors) problems.push(`${p.name} does not compile: ${e}`);
  const index = new Map(exprs.map(([name], i) => [policyName(i), name]));
  const verdicts: Verdicts = new Map(exprs.map(([name]) => [name, new Map<string, boolean>()]));
  for (const c of cases) {
    const res = ev.results.get(c.id)!;
    const matched = new Set(res.matched.map((m) => m.policy));
    const denied = new Set<string>();
    for (const d of res.decisions) {
      if (d.error || d.action !== 'Deny') problems.push(`${c.id}: ${d.policy} ${d.action}${d.error ? ' (error)' : ''}: ${d.message}`);
      else denied.add(d.policy);
    }
    for (const [policy, name] of index) {
      if (!matched.has(policy)) problems.push(`${c.id}: ${policy} did not match`);
      verdicts.get(name)!.set(c.id, !denied.has(policy));
    }
  }
  if (problems.length) throw new Error(`the ValidatingAdmissionPolicy oracle reported ${problems.length} problems:\n${problems.slice(0, 20).join('\n')}`);
  return verdicts;
}

describe('custom check expressions: Rego and CEL agree', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-custom-expr-'));
    const exprs = corpusExprs();
    const cases = corpusCases();
    let t = performance.now();
    const rego = await evalRego(dir, exprs, cases);
    const regoMs = performance.now() - t;
    t = performance.now();
    const cel = await evalCel(exprs, cases);
    const celMs = performance.now() - t;
    run = { exprs, cases, rego, cel, regoMs, celMs };
    process.stderr.write(`custom-expr: ${exprs.length} expressions × ${cases.length} objects = ${exprs.length * cases.length} evaluations per engine; opa ${Math.round(regoMs)} ms, VAP oracle ${Math.round(celMs)} ms\n`);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives a verdict for every expression on every object in both engines', () => {
    expect(run.exprs.length).toBeGreaterThanOrEqual(30);
    expect(run.exprs.length * run.cases.length).toBeGreaterThan(5000);
    for (const [name] of run.exprs) {
      expect(run.rego.get(name)!.size, `Rego verdicts of ${name}`).toBe(run.cases.length);
      expect(run.cel.get(name)!.size, `CEL verdicts of ${name}`).toBe(run.cases.length);
    }
  });

  it('gives the same verdict in Rego and CEL on every object', () => {
    const mismatches: string[] = [];
    for (const [name, e] of run.exprs) {
      for (const c of run.cases) {
        const r = run.rego.get(name)!.get(c.id);
        const v = run.cel.get(name)!.get(c.id);
        if (r !== v) mismatches.push(`${name} on ${c.id}: Rego ${r}, CEL ${v}\n  object: ${JSON.stringify(c.object)}\n  CEL: ${toCel(e, { options: OPTIONS })}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it("the build-time evaluator (src/custom/evaluate.ts, which judges custom samples before anything is written) gives opa's verdict on every object", () => {
    const mismatches: string[] = [];
    let compared = 0;
    let unsupported = 0;
    for (const [name, e] of run.exprs) {
      for (const c of run.cases) {
        let v: boolean;
        try {
          v = evaluate(e, c.object, OPTIONS);
        } catch (err) {
          if (!(err instanceof OfflineUnsupported)) throw err;
          unsupported++;
          continue;
        }
        compared++;
        if (v !== run.rego.get(name)!.get(c.id)) mismatches.push(`${name} on ${c.id}: offline ${v}, opa ${run.rego.get(name)!.get(c.id)}\n  object: ${JSON.stringify(c.object)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // Only patterns the offline evaluator cannot translate faithfully are left out (a warning at build time).
    expect(compared).toBeGreaterThan(0.95 * run.exprs.length * run.cases.length);
    process.stderr.write(`custom-expr: build-time evaluator ${compared} verdicts equal opa's, ${unsupported} not evaluable offline\n`);
  });

  it('each corpus expression is true on some objects and false on others', () => {
    const oneSided: string[] = [];
    for (const name of Object.keys(CORPUS)) {
      const values = new Set(run.rego.get(name)!.values());
      if (values.size !== 2) oneSided.push(`${name}: always ${[...values].join()}`);
    }
    expect(oneSided).toEqual([]);
  });

  it('gives the expected verdicts on the hand-written objects', () => {
    const wrong: string[] = [];
    for (const h of HAND) {
      for (const [name, expected] of Object.entries(h.expect)) {
        const key = `hand:${name}`;
        if (!HAND_EXPRS[name]) throw new Error(`no hand expression ${name}`);
        for (const [engine, verdicts] of [['Rego', run.rego], ['CEL', run.cel]] as const) {
          const got = verdicts.get(key)!.get(`h:${h.id}`);
          if (got !== expected) wrong.push(`${engine} ${name} on ${h.id}: ${got}, expected ${expected}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('custom check expressions: building and compiling', () => {
  it('compiles to a Rego term and a CEL expression', () => {
    const e = and(oneOf(str('spec.ingressClassName', ''), option('allowedClasses')), hasLabel('team'));
    expect(toCel(e, { options: { allowedClasses: ['nginx'] } })).toBe(
      '(((type((type(object.?spec.orValue(dyn(null))) != list ? object.?spec.?ingressClassName.orValue(dyn(null)) : dyn(null))) == string ? ' +
        '(type(object.?spec.orValue(dyn(null))) != list ? object.?spec.?ingressClassName.orValue(dyn(null)) : dyn(null)) : "") in ["nginx"]) && ' +
        '(type((type(object.?metadata.orValue(dyn(null))) != list && type(object.?metadata.?labels.orValue(dyn(null))) != list ? object.?metadata.?labels.?team.orValue(dyn(null)) : dyn(null))) == string))',
    );
    expect(toRego(e, { input: 'obj', options: { allowedClasses: ['nginx'] } })).toBe(
      '({(object.get({0: kh_t0 | kh_t0 := object.get(obj, ["spec", "ingressClassName"], null); is_string(kh_t0)}, 0, "") in ["nginx"]), ' +
        'object.get({0: true | kh_t1 := object.get(obj, ["metadata", "labels", "team"], null); is_string(kh_t1)}, 0, false)} == {true})',
    );
    expect(toRego(hasLabel('a'))).toContain('object.get(input.review.object, ');
  });

  it('names nested quantifier elements apart and the same way whatever was built before', () => {
    const build = (): Expr<'bool'> => all(list('spec.containers'), (c) => exists(c.list('ports'), (p) => eq(p.int('containerPort', 0), c.int('port', 1))));
    const first = build();
    expect(toCel(build())).toBe(toCel(first));
    expect(toCel(first)).toMatch(/\.all\(kh0, .*\.exists\(kh1, /);
    expect(toRego(first)).toMatch(/some kh_e1 in .*some kh_e0 in /);
  });

  it('refuses what the engines would not evaluate alike', () => {
    expect(() => toCel(oneOf(str('a', ''), option('missing')) as unknown as Expr<'bool'>)).toThrow(/option "missing"/);
    expect(() => str('a..b', '')).toThrow(/empty name/);
    expect(() => str('a', '\ud800')).toThrow(/lone surrogate/);
    expect(() => eq(int('a', 0), 1.5)).toThrow(/safe integer/);
    expect(() => eq(int('a', 2 ** 60), 1)).toThrow(/safe integer/);
    expect(() => eq(str('a', ''), 1 as unknown as string)).toThrow(/must be a string/);
    expect(() => startsWith(int('a', 0) as unknown as Expr<'string'>, 'x')).toThrow(/type string/);
    expect(() => toRego(str('a', '') as unknown as Expr<'bool'>)).toThrow(/boolean expression/);
    expect(() => toRego(hasLabel('a'), { input: 'input.review["object"]' })).toThrow(/reference/);
    let leaked: Expr<'string'> | undefined;
    const e = exists(list('spec.containers'), (c) => {
      leaked = c.str('name', '');
      return eq(leaked, 'x');
    });
    expect(() => toCel(and(e, eq(leaked!, 'y')))).toThrow(/outside the exists\/all/);
  });

  it('accepts the RE2 subset and refuses the rest', () => {
    for (const ok of ['^a$', '(?i)pay', '(?is)a.b', 'a|b|', '[a-z0-9-]+', '[^-a]', '[\\d\\]]', '\\.internal$', 'x{2}', 'x{2,}', 'x{2,5}?', '(?:ab)*?', '\\x41\\bz\\B', 'é+', '']) {
      expect(() => checkRegex(ok), ok).not.toThrow();
    }
    for (const bad of ['(?=a)', '(?<n>a)', '\\1', '\\p{L}', '\\u0041', 'a**', '*a', 'a{1001}', '(a{100}){100}', '[a-]b-c]', '[z-a]', '[]', '[[:alpha:]]', '(a', 'a)', 'a{', '^*', '\\Z', '(?i)(?m)a', 'a{2}{3}']) {
      expect(() => checkRegex(bad), bad).toThrow();
    }
  });
});
