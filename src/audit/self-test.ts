/**
 * The bundle's self-test (`kubeharden test`): the built-in samples of every enabled control, as a Pod and in
 * every workload controller, and the config's fixtures, through the WASM-compiled policies.
 */
import { resolve as resolvePath } from 'node:path';
import type { CompileResult } from '../compile.js';
import { getControl, type ControlId } from '../controls/index.js';
import { targetKinds } from '../controls/types.js';
import { loadEvaluator, sampleApplies, workloadVariants } from '../eval/bundle.js';
import { readManifestFile } from '../eval/manifests.js';
import { userMessage, type Obj } from '../eval/review.js';
import type { Logger } from '../engines/index.js';

export interface SelfTestCounts {
  readonly passed: number;
  readonly failed: number;
}

/** Runs every check; each failure is described to `onFailure` as it is found. */
export async function selfTest(result: CompileResult, configDir: string, log: Logger, onFailure: (line: string) => void): Promise<SelfTestCounts> {
  let passed = 0;
  let failed = 0;
  const fail = (line: string): void => {
    failed++;
    onFailure(line);
  };
  for (const cc of result.clusters) {
    const ev = await loadEvaluator(cc, log);
    const prefix = result.clusters.length > 1 ? `[${cc.cluster.name}] ` : '';
    for (const c of cc.ir.controls) {
      for (const sample of getControl(c.control).samples) {
        if (!sampleApplies(sample, cc.cluster.version)) continue;
        const variants: { label: string; object?: Obj }[] = [{ label: String(sample.object['kind']) }];
        if (!sample.podOnly && !targetKinds(getControl(c.control))) for (const w of workloadVariants(sample.object as Obj)) variants.push({ label: w.kind, object: w.object });
        for (const v of variants) {
          const msgs = ev.evaluateSample(c.control, sample, v.object).map(userMessage);
          const got = msgs.length ? 'deny' : 'allow';
          if (got === sample.expect) passed++;
          else fail(`${prefix}${c.control} sample ${sample.name} (${v.label}): expected ${sample.expect}, got ${got}${msgs.length ? `: ${msgs.join('; ')}` : ''}`);
        }
      }
    }
    for (const fx of cc.cluster.fixtures) {
      const path = resolvePath(configDir, fx.file);
      let parsed;
      try {
        parsed = readManifestFile(path, fx.file);
      } catch (err) {
        fail(`${prefix}fixture ${fx.file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      for (const e of parsed.errors) fail(`${prefix}fixture ${fx.file}:${e.line}: ${e.message}`);
      for (const r of parsed.resources) {
        const findings = ev.evaluate(r.object);
        const md = (r.object['metadata'] ?? {}) as Obj;
        const what = `${fx.file}#${r.index} ${String(r.object['kind'])}/${String(md['name'] ?? '')}`;
        const byControl = new Map<string, string[]>();
        for (const f of findings) byControl.set(f.control, [...(byControl.get(f.control) ?? []), userMessage(f.message)]);
        if (fx.expect === 'allow') {
          if (findings.length === 0) passed++;
          else for (const [control, msgs] of byControl) fail(`${prefix}fixture ${what}: ${control} expected allow, got deny: ${msgs.join('; ')}`);
          continue;
        }
        const expects = Object.entries(fx.expect) as [ControlId, 'allow' | 'deny'][];
        for (const [control, expected] of expects) {
          const msgs = byControl.get(control) ?? [];
          const got = msgs.length ? 'deny' : 'allow';
          if (got === expected) {
            passed++;
            continue;
          }
          // An expected deny that did not come: which controls did deny the object instead (a fixture
          // written for one control often trips another one first), and which denies were expected.
          const others = [...byControl.keys()].filter((k) => k !== control).sort();
          const wanted = expects.filter(([k, e]) => e === 'deny' && k !== control).map(([k]) => k);
          const context =
            got === 'allow'
              ? ` (${others.length ? `denied by ${others.join(', ')}` : 'no control denied it'}${wanted.length ? `; denies expected from ${[control, ...wanted].sort().join(', ')}` : ''})`
              : `: ${msgs.join('; ')}`;
          fail(`${prefix}fixture ${what}: ${control} expected ${expected}, got ${got}${context}`);
        }
      }
    }
  }
  return { passed, failed };
}
