/** The audit through gator, the Kyverno CLI and the ValidatingAdmissionPolicy oracle, and the comparison of their verdicts with the WASM ones. */
import type { CompiledCluster } from '../compile.js';
import { objectsOf } from '../eval/bundle.js';
import { gatorFindings, keyOf, kyvernoFindings, type EngineFinding, type EngineName } from '../eval/engines.js';
import { CLUSTER_SCOPED_KINDS, type Obj } from '../eval/review.js';
import { EngineError, type Logger } from '../engines/index.js';
import { vapFindings, vapObjectsOf } from '../eval/vap.js';

/**
 * Findings per resource (same order as `objects`) from one engine. The real engines see each resource under
 * its own name and namespace (name-based rules such as exempt roles, name exceptions and Namespace objects
 * depend on them); a namespaced object without a namespace is evaluated in `default`, as kubectl would create
 * it. Inputs that share kind, namespace and name go to separate runs, so every result maps back to exactly
 * one input. An object without a name gets a temporary one, put back in the messages.
 */
export async function findingsBy(engine: 'gator' | 'kyverno' | 'vap', cc: CompiledCluster, objects: readonly Obj[], log: Logger): Promise<EngineFinding[][]> {
  const runs: { object: Obj; index: number }[][] = [];
  const seen = new Map<string, number>();
  const temporary = new Map<number, string>();
  objects.forEach((o, index) => {
    const md = (o['metadata'] ?? {}) as Obj;
    const namespaced = !CLUSTER_SCOPED_KINDS.has(String(o['kind']));
    const named = typeof md['name'] === 'string' && md['name'] !== '';
    if (!named) temporary.set(index, `kubeharden-unnamed-${index}`);
    const object = named && (!namespaced || md['namespace']) ? o : { ...o, metadata: { ...md, ...(named ? {} : { name: temporary.get(index) }), ...(namespaced && !md['namespace'] ? { namespace: 'default' } : {}) } };
    const key = keyOf(object);
    const run = seen.get(key) ?? 0;
    seen.set(key, run + 1);
    (runs[run] ??= []).push({ object, index });
  });
  const b = objectsOf(cc);
  const vap = engine === 'vap' ? vapObjectsOf(cc) : undefined;
  if (engine === 'vap' && !vap) throw new EngineError('vap_missing', 'the compiled bundle has no vap/ target to evaluate');
  const out: EngineFinding[][] = objects.map(() => []);
  for (const batch of runs) {
    const resources = batch.map((x) => x.object);
    const found =
      engine === 'gator'
        ? await gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources, log)
        : engine === 'vap'
          ? await vapFindings(vap!, resources, { log })
          : await kyvernoFindings(b.policies, resources, log, b.exceptions);
    for (const { object, index } of batch) {
      const name = temporary.get(index);
      const findings = found.get(keyOf(object)) ?? [];
      out[index] = name === undefined ? findings : findings.map((f) => ({ ...f, message: f.message.split(name).join('') }));
    }
  }
  return out;
}

/** Per control, whether each engine found a violation; a split is reported. */
export function disagreements(engines: readonly EngineName[], findings: readonly (readonly EngineFinding[])[]): string[] {
  const controls = [...new Set(findings.flatMap((f) => f.map((x) => x.control)))].sort();
  const out: string[] = [];
  for (const c of controls) {
    const verdicts = engines.map((e, i) => `${e} ${findings[i]!.some((f) => f.control === c) ? 'deny' : 'allow'}`);
    if (new Set(verdicts.map((v) => v.split(' ')[1])).size > 1) out.push(`engines disagree on ${c}: ${verdicts.join(', ')}`);
  }
  return out;
}
