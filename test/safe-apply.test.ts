/**
 * A bundle that cannot lock out a cluster: the policy engines' own pods pass both engines, observe mode
 * rejects nothing (in every engine), PSA defaults stay permissive for unlabeled namespaces with the target
 * level in audit and warn, infrastructure namespaces get their level, and psa/namespaces.yaml only labels
 * (never a kube-* or exempt namespace, never prunable by GitOps). Verdicts come from the WASM evaluation,
 * gator and the Kyverno CLI.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { UserConfig } from '../src/config/types.js';
import { objectsOf } from '../src/eval/bundle.js';
import { gatorFindings, keyOf, kyvernoFindings } from '../src/eval/engines.js';
import type { BackendFile } from '../src/backends/types.js';
import { evaluatorFor } from './helpers.js';

type Obj = Record<string, any>;
const TODAY = '2026-11-26';

function files(config: UserConfig): readonly BackendFile[] {
  return compile(config, { today: TODAY }).clusters[0]!.files;
}
function objectsAt(fs: readonly BackendFile[], path: string): Obj[] {
  const f = fs.find((x) => x.path === path);
  return f && 'objects' in f ? (f.objects as Obj[]) : [];
}
function diagnostics(config: unknown): { code: string; severity: string; path: string }[] {
  return resolveConfig(config, { today: TODAY }).diagnostics.map((d) => ({ code: d.code, severity: d.severity, path: d.path.join('.') }));
}

/** What each engine denies (or reports) per resource: control ids and actions. */
async function verdicts(config: UserConfig, resources: readonly Obj[]): Promise<Map<string, { wasm: string[]; gator: string[]; kyverno: string[]; actions: string[] }>> {
  const cc = compile(config, { today: TODAY }).clusters[0]!;
  const b = objectsOf(cc);
  const ev = await evaluatorFor(config);
  const [gator, kyverno] = await Promise.all([
    gatorFindings([...b.templates, ...b.constraints, ...b.expansions], resources as never),
    kyvernoFindings(b.policies, resources as never, undefined, b.exceptions),
  ]);
  const out = new Map<string, { wasm: string[]; gator: string[]; kyverno: string[]; actions: string[] }>();
  const ids = (fs: readonly { control: string }[] | undefined): string[] => [...new Set((fs ?? []).map((f) => f.control))].sort();
  for (const r of resources) {
    const key = keyOf(r as never);
    const wasm = ev.evaluate(r as never);
    const all = [...wasm, ...(gator.get(key) ?? []), ...(kyverno.get(key) ?? [])];
    out.set(key, { wasm: ids(wasm), gator: ids(gator.get(key)), kyverno: ids(kyverno.get(key)), actions: [...new Set(all.map((f) => f.action))].sort() });
  }
  return out;
}

/** A Pod as the engines' Helm charts run them: tag without digest, registries of their own, token mounted. */
function enginePod(name: string, namespace: string, image: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      serviceAccountName: name,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'manager',
          image,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsUser: 65532, runAsGroup: 65532 },
        },
      ],
    },
  };
}

const NSA: UserConfig = {
  name: 'safe',
  profile: 'nsa-cisa',
  controls: { 'allowed-registries': { options: { registries: ['registry.example.com/'] } } },
  namespaces: { apps: {} },
};

describe("the policy engines' namespaces are exempt in both engines", () => {
  const pods = [
    enginePod('kyverno-admission-controller', 'kyverno', 'reg.kyverno.io/kyverno/kyverno:v1.19.0'),
    enginePod('gatekeeper-controller-manager', 'gatekeeper-system', 'openpolicyagent/gatekeeper:v3.23.0'),
    enginePod('look-alike', 'kyverno-system', 'reg.kyverno.io/kyverno/kyverno:v1.19.0'),
    enginePod('same-pod-in-apps', 'apps', 'reg.kyverno.io/kyverno/kyverno:v1.19.0'),
  ];
  // What the nsa-cisa controls find in an engine pod outside the exempt namespaces.
  const denied = ['allowed-registries', 'disallow-automount-sa-token', 'require-image-digest', 'require-resource-limits-requests'];

  it('by default: engine pods pass every engine; the same pod elsewhere, or in a look-alike namespace, does not', async () => {
    const c = resolveConfig(NSA, { today: TODAY }).config!.clusters[0]!;
    expect(c.engineNamespaces).toEqual(['gatekeeper-system', 'kyverno']);
    expect(c.exemptNamespaces).toEqual(['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system', 'kyverno']);
    const v = await verdicts(NSA, pods);
    for (const [key, want] of [
      ['Pod/kyverno/kyverno-admission-controller', []],
      ['Pod/gatekeeper-system/gatekeeper-controller-manager', []],
      ['Pod/kyverno-system/look-alike', denied],
      ['Pod/apps/same-pod-in-apps', denied],
    ] as const) {
      const got = v.get(key)!;
      expect(got.wasm, `wasm ${key}`).toEqual(want);
      expect(got.gator, `gator ${key}`).toEqual(want);
      expect(got.kyverno, `kyverno ${key}`).toEqual(want);
    }
    // Every Kyverno policy (either type) and Gatekeeper constraint skips both namespaces.
    const b = objectsOf(compile(NSA, { today: TODAY }).clusters[0]!);
    let selected = 0;
    for (const p of b.policies as Obj[]) {
      // ValidatingPolicies: a NotIn selector lists both; an In selector (a namespace's instance) lists neither.
      const sel = p.spec.matchConstraints?.namespaceSelector?.matchExpressions?.[0];
      if (sel?.operator === 'NotIn') expect(sel.values, p.metadata.name).toEqual(expect.arrayContaining(['gatekeeper-system', 'kyverno']));
      if (sel?.operator === 'In') expect(sel.values.filter((n: string) => ['gatekeeper-system', 'kyverno'].includes(n)), p.metadata.name).toEqual([]);
      if (sel) selected++;
    }
    expect(selected).toBeGreaterThan(20);
    for (const p of objectsOf(compile({ ...NSA, kyverno: { policyType: 'ClusterPolicy' } }, { today: TODAY }).clusters[0]!).policies as Obj[]) {
      const cluster = p.spec.rules.find((r: Obj) => !r.match.any[0].resources.namespaces);
      if (cluster) expect(cluster.exclude.any[0].resources.namespaces, p.metadata.name).toEqual(expect.arrayContaining(['gatekeeper-system', 'kyverno']));
    }
    for (const k of b.constraints) if (!k.spec.match.namespaces) expect(k.spec.match.excludedNamespaces, k.metadata.name).toEqual(expect.arrayContaining(['gatekeeper-system', 'kyverno']));
  }, 300_000);

  it('configurable: other namespaces, or none', async () => {
    const none: UserConfig = { ...NSA, policyEngines: { namespaces: [] } };
    expect(resolveConfig(none, { today: TODAY }).config!.clusters[0]!.exemptNamespaces).toEqual(['kube-node-lease', 'kube-public', 'kube-system']);
    const v = await verdicts(none, pods.slice(0, 1));
    expect(v.get('Pod/kyverno/kyverno-admission-controller')).toMatchObject({ wasm: denied, gator: denied, kyverno: denied });
    const own = resolveConfig({ ...NSA, policyEngines: { namespaces: ['policy'] } }, { today: TODAY }).config!.clusters[0]!;
    expect([own.engineNamespaces, own.exemptNamespaces]).toEqual([['policy'], ['kube-node-lease', 'kube-public', 'kube-system', 'policy']]);
    expect(diagnostics({ policyEngines: { namespaces: ['Kyverno'] } })).toEqual([{ code: 'invalid_name', severity: 'error', path: 'policyEngines.namespaces.0' }]);
    expect(diagnostics({ policyEngines: { namespace: ['kyverno'] } })).toEqual([{ code: 'unknown_key', severity: 'error', path: 'policyEngines.namespace' }]);
  }, 300_000);
});

describe("observe mode (rollout: 'observe')", () => {
  const OBSERVE: UserConfig = { ...NSA, rollout: 'observe', network: { defaultDeny: true }, controls: { ...NSA.controls, 'disallow-latest-tag': 'audit' } };
  const fs = files(OBSERVE);

  it('nothing in the bundle rejects: Kyverno Audit, Gatekeeper warn or dryrun, PSA enforce privileged, no namespace objects', () => {
    const b = objectsOf(compile(OBSERVE, { today: TODAY }).clusters[0]!);
    // ValidatingPolicies: controls that would enforce warn at admission; those configured to audit stay silent.
    expect(b.policies.length).toBeGreaterThan(20);
    for (const p of b.policies as Obj[]) expect(p.spec.validationActions, p.metadata.name).toEqual(p.metadata.annotations['kubeharden.io/control'] === 'disallow-latest-tag' ? ['Audit'] : ['Warn']);
    // ClusterPolicies: every rule Audit, with emitWarning where the control would enforce.
    const legacy = objectsOf(compile({ ...OBSERVE, kyverno: { policyType: 'ClusterPolicy' } }, { today: TODAY }).clusters[0]!);
    expect(legacy.policies.length).toBeGreaterThan(20);
    for (const p of legacy.policies as Obj[]) {
      for (const r of p.spec.rules) expect(r.validate?.failureAction ?? r.verifyImages?.[0].failureAction, `${p.metadata.name}/${r.name}`).toBe('Audit');
    }
    expect((legacy.policies as Obj[]).find((p) => p.metadata.name === 'disallow-privileged-containers')!.spec.emitWarning).toBe(true);
    expect((legacy.policies as Obj[]).find((p) => p.metadata.name === 'disallow-latest-tag')!.spec.emitWarning).toBeUndefined();
    expect(b.constraints.length).toBeGreaterThan(20);
    for (const k of b.constraints) expect(['warn', 'dryrun'], k.metadata.name).toContain(k.spec.enforcementAction);
    for (const ns of objectsAt(fs, 'psa/namespaces.yaml')) expect(ns.metadata.labels['pod-security.kubernetes.io/enforce'], ns.metadata.name).toBe('privileged');
    expect(objectsAt(fs, 'psa/namespaces.yaml').map((n) => n.metadata.labels['pod-security.kubernetes.io/warn'])).toEqual(['restricted']);
    const defaults = objectsAt(fs, 'control-plane/admission-configuration.yaml')[0]!.plugins[0].configuration.defaults;
    expect([defaults.enforce, defaults.audit, defaults.warn]).toEqual(['privileged', 'restricted', 'restricted']);
    expect(fs.filter((f) => /^(network|resources)\/|^kyverno\/(default-deny|block-cloud|namespace-resource)/.test(f.path)).map((f) => f.path)).toEqual([]);
    const readme = fs.find((f) => f.path === 'README.md') as { text: string };
    expect(readme.text).toContain("**This bundle is built in observe mode (`rollout: 'observe'`): nothing is rejected.**");
  });

  it('the same bundle otherwise: observe and enforce differ only in actions and namespace objects', () => {
    const enforce = files({ ...OBSERVE, rollout: 'enforce' });
    const strip = (list: readonly BackendFile[]): string[] =>
      list.filter((f) => f.path.startsWith('kyverno/') || f.path.startsWith('gatekeeper/')).filter((f) => !/samples\/|default-deny|block-cloud|namespace-resource|kustomization/.test(f.path)).map((f) => f.path).sort();
    expect(strip(fs)).toEqual(strip(enforce));
  });

  it('every engine reports the violations as warnings (and audits), none denies', async () => {
    const pod = enginePod('web', 'apps', 'docker.io/library/nginx:latest');
    const v = (await verdicts(OBSERVE, [pod])).get('Pod/apps/web')!;
    expect(v.wasm).toEqual(['allowed-registries', 'disallow-automount-sa-token', 'disallow-latest-tag', 'require-image-digest', 'require-resource-limits-requests']);
    expect(v.gator).toEqual(v.wasm);
    expect(v.kyverno).toEqual(v.wasm);
    expect(v.actions).toEqual(['audit', 'warn']);
    // Enforced, the same findings deny.
    const e = (await verdicts({ ...OBSERVE, rollout: 'enforce' }, [pod])).get('Pod/apps/web')!;
    expect(e.gator).toEqual(v.wasm);
    expect(e.actions).toEqual(['audit', 'deny']);
  }, 300_000);

  it('rejects unknown rollout values with a hint', () => {
    expect(resolveConfig({ rollout: 'observ' }, { today: TODAY }).diagnostics.map((d) => [d.code, d.path.join('.'), d.hint])).toEqual([['invalid_value', 'rollout', 'did you mean "observe"?']]);
  });
});

describe('PSA defaults and infrastructure namespaces', () => {
  const admission = (config: UserConfig): Obj => objectsAt(files(config), 'control-plane/admission-configuration.yaml')[0]!.plugins[0].configuration;

  it('unlabeled namespaces: enforce privileged by default, audit and warn at the target level; configurable, never above the policies', () => {
    expect(admission({ name: 'x' }).defaults).toMatchObject({ enforce: 'privileged', audit: 'restricted', warn: 'restricted' });
    expect(admission({ name: 'x', psa: { defaultEnforce: 'baseline' } }).defaults).toMatchObject({ enforce: 'baseline', audit: 'restricted', warn: 'restricted' });
    expect(admission({ name: 'x', psa: { defaultEnforce: 'restricted' } }).defaults).toMatchObject({ enforce: 'restricted' });
    // PSA never rejects what the policies allow: restricted is capped where they do not enforce it.
    expect(admission({ name: 'x', profile: 'pss-baseline', psa: { defaultEnforce: 'restricted' } }).defaults).toMatchObject({ enforce: 'baseline', audit: 'baseline' });
    expect(admission({ name: 'x', rollout: 'observe', psa: { defaultEnforce: 'restricted' } }).defaults).toMatchObject({ enforce: 'privileged' });
    expect(diagnostics({ psa: { defaultEnforce: 'strict' } })).toEqual([{ code: 'invalid_value', severity: 'error', path: 'psa.defaultEnforce' }]);
  });

  it('infrastructure namespaces get their level in labels and policies, and no namespace objects', async () => {
    const config: UserConfig = {
      name: 'infra',
      profile: 'pss-restricted',
      network: { defaultDeny: true },
      namespaces: { apps: {} },
      psa: { infraNamespaces: { 'csi-system': 'privileged', monitoring: 'baseline' } },
    };
    const fs = files(config);
    const labels = Object.fromEntries(objectsAt(fs, 'psa/namespaces.yaml').map((n) => [n.metadata.name, n.metadata.labels['pod-security.kubernetes.io/enforce']]));
    expect(labels).toEqual({ apps: 'restricted', 'csi-system': 'privileged', monitoring: 'baseline' });
    expect(fs.filter((f) => /^network\//.test(f.path)).map((f) => f.path)).toEqual(['network/apps.yaml', 'network/kustomization.yaml']);
    // The GeneratingPolicy writes them in apps only (the legacy generate rules likewise).
    expect(objectsAt(fs, 'kyverno/default-deny-network-policy.yaml').map((p) => [p.kind, p.spec.matchConditions])).toEqual([['GeneratingPolicy', [{ name: 'namespace-scope', expression: 'object.metadata.name in ["apps"]' }]]]);
    const rules = objectsAt(files({ ...config, kyverno: { policyType: 'ClusterPolicy' } }), 'kyverno/default-deny-network-policy.yaml')[0]!.spec.rules as Obj[];
    expect(rules.map((r) => r.match.any[0].resources.names)).toEqual([['apps'], ['apps']]);
    // A CSI node plugin (privileged, host path) starts in csi-system; a node exporter (host PID and network)
    // is a baseline violation in monitoring; both are denied in apps.
    const csi = { ...enginePod('csi-node', 'csi-system', 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0'), spec: { containers: [{ name: 'c', image: 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0', securityContext: { privileged: true } }], volumes: [{ name: 'h', hostPath: { path: '/var/lib/kubelet' } }] } };
    const exporter = { ...enginePod('node-exporter', 'monitoring', 'quay.io/prometheus/node-exporter:v1.9.0'), spec: { ...enginePod('x', 'monitoring', 'quay.io/prometheus/node-exporter:v1.9.0').spec, hostPID: true, hostNetwork: true } };
    const v = await verdicts(config, [csi, exporter, { ...csi, metadata: { name: 'csi-node', namespace: 'apps' } }]);
    for (const e of ['wasm', 'gator', 'kyverno'] as const) {
      expect(v.get('Pod/csi-system/csi-node')![e], e).toEqual([]);
      expect(v.get('Pod/monitoring/node-exporter')![e], e).toEqual(['disallow-host-namespaces']);
      // (restricted's restrict-volume-types replaces baseline's disallow-host-path where both apply)
      expect(v.get('Pod/apps/csi-node')![e], e).toEqual(expect.arrayContaining(['disallow-privileged-containers', 'restrict-volume-types']));
    }
  }, 300_000);

  it('reports conflicts and bad entries with their key paths', () => {
    expect(diagnostics({ namespaces: { monitoring: {} }, psa: { infraNamespaces: { monitoring: 'privileged' } } })).toEqual([{ code: 'infra_namespace_configured', severity: 'error', path: 'psa.infraNamespaces.monitoring' }]);
    expect(diagnostics({ psa: { infraNamespaces: { Monitoring: 'privileged', csi: 'admin' } } })).toEqual([
      { code: 'invalid_name', severity: 'error', path: 'psa.infraNamespaces.Monitoring' },
      { code: 'invalid_value', severity: 'error', path: 'psa.infraNamespaces.csi' },
    ]);
    expect(diagnostics({ psa: { infraNamespaces: { 'kube-system': 'privileged' } } })).toEqual([{ code: 'exempt_namespace_rules', severity: 'warning', path: 'psa.infraNamespaces.kube-system' }]);
  });
});

describe('psa/namespaces.yaml only labels', () => {
  const config: UserConfig = { name: 'x', exemptNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'platform'], namespaces: { apps: {}, 'kube-extra': {}, platform: {} } };
  const fs = files(config);

  it('names only the non-exempt namespaces outside kube-*, with the six PSA labels and GitOps keep annotations, and no kustomization', () => {
    const objects = objectsAt(fs, 'psa/namespaces.yaml');
    expect(objects.map((o) => o.metadata.name)).toEqual(['apps']);
    expect(objects[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'apps',
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.37',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'v1.37',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'v1.37',
        },
        annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' },
      },
    });
    expect(fs.some((f) => f.path.startsWith('psa/') && f.path !== 'psa/namespaces.yaml')).toBe(false);
    // kube-extra is not exempt: the policies apply there, only the file leaves it alone.
    expect(resolveConfig(config, { today: TODAY }).config!.clusters[0]!.namespaces.find((n) => n.name === 'kube-extra')!.exempt).toBe(false);
    const readme = (fs.find((f) => f.path === 'README.md') as { text: string }).text;
    expect(readme).toContain('kubectl apply --server-side --field-manager=kubeharden-psa -f x/psa/namespaces.yaml');
    expect(readme).not.toContain('kubectl apply -k x/psa');
  });

  it('no file when only exempt namespaces are named', () => {
    expect(files({ name: 'x' }).some((f) => f.path.startsWith('psa/'))).toBe(false);
  });
});
