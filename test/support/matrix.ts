/**
 * What the agreement matrix files share (test/agreement*.test.ts): which versions and controls run, the rows
 * (every sample of a control at a version, as a Pod and in every workload controller, with the WASM verdict),
 * one engine run per control, and how an engine's findings are compared with WASM and the expectation.
 */
import { expect } from 'vitest';
import { CONTROL_IDS, getControl, type ControlId } from '../../src/controls/index.js';
import { checkableOffline } from '../../src/controls/types.js';
import { SUPPORTED_VERSIONS, minor, type KubernetesVersion } from '../../src/pss/versions.js';
import { suiteCases, type SuiteCase } from '../../src/backends/engine-suites/samples.js';
import { evaluateSample } from '../../src/eval/bundle.js';
import { keyOf, type EngineFindings } from '../../src/eval/engines.js';
import type { PolicyModule } from '../../src/eval/wasm.js';

/**
 * These versions exercise both sides of every version knob. The Kyverno CLI's cost grows with policies ×
 * resources (every policy set against every sample took 5–9 min per version on 2 shared cores); one run per
 * control with its own samples takes about 1 min per version.
 */
export const KYVERNO_VERSIONS: readonly KubernetesVersion[] = ['1.25', '1.30', '1.34', '1.37'];


/**
 * While developing a control: `KUBEHARDEN_CONTROLS=id,id KUBEHARDEN_VERSIONS=1.37 npx vitest run test/agreement`
 * runs the matrix for those only. A value naming no control or version (a typo) is an error, not an empty
 * matrix; in CI (`CI=1`) either variable is an error: CI always runs the whole matrix.
 */
export function matrixFilter(name: string, known: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const ci = env['CI'];
  if (ci && ci !== '0' && ci !== 'false') throw new Error(`${name}=${raw} is set, but CI runs the whole agreement matrix: unset it`);
  const list = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = list.filter((x) => !known.includes(x));
  if (!list.length || unknown.length) throw new Error(`${name}=${JSON.stringify(raw)} names no known ${unknown.length ? `value (${unknown.join(', ')})` : 'value'}; known: ${known.join(', ')}`);
  return list;
}
export const ONLY_CONTROLS = matrixFilter('KUBEHARDEN_CONTROLS', CONTROL_IDS);
export const ONLY_VERSIONS = matrixFilter('KUBEHARDEN_VERSIONS', SUPPORTED_VERSIONS);
export const versions = (vs: readonly KubernetesVersion[]): KubernetesVersion[] => vs.filter((v) => !ONLY_VERSIONS || ONLY_VERSIONS.includes(v));
export const controlsAt = (v: KubernetesVersion): ControlId[] =>
  CONTROL_IDS.filter((id) => (getControl(id).pss?.since ?? 0) <= minor(v) && checkableOffline(getControl(id)) && (!ONLY_CONTROLS || ONLY_CONTROLS.includes(id)));


export interface Row {
  readonly c: SuiteCase;
  readonly wasm: string[];
}

export function wasmRows(catalog: PolicyModule, v: KubernetesVersion): Row[] {
  return suiteCases(controlsAt(v), v).map((c) => ({ c, wasm: evaluateSample(catalog, c.control, c.sample, v, c.object) }));
}

/**
 * One engine's findings for a version's rows: `run` is called once per control with that control's samples
 * (objects in row order) and each control's findings are kept for its own rows only. Checks that the controls'
 * sample sets together are exactly the rows: batching cannot drop or add a row.
 */
/** A copy of a Kyverno policy without the informational `kyverno.io/kubernetes-version` annotation. */
export function withoutVersionAnnotation<T extends object>(policy: T): T {
  const p = structuredClone(policy) as T & { metadata: { annotations?: Record<string, string> } };
  expect(p.metadata.annotations?.['kyverno.io/kubernetes-version']).toBeDefined();
  delete p.metadata.annotations!['kyverno.io/kubernetes-version'];
  return p;
}

export async function perControl(rows: readonly Row[], ids: readonly ControlId[], run: (id: ControlId, index: number, objects: Row['c']['object'][]) => Promise<EngineFindings>): Promise<Map<ControlId, EngineFindings>> {
  const out = new Map<ControlId, EngineFindings>();
  let sent = 0;
  await Promise.all(
    ids.map(async (id, i) => {
      const objects = rows.filter((r) => r.c.control === id).map((r) => r.c.object);
      expect(objects.length, id).toBeGreaterThan(0);
      sent += objects.length;
      out.set(id, await run(id, i, objects));
    }),
  );
  expect(sent).toBe(rows.length);
  expect(new Set(rows.map((r) => r.c.control))).toEqual(new Set(ids));
  return out;
}

/**
 * Disagreements for one engine: verdict vs WASM and vs the expectation, naming sample, control and kind. Each
 * row is looked up in its own control's findings. Counts the rows compared into `compared`.
 */
export function disagreements(engine: string, rows: readonly Row[], byControl: ReadonlyMap<string, EngineFindings>, compareMessages: boolean, compared: { n: number } = { n: 0 }): string[] {
  const out: string[] = [];
  for (const { c, wasm } of rows) {
    const findings = byControl.get(c.control);
    if (!findings) {
      out.push(`${c.name} [${c.kind}] ${c.control}: ${engine} was not run for this control`);
      continue;
    }
    compared.n++;
    // The Kyverno CLI reports a resource without a namespace in `default` (gator leaves it empty).
    const md = (c.object['metadata'] ?? {}) as Record<string, unknown>;
    const key = keyOf(c.object);
    const found = findings.get(key) ?? (md['namespace'] === undefined ? findings.get(keyOf({ ...c.object, metadata: { ...md, namespace: 'default' } })) : undefined);
    const mine = (found ?? []).filter((f) => f.control === c.control);
    const got = mine.length ? 'deny' : 'allow';
    const w = wasm.length ? 'deny' : 'allow';
    // Engines here see each object on its own (no old object), so UPDATE samples use their plain verdict.
    if (got !== w || got !== c.expectPlain) out.push(`${c.name} [${c.kind}] ${c.control}: expected ${c.expectPlain}, wasm ${w}, ${engine} ${got}`);
    else if (compareMessages) {
      const msgs = mine.map((f) => f.message).sort();
      if (JSON.stringify(msgs) !== JSON.stringify(wasm)) out.push(`${c.name} [${c.kind}] ${c.control}: messages differ\n  wasm:  ${JSON.stringify(wasm)}\n  gator: ${JSON.stringify(msgs)}`);
    }
  }
  return out;
}


/**
 * Splits `items` into `n` groups of about equal weight (heaviest first, each to the lightest group so far);
 * every item lands in exactly one group, and no group is empty when there are at least `n` items.
 */
export function balanced<T>(items: readonly T[], n: number, weight: (item: T) => number): T[][] {
  const groups = Array.from({ length: Math.min(n, items.length) }, () => ({ items: [] as T[], weight: 0 }));
  for (const item of [...items].sort((a, b) => weight(b) - weight(a))) {
    const g = groups.reduce((min, x) => (x.weight < min.weight ? x : min));
    g.items.push(item);
    g.weight += weight(item);
  }
  return groups.map((g) => g.items);
}

