/**
 * What the VAP type checks share (test/vap.test.ts against a running API server's schemas,
 * test/agreement-vap.test.ts against a release's published ones).
 */
import { expect } from 'vitest';
import { vapTypecheckDistinct } from '../../src/engines/vap.js';

type Obj = Record<string, any>;

/**
 * The API server's TypeChecker warnings of every policy (by name) for a Kubernetes minor and its schemas, from
 * the VAP oracle, each distinct check once (vapTypecheckDistinct); fails on anything an API server of that
 * minor refuses to create.
 */
export async function typeCheckDistinct(policies: readonly Obj[], minor: string, schemas: Readonly<Record<string, unknown>>, log: (line: string) => void): Promise<Map<string, Obj[]>> {
  const typed = await vapTypecheckDistinct(policies, minor, schemas, { log });
  expect(typed.errors).toEqual([]);
  // Nothing an API server of the target minor would refuse to create. (Estimated costs are not bounded here:
  // the schemas give lists no maxItems, so the API server enforces its budget at runtime only.)
  expect(typed.policies.filter((p) => p.rejectedOnCreate.length).map((p) => `${p.name}: ${p.rejectedOnCreate.join('; ')}`)).toEqual([]);
  expect(typed.policies.map((p) => p.name)).toEqual(policies.map((p) => String(p['metadata']['name'])));
  // Every expression, variables included (which the TypeChecker does not report), compiles for every kind.
  expect(typed.policies.flatMap((p) => p.compileErrors.map((w) => `${p.name} ${w.fieldRef}: ${w.warning.slice(0, 300)}`))).toEqual([]);
  log(`kubeharden tests: ${policies.length} VAPs type-checked for ${minor} as ${typed.distinct} distinct ones`);
  return new Map(typed.policies.map((p) => [p.name, p.warnings.map((w) => ({ ...w }) as Obj)]));
}
