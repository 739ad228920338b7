/**
 * require-current-psa-version warns by default (issue 18, item 4): a Helm chart that pins an old
 * enforce-version on its namespace (Gatekeeper's own chart labels v1.24) installs, with a warning, in every
 * engine, while enforce-psa-namespace-labels still blocks a weaker enforce level. The control-level default
 * mode is resolved like any mode: a config's defaultMode of audit or warn, a mode set per cluster or
 * namespace, and observe rollouts apply to it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { resolveConfig, type ResolvedCluster } from '../src/config/resolve.js';
import type { UserConfig } from '../src/config/types.js';
import { evaluatorFor, ROOT, runCli, tempProject, TODAY } from './helpers.js';

const VERSION = 'require-current-psa-version';
const LEVEL = 'enforce-psa-namespace-labels';

const cluster = (raw: unknown): ResolvedCluster => {
  const r = resolveConfig(raw, { today: TODAY });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.config!.clusters[0]!;
};
const settings = (c: ResolvedCluster, id: string) => c.controls.find((x) => x.id === id)!;
const registries = {
  'allowed-registries': { options: { registries: ['registry.example.com/'] } },
  'verify-image-signatures': { options: { images: ['registry.example.com/*'], keyless: ['https://issuer.example.com https://ci.example.com/*'] } },
};
const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pinned = (name: string, version: string) => ns(name, { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': version });

describe('a control-level default mode', () => {
  it('nsa-cisa turns require-current-psa-version on in warn mode; the level control stays enforce', () => {
    const c = cluster({ profile: 'nsa-cisa', controls: registries });
    expect(settings(c, VERSION).cluster).toMatchObject({ enabled: true, mode: 'warn' });
    expect(settings(c, LEVEL).cluster).toMatchObject({ enabled: true, mode: 'enforce' });
    // The PSS profiles leave it off, like every control beyond PSS; switching it on keeps its default mode.
    expect(settings(cluster({ profile: 'pss-restricted' }), VERSION).cluster.enabled).toBe(false);
    expect(settings(cluster({ profile: 'pss-restricted', controls: { [VERSION]: true } }), VERSION).cluster).toMatchObject({ enabled: true, mode: 'warn' });
  });

  it('a mode set for the control, per cluster or namespace, wins; a milder defaultMode applies to it too', () => {
    expect(settings(cluster({ profile: 'nsa-cisa', controls: { ...registries, [VERSION]: 'enforce' } }), VERSION).cluster.mode).toBe('enforce');
    expect(settings(cluster({ profile: 'nsa-cisa', controls: { ...registries, [VERSION]: { mode: 'audit' } } }), VERSION).cluster.mode).toBe('audit');
    const perNs = cluster({ profile: 'nsa-cisa', controls: registries, namespaces: { strict: { controls: { [VERSION]: 'enforce' } } } });
    expect(settings(perNs, VERSION).cluster.mode).toBe('warn');
    expect(settings(perNs, VERSION).namespaces.find((n) => n.namespace === 'strict')!.settings.mode).toBe('enforce');
    expect(settings(cluster({ profile: 'nsa-cisa', controls: registries, defaultMode: 'audit' }), VERSION).cluster.mode).toBe('audit');
    expect(settings(cluster({ profile: 'nsa-cisa', controls: registries, defaultMode: 'warn' }), VERSION).cluster.mode).toBe('warn');
    expect(settings(cluster({ profile: 'nsa-cisa', controls: registries, rollout: 'observe' }), VERSION).cluster.mode).toBe('warn');
    expect(settings(cluster({ profile: 'nsa-cisa', controls: { ...registries, [VERSION]: 'enforce' }, rollout: 'observe' }), VERSION).cluster.mode).toBe('warn');
  });
});

describe('the reference bundle', () => {
  const docs = (path: string) => readFileSync(join(ROOT, 'generated', 'reference', path), 'utf8').split(/^---$/m).map((d) => parse(d)).filter(Boolean);

  it("gives require-current-psa-version Gatekeeper's warn and warn-only Kyverno policies; enforce-psa-namespace-labels denies", () => {
    const warn = docs(`gatekeeper/constraints/${VERSION}.yaml`);
    expect(warn.length).toBeGreaterThan(0);
    for (const c of warn) expect(c.spec.enforcementAction, c.metadata.name).toBe('warn');
    for (const c of docs(`gatekeeper/constraints/${LEVEL}.yaml`)) expect(c.spec.enforcementAction, c.metadata.name).toBe('deny');
    // ValidatingPolicies (the reference config's policy type): the mode is each policy's validationActions.
    const actions = (id: string) => docs(`kyverno/${id}.yaml`).map((p) => [p.kind, p.metadata.name, p.spec.validationActions]);
    const versionPolicies = actions(VERSION);
    expect(versionPolicies[0]).toEqual(['ValidatingPolicy', VERSION, ['Warn']]);
    for (const p of versionPolicies) expect(p[2], String(p[1])).toEqual(['Warn']);
    const levelPolicies = actions(LEVEL);
    expect(levelPolicies[0]).toEqual(['ValidatingPolicy', LEVEL, ['Deny']]);
    for (const p of levelPolicies) expect(p[2], String(p[1])).toEqual(['Deny']);
  });

  it('kubeharden audit: a chart pinning v1.24 warns in every engine and is allowed; a weaker enforce level is denied', () => {
    const input = [
      pinned('chart-ns', 'v1.24'),
      ns('weak-ns', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'latest' }),
      pinned('current-ns', 'v1.37'),
    ];
    const dir = tempProject({ 'in.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: input }) });
    const r = runCli(['audit', '--config', join(ROOT, 'policies.config.ts'), '--engine', 'all', '--format', 'json', join(dir, 'in.json')], ROOT);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    expect(r.status).toBe(1);
    type V = { control: string; engine: string; action: string };
    const of = (i: number, control: string) => (out.resources[i].violations as V[]).filter((v) => v.control === control).map((v) => `${v.engine} ${v.action}`).sort();
    expect(out.resources.map((x: { name: string }) => x.name)).toEqual(['chart-ns', 'weak-ns', 'current-ns']);
    // The reference config has vap/: `--engine all` includes the VAP oracle.
    expect(of(0, VERSION)).toEqual(['gator warn', 'kyverno warn', 'vap warn', 'wasm warn']);
    expect(of(0, LEVEL)).toEqual([]);
    expect(out.resources[0].verdict).toBe('allow');
    expect(of(1, LEVEL)).toEqual(['gator deny', 'kyverno deny', 'vap deny', 'wasm deny']);
    expect(of(1, VERSION)).toEqual([]);
    expect(out.resources[1].verdict).toBe('deny');
    expect(out.resources[2].violations).toEqual([]);
    expect(out.summary.controls[VERSION]).toEqual({ deny: 0, warn: 1, audit: 0 });
  }, 600_000);
});

describe('set to enforce', () => {
  it('the same pin is denied; latest and the target version are not', async () => {
    const config = (mode: 'enforce' | true): UserConfig => ({ name: 'strict', profile: 'pss-restricted', kubernetesVersion: '1.37', controls: { [VERSION]: mode } }) as UserConfig;
    const actions = async (mode: 'enforce' | true, o: object) =>
      (await evaluatorFor(config(mode))).evaluate(o as never).filter((f) => f.control === VERSION).map((f) => f.action);
    expect(await actions(true, pinned('chart-ns', 'v1.24'))).toEqual(['warn']);
    expect(await actions('enforce', pinned('chart-ns', 'v1.24'))).toEqual(['deny']);
    expect(await actions('enforce', pinned('latest-ns', 'latest'))).toEqual([]);
    expect(await actions('enforce', pinned('target-ns', 'v1.37'))).toEqual([]);
  }, 300_000);
});
