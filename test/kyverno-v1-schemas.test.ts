/**
 * Every `policies.kyverno.io` object of a bundle built with `kyverno.policyType: 'ValidatingPolicy'`
 * validates against the CRD of its kind and version, copied from the pinned Kyverno release into
 * test/fixtures/schemas (source and checksum in each file's first line). Kinds with no object in the
 * bundle yet are no failure; an object of a kind or version without a CRD here is. What this cannot see:
 * the CRDs' CEL rules (x-kubernetes-validations) and the CEL inside the policies (the Kyverno CLI runs those
 * in test/namespace-objects.test.ts and test/verify-images.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compile } from '../src/compile.js';
import type { UserConfig } from '../src/config/types.js';
import { ROOT } from './helpers.js';
import { crdSchema, schemaErrors, validator } from './schema.js';

type Obj = Record<string, any>;

/** Kind → CRD fixture (Kyverno v1.19.1, config/crds/policies.kyverno.io/). */
const CRDS: Record<string, string> = {
  ValidatingPolicy: 'policies.kyverno.io_validatingpolicies.yaml',
  GeneratingPolicy: 'policies.kyverno.io_generatingpolicies.yaml',
  ImageValidatingPolicy: 'policies.kyverno.io_imagevalidatingpolicies.yaml',
  PolicyException: 'policies.kyverno.io_policyexceptions.yaml',
};

/** The versions a CRD fixture serves. */
function servedVersions(file: string): string[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'test', 'fixtures', 'schemas', file), 'utf8')).map((d) => d.toJS() as Obj | null);
  const crd = docs.find((d) => d?.kind === 'CustomResourceDefinition')!;
  return (crd.spec.versions as { name: string; served: boolean }[]).filter((v) => v.served).map((v) => v.name);
}

const validators = new Map<string, ReturnType<typeof validator>>();
/** The validator of a kind at a version, or undefined when the fixture's CRD does not serve that version. */
function validatorFor(kind: string, version: string): ReturnType<typeof validator> | undefined {
  const key = `${kind}/${version}`;
  if (!validators.has(key)) {
    const file = CRDS[kind];
    if (!file || !servedVersions(file).includes(version)) return undefined;
    validators.set(key, validator(crdSchema(file, version)));
  }
  return validators.get(key);
}

/** Schema errors of one `policies.kyverno.io` object, as `Kind/name: error` lines. */
function errorsOf(o: Obj): string[] {
  const version = String(o.apiVersion).split('/')[1] ?? '';
  const v = validatorFor(String(o.kind), version);
  const where = `${o.kind}/${o.metadata?.name} (${o.apiVersion})`;
  if (!v) return [`${where}: no CRD for this kind and version in test/fixtures/schemas`];
  return schemaErrors(v, o).map((e) => `${where}: ${e}`);
}

const CONFIG: UserConfig = {
  name: 'v1',
  profile: 'pss-restricted',
  kyverno: { policyType: 'ValidatingPolicy' },
  exemptNamespaces: ['kube-system', 'kyverno'],
  network: { defaultDeny: true, blockCloudMetadata: true },
  namespaceObjects: { optInLabel: 'kubeharden.io/isolate=true' },
  resources: { quota: true, limitRange: true },
  namespaces: {
    apps: { controls: { 'verify-image-signatures': { mode: 'audit' } } },
    batch: { network: { allowDns: false }, resources: { quota: { hard: { pods: '20' } } } },
    edge: { controls: { 'verify-image-signatures': { mode: 'warn' } } },
  },
  controls: {
    'verify-image-signatures': {
      options: {
        images: ['registry.example.com/*'],
        publicKeys: ['-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'],
        keyless: ['https://token.actions.githubusercontent.com https://github.com/example-org/*'],
        transparencyLog: false,
        mutateDigest: true,
      },
    },
  },
  exceptions: [
    { control: 'verify-image-signatures', images: ['registry.example.com/tools/*'], reason: 'test', expires: '2027-06-01' },
    { control: 'verify-image-signatures', names: ['legacy-*'], reason: 'test', expires: '2027-06-01' },
    { control: 'disallow-privileged-containers', names: ['node-agent*'], namespaces: ['apps'], reason: 'test', expires: '2027-06-01' },
  ],
};

function v1Objects(config: UserConfig): Obj[] {
  const r = compile(config, { today: '2026-11-26' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.clusters.flatMap((c) => c.files.flatMap((f) => ('objects' in f ? (f.objects as Obj[]) : []))).filter((o) => typeof o?.apiVersion === 'string' && o.apiVersion.startsWith('policies.kyverno.io/'));
}

describe('policies.kyverno.io objects against the Kyverno v1.19.1 CRDs', () => {
  const objects = v1Objects(CONFIG);

  it('every object of the bundle validates against the CRD of its kind and version', () => {
    // Not vacuous: the namespace objects and verify-image-signatures are there (ValidatingPolicy and
    // PolicyException objects are validated as soon as the bundle has them).
    const kinds = [...new Set(objects.map((o) => o.kind))].sort();
    expect(kinds).toEqual(expect.arrayContaining(['GeneratingPolicy', 'ImageValidatingPolicy']));
    expect(objects.length).toBeGreaterThanOrEqual(7);
    expect(objects.flatMap(errorsOf)).toEqual([]);
    for (const o of objects) expect(o.apiVersion, `${o.kind}/${o.metadata.name}`).toBe('policies.kyverno.io/v1');
  });

  it('an invalid object of each kind fails: unknown fields, wrong types, enum values, a kind or version without a CRD', () => {
    for (const o of objects) {
      const broken = structuredClone(o);
      broken.spec.evaluation = { ...broken.spec.evaluation, synchronise: { enabled: true } };
      expect(errorsOf(broken).length, `${o.kind}/${o.metadata.name}`).toBeGreaterThan(0);
    }
    const gp = structuredClone(objects.find((o) => o.kind === 'GeneratingPolicy')!);
    gp.spec.evaluation.synchronize.enabled = 'yes';
    expect(errorsOf(gp).join('\n')).toMatch(/synchronize\/enabled must be boolean/);
    const ivp = structuredClone(objects.find((o) => o.kind === 'ImageValidatingPolicy')!);
    ivp.spec.validationActions = ['Block'];
    ivp.spec.failurePolicy = 'Open';
    const ivpErrors = errorsOf(ivp).join('\n');
    expect(ivpErrors).toMatch(/\/spec\/validationActions\/0 must be equal to one of the allowed values/);
    expect(ivpErrors).toMatch(/\/spec\/failurePolicy must be equal to one of the allowed values/);
    expect(errorsOf({ ...objects[0], apiVersion: 'policies.kyverno.io/v9' })).toEqual([`${objects[0]!.kind}/${objects[0]!.metadata.name} (policies.kyverno.io/v9): no CRD for this kind and version in test/fixtures/schemas`]);
    expect(errorsOf({ ...objects[0], kind: 'MutatingPolicy' })[0]).toMatch(/no CRD for this kind and version/);
  });

  // The ValidatingPolicy and PolicyException schemas are wired too, before the bundle emits such objects:
  // minimal objects written here (shapes from the CRDs) pass, and break the way a generator could.
  it('the ValidatingPolicy and PolicyException schemas accept a well-formed object and reject broken ones', () => {
    const vp: Obj = {
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'ValidatingPolicy',
      metadata: { name: 'sample' },
      spec: {
        validationActions: ['Deny'],
        evaluation: { background: { enabled: true } },
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }] },
        autogen: { podControllers: { controllers: ['deployments', 'cronjobs'] } },
        validations: [{ expression: 'true', message: 'never' }],
      },
    };
    const polex: Obj = {
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'PolicyException',
      metadata: { name: 'sample', namespace: 'kyverno' },
      spec: { policyRefs: [{ name: 'sample', kind: 'ValidatingPolicy' }], matchConditions: [{ name: 'by-name', expression: "object.metadata.name == 'x'" }], images: ['registry.example.com/tools/*'] },
    };
    expect(errorsOf(vp)).toEqual([]);
    expect(errorsOf(polex)).toEqual([]);
    expect(errorsOf({ ...vp, spec: { ...vp.spec, validationActions: ['Enforce'] } }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...vp, spec: { ...vp.spec, failureActionOverrides: [] } }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...polex, spec: { ...polex.spec, policyRefs: [{ name: 'sample' }] } }).length).toBeGreaterThan(0);
    expect(errorsOf({ ...polex, spec: { ...polex.spec, exceptions: [] } }).length).toBeGreaterThan(0);
  });
});
