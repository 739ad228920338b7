/**
 * Gatekeeper output: ConstraintTemplates, Constraints and ExpansionTemplates validate against the upstream
 * CRD schemas; every rendered template passes `opa check --strict` and is `opa fmt`-clean; no user value
 * reaches Rego text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { CONTROL_IDS as ALL_CONTROL_IDS, getControl } from '../src/controls/index.js';
import { implementedBy } from '../src/controls/types.js';

/** Controls with a Gatekeeper template (verify-image-signatures has none: see its engines.gatekeeper). */
const CONTROL_IDS = ALL_CONTROL_IDS.filter((id) => implementedBy(getControl(id), 'gatekeeper'));
import { constraintTemplate, expansionTemplates } from '../src/backends/gatekeeper/emitters.js';
import { renderControlRego, renderLibRego } from '../src/backends/gatekeeper/rego.js';
import type { Constraint, ConstraintTemplate } from '../src/backends/gatekeeper/types.js';
import { findEngine } from '../src/engines/index.js';
import { crdSchema, schemaErrors, validator } from './schema.js';

const templateValidator = validator(crdSchema('gatekeeper-constrainttemplate-customresourcedefinition.yaml', 'v1'));
const expansionValidator = validator(crdSchema('gatekeeper-expansiontemplate-customresourcedefinition.yaml', 'v1beta1'));
const matchSchema = (crdSchema('gatekeeper-match.gatekeeper.sh_matchcrd.yaml', 'match') as { properties: { embeddedMatch: Record<string, unknown> } }).properties.embeddedMatch;

const CANARY = 'canary-"} import data.x\nviolation';
const config = {
  profile: 'pss-restricted',
  kubernetesVersion: '1.37',
  namespaces: { monitoring: { pss: 'baseline', controls: { 'restrict-host-ports': { options: { allowedRanges: [{ min: 9100, max: 9100 }] } } } }, batch: { controls: { 'require-seccomp-profile': 'audit' } } },
  controls: { 'restrict-sysctls': { options: { allowedSysctls: ['kernel.shm_rmid_forced', CANARY] } } },
  exceptions: [{ control: 'disallow-privileged-containers', images: [`${CANARY}*`], reason: 'test', expires: '2027-06-01' }],
} as const;

function objects(cel = false): { templates: ConstraintTemplate[]; constraints: Constraint[] } {
  const cc = compile(cel ? { ...config, gatekeeper: { engines: ['Rego', 'CEL'] } } : config, { today: '2026-11-26' }).clusters[0]!;
  const all = cc.files.filter((f) => 'objects' in f && f.path.startsWith('gatekeeper/')).flatMap((f) => ('objects' in f ? f.objects : [])) as { kind: string }[];
  return {
    templates: all.filter((o) => o.kind === 'ConstraintTemplate') as ConstraintTemplate[],
    constraints: all.filter((o) => (o as Constraint).apiVersion === 'constraints.gatekeeper.sh/v1beta1') as Constraint[],
  };
}

describe('Gatekeeper objects', () => {
  it('ConstraintTemplates (v1 and legacy v0) validate against the CRD schema', () => {
    for (const id of CONTROL_IDS) {
      for (const v of ['v1', 'v0'] as const) expect(schemaErrors(templateValidator, constraintTemplate(id, v, '0.0.0')), `${id} ${v}`).toEqual([]);
    }
  });

  it('templates with a CEL block validate against the CRD schema, their source against the K8sNativeValidation Source', () => {
    // gatekeeper v3.23.0 pkg/drivers/k8scel/schema/schema.go Source (the fields kubeharden writes), strict.
    const named = { type: 'array', items: { type: 'object', additionalProperties: false, required: ['name', 'expression'], properties: { name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, expression: { type: 'string', minLength: 1 } } } };
    const source = validator({
      type: 'object',
      additionalProperties: false,
      required: ['generateVAP', 'variables', 'validations'],
      properties: {
        generateVAP: { type: 'boolean' },
        variables: named,
        validations: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: false, required: ['expression', 'message'], properties: { expression: { type: 'string' }, message: { type: 'string' }, messageExpression: { type: 'string' } } } },
      },
    });
    for (const id of CONTROL_IDS) {
      const t = constraintTemplate(id, 'v1', '0.0.0', { cel: true });
      expect(schemaErrors(templateValidator, t), id).toEqual([]);
      const code = (t.spec.targets[0] as { code: { engine: string; source: unknown }[] }).code;
      expect(code.map((c) => c.engine), id).toEqual(['K8sNativeValidation', 'Rego']);
      expect(schemaErrors(source, code[0]!.source), id).toEqual([]);
      // Gatekeeper binds params and anyObject itself and refuses templates that define them again.
      expect((code[0]!.source as { variables: { name: string }[] }).variables.map((v) => v.name), id).not.toContain('params');
    }
    const { templates } = objects(true);
    expect(templates.length).toBeGreaterThan(10);
    for (const t of templates) {
      expect(schemaErrors(templateValidator, t), t.metadata.name).toEqual([]);
      expect(JSON.stringify(t), t.metadata.name).toContain('"engine":"K8sNativeValidation"');
    }
  });

  it('ExpansionTemplates validate and cover every workload controller', () => {
    const ets = expansionTemplates();
    for (const et of ets) expect(schemaErrors(expansionValidator, et)).toEqual([]);
    const kinds = ets.flatMap((e) => e.spec.applyTo.flatMap((a) => a.kinds)).sort();
    expect(kinds).toEqual(['CronJob', 'DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);
  });

  it('Constraints validate: match against the match CRD, parameters against their template schema', () => {
    const { templates, constraints } = objects();
    expect(constraints.length).toBeGreaterThan(templates.length);
    const constraintSchema = (t: ConstraintTemplate) => ({
      type: 'object',
      required: ['apiVersion', 'kind', 'metadata', 'spec'],
      properties: {
        apiVersion: { type: 'string', enum: ['constraints.gatekeeper.sh/v1beta1'] },
        kind: { type: 'string', enum: [t.spec.crd.spec.names.kind] },
        metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { name: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } } },
        spec: {
          type: 'object',
          properties: {
            enforcementAction: { type: 'string', enum: ['deny', 'dryrun', 'warn'] },
            match: matchSchema,
            parameters: t.spec.crd.spec.validation.openAPIV3Schema,
          },
        },
      },
    });
    for (const c of constraints) {
      const t = templates.find((x) => x.spec.crd.spec.names.kind === c.kind)!;
      expect(t, c.kind).toBeDefined();
      expect(schemaErrors(validator(constraintSchema(t)), c), c.metadata.name).toEqual([]);
    }
  });

  it.each([false, true])('user values travel in parameters, never in Rego or CEL text (CEL block: %s)', (cel) => {
    const { templates, constraints } = objects(cel);
    expect(templates.some((t) => JSON.stringify(t).includes('K8sNativeValidation'))).toBe(cel);
    for (const t of templates) expect(JSON.stringify(t)).not.toContain('canary');
    expect(JSON.stringify(constraints)).toContain('canary');
  });
});

describe('Rego templates', () => {
  it.each(['v1', 'v0'] as const)('%s: pass opa check --strict and are opa fmt-clean', (version) => {
    const opa = findEngine('opa');
    expect(opa, 'opa must be installed (test/setup/engines.ts installs it)').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'kubeharden-rego-'));
    writeFileSync(join(dir, 'lib.rego'), renderLibRego(version));
    for (const id of CONTROL_IDS) writeFileSync(join(dir, `${id}.rego`), renderControlRego(id, version));
    const flags = version === 'v0' ? ['--v0-compatible'] : [];
    execFileSync(opa!, ['check', '--strict', ...flags, dir], { encoding: 'utf8' });
    const unformatted = execFileSync(opa!, ['fmt', '--list', ...flags, dir], { encoding: 'utf8' }).trim();
    expect(unformatted).toBe('');
  });

  it('v1 sources import nothing but the library (Gatekeeper rejects other imports, even rego.v1)', () => {
    for (const id of CONTROL_IDS) {
      const imports = renderControlRego(id).split('\n').filter((l) => l.startsWith('import '));
      expect(imports, id).toEqual(['import data.lib.kubeharden as k']);
    }
  });

  it('use no built-in that is missing from the WebAssembly target (no sprintf)', () => {
    for (const id of CONTROL_IDS) expect(renderControlRego(id)).not.toMatch(/\bsprintf\(|\btime\.|\bstrings\.any_/);
    expect(renderLibRego()).not.toMatch(/\bsprintf\(/);
  });
});

describe('controls Gatekeeper cannot express', () => {
  it('have no template, and say why', () => {
    const gaps = ALL_CONTROL_IDS.filter((id) => !implementedBy(getControl(id), 'gatekeeper'));
    expect(gaps).toEqual(['verify-image-signatures']);
    for (const id of gaps) expect(() => constraintTemplate(id, 'v1', '0.0.0')).toThrow(/has no template: Gatekeeper cannot verify/);
  });
});
