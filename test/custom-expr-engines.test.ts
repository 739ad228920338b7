/**
 * Custom check expressions give opa's verdict in every engine kubeharden ships them to.
 *
 * The corpus of test/support/custom-expr-corpus.ts (every builder operation; generated objects with absent
 * fields, nulls, wrong types, empty lists, non-ASCII strings, and hand-written ones) is evaluated by:
 * - opa (`opa eval --strict-builtin-errors`, one process): the reference, as in test/custom-expr.test.ts;
 * - the OPA WebAssembly build the audit uses (src/eval/wasm.ts `loadPolicyModule`: `opa build -t wasm`, run
 *   with @open-policy-agent/opa-wasm), one template per expression whose Rego reports a violation when the
 *   compiled expression (`toRego`, Gatekeeper's input `input.review.object`) is false, every object in one
 *   aggregate call;
 * - gator (`gator test`, src/eval/engines.ts `gatorFindings`), one ConstraintTemplate and one Constraint per
 *   expression, every object in one run, with the templates' Rego blocks (`--enable-k8s-native-validation=false`)
 *   and again with their CEL blocks (gator's default);
 * - the Kyverno CLI (`kyverno apply`, `kyvernoFindings`, which refuses any error, skip or missing result),
 *   one ValidatingPolicy per expression with the compiled CEL (`toCel`) as its validation, objects in batches.
 * gator and Kyverno report violations per object name, and a generated object may have no name or no
 * metadata at all: there each object rides in a carrier (a `Carrier` object named after it, the object under
 * `subject`), and the compiled expression reads the carrier's `subject` as its object (Rego `input:
 * input.review.object.subject`; CEL `[dyn(object).subject].all(subject, <toCel with object: subject>)`). The
 * WASM build reads the object itself. Every verdict of every engine must equal opa's for every
 * (expression, object) pair; the figures (evaluations and time per engine) are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCel, toRego } from '../src/custom/expr.js';
import { gatorFindings, kyvernoFindings, type EngineFindings } from '../src/eval/engines.js';
import { loadPolicyModule } from '../src/eval/wasm.js';
import { OPTIONS, corpusCases, corpusExprs, evalRego, type CorpusCase, type CorpusExpr, type Obj, type Verdicts } from './support/custom-expr-corpus.js';

/**
 * How many generated objects gator and the Kyverno CLI evaluate (the first ones; every hand-written object
 * too); opa and the WASM build take all 1,012 in a few seconds. Measured on a shared 2-core machine at a
 * quiet moment: gator about 0.3 ms per evaluation with Rego and 0.16 ms with CEL; the Kyverno CLI compiles
 * every policy for every resource, about 5 ms per evaluation (0.4 s per object with the 79 policies, two runs
 * at a time), so all 1,012 objects would take about 7 minutes. These sizes keep the file near 45 s (several
 * times that on a busy machine); it prints its figures.
 */
const GATOR_GENERATED = 500;
const KYVERNO_GENERATED = 52;
/** Objects per `kyverno apply` run (two runs at a time). */
const KYVERNO_BATCH = 16;

const CARRIER = { apiVersion: 'example.com/v1', kind: 'Carrier' } as const;
const carrierName = (i: number): string => `c${i}`;
const carrier = (c: CorpusCase, i: number): Obj => ({ ...CARRIER, metadata: { name: carrierName(i), namespace: 'default' }, subject: c.object });

/** The template kind, template name and constraint name of expression `i`. */
const kindOf = (i: number): string => `KhExpr${i}`;
const policyName = (i: number): string => `kh-expr-${i}`;

/** The Rego module of expression `i`: a violation (its message: the expression's name) when it is false. */
function regoModule(i: number, name: string, term: string): string {
  return `package kh_expr_${i}\n\nviolation contains {"msg": ${JSON.stringify(name)}} if {\n\t${term} == false\n}\n`;
}

/** The CEL of an expression on the carrier's subject. */
function carriedCel(e: CorpusExpr[1]): string {
  return `[dyn(object).subject].all(subject, ${toCel(e, { object: 'subject', options: OPTIONS })})`;
}

/** One ConstraintTemplate (Rego and CEL blocks) and one Constraint per expression, on carriers. */
function gatekeeperObjects(exprs: readonly CorpusExpr[]): object[] {
  const templates = exprs.map(([name, e], i) => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: kindOf(i).toLowerCase() },
    spec: {
      crd: { spec: { names: { kind: kindOf(i) } } },
      targets: [
        {
          target: 'admission.k8s.gatekeeper.sh',
          code: [
            { engine: 'K8sNativeValidation', source: { generateVAP: false, validations: [{ expression: carriedCel(e), message: name }] } },
            { engine: 'Rego', source: { version: 'v1', rego: regoModule(i, name, toRego(e, { input: 'input.review.object.subject', options: OPTIONS })) } },
          ],
        },
      ],
    },
  }));
  const constraints = exprs.map((_, i) => ({ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: kindOf(i), metadata: { name: policyName(i) }, spec: { match: { kinds: [{ apiGroups: ['example.com'], kinds: ['Carrier'] }] } } }));
  return [...templates, ...constraints];
}

/** One ValidatingPolicy per expression, on carriers. */
function kyvernoPolicies(exprs: readonly CorpusExpr[]): object[] {
  return exprs.map(([name, e], i) => ({
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ValidatingPolicy',
    metadata: { name: policyName(i) },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: ['example.com'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['carriers'] }] },
      validationActions: ['Deny'],
      validations: [{ expression: carriedCel(e), message: name }],
    },
  }));
}

/**
 * Verdicts from findings keyed `Carrier/default/c<i>`: an expression holds on an object unless its policy or
 * constraint reported it. A finding for anything else, or with another message, fails.
 */
function carrierVerdicts(engine: string, findings: EngineFindings, exprs: readonly CorpusExpr[], cases: readonly CorpusCase[], indices: readonly number[]): Verdicts {
  const byPolicy = new Map(exprs.map(([name], i) => [policyName(i), name]));
  const violated = new Map<string, Set<string>>();
  const known = new Set(indices.map((i) => `Carrier/default/${carrierName(i)}`));
  for (const [key, list] of findings) {
    if (!known.has(key)) throw new Error(`${engine} reported ${key}, which was not given`);
    for (const f of list) {
      const name = byPolicy.get(f.control);
      if (name === undefined || f.message !== name || f.action !== 'deny') throw new Error(`${engine} reported ${JSON.stringify(f)} for ${key}`);
      let s = violated.get(key);
      if (!s) violated.set(key, (s = new Set()));
      s.add(name);
    }
  }
  const verdicts: Verdicts = new Map(exprs.map(([name]) => [name, new Map<string, boolean>()]));
  for (const i of indices) {
    const v = violated.get(`Carrier/default/${carrierName(i)}`);
    for (const [name] of exprs) verdicts.get(name)!.set(cases[i]!.id, !v?.has(name));
  }
  return verdicts;
}

/** Every expression on every case with the OPA WebAssembly build, in one aggregate call. */
async function evalWasm(exprs: readonly CorpusExpr[], cases: readonly CorpusCase[]): Promise<Verdicts> {
  const templates = new Map(exprs.map(([name, e], i) => [kindOf(i), regoModule(i, name, toRego(e, { options: OPTIONS }))]));
  const module = await loadPolicyModule({ templates, libs: [], v0: false });
  module.setConstraints(exprs.map(() => ({})));
  const checks = Object.fromEntries(exprs.map((_, i) => [kindOf(i), [i]]));
  const violations = module.evaluateAll(cases.map((c) => ({ review: { object: c.object, operation: 'CREATE' }, checks })));
  const verdicts: Verdicts = new Map(exprs.map(([name]) => [name, new Map(cases.map((c) => [c.id, true]))]));
  for (const v of violations) {
    const [name] = exprs[v.constraint]!;
    if (v.msg !== name) throw new Error(`WASM: constraint ${v.constraint} (${name}) reported ${JSON.stringify(v.msg)}`);
    verdicts.get(name)!.set(cases[v.review]!.id, false);
  }
  return verdicts;
}

interface EngineRun {
  readonly verdicts: Verdicts;
  /** The case indices it evaluated. */
  readonly indices: readonly number[];
  readonly ms: number;
}

let dir: string;
let exprs: CorpusExpr[];
let cases: CorpusCase[];
let reference: Verdicts;
const runs = new Map<string, EngineRun>();

async function timed(engine: string, indices: readonly number[], fn: () => Promise<Verdicts>): Promise<void> {
  const t = performance.now();
  const verdicts = await fn();
  const ms = performance.now() - t;
  runs.set(engine, { verdicts, indices, ms });
  process.stderr.write(`custom-expr-engines: ${engine}: ${exprs.length} expressions × ${indices.length} objects = ${exprs.length * indices.length} evaluations in ${Math.round(ms)} ms\n`);
}

describe('custom check expressions: WASM, gator and the Kyverno CLI agree with opa', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-custom-engines-'));
    exprs = corpusExprs();
    cases = corpusCases();
    const t = performance.now();
    reference = await evalRego(dir, exprs, cases);
    process.stderr.write(`custom-expr-engines: opa: ${exprs.length} expressions × ${cases.length} objects in ${Math.round(performance.now() - t)} ms\n`);
    const every = cases.map((_, i) => i);
    const subset = (generated: number): number[] => cases.flatMap((c, i) => (c.id.startsWith('h:') || i < generated ? [i] : []));
    const carriers = cases.map(carrier);
    await timed('wasm', every, () => evalWasm(exprs, cases));
    const gator = subset(GATOR_GENERATED);
    const gatekeeper = gatekeeperObjects(exprs);
    const onGator = async (engine: 'rego' | 'native'): Promise<Verdicts> =>
      carrierVerdicts('gator', await gatorFindings(gatekeeper, gator.map((i) => carriers[i]!), () => {}, engine), exprs, cases, gator);
    // The two gator runs at once (each is mostly one thread).
    await Promise.all([timed('gator (Rego)', gator, () => onGator('rego')), timed('gator (CEL)', gator, () => onGator('native'))]);
    const kyverno = subset(KYVERNO_GENERATED);
    const batches = Array.from({ length: Math.ceil(kyverno.length / KYVERNO_BATCH) }, (_, b) => kyverno.slice(b * KYVERNO_BATCH, (b + 1) * KYVERNO_BATCH));
    const policies = kyvernoPolicies(exprs);
    await timed('kyverno', kyverno, async () => {
      const findings: EngineFindings = new Map();
      // Two runs at a time (each CLI process uses more than one thread; the machine has two cores).
      for (let b = 0; b < batches.length; b += 2) {
        const found = await Promise.all(batches.slice(b, b + 2).map((batch) => kyvernoFindings(policies, batch.map((i) => carriers[i]!), () => {})));
        for (const f of found) for (const [k, v] of f) findings.set(k, v);
      }
      return carrierVerdicts('kyverno', findings, exprs, cases, kyverno);
    });
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opa gives a verdict for every expression on every object', () => {
    expect(exprs.length).toBeGreaterThanOrEqual(70);
    expect(cases.length).toBeGreaterThan(1000);
    for (const [name] of exprs) expect(reference.get(name)!.size, name).toBe(cases.length);
  });

  for (const engine of ['wasm', 'gator (Rego)', 'gator (CEL)', 'kyverno']) {
    it(`${engine} gives opa's verdict for every expression on every object it evaluated`, () => {
      const run = runs.get(engine)!;
      expect(run.indices.length).toBe(engine === 'wasm' ? cases.length : engine === 'kyverno' ? KYVERNO_GENERATED + 12 : GATOR_GENERATED + 12);
      const mismatches: string[] = [];
      let compared = 0;
      for (const [name, e] of exprs) {
        for (const i of run.indices) {
          const c = cases[i]!;
          const want = reference.get(name)!.get(c.id);
          const got = run.verdicts.get(name)!.get(c.id);
          compared++;
          if (got !== want) mismatches.push(`${name} on ${c.id}: opa ${want}, ${engine} ${got}\n  object: ${JSON.stringify(c.object)}\n  CEL: ${toCel(e, { options: OPTIONS })}`);
        }
      }
      if (mismatches.length) process.stderr.write(`custom-expr-engines: ${engine} disagrees with opa ${mismatches.length} times, on ${[...new Set(mismatches.map((m) => m.split(' on ')[0]))].join(', ')}\n`);
      expect(mismatches.slice(0, 10)).toEqual([]);
      expect(compared).toBe(exprs.length * run.indices.length);
    });
  }
});
