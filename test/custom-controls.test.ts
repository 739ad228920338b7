/**
 * Custom controls (defineControl, `customControls`): examples/custom-controls builds as committed, its samples
 * (and every workload variant of its Pod samples) get the expected verdict from every engine — the WASM
 * evaluator, gator (Rego and CEL blocks), the Kyverno CLI and the VAP oracle, all through
 * `kubeharden audit --engine all` — with no disagreement, `kubeharden test` and the bundle's own Kyverno and
 * gator suites pass, and a broken definition is an error at its file:line:column with nothing written.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { getControl, isControlId, withControls, type ControlId } from '../src/controls/index.js';
import { workloadVariants } from '../src/eval/review.js';
import type { AnyControl } from '../src/controls/types.js';
import { ROOT, TODAY, runCli, tempProject } from './helpers.js';
import { defineControl } from '../src/custom/control.js';
import { hasLabel } from '../src/custom/expr.js';

type Obj = Record<string, unknown>;

const EXAMPLE = join(ROOT, 'examples/custom-controls');
const CONFIG = join(EXAMPLE, 'policies.config.ts');

/** The example's custom controls, and every object their samples stand for with its expected verdict. */
async function exampleCases(): Promise<{ controls: readonly AnyControl[]; cases: { control: string; object: Obj; expect: 'allow' | 'deny' }[] }> {
  const result = compile(await loadConfig(CONFIG), { today: TODAY });
  const controls = result.config.customControls;
  const cases = controls.flatMap((c) =>
    c.samples.flatMap((s) => [
      { control: c.id, object: s.object as Obj, expect: s.expect },
      ...(s.podOnly || c.target ? [] : workloadVariants(s.object as Obj).map((w) => ({ control: c.id, object: w.object, expect: s.expect }))),
    ]),
  );
  return { controls, cases };
}

/**
 * `kubeharden audit --config <config> --engine <engine>` over the cases: the verdicts of each engine (every
 * one for `all`) that differ from the expected ones. Nothing else in the baseline profile may deny a case.
 */
function auditWrong(config: string, engine: 'all' | 'kyverno', cases: readonly { control: string; object: Obj; expect: 'allow' | 'deny' }[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-custom-'));
  const file = join(dir, 'samples.yaml');
  writeFileSync(file, cases.map((c) => dump(c.object)).join('---\n'));
  const r = runCli(['audit', '--config', config, '--engine', engine, '--format', 'json', '--fail-on', 'never', file], ROOT);
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as { errors: unknown[]; resources: { index: number; violations: { control: string; engine: string }[] }[] };
  expect(report.errors).toEqual([]);
  const wrong: string[] = [];
  for (const [i, c] of cases.entries()) {
    const res = report.resources.find((x) => x.index === i)!;
    for (const e of engine === 'all' ? ['wasm', 'gator', 'kyverno', 'vap'] : [engine]) {
      const got = res.violations.some((v) => v.engine === e && v.control === c.control) ? 'deny' : 'allow';
      if (got !== c.expect) wrong.push(`${e} ${c.control} ${String(c.object['kind'])}/${String((c.object['metadata'] as Obj)['name'])}: ${got}`);
    }
    const others = res.violations.filter((v) => v.control !== c.control);
    if (others.length) wrong.push(`${String(c.object['kind'])}/${String((c.object['metadata'] as Obj)['name'])} also violates ${others.map((v) => `${v.engine}:${v.control}`).join(', ')}`);
  }
  return wrong;
}

describe('examples/custom-controls', () => {
  it('the committed bundle is what the config builds', () => {
    const r = runCli(['build', '--check', '--config', CONFIG], ROOT);
    expect(r.stderr + r.stdout).toMatch(/up to date/);
    expect(r.status).toBe(0);
  });

  it('compiles its two custom controls into every target', async () => {
    const result = compile(await loadConfig(CONFIG), { today: TODAY });
    const files = [...result.output.keys()];
    for (const id of ['require-team-label', 'restrict-ingress-class']) {
      for (const f of [`gatekeeper/templates/${id}.yaml`, `gatekeeper/constraints/${id}.yaml`, `kyverno/${id}.yaml`, `vap/${id}.yaml`]) expect(files).toContain(`custom-controls/${f}`);
      expect(result.output.get('custom-controls/README.md')).toContain(id);
      expect(result.output.get('custom-controls/REPORT.md')).toContain(id);
    }
    const template = result.output.get('custom-controls/gatekeeper/templates/require-team-label.yaml')!;
    expect(template).toContain('engine: K8sNativeValidation');
    expect(template).toContain('engine: Rego');
    // Workloads: Kyverno autogen (six controllers) and a ReplicationController policy; VAP per path shape.
    expect(result.output.get('custom-controls/kyverno/require-team-label.yaml')).toContain('require-team-label.replicationcontrollers');
    expect(result.output.get('custom-controls/vap/require-team-label.yaml')).toContain('require-team-label.cronjobs');
    // The options reach every target: literal lists per instance (CEL), the Constraint's parameters (Rego).
    expect(result.output.get('custom-controls/gatekeeper/constraints/require-team-label.yaml')).toMatch(/teams:\n\s+- payments\n\s+- search/);
  });

  it('gives custom pod controls no exemptImages parameter or variable (the config refuses image exceptions for them)', async () => {
    const result = compile(await loadConfig(CONFIG), { today: TODAY });
    /** The template's parameter names and its CEL block's variable names. */
    const template = (id: string): { params: string[]; variables: string[] } => {
      const t = load(result.output.get(`custom-controls/gatekeeper/templates/${id}.yaml`)!) as {
        spec: { crd: { spec: { validation: { openAPIV3Schema: { properties: Record<string, unknown> } } } }; targets: { code: { engine: string; source: { variables?: { name: string }[] } }[] }[] };
      };
      const cel = t.spec.targets[0]!.code.find((c) => c.engine === 'K8sNativeValidation')!;
      return { params: Object.keys(t.spec.crd.spec.validation.openAPIV3Schema.properties), variables: (cel.source.variables ?? []).map((v) => v.name) };
    };
    expect(template('require-team-label')).toEqual({ params: ['exemptNames', 'teams'], variables: ['constraintParams', 'exemptNames', 'objectNames', 'nameExempt', 'teams'] });
    for (const f of ['kyverno/require-team-label.yaml', 'kyverno/samples/require-team-label/policy.yaml', 'vap/require-team-label.yaml']) {
      expect(result.output.get(`custom-controls/${f}`), f).toBeDefined();
      expect(result.output.get(`custom-controls/${f}`), f).not.toContain('exemptImages');
    }
    // A built-in pod control keeps it.
    expect(template('disallow-host-path').params).toContain('exemptImages');
    expect(template('disallow-host-path').variables).toContain('exemptImages');
    for (const f of ['kyverno', 'vap']) expect(result.output.get(`custom-controls/${f}/disallow-host-path.yaml`)).toContain('exemptImages');
  });

  it('a workloads control, whose check reads no container, judges pods/ephemeralcontainers UPDATEs as every pod control does (Kyverno and VAP)', () => {
    const bundle = join(EXAMPLE, 'generated/custom-controls');
    const kyverno = readFileSync(join(bundle, 'kyverno/require-team-label.yaml'), 'utf8');
    expect(kyverno).toMatch(/name: require-team-label\.ephemeralcontainers\n/);
    expect(kyverno).toMatch(/resources:\n\s+- pods\/ephemeralcontainers\n/);
    expect(readFileSync(join(bundle, 'vap/require-team-label.yaml'), 'utf8')).toMatch(/resources:\n\s+- pods\n\s+- pods\/ephemeralcontainers\n/);
  });

  it('every sample gets its verdict from wasm, gator, kyverno and the VAP oracle, with no disagreement (audit --engine all)', { timeout: 600_000 }, async () => {
    const { cases } = await exampleCases();
    // 12 Pod samples × 8 (the Pod and 7 workload controllers) + 3 Deployments + 10 Ingresses.
    expect(cases).toHaveLength(109);
    expect(cases.filter((c) => c.expect === 'deny')).toHaveLength(90);
    expect(auditWrong(CONFIG, 'all', cases)).toEqual([]);
  });

  it('kubeharden test runs the custom samples (and fails when the bundle denies one it should allow)', { timeout: 300_000 }, () => {
    const r = runCli(['test', '--config', CONFIG, '--engine', 'wasm'], ROOT);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/\d+ passed, 0 failed/);
  });

  it('on a real API server: the samples, as Pods and in every controller, through PSA, Gatekeeper, Kyverno and the VAPs in real admission (kubeharden test --engine apiserver)', { timeout: 600_000 }, () => {
    const r = runCli(['test', '--config', CONFIG, '--engine', 'apiserver'], ROOT);
    const out = r.stdout + r.stderr;
    expect(r.status, out.slice(-4000)).toBe(0);
    const m = /(\d+) passed, 0 failed/.exec(out);
    expect(m, out.slice(-4000)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(900);
    // The samples the API server refuses as invalid (apiServerRejects) are refused for that reason; the rest go
    // through all three engines at once.
    expect(out).toMatch(/\d{3,} requests through Gatekeeper, Kyverno, ValidatingAdmissionPolicy/);
  });

  it('the bundle ships the custom samples in its gator and Kyverno suites, and both engines pass them', { timeout: 600_000 }, async () => {
    const bundle = join(EXAMPLE, 'generated/custom-controls');
    const suite = readFileSync(join(bundle, 'gatekeeper/suite.yaml'), 'utf8');
    expect(suite).toContain('require-team-label.deployment-own-label-only');
    expect(suite).toContain('restrict-ingress-class.wrong-type');
    const { capture, ensureEngine } = await import('../src/engines/index.js');
    const kyverno = await ensureEngine('kyverno', () => {});
    for (const id of ['require-team-label', 'restrict-ingress-class']) {
      const k = await capture(kyverno, ['test', join(bundle, 'kyverno/samples', id), '--warnings-as-errors']);
      expect(k.code, k.stdout + k.stderr).toBe(0);
      expect(k.stdout).toMatch(/Test Summary: \d+ tests passed and 0 tests failed/);
    }
  });
});

describe('examples/custom-controls with kyverno.policyType ClusterPolicy', () => {
  /** The example's config with `kyverno: { policyType: 'ClusterPolicy' }`, beside it (it imports nothing relative). */
  function clusterPolicyConfig(): string {
    const source = readFileSync(CONFIG, 'utf8');
    const changed = source.replace('  vap: { enabled: true },\n', "  vap: { enabled: true },\n  kyverno: { policyType: 'ClusterPolicy' },\n");
    expect(changed).not.toBe(source);
    const dir = tempProject({ 'policies.config.ts': changed });
    return join(dir, 'policies.config.ts');
  }

  it('builds the custom controls as ClusterPolicies whose samples pass kyverno test, and the Kyverno CLI gives every sample its verdict', { timeout: 600_000 }, async () => {
    const config = clusterPolicyConfig();
    const out = join(config, '..', 'generated');
    const b = runCli(['build', '--config', config], ROOT);
    expect(b.status, b.stderr).toBe(0);
    const bundle = join(out, 'custom-controls');
    for (const id of ['require-team-label', 'restrict-ingress-class']) {
      const policy = readFileSync(join(bundle, 'kyverno', `${id}.yaml`), 'utf8');
      expect(policy).toContain('kind: ClusterPolicy');
      expect(policy).toContain('cel:');
    }
    const { capture, ensureEngine } = await import('../src/engines/index.js');
    const kyverno = await ensureEngine('kyverno', () => {});
    // Without --warnings-as-errors: Kyverno 1.19 warns that ClusterPolicy is deprecated.
    for (const [id, tests] of [['require-team-label', 29], ['restrict-ingress-class', 10]] as const) {
      const k = await capture(kyverno, ['test', join(bundle, 'kyverno/samples', id)]);
      expect(k.code, k.stdout + k.stderr).toBe(0);
      expect(k.stdout).toContain(`Test Summary: ${tests} tests passed and 0 tests failed`);
    }
    // Every sample and every workload variant of the Pod samples (autogen rules for six controllers, the
    // CronJob rule, ReplicationController), through kyverno apply.
    const { cases } = await exampleCases();
    expect(cases).toHaveLength(109);
    expect(auditWrong(config, 'kyverno', cases)).toEqual([]);
  });
});

describe('custom controls exist only in their own config', () => {
  it('are unknown outside the compile or command that loads them', async () => {
    const { controls } = await exampleCases();
    expect(isControlId('require-team-label')).toBe(false);
    expect(() => getControl('require-team-label' as ControlId)).toThrow(/unknown control/);
    withControls(controls, () => expect(getControl('require-team-label' as ControlId).title).toBe('Require a team label'));
    expect(() => compile({ controls: { 'require-team-label': 'enforce' } } as never, { today: TODAY })).toThrow(/problem/);
  });
});

describe('the profiles a custom control names turn it on', () => {
  const owner = (profiles?: readonly string[]) =>
    defineControl({
      id: 'require-owner-label',
      title: 'Require an owner label',
      description: 'Pods must carry the label owner.',
      severity: 'low',
      match: { workloads: true },
      ...(profiles ? { profiles: profiles as never } : {}),
      message: 'Pods must carry the label owner.',
      check: hasLabel('owner'),
      samples: [
        { name: 'owned', expect: 'allow', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'owned', labels: { owner: 'a' } }, spec: { containers: [] } } },
        { name: 'unowned', expect: 'deny', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unowned' }, spec: { containers: [] } } },
      ],
    });
  const enabled = (profile: string, profiles?: readonly string[]): string | undefined =>
    compile({ name: 'p', profile, kubernetesVersion: '1.37', customControls: [owner(profiles)] } as never, { today: TODAY }).clusters[0]!.ir.controls.find((c) => (c.control as string) === 'require-owner-label')?.instances[0]?.mode;

  it('on in the listed profiles, in the default mode; off in the others and without profiles; a config can still switch it off', () => {
    expect(enabled('pss-baseline', ['pss-baseline', 'nsa-cisa'])).toBe('enforce');
    expect(enabled('nsa-cisa', ['pss-baseline', 'nsa-cisa'])).toBe('enforce');
    expect(enabled('pss-restricted', ['pss-baseline', 'nsa-cisa'])).toBeUndefined();
    expect(enabled('pss-baseline')).toBeUndefined();
    const off = compile({ name: 'p', profile: 'pss-baseline', kubernetesVersion: '1.37', customControls: [owner(['pss-baseline'])], controls: { 'require-owner-label': false } } as never, { today: TODAY });
    expect(off.clusters[0]!.ir.controls.some((c) => (c.control as string) === 'require-owner-label')).toBe(false);
  });

  it('an unknown profile name is an error of the definition, reported by the config build at its key', () => {
    const bad = owner(['pss-strict']);
    expect(bad.problem?.path).toEqual(['profiles']);
    expect(bad.problem?.message).toMatch(/profiles must list profile names \(pss-baseline, pss-restricted, nsa-cisa\)/);
    expect(() => compile({ name: 'p', profile: 'pss-baseline', kubernetesVersion: '1.37', customControls: [bad] } as never, { today: TODAY })).toThrow();
  });
});

/** A config file with one custom control whose definition has `problem` (and the line it is on). */
function brokenProject(check: string, extra = '', id = 'require-owner'): string {
  return tempProject({
    'policies.config.ts': `import { defineConfig, defineControl, label, matches, oneOf, str } from 'kubeharden';

const owner = defineControl({
  id: '${id}',
  title: 'Require an owner',
  description: 'Pods must carry the label owner.',
  severity: 'low',
  match: { workloads: true },
  message: 'Pods must carry the label owner.',
  check: ${check},
  samples: [
    { name: 'owned', expect: 'allow', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'owned', labels: { owner: 'a' } }, spec: { containers: [] } } },
    { name: 'unowned', expect: '${extra === 'contradict' ? 'allow' : 'deny'}', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unowned' }, spec: { containers: [] } } },
    { name: 'other-owner', expect: 'deny', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other-owner', labels: { owner: 'b' } }, spec: { containers: [] } } },
  ],
});

export default defineConfig({ customControls: [owner], controls: { '${id}': 'enforce' } });
void label; void matches; void oneOf; void str;
`,
  });
}

describe('a broken custom control is an error at file:line:column, and nothing is written', () => {
  const cases: [string, string, string, string, RegExp][] = [
    ['an id of a built-in control', "oneOf(label('owner'), ['a'])", '', 'disallow-latest-tag', /policies\.config\.ts:4:3 custom_control_id_taken custom control id "disallow-latest-tag" is the id of a built-in control/],
    ['a field path a pod template does not have', "oneOf(str('metadata.name', ''), ['a'])", '', 'require-owner', /policies\.config\.ts:10:20 invalid_custom_control .*field path "metadata\.name": a workloads control reads the pod template/],
    ['a misspelt metadata field', "oneOf(str('metadata.lables.owner', ''), ['a'])", '', 'require-owner', /policies\.config\.ts:10:20 invalid_custom_control .*metadata has no field "lables"/],
    ['a sample the check contradicts', "oneOf(label('owner'), ['a'])", 'contradict', 'require-owner', /policies\.config\.ts:13:24 custom_sample_contradicts_check custom control require-owner: sample unowned expects allow, but the check fails for its object \(deny\)/],
    ['an unsupported operation (a look-behind)', "matches(label('owner'), '(?<=x)a')", '', 'require-owner', /policies\.config\.ts:10:\d+: the config threw while loading: regex "\(\?<=x\)a"/],
  ];
  for (const [what, check, extra, id, message] of cases) {
    it(what, () => {
      const dir = brokenProject(check, extra, id);
      const r = runCli(['build'], dir);
      expect(r.stderr).toMatch(message);
      // Only that error: a control whose definition was refused is not also an unknown control in `controls`.
      expect(r.stderr).not.toMatch(/unknown_control/);
      if (extra !== 'contradict' && !/look-behind/.test(what)) expect(r.stderr).toMatch(/kubeharden: 1 error\(s\) in policies\.config\.ts; nothing was written/);
      expect(r.status).not.toBe(0);
      expect(existsSync(join(dir, 'generated'))).toBe(false);
    });
  }

  it('a refused definition named in controls, namespaces, exceptions and fixtures is reported once, at the definition', () => {
    const dir = tempProject({
      'policies.config.ts': `import { defineConfig, defineControl, label, oneOf } from 'kubeharden';

const owner = defineControl({
  id: 'require-owner',
  title: 'Require an owner',
  description: 'Pods must carry the label owner.',
  severity: 'low',
  match: { workloads: true },
  message: 'Pods must carry the label owner.',
  check: oneOf(label('owner'), ['a']),
  samples: [],
});

export default defineConfig({
  customControls: [owner],
  controls: { 'require-owner': 'enforce' },
  namespaces: { apps: { controls: { 'require-owner': 'audit' } } },
  exceptions: [{ control: 'require-owner', namespaces: ['apps'], reason: 'r', expires: '2027-01-01' }],
  fixtures: [{ file: 'pod.yaml', expect: { 'require-owner': 'deny' } }],
});
`,
      'pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n',
    });
    const r = runCli(['build'], dir);
    expect(r.stderr).toMatch(/policies\.config\.ts:11:3 invalid_custom_control custom control require-owner: samples need at least one object the check must allow/);
    expect(r.stderr).not.toMatch(/unknown_control/);
    expect(r.stderr).toMatch(/kubeharden: 1 error\(s\) in policies\.config\.ts; nothing was written/);
    expect(r.status).not.toBe(0);
    // A mistyped id is still an unknown control.
    writeFileSync(join(dir, 'policies.config.ts'), readFileSync(join(dir, 'policies.config.ts'), 'utf8').replace("controls: { 'require-owner': 'enforce' }", "controls: { 'require-ownr': 'enforce' }"));
    expect(runCli(['build'], dir).stderr).toMatch(/unknown_control unknown control "require-ownr"/);
  });
});
