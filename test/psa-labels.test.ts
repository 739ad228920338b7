/**
 * The PSA labels are only right if a namespace labelled with them accepts and rejects what the policies for
 * that namespace do. For every namespace of the reference config (and the cluster default), every sample is
 * evaluated by the real Pod Security Admission library at the namespace's `enforce` label and by the
 * bundle's policies (WASM, enforced findings). PSA must never reject what the policies allow; where the
 * policies reject more, the difference must be exactly what the bundle README states: controls above the
 * PSA enforce level, or listed as "not mirrored by PSA enforce" (relaxed, audit/warn mode, image exceptions), or
 * controls beyond PSS, which PSA does not have (PSA column "—").
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledCluster } from '../src/compile.js';
import { loadConfig } from '../src/config/load.js';
import { CONTROL_IDS, getControl } from '../src/controls/index.js';
import { sampleApplies } from '../src/controls/samples.js';
import { PSA_LABEL_PREFIX } from '../src/backends/psa/index.js';
import { loadEvaluator, type BundleEvaluator } from '../src/eval/bundle.js';
import type { Obj } from '../src/eval/review.js';
import { psaEvaluate } from '../src/engines/psa.js';
import { ROOT, TODAY } from './helpers.js';

const RANK = { privileged: 0, baseline: 1, restricted: 2 } as const;
type Level = keyof typeof RANK;

/**
 * The PSA levels and stated gaps of the reference config (policies.config.ts), written out by hand from the
 * Pod Security Standards and the config, not computed by the code under test. PSA can only enforce a level
 * when every check of that level is enforced in the namespace without exceptions (PSA has no exceptions by
 * image or name, and no warn-only check); `gaps` are the PSS controls the policies enforce that PSA enforce
 * does not mirror there ("Not mirrored by PSA enforce" in the bundle README).
 */
const REFERENCE: Record<string, { configured: Level | 'exempt'; enforce: Level; audit: Level; warn: Level; gaps: string[] }> = {
  // Unnamed namespaces: nsa-cisa turns on every restricted check, enforced, no exceptions; they carry no PSA
  // labels, and the AdmissionConfiguration enforces nothing there (psa.defaultEnforce: privileged), audit and
  // warn at restricted.
  '(cluster default)': { configured: 'restricted', enforce: 'privileged', audit: 'restricted', warn: 'restricted', gaps: [] },
  // Host namespaces are excepted by name (metrics-agent), drop-ALL and non-root by image (the mesh init
  // container); the baseline capabilities check is replaced by drop-ALL, so it inherits drop-ALL's exception.
  // A baseline check with an exception leaves PSA only "privileged".
  apps: {
    configured: 'restricted', enforce: 'privileged', audit: 'restricted', warn: 'restricted',
    gaps: ['disallow-host-namespaces', 'require-drop-all-capabilities', 'require-run-as-non-root', 'restrict-capabilities-baseline'],
  },
  // The restricted seccomp check only warns there, so it does not replace the baseline seccomp check (the
  // baseline floor): every baseline check stays enforced, and PSA can enforce baseline.
  batch: { configured: 'restricted', enforce: 'baseline', audit: 'restricted', warn: 'restricted', gaps: ['require-seccomp-profile'] },
  'legacy-apps': { configured: 'baseline', enforce: 'baseline', audit: 'baseline', warn: 'baseline', gaps: [] },
  'node-agents': { configured: 'privileged', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  'kube-node-lease': { configured: 'exempt', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  'kube-public': { configured: 'exempt', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  'kube-system': { configured: 'exempt', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  // The policy engines' namespaces are exempt by default (policyEngines.namespaces).
  'gatekeeper-system': { configured: 'exempt', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  kyverno: { configured: 'exempt', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  // An infra namespace (psa.infraNamespaces) at privileged.
  monitoring: { configured: 'privileged', enforce: 'privileged', audit: 'privileged', warn: 'privileged', gaps: [] },
  // Named for its network allowances only: restricted like the cluster default.
  operators: { configured: 'restricted', enforce: 'restricted', audit: 'restricted', warn: 'restricted', gaps: [] },
};
const DEFAULT_SCOPE = '(cluster default)';

let cc: CompiledCluster;
let ev: BundleEvaluator;
beforeAll(async () => {
  cc = compile(await loadConfig(join(ROOT, 'policies.config.ts')), { today: TODAY }).clusters[0]!;
  ev = await loadEvaluator(cc, () => {});
}, 600_000);

describe('reference bundle: PSA labels agree with the policies per namespace', () => {
  it("the bundle's own Namespace labels pass enforce-psa-namespace-labels; weakening one of them does not", () => {
    const nsFile = cc.files.find((f) => f.path === 'psa/namespaces.yaml')!;
    const objects = ('objects' in nsFile ? nsFile.objects : []) as Obj[];
    expect(objects.length).toBeGreaterThan(3);
    const control = (o: Obj): string[] => ev.evaluate(o).filter((f) => f.control === 'enforce-psa-namespace-labels').map((f) => f.message);
    for (const o of objects) expect(control(o), JSON.stringify(o)).toEqual([]);
    // Each generated enforce label one level lower is refused; each version label pinned older warns.
    const lower = { restricted: 'baseline', baseline: 'privileged' } as Record<string, string>;
    let weakened = 0;
    for (const o of objects) {
      const md = o['metadata'] as { name: string; labels: Record<string, string> };
      const level = md.labels[`${PSA_LABEL_PREFIX}enforce`]!;
      const relabel = (labels: Record<string, string>): Obj => ({ ...o, metadata: { name: md.name, labels: { ...md.labels, ...labels } } });
      if (!lower[level]) continue;
      weakened++;
      expect(control(relabel({ [`${PSA_LABEL_PREFIX}enforce`]: lower[level]! })), md.name).toEqual([
        `Namespace "${md.name}": pod-security.kubernetes.io/enforce is "${lower[level]}", below the configured level "${level}"`,
      ]);
      // An older version pin is require-current-psa-version's finding, a warning by default.
      const pinned = relabel({ [`${PSA_LABEL_PREFIX}enforce-version`]: 'v1.20' });
      expect(control(pinned), md.name).toEqual([]);
      expect(ev.evaluate(pinned).filter((f) => f.control === 'require-current-psa-version').map((f) => f.action), md.name).toEqual(['warn']);
    }
    expect(weakened).toBeGreaterThanOrEqual(1);
    // A namespace the config does not name gets the cluster default (restricted here).
    const web = (level: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', labels: { [`${PSA_LABEL_PREFIX}enforce`]: level } } });
    expect(control(web('restricted'))).toEqual([]);
    expect(control(web('baseline'))).toEqual(['Namespace "web": pod-security.kubernetes.io/enforce is "baseline", below the configured level "restricted"']);
    // Exempt namespaces (privileged labels) are not checked at all.
    const system = objects.find((o) => (o['metadata'] as { name: string }).name === 'kube-system')!;
    expect(control({ ...system, metadata: { name: 'kube-system', labels: { [`${PSA_LABEL_PREFIX}enforce`]: 'nonsense' } } })).toEqual([]);
  });

  it('namespace labels carry the levels written out for each namespace of the reference config', () => {
    const nsFile = cc.files.find((f) => f.path === 'psa/namespaces.yaml')!;
    const objects = ('objects' in nsFile ? nsFile.objects : []) as { metadata: { name: string; labels: Record<string, string> } }[];
    // Exempt namespaces (kube-*, the policy engines') are never declared: the AdmissionConfiguration exempts them.
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(Object.entries(REFERENCE).filter(([n, w]) => n !== DEFAULT_SCOPE && w.configured !== 'exempt').map(([n]) => n).sort());
    for (const o of objects) {
      const want = REFERENCE[o.metadata.name]!;
      const labels = (mode: string, level: string) => ({ [`${PSA_LABEL_PREFIX}${mode}`]: level, [`${PSA_LABEL_PREFIX}${mode}-version`]: 'v1.37' });
      expect(o.metadata.labels, o.metadata.name).toEqual({ ...labels('enforce', want.enforce), ...labels('audit', want.audit), ...labels('warn', want.warn) });
    }
    expect(cc.cluster.namespaces.map((n) => [n.name, n.exempt ? 'exempt' : n.pss]).sort()).toEqual(
      Object.entries(REFERENCE).filter(([n]) => n !== DEFAULT_SCOPE).map(([n, w]) => [n, w.configured]).sort(),
    );
  });

  it("the bundle README's namespace table states the same levels and gaps", () => {
    const readme = cc.files.find((f) => f.path === 'README.md')!;
    const text = ('text' in readme ? readme.text : '').split('\n## Namespaces\n')[1]?.split('\n## ')[0] ?? '';
    expect(text).toContain('| Namespace | Configured level | PSA enforce / audit / warn | Not mirrored by PSA enforce |');
    for (const [name, w] of Object.entries(REFERENCE)) {
      const label = name === DEFAULT_SCOPE ? name : `\`${name}\``;
      const gaps = w.configured === 'exempt' ? 'exempt from every control' : w.gaps.length ? w.gaps.map((g) => `\`${g}\``) : ['—'];
      const row = text.split('\n').find((l) => l.startsWith(`| ${label} |`));
      expect(row, name).toBeDefined();
      const cells = row!.split(' | ').slice(1);
      expect(cells[0], name).toBe(w.configured);
      expect(cells[1], name).toBe(`${w.enforce} / ${w.audit} / ${w.warn}`);
      expect(typeof gaps === 'string' ? cells[2]!.replace(/ \|$/, '') : cells[2]!.replace(/ \|$/, '').split(', ').sort(), name).toEqual(typeof gaps === 'string' ? gaps : gaps.sort());
    }
  });

  it('every sample: PSA at the enforce label never rejects what the policies allow; extra rejections are the stated gaps', async () => {
    const version = cc.cluster.version;
    // Namespaces named in the config, plus one it does not name (the cluster defaults apply there).
    const scopes = [
      ...Object.entries(REFERENCE).filter(([n, w]) => n !== DEFAULT_SCOPE && w.configured !== 'exempt').map(([name, w]) => ({ name, ...w })),
      { ...REFERENCE[DEFAULT_SCOPE]!, name: 'unnamed-namespace' },
    ];
    // The PSA library evaluates whole Pods; PSA admission does not re-evaluate metadata-only Pod updates,
    // and neither do the policies, so samples of such updates (those with a plain verdict of their own) are
    // left out here; test/agreement.test.ts covers them.
    const samples = CONTROL_IDS.flatMap((id) =>
      getControl(id)
        .samples.filter((s) => sampleApplies(s, version) && s.expectWithoutOldObject === undefined)
        .map((s) => ({ id, s })),
    );
    const requests = [];
    const ours = new Map<string, string[]>();
    const stated = new Map<string, Set<string>>();
    for (const scope of scopes) {
      const levels = scope;
      const gaps = new Set<string>(scope.gaps);
      for (const id of CONTROL_IDS) {
        // Controls beyond PSS have no PSA check (the README's PSA column says "—"): always a stated gap.
        const pss = getControl(id).pss;
        if (!pss || RANK[pss.level] > RANK[levels.enforce]) gaps.add(id);
      }
      stated.set(scope.name, gaps);
      for (const { id, s } of samples) {
        const object = structuredClone(s.object) as Obj & { metadata: Obj };
        object.metadata = { ...object.metadata, namespace: scope.name };
        const key = `${scope.name}|${id}|${s.name}`;
        const oldObject = s.oldObject ? { ...(s.oldObject as Obj), metadata: { ...((s.oldObject as Obj)['metadata'] as Obj), namespace: scope.name } } : undefined;
        ours.set(key, [...new Set(ev.evaluate(object, { operation: s.operation ?? 'CREATE', ...(oldObject ? { oldObject } : {}) }).filter((f) => f.action === 'deny').map((f) => f.control))].sort());
        if (levels.enforce !== 'privileged') requests.push({ id: key, level: levels.enforce, version: `v${version}`, pod: object });
      }
    }
    const psa = await psaEvaluate(requests);
    const problems: string[] = [];
    let compared = 0;
    for (const [key, controls] of ours) {
      const [ns] = key.split('|') as [string];
      const verdict = psa.get(key);
      const psaDenied = verdict ? !verdict.allowed : false;
      compared++;
      if (psaDenied && controls.length === 0) problems.push(`${key}: PSA rejects (${verdict!.reasons.map((r) => r.check).join(', ')}) what the policies allow`);
      if (!psaDenied && controls.length > 0) {
        const unstated = controls.filter((c) => !stated.get(ns)!.has(c));
        if (unstated.length) problems.push(`${key}: policies reject with ${unstated.join(', ')}, PSA allows, and the README does not state this gap`);
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(900);
  }, 600_000);
});
