/**
 * What the VAP type checks share (test/vap.test.ts against a running API server's schemas,
 * test/agreement-vap.test.ts against a release's published ones): the controls with known type-checker
 * findings, which findings those may be, and a Kubernetes release's OpenAPI v3 documents from the Go module
 * cache (k8s.io/kubernetes api/openapi-spec/v3, as `go mod download` places the module).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { vapTypecheck } from '../../src/engines/vap.js';
import { goModDownload } from '../../src/engines/go-helper.js';

type Obj = Record<string, any>;

/**
 * Controls whose shared CEL check (the Kyverno target's, run unchanged) the API server's type checker flags
 * against the typed schemas: `.orValue(null)` on a typed optional, a typed string compared with null, a typed
 * volume ranged over as a map. Kyverno sees untyped JSON, so the checks were written for it; in admission the
 * API server evaluates them with dynamic types (every sample gets its expected verdict), but the type checker
 * (vap-check; kube-controller-manager writes the same into `status.typeChecking`) reports them. Open:
 * rewriting these checks type-clean for both engines (the agreement matrix must stay at 100 %). The tests
 * fail when the set changes either way.
 */
export const TYPE_CHECK_GAP: ReadonlySet<string> = new Set([
  'block-ephemeral-containers',
  'disallow-automount-sa-token',
  'disallow-host-path',
  'disallow-nodeport-services',
  'disallow-run-as-root-user',
  'disallow-serviceaccount-token-automount',
  'require-non-root-groups',
  'require-run-as-non-root',
  'restrict-apparmor',
  'restrict-selinux',
  'restrict-volume-types',
]);

/** The only findings the gap's controls may have: schema typing, never an unknown field, function or variable. */
export const SCHEMA_TYPING = /found no matching overload for '(orValue|_!=_|_==_)' applied to|cannot be range of a comprehension/;

/** The k8s.io/kubernetes release whose published schemas stand for a minor. */
const RELEASES: Readonly<Record<string, string>> = { '1.30': 'v1.30.14', '1.34': 'v1.34.4', '1.37': 'v1.37.2' };

/**
 * The OpenAPI v3 documents of the core and the `apis/<group>/v1` groups of a Kubernetes release, keyed as the
 * API server's /openapi/v3 index names them (`api/v1`, `apis/apps/v1`, …).
 */
export function releaseSchemas(minor: string): Record<string, unknown> {
  const release = RELEASES[minor];
  if (!release) throw new Error(`no k8s.io/kubernetes release pinned for ${minor}`);
  const mod = `k8s.io/kubernetes@${release}`;
  const specs = join(goModDownload('k8s.io/kubernetes', release).dir, 'api', 'openapi-spec', 'v3');
  if (!existsSync(specs)) throw new Error(`${mod} has no api/openapi-spec/v3`);
  const out: Record<string, unknown> = {};
  for (const path of ['api/v1', ...['apps', 'batch', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'policy', 'admissionregistration.k8s.io'].map((g) => `apis/${g}/v1`)]) {
    out[path] = JSON.parse(readFileSync(join(specs, `${path.replaceAll('/', '__')}_openapi.json`), 'utf8'));
  }
  return out;
}

/**
 * The API server's TypeChecker warnings of every policy (by name) for a Kubernetes minor and its schemas, from
 * the VAP oracle; fails on anything an API server of that minor refuses to create. What the type checker reads
 * of a policy is the kinds it matches and the expressions: policies that differ only in name, namespace or
 * object selectors are checked once (the sample and reference instances of a control often are), and each
 * gets the result of its representative.
 */
export async function typeCheckDistinct(policies: readonly Obj[], minor: string, schemas: Readonly<Record<string, unknown>>, log: (line: string) => void): Promise<Map<string, Obj[]>> {
  const checked = (p: Obj): string => {
    const { matchConstraints, variables, validations, matchConditions, auditAnnotations, paramKind } = p['spec'] as Obj;
    return JSON.stringify([matchConstraints?.['resourceRules'], variables, validations, matchConditions, auditAnnotations, paramKind]);
  };
  const representative = new Map<string, Obj>();
  for (const p of policies) if (!representative.has(checked(p))) representative.set(checked(p), p);
  const typed = await vapTypecheck([...representative.values()], minor, schemas, { log });
  expect(typed.errors).toEqual([]);
  // Nothing an API server of the target minor would refuse to create. (Estimated costs are not bounded here:
  // the schemas give lists no maxItems, so the API server enforces its budget at runtime only.)
  expect(typed.policies.filter((p) => p.rejectedOnCreate.length).map((p) => `${p.name}: ${p.rejectedOnCreate.join('; ')}`)).toEqual([]);
  expect(typed.policies.map((p) => p.name).sort()).toEqual([...representative.values()].map((p) => String(p['metadata']['name'])).sort());
  const byName = new Map(typed.policies.map((p) => [p.name, p.warnings.map((w) => ({ ...w }) as Obj)]));
  log(`kubeharden tests: ${policies.length} VAPs type-checked for ${minor} as ${representative.size} distinct ones`);
  return new Map(policies.map((p) => [String(p['metadata']['name']), byName.get(String(representative.get(checked(p))!['metadata']['name']))!]));
}
