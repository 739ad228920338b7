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
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { getControl, isControlId, withControls, type ControlId } from '../src/controls/index.js';
import { workloadVariants } from '../src/eval/review.js';
import type { AnyControl } from '../src/controls/types.js';
import { ROOT, TODAY, runCli, tempProject } from './helpers.js';

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
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-custom-'));
    const file = join(dir, 'samples.yaml');
    writeFileSync(file, cases.map((c) => dump(c.object)).join('---\n'));
    const r = runCli(['audit', '--config', CONFIG, '--engine', 'all', '--format', 'json', '--fail-on', 'never', file], ROOT);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { errors: unknown[]; resources: { index: number; violations: { control: string; engine: string }[] }[] };
    expect(report.errors).toEqual([]);
    const wrong: string[] = [];
    for (const [i, c] of cases.entries()) {
      const res = report.resources.find((x) => x.index === i)!;
      for (const engine of ['wasm', 'gator', 'kyverno', 'vap']) {
        const got = res.violations.some((v) => v.engine === engine && v.control === c.control) ? 'deny' : 'allow';
        if (got !== c.expect) wrong.push(`${engine} ${c.control} ${String(c.object['kind'])}/${String((c.object['metadata'] as Obj)['name'])}: ${got}`);
      }
      // Nothing else in the baseline profile denies the samples.
      expect(res.violations.filter((v) => v.control !== c.control)).toEqual([]);
    }
    expect(wrong).toEqual([]);
    expect(cases.filter((c) => c.expect === 'deny')).toHaveLength(90);
  });

  it('kubeharden test runs the custom samples (and fails when the bundle denies one it should allow)', { timeout: 300_000 }, () => {
    const r = runCli(['test', '--config', CONFIG, '--engine', 'wasm'], ROOT);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/\d+ passed, 0 failed/);
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

describe('custom controls exist only in their own config', () => {
  it('are unknown outside the compile or command that loads them', async () => {
    const { controls } = await exampleCases();
    expect(isControlId('require-team-label')).toBe(false);
    expect(() => getControl('require-team-label' as ControlId)).toThrow(/unknown control/);
    withControls(controls, () => expect(getControl('require-team-label' as ControlId).title).toBe('Require a team label'));
    expect(() => compile({ controls: { 'require-team-label': 'enforce' } } as never, { today: TODAY })).toThrow(/problem/);
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
      expect(r.status).not.toBe(0);
      expect(existsSync(join(dir, 'generated'))).toBe(false);
    });
  }
});
