/**
 * Structural validation of generated objects against upstream CRD schemas (copied into
 * test/fixtures/schemas/, sources noted in each file). Objects that declare properties reject unknown
 * fields here (the API server would prune them silently), so a typo in generated output fails a test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './helpers.js';

type Schema = Record<string, unknown>;

/** The openAPIV3Schema of a CRD version (the storage version unless named). */
export function crdSchema(file: string, version?: string): Schema {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'test', 'fixtures', 'schemas', file), 'utf8')).map((d) => d.toJS() as Schema | null);
  const crd = docs.find((d) => d?.['kind'] === 'CustomResourceDefinition') as { spec: { versions: { name: string; storage?: boolean; schema: { openAPIV3Schema: Schema } }[] } };
  const v = crd.spec.versions.find((x) => (version ? x.name === version : x.storage)) ?? crd.spec.versions[0]!;
  return v.schema.openAPIV3Schema;
}

/** Kubernetes structural schema → JSON Schema for ajv. */
export function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const src = s as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'properties' || k === 'patternProperties') out[k] = Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, toJsonSchema(pv)]));
    else if (k === 'items' || k === 'additionalProperties' || k === 'not') out[k] = typeof v === 'boolean' ? v : toJsonSchema(v);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = toJsonSchema(v);
    else if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'format' || k === 'nullable') continue;
    else out[k] = v;
  }
  if (src['x-kubernetes-int-or-string']) {
    delete out['type'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (src['x-kubernetes-preserve-unknown-fields']) {
    delete out['additionalProperties'];
  } else if (out['type'] === 'object' && out['properties'] && out['additionalProperties'] === undefined) {
    out['additionalProperties'] = false;
  }
  if (src['nullable'] && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });

export function validator(schema: Schema): ValidateFunction {
  return ajv.compile(toJsonSchema(schema) as Schema);
}

/** Errors of one object as readable strings (empty when valid). */
export function schemaErrors(validate: ValidateFunction, obj: unknown): string[] {
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
