/**
 * Gatekeeper's CEL engine in the agreement matrix: every sample × kind × version through `gator test` with
 * templates that carry both a K8sNativeValidation (CEL) and a Rego block. With native validation on
 * (`--enable-k8s-native-validation=true`, gator's default) gator runs only the CEL block; with it off, only
 * the Rego block. Both must give WASM's verdict and the expected one. Also: the CEL block's shape
 * (parameters, generateVAP), exceptions by name and allowances through expanded workloads, DELETE reviews,
 * and the shipped suite under both flags.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import { checkableOffline } from '../src/controls/types.js';
import { SUPPORTED_VERSIONS, minor, type KubernetesVersion } from '../src/pss/versions.js';
import { constraint, constraintTemplate, expansionTemplates } from '../src/backends/gatekeeper/emitters.js';
import { celBlockWhy } from '../src/backends/cel-support.js';
import { sampleArtifacts, sampleInstance } from '../src/backends/engine-suites/index.js';
import { suiteCases, type SuiteCase } from '../src/backends/engine-suites/samples.js';
import { evaluateSample, loadCatalogModule } from '../src/eval/bundle.js';
import { EngineRuns, keyOf, nativeValidationFlag, type EngineFindings, type GatorEngine } from '../src/eval/engines.js';
import type { PolicyModule } from '../src/eval/wasm.js';
import { capture, ensureEngine } from '../src/engines/index.js';
import type { ControlInstance } from '../src/ir/types.js';
import type { Obj } from '../src/eval/review.js';
import { ROOT } from './helpers.js';

/** `KUBEHARDEN_CONTROLS` / `KUBEHARDEN_VERSIONS` narrow the matrix while developing (as in agreement.test.ts); CI refuses them. */
function filter(name: string, known: readonly string[]): string[] | undefined {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  const ci = process.env['CI'];
  if (ci && ci !== '0' && ci !== 'false') throw new Error(`${name}=${raw} is set, but CI runs the whole agreement matrix: unset it`);
  const list = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = list.filter((x) => !known.includes(x));
  if (!list.length || unknown.length) throw new Error(`${name}=${JSON.stringify(raw)} names no known value; known: ${known.join(', ')}`);
  return list;
}
const ONLY_CONTROLS = filter('KUBEHARDEN_CONTROLS', CONTROL_IDS);
const ONLY_VERSIONS = filter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS);
const VERSIONS = SUPPORTED_VERSIONS.filter((v) => !ONLY_VERSIONS || ONLY_VERSIONS.includes(v));
const controlsAt = (v: KubernetesVersion): ControlId[] =>
  CONTROL_IDS.filter((id) => (getControl(id).pss?.since ?? 0) <= minor(v) && checkableOffline(getControl(id)) && (!ONLY_CONTROLS || ONLY_CONTROLS.includes(id)));

/** Two gator processes at a time; one run per distinct input (files and flag), shared across versions. */
const runs = new EngineRuns(2);
const ENGINES: readonly GatorEngine[] = ['native', 'rego'];

let catalog: PolicyModule;
beforeAll(async () => {
  catalog = await loadCatalogModule(() => {});
  await ensureEngine('gator', (l) => process.stderr.write(`${l}\n`));
}, 3_600_000);

interface Row {
  readonly c: SuiteCase;
  readonly wasm: string[];
}

/**
 * Gatekeeper's decisions for a CEL expression that fails to compile or evaluate, or runs out of budget
 * (k8s.io/apiserver v0.36.2, which gatekeeper v3.23.0 builds on: plugin/cel/activation.go and
 * plugin/policy/validating/validator.go); `failurePolicy: Fail` turns each into a deny. A sample must never be
 * denied by one, nor by the fallback for a validation without a message.
 */
const CEL_ERROR = /compilation error|unexpected internal error|running out of cost budget|runtime cost could not be calculated|resulted in error|failed messageExpression|failed expression:|Invalid type sent to validator/;

/** Rows whose verdict (deny when the row's own control reports a finding) differs from WASM's or the expected one. */
function disagreements(engine: string, rows: readonly Row[], byControl: ReadonlyMap<ControlId, EngineFindings>): { wrong: string[]; sameMessages: number } {
  const wrong: string[] = [];
  let sameMessages = 0;
  for (const { c, wasm } of rows) {
    const findings = byControl.get(c.control);
    if (!findings) {
      wrong.push(`${c.name} [${c.kind}] ${c.control}: gator (${engine}) was not run`);
      continue;
    }
    const mine = (findings.get(keyOf(c.object)) ?? []).filter((f) => f.control === c.control);
    const got = mine.length ? 'deny' : 'allow';
    const w = wasm.length ? 'deny' : 'allow';
    const errors = mine.filter((f) => CEL_ERROR.test(f.message));
    if (errors.length) wrong.push(`${c.name} [${c.kind}] ${c.control}: gator (${engine}) reported an evaluation error: ${errors.map((f) => f.message).join(' | ')}`);
    else if (got !== w || got !== c.expectPlain) wrong.push(`${c.name} [${c.kind}] ${c.control}: expected ${c.expectPlain}, wasm ${w}, gator (${engine}) ${got}${mine.length ? `: ${mine.map((f) => f.message).join(' | ')}` : ''}`);
    else if (JSON.stringify(mine.map((f) => f.message).sort()) === JSON.stringify(wasm)) sameMessages++;
  }
  return { wrong, sameMessages };
}

describe('every control with a CEL check gets a CEL block; the rest are stated', () => {
  it('only verify-image-signatures keeps Rego only (it has no Gatekeeper template at all)', () => {
    const without = CONTROL_IDS.filter((id) => celBlockWhy(id) !== undefined);
    expect(without).toEqual(['verify-image-signatures']);
    for (const id of CONTROL_IDS.filter((x) => !without.includes(x))) {
      const t = constraintTemplate(id, 'v1', '0.0.0', { cel: true });
      const code = (t.spec.targets[0] as { code: { engine: string; source: Record<string, unknown> }[] }).code;
      expect(code.map((c) => c.engine), id).toEqual(['K8sNativeValidation', 'Rego']);
      expect(code[0]!.source['generateVAP'], id).toBe(false);
      // The template is built without an instance; every option is read from the Constraint's parameters.
      const text = JSON.stringify(code[0]!.source);
      for (const name of Object.keys(sampleInstance(id, '1.37').params)) expect(text, `${id} reads ${name}`).toContain(`variables.constraintParams[?'${name}']`);
      expect(constraintTemplate(id, 'v1', '0.0.0', { cel: true, generateVAP: true }).spec.targets[0]).toMatchObject({ code: [{ source: { generateVAP: true } }, {}] });
      expect(() => constraintTemplate(id, 'v0', '0.0.0', { cel: true })).toThrow(/needs Rego v1/);
    }
  });
});

describe.each(VERSIONS)('Kubernetes %s: gator with CEL (native validation on) = gator Rego half (off) = WASM = expected', (v) => {
  it('every sample, as a Pod and in every workload controller', async () => {
    const ids = controlsAt(v);
    const rows: Row[] = suiteCases(ids, v).map((c) => ({ c, wasm: evaluateSample(catalog, c.control, c.sample, v, c.object) }));
    expect(rows.length).toBeGreaterThan(0);
    const { constraints } = sampleArtifacts(ids, v);
    const templates = ids.map((id) => constraintTemplate(id, 'v1', '0.0.0', { cel: true }));
    for (const t of templates) expect((t.spec.targets[0] as { code: { engine: string }[] }).code[0]!.engine).toBe('K8sNativeValidation');
    const expansions = expansionTemplates();
    for (const engine of ENGINES) {
      const byControl = new Map<ControlId, EngineFindings>();
      await Promise.all(
        ids.map(async (id, i) => {
          const objects = rows.filter((r) => r.c.control === id).map((r) => r.c.object);
          expect(objects.length, id).toBeGreaterThan(0);
          byControl.set(id, await runs.gator([templates[i]!, constraints[i]!, ...expansions], objects, engine));
        }),
      );
      const { wrong, sameMessages } = disagreements(engine, rows, byControl);
      expect(wrong).toEqual([]);
      // The Rego half gives WASM's messages exactly (the same Rego).
      if (engine === 'rego') expect(sameMessages).toBe(rows.length);
    }
    if (!ONLY_CONTROLS) expect(rows.length).toBeGreaterThan(300);
  }, 1_200_000);
});

/**
 * What the samples' instances do not have: exceptions by name and by image and allowances, which the CEL reads
 * from the Constraint's parameters and which must reach workloads through the Pods Gatekeeper expands them into
 * (`<workload>-pod`, owner reference without uid); and DELETE reviews, where Gatekeeper hands the Rego the old
 * object and the CEL a null object (the CEL reads `variables.anyObject`).
 */
describe('exceptions, allowances and DELETE: the CEL block = the Rego block', () => {
  const container = (extra: Obj = {}, image = 'registry.example.com/app:1'): Obj => ({ name: 'app', image, ...extra });
  const pod = (name: string, c: Obj, ns = 'apps'): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [c] } });
  const deployment = (name: string, c: Obj): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'apps' },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [c] } } },
  });
  const cronJob = (name: string, c: Obj): Obj => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'apps' },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [c] } } } } },
  });
  const instance = (id: ControlId, extra: Partial<ControlInstance>): ControlInstance => ({ ...sampleInstance(id, '1.37'), ...extra });
  const privileged = container({ securityContext: { privileged: true } });
  const netAdmin = container({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } });
  const hostPort = (port: number): Obj => container({ ports: [{ containerPort: port, hostPort: port }] });
  /** Each case: a control's instance, an object, the verdict both blocks must give. */
  const cases: { id: ControlId; inst: ControlInstance; object: Obj; expect: 'allow' | 'deny' }[] = [
    // By name: the object's own name, a prefix pattern, and a workload's name reaching its expanded Pod.
    ...(['web', 'web-*'] as const).flatMap((pattern) => {
      const inst = instance('disallow-privileged-containers', { exemptNames: [pattern] });
      return [
        { id: 'disallow-privileged-containers' as const, inst, object: pod('web', privileged), expect: pattern === 'web' ? ('allow' as const) : ('deny' as const) },
        { id: 'disallow-privileged-containers' as const, inst, object: pod('web-1', privileged), expect: pattern === 'web' ? ('deny' as const) : ('allow' as const) },
        { id: 'disallow-privileged-containers' as const, inst, object: deployment('web', privileged), expect: pattern === 'web' ? ('allow' as const) : ('deny' as const) },
        { id: 'disallow-privileged-containers' as const, inst, object: cronJob('web', privileged), expect: pattern === 'web' ? ('allow' as const) : ('deny' as const) },
        { id: 'disallow-privileged-containers' as const, inst, object: deployment('webapp', privileged), expect: 'deny' as const },
      ];
    }),
    // A bare Pod named like an expanded one ("web-pod", no owner reference) answers to its own name only.
    { id: 'disallow-privileged-containers', inst: instance('disallow-privileged-containers', { exemptNames: ['web'] }), object: pod('web-pod', privileged), expect: 'deny' },
    // By image: an exact reference and a prefix.
    { id: 'disallow-privileged-containers', inst: instance('disallow-privileged-containers', { exemptImages: ['registry.example.com/debug/*'] }), object: deployment('dbg', container({ securityContext: { privileged: true } }, 'registry.example.com/debug/shell:1')), expect: 'allow' },
    { id: 'disallow-privileged-containers', inst: instance('disallow-privileged-containers', { exemptImages: ['registry.example.com/debug/*'] }), object: deployment('dbg', privileged), expect: 'deny' },
    // Allowances: by a workload's name, by image, unscoped (host port ranges read as integers from the parameters).
    { id: 'restrict-capabilities-baseline', inst: instance('restrict-capabilities-baseline', { allowances: [{ names: ['agent'], values: { capabilities: ['NET_ADMIN'] } }] }), object: deployment('agent', netAdmin), expect: 'allow' },
    { id: 'restrict-capabilities-baseline', inst: instance('restrict-capabilities-baseline', { allowances: [{ names: ['agent'], values: { capabilities: ['NET_ADMIN'] } }] }), object: deployment('agent2', netAdmin), expect: 'deny' },
    { id: 'restrict-capabilities-baseline', inst: instance('restrict-capabilities-baseline', { allowances: [{ names: ['agent'], values: { capabilities: ['NET_ADMIN'] } }] }), object: pod('agent-pod', netAdmin), expect: 'deny' },
    { id: 'restrict-capabilities-baseline', inst: instance('restrict-capabilities-baseline', { allowances: [{ images: ['registry.example.com/app:1'], values: { capabilities: ['NET_ADMIN'] } }] }), object: cronJob('job', netAdmin), expect: 'allow' },
    { id: 'restrict-host-ports', inst: instance('restrict-host-ports', { allowances: [{ values: { hostPorts: ['9100-9102'] } }] }), object: deployment('exporter', hostPort(9101)), expect: 'allow' },
    { id: 'restrict-host-ports', inst: instance('restrict-host-ports', { allowances: [{ values: { hostPorts: ['9100-9102'] } }] }), object: deployment('exporter', hostPort(9103)), expect: 'deny' },
  ];

  it.each(ENGINES)('gator (%s): every case gets its verdict', async (engine) => {
    const wrong: string[] = [];
    await Promise.all(
      cases.map(async (c, i) => {
        const object = { ...c.object, metadata: { ...(c.object['metadata'] as Obj), name: `${String((c.object['metadata'] as Obj)['name'])}` } };
        const found = await runs.gator([constraintTemplate(c.id, 'v1', '0.0.0', { cel: true }), constraint(c.id, c.inst), ...expansionTemplates()], [object], engine);
        const got = (found.get(keyOf(object)) ?? []).some((f) => f.control === c.id) ? 'deny' : 'allow';
        if (got !== c.expect) wrong.push(`case ${i} ${c.id} ${keyOf(object)}: expected ${c.expect}, got ${got}`);
      }),
    );
    expect(wrong).toEqual([]);
  }, 300_000);

  it('DELETE reviews: both blocks judge the old object (gator verify, native validation on and off)', async () => {
    const gator = await ensureEngine('gator');
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-gkcel-'));
    try {
      const id = 'disallow-privileged-containers';
      const review = (name: string, old: Obj): Obj => ({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: name, operation: 'DELETE', kind: { group: '', version: 'v1', kind: 'Pod' }, name, namespace: 'apps', oldObject: old },
      });
      writeFileSync(join(dir, 'template.yaml'), stringify(constraintTemplate(id, 'v1', '0.0.0', { cel: true })));
      writeFileSync(join(dir, 'constraint.yaml'), stringify(constraint(id, sampleInstance(id, '1.37'))));
      writeFileSync(join(dir, 'plain.yaml'), stringify(review('plain', pod('plain', container()))));
      writeFileSync(join(dir, 'privileged.yaml'), stringify(review('privileged', pod('privileged', privileged))));
      const cases = [
        { name: 'delete-plain', object: 'plain.yaml', assertions: [{ violations: 'no' }] },
        { name: 'delete-privileged', object: 'privileged.yaml', assertions: [{ violations: 1, message: 'privileged' }] },
      ];
      writeFileSync(join(dir, 'suite.yaml'), stringify({ apiVersion: 'test.gatekeeper.sh/v1alpha1', kind: 'Suite', metadata: { name: 'delete' }, tests: [{ name: 'delete', template: 'template.yaml', constraint: 'constraint.yaml', cases }] }));
      for (const engine of ENGINES) {
        const r = await capture(gator, ['verify', '-v', dir, nativeValidationFlag(engine)]);
        expect(r.code, `${engine}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout.match(/^ {4}--- PASS: \S+/gm)?.length, engine).toBe(2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/**
 * The suite the reference bundle ships, under both gator flags: agreement.test.ts runs it with gator's default
 * (native validation on: the CEL blocks); here it also runs with native validation off (the Rego blocks), as the
 * bundle README tells users to. Two halves (by tests), run as two processes.
 */
describe('the shipped gator suite passes with native validation on and off', () => {
  it('gator verify generated/reference/gatekeeper/... --enable-k8s-native-validation=false', async () => {
    const root = join(ROOT, 'generated', 'reference', 'gatekeeper');
    const templates = readFileSync(join(root, 'templates', 'disallow-privileged-containers.yaml'), 'utf8');
    expect(templates).toContain('engine: K8sNativeValidation');
    expect(templates).toContain('generateVAP: false');
    const gator = await ensureEngine('gator');
    const suite = parse(readFileSync(join(root, 'suite.yaml'), 'utf8')) as { tests: { name: string; cases: { name: string }[] }[] };
    const names = suite.tests.map((t) => t.name);
    const half = Math.ceil(names.length / 2);
    const run = (ts: readonly string[]): string => `^(${ts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$//`;
    const outputs = await Promise.all([names.slice(0, half), names.slice(half)].map((ts) => capture(gator, ['verify', '-v', `${root}/...`, '--run', run(ts), nativeValidationFlag('rego')])));
    const out = outputs.map((r) => r.stdout).join('\n');
    for (const r of outputs) {
      expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout).not.toMatch(/FAIL/);
    }
    expect(out.match(/^--- PASS: \S+/gm)?.map((l) => l.slice(10)).sort()).toEqual([...names].sort());
    expect(out.match(/^ {4}--- PASS: \S+/gm)?.length).toBe(suite.tests.reduce((n, t) => n + t.cases.length, 0));
  }, 600_000);
});
