/** The resolver: validation diagnostics (codes, paths, hints), profiles, overrides, namespaces, exceptions. */
import { describe, expect, it } from 'vitest';
import { PROFILES, inProfile, resolveConfig, type ResolvedCluster } from '../src/config/resolve.js';
import { nsaCisaDescription } from '../src/config/resolve/profiles.js';
import { CONTROL_IDS, getControl } from '../src/controls/index.js';
import { lowerCluster } from '../src/ir/lower.js';
import { psaLevels } from '../src/ir/psa.js';

const TODAY = '2026-11-26';
const resolve = (raw: unknown) => resolveConfig(raw, { today: TODAY });
const cluster = (raw: unknown): ResolvedCluster => {
  const r = resolve(raw);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.config!.clusters[0]!;
};
const codes = (raw: unknown) => resolve(raw).diagnostics.map((d) => `${d.severity}:${d.code}:${d.path.join('.')}`);

describe('validation', () => {
  it('reports a problem in a setting every cluster inherits once, not once per cluster', () => {
    const r = resolve({
      controls: { 'disallow-privileged-container': true },
      exceptions: [{ control: 'restrict-seccomp', namespaces: ['ci'], reason: '', expires: '2027-01-01' }],
      clusters: { prod: {}, staging: { kubernetesVersion: '1.33' }, dev: { controls: { 'restrict-volume-type': true } } },
    });
    expect(r.diagnostics.map((x) => `${x.severity}:${x.code}:${x.path.join('.')}`)).toEqual([
      'error:unknown_control:clusters.dev.controls.restrict-volume-type',
      'error:unknown_control:controls.disallow-privileged-container',
      'error:missing_reason:exceptions.0.reason',
    ]);
    // A problem whose text differs per cluster (its target version) is one per cluster.
    const versions = resolve({ controls: { 'restrict-probe-lifecycle-host': true }, clusters: { old: { kubernetesVersion: '1.32' }, older: { kubernetesVersion: '1.31' }, again: { kubernetesVersion: '1.31' } } });
    expect(versions.diagnostics.map((x) => x.message)).toEqual([
      'restrict-probe-lifecycle-host is a PSS check from Kubernetes 1.34; the target 1.31 skips it',
      'restrict-probe-lifecycle-host is a PSS check from Kubernetes 1.34; the target 1.32 skips it',
    ]);
  });

  it('validates kyverno.policyType and resolves it per cluster', () => {
    expect(cluster({ kyverno: { policyType: 'ClusterPolicy' } }).kyvernoPolicyType).toBe('ClusterPolicy');
    expect(cluster({ kyverno: { policyType: 'ValidatingPolicy' } }).kyvernoPolicyType).toBe('ValidatingPolicy');
    const r = resolve({ kyverno: { policyType: 'validatingpolicy' } });
    expect(r.diagnostics.map((x) => [x.code, x.path.join('.'), x.hint])).toEqual([['invalid_value', 'kyverno.policyType', 'did you mean "ValidatingPolicy"?']]);
    expect(codes({ kyverno: 'ClusterPolicy' })).toEqual(['error:invalid_value:kyverno']);
    expect(codes({ kyverno: { policyTyp: 'ClusterPolicy' } })).toEqual(['error:unknown_key:kyverno.policyTyp']);
    const multi = resolve({ kyverno: { policyType: 'ClusterPolicy' }, clusters: { old: {}, next: { kyverno: { policyType: 'ValidatingPolicy' } } } });
    expect(multi.config!.clusters.map((c) => [c.name, c.kyvernoPolicyType])).toEqual([['next', 'ValidatingPolicy'], ['old', 'ClusterPolicy']]);
  });

  it('validates vap.enabled, off by default, resolved per cluster, and refused below Kubernetes 1.30 with the field and the version', () => {
    expect(cluster({}).vap).toEqual({ enabled: false });
    expect(cluster({ vap: { enabled: true } }).vap).toEqual({ enabled: true });
    expect(cluster({ kubernetesVersion: '1.30', vap: { enabled: true } }).vap).toEqual({ enabled: true });
    // Off is fine at any version.
    expect(cluster({ kubernetesVersion: '1.29', vap: { enabled: false } }).vap).toEqual({ enabled: false });
    const old = resolve({ kubernetesVersion: '1.29', vap: { enabled: true } });
    expect(old.diagnostics.map((x) => [x.severity, x.code, x.path.join('.')])).toEqual([['error', 'unsupported_version', 'vap.enabled']]);
    expect(old.diagnostics[0]!.message).toMatch(/Kubernetes 1\.30 or later.*targets 1\.29/);
    expect(codes({ vap: true })).toEqual(['error:invalid_value:vap']);
    expect(codes({ vap: { enabled: 'yes' } })).toEqual(['error:invalid_value:vap.enabled']);
    const typo = resolve({ vap: { enable: true } });
    expect(typo.diagnostics.map((x) => [x.code, x.path.join('.'), x.hint])).toEqual([['unknown_key', 'vap.enable', 'did you mean "enabled"?']]);
    expect(codes({ vaps: { enabled: true } })).toEqual(['error:unknown_key:vaps']);
    // Per cluster: the entry's own version decides.
    const multi = resolve({ vap: { enabled: true }, clusters: { now: {}, old: { kubernetesVersion: '1.28' }, off: { vap: { enabled: false } } } });
    expect(multi.diagnostics.map((x) => `${x.code}:${x.path.join('.')}`)).toEqual(['unsupported_version:vap.enabled']);
    expect(multi.diagnostics[0]!.message).toContain('targets 1.28');
  });

  it('validates gatekeeper.engines and generateVAP and resolves them per cluster', () => {
    expect(cluster({}).gatekeeperEngines).toEqual(['Rego']);
    expect(cluster({}).gatekeeperGenerateVAP).toBe(false);
    expect(cluster({ gatekeeper: { engines: ['CEL', 'Rego'] } }).gatekeeperEngines).toEqual(['Rego', 'CEL']);
    expect(cluster({ gatekeeper: { engines: ['Rego', 'CEL'], generateVAP: true } }).gatekeeperGenerateVAP).toBe(true);
    const typo = resolve({ gatekeeper: { engines: ['Rego', 'cel'] } });
    expect(typo.diagnostics.map((x) => [x.code, x.path.join('.'), x.hint])).toEqual([['invalid_value', 'gatekeeper.engines.1', 'did you mean "CEL"?']]);
    expect(codes({ gatekeeper: { engines: 'CEL' } })).toEqual(['error:invalid_value:gatekeeper.engines']);
    expect(codes({ gatekeeper: { engines: ['CEL'] } })).toEqual(['error:invalid_value:gatekeeper.engines']);
    expect(codes({ gatekeeper: { engines: ['Rego', 'Rego'] } })).toEqual(['error:invalid_value:gatekeeper.engines']);
    expect(codes({ gatekeeper: { engine: ['Rego'] } })).toEqual(['error:unknown_key:gatekeeper.engine']);
    expect(resolve({ gatekeeper: { engine: ['Rego'] } }).diagnostics[0]!.hint).toBe('did you mean "engines"?');
    expect(codes({ gatekeeper: { generateVAP: 'yes', engines: ['Rego', 'CEL'] } })).toEqual(['error:invalid_value:gatekeeper.generateVAP']);
    // Gatekeeper generates policies from CEL blocks only; the v0 template field has no code[] for one.
    expect(codes({ gatekeeper: { generateVAP: true } })).toEqual(['error:invalid_value:gatekeeper.generateVAP']);
    expect(codes({ gatekeeper: { regoVersion: 'v0', engines: ['Rego', 'CEL'] } })).toEqual(['error:invalid_value:gatekeeper.engines']);
    const multi = resolve({ gatekeeper: { engines: ['Rego', 'CEL'] }, clusters: { old: { gatekeeper: { engines: ['Rego'] } }, next: {} } });
    expect(multi.config!.clusters.map((c) => [c.name, c.gatekeeperEngines])).toEqual([['next', ['Rego', 'CEL']], ['old', ['Rego']]]);
  });

  it('reports every problem at once with codes, paths and hints', () => {
    const r = resolve({
      profile: 'pss-strict',
      kubernetesVersion: '1.24',
      controls: { 'disallow-privileged-container': true, 'restrict-host-ports': { options: { allowedRanges: [{ min: 10, max: 5 }] } } },
      unknownKey: 1,
    });
    expect(r.config).toBeUndefined();
    const byCode = Object.fromEntries(r.diagnostics.map((d) => [d.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(['invalid_option', 'invalid_profile', 'unknown_control', 'unknown_key', 'unsupported_version']);
    expect(byCode['unknown_control']!.hint).toBe('did you mean "disallow-privileged-containers"?');
    expect(byCode['invalid_option']!.path).toEqual(['controls', 'restrict-host-ports', 'options', 'allowedRanges', 0]);
    expect(byCode['unsupported_version']!.message).toContain('1.25 to 1.37');
  });

  it('rejects a numeric version with a hint to quote it', () => {
    const d = resolve({ kubernetesVersion: 1.3 }).diagnostics[0]!;
    expect(d.code).toBe('unsupported_version');
    expect(d.hint).toContain("'1.3'");
  });

  it('checks option names and enumerated values', () => {
    expect(codes({ controls: { 'restrict-seccomp': { options: { allowedTypes: ['RuntimeDefault', 'Unconfined', 'runtime/default'] } } } })).toEqual([
      'error:invalid_option:controls.restrict-seccomp.options.allowedTypes.2',
    ]);
    expect(codes({ controls: { 'disallow-host-path': { options: { paths: [] } } } })).toEqual(['error:unknown_option:controls.disallow-host-path.options.paths']);
    expect(codes({ controls: { 'restrict-seccomp': 'enfoce' } })).toEqual(['error:invalid_mode:controls.restrict-seccomp']);
  });

  it('allowedIPs of restrict-service-external-ips takes IP addresses only, located at the entry', () => {
    const ips = (allowedIPs: unknown[]) => resolve({ controls: { 'restrict-service-external-ips': { options: { allowedIPs } } } }).diagnostics.map((d) => `${d.severity}:${d.code}:${d.path.join('.')}: ${d.message}`);
    expect(ips(['192.0.2.10', '2001:db8::10', '::ffff:192.0.2.1', '2001:0db8::10'])).toEqual([]);
    const at = (i: number, msg: string) => `error:invalid_option:controls.restrict-service-external-ips.options.allowedIPs.${i}: restrict-service-external-ips option allowedIPs: item ${i} ${msg}`;
    expect(ips(['192.0.2.10', '10.0.0.0/8'])).toEqual([at(1, '"10.0.0.0/8" is a CIDR range; list each address (they are compared as exact strings)')]);
    expect(ips(['lb.example.com'])).toEqual([at(0, '"lb.example.com" is not an IPv4 or IPv6 address')]);
    expect(ips(['010.0.0.1'])).toEqual([at(0, '"010.0.0.1" is not an IPv4 or IPv6 address')]);
    expect(ips(['192.0.2.300'])).toEqual([at(0, '"192.0.2.300" is not an IPv4 or IPv6 address')]);
    expect(ips([' 192.0.2.10'])).toEqual([at(0, '" 192.0.2.10" is not an IPv4 or IPv6 address')]);
    expect(ips(['fe80::1%eth0'])).toEqual([at(0, '"fe80::1%eth0" has an IPv6 zone, which Kubernetes does not accept in an address')]);
  });

  it('warns on an exception expiring beyond the horizon: 365 days by default, exceptionHorizonDays per config or cluster', () => {
    const ex = (expires: string, extra: Record<string, unknown> = {}) => ({ ...extra, exceptions: [{ control: 'disallow-host-path', namespaces: ['ops'], reason: 'r', expires }] });
    const diags = (raw: unknown) => resolve(raw).diagnostics.map((d) => `${d.severity}:${d.code}:${d.path.join('.')}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
    // TODAY is 2026-11-26: 2027-11-26 is 365 days away, 2027-11-27 366.
    expect(codes(ex('2027-11-26'))).toEqual([]);
    expect(diags(ex('2027-11-27'))).toEqual([
      'warning:distant_expiry:exceptions.0.expires: exception for disallow-host-path expires on 2027-11-27, 366 days away: beyond the 365-day exception horizon (set a nearer expiry date and renew it when it is due, or raise exceptionHorizonDays in the config)',
    ]);
    expect(codes(ex('2099-01-01'))).toEqual(['warning:distant_expiry:exceptions.0.expires']);
    expect(resolve(ex('2099-01-01')).config).toBeDefined();
    expect(codes(ex('2028-11-26', { exceptionHorizonDays: 731 }))).toEqual([]);
    expect(codes(ex('2027-01-30', { exceptionHorizonDays: 60 }))).toEqual(['warning:distant_expiry:exceptions.0.expires']);
    // A cluster entry's setting replaces the base's for that cluster.
    expect(codes({ ...ex('2027-03-01', { exceptionHorizonDays: 60 }), clusters: { prod: {}, dev: { exceptionHorizonDays: 180 } } })).toEqual(['warning:distant_expiry:exceptions.0.expires']);
    expect(resolve({ ...ex('2027-03-01', { exceptionHorizonDays: 60 }), clusters: { prod: {}, dev: { exceptionHorizonDays: 180 } } }).diagnostics).toHaveLength(1);
    for (const bad of [0, -5, 1.5, '365', null]) expect(codes(ex('2027-01-30', { exceptionHorizonDays: bad }))).toEqual(['error:invalid_value:exceptionHorizonDays']);
    expect(codes({ clusters: { prod: { exceptionHorizonDays: 0 } } })).toEqual(['error:invalid_value:clusters.prod.exceptionHorizonDays']);
  });

  it('fails on expired exceptions, warns on ones expiring within 30 days', () => {
    const ex = (expires: string) => ({ exceptions: [{ control: 'disallow-host-path', namespaces: ['ops'], reason: 'r', expires }] });
    expect(codes(ex('2026-11-25'))).toEqual(['error:expired_exception:exceptions.0.expires']);
    expect(codes(ex('2026-12-20'))).toEqual(['warning:expiring_exception:exceptions.0.expires']);
    expect(codes(ex('2027-01-30'))).toEqual([]);
    expect(codes(ex('2027-02-30'))).toEqual(['error:invalid_date:exceptions.0.expires']);
    expect(codes({ exceptions: [{ control: 'disallow-host-path', reason: '', expires: '2027-01-30' }] })).toEqual([
      'error:unscoped_exception:exceptions.0',
      'error:missing_reason:exceptions.0.reason',
    ]);
  });

  it('names the expired exception in the message', () => {
    const d = resolve({ exceptions: [{ control: ['disallow-host-path'], namespaces: ['ops'], reason: 'log shipper', expires: '2026-01-01' }] }).diagnostics[0]!;
    expect(d.message).toContain('disallow-host-path');
    expect(d.message).toContain('2026-01-01');
    expect(d.message).toContain('log shipper');
  });
});

describe('profiles, versions and overrides', () => {
  const enabled = (c: ResolvedCluster) => c.controls.filter((x) => x.cluster.enabled).map((x) => x.id);

  it('pss-baseline enables exactly the baseline checks', () => {
    expect(enabled(cluster({ profile: 'pss-baseline' }))).toEqual([
      'disallow-host-process', 'disallow-host-namespaces', 'disallow-privileged-containers', 'restrict-capabilities-baseline',
      'disallow-host-path', 'restrict-host-ports', 'restrict-probe-lifecycle-host', 'restrict-apparmor', 'restrict-selinux',
      'restrict-proc-mount', 'restrict-seccomp', 'restrict-sysctls',
    ]);
  });

  it('pss-restricted replaces the overridden baseline checks (PSA OverrideCheckIDs)', () => {
    const c = cluster({ profile: 'pss-restricted', kubernetesVersion: '1.37' });
    const on = enabled(c);
    for (const id of ['restrict-capabilities-baseline', 'disallow-host-path', 'restrict-seccomp', 'restrict-proc-mount']) expect(on).not.toContain(id);
    for (const id of ['require-drop-all-capabilities', 'restrict-volume-types', 'require-seccomp-profile', 'require-default-proc-mount']) expect(on).toContain(id);
  });

  it('version-gated checks follow the target version', () => {
    const at = (v: string) => enabled(cluster({ profile: 'pss-restricted', kubernetesVersion: v }));
    expect(at('1.33')).not.toContain('restrict-probe-lifecycle-host');
    expect(at('1.34')).toContain('restrict-probe-lifecycle-host');
    expect(at('1.34')).not.toContain('require-default-proc-mount');
    expect(at('1.34')).toContain('restrict-proc-mount');
    expect(at('1.35')).toContain('require-default-proc-mount');
    expect(at('1.35')).not.toContain('restrict-proc-mount');
  });

  it('a baseline control applies where its restricted replacement is switched off', () => {
    const c = cluster({ profile: 'pss-restricted', namespaces: { legacy: { pss: 'baseline' }, ops: { controls: { 'restrict-volume-types': false } } } });
    const ir = lowerCluster(c);
    const hostPath = ir.controls.find((x) => x.control === 'disallow-host-path')!;
    expect(hostPath.instances.map((i) => i.scope)).toEqual([{ include: ['legacy', 'ops'], exclude: [] }]);
    const volumes = ir.controls.find((x) => x.control === 'restrict-volume-types')!;
    expect(volumes.instances.map((i) => i.scope)).toEqual([{ exclude: ['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system', 'kyverno', 'legacy', 'ops'] }]);
  });
});

describe('namespaces, exceptions and PSA levels', () => {
  it('image exceptions become per-scope exempt images; namespace-only ones switch the control off there', () => {
    const c = cluster({
      exceptions: [
        { control: 'disallow-privileged-containers', images: ['registry.example.com/debug:*'], reason: 'r', expires: '2027-06-01' },
        { control: 'disallow-privileged-containers', namespaces: ['ops'], reason: 'r', expires: '2027-06-01' },
        { control: 'restrict-sysctls', namespaces: ['db'], images: ['postgres:16'], reason: 'r', expires: '2027-06-01' },
      ],
    });
    const ir = lowerCluster(c);
    const priv = ir.controls.find((x) => x.control === 'disallow-privileged-containers')!;
    expect(priv.instances).toHaveLength(1);
    expect(priv.instances[0]!.exemptImages).toEqual(['registry.example.com/debug:*']);
    expect(priv.instances[0]!.scope.exclude).toContain('ops');
    const sys = ir.controls.find((x) => x.control === 'restrict-sysctls')!;
    expect(sys.instances.map((i) => [i.name, i.exemptImages, i.scope])).toEqual([
      ['restrict-sysctls', [], { exclude: ['db', 'gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system', 'kyverno'] }],
      ['restrict-sysctls-ns-db', ['postgres:16'], { include: ['db'], exclude: [] }],
    ]);
  });

  it('PSA enforce drops to the highest fully enforced level; audit and warn keep the configured level', () => {
    const c = cluster({
      profile: 'pss-restricted',
      namespaces: { a: {}, b: { pss: 'baseline' }, c: { controls: { 'require-run-as-non-root': 'audit' } }, d: { controls: { 'disallow-host-namespaces': false } } },
    });
    expect(psaLevels(c, 'a', 'restricted')).toEqual({ enforce: 'restricted', audit: 'restricted', warn: 'restricted' });
    expect(psaLevels(c, 'b', 'baseline')).toEqual({ enforce: 'baseline', audit: 'baseline', warn: 'baseline' });
    expect(psaLevels(c, 'c', 'restricted')).toEqual({ enforce: 'baseline', audit: 'restricted', warn: 'restricted' });
    expect(psaLevels(c, 'd', 'restricted')).toEqual({ enforce: 'privileged', audit: 'restricted', warn: 'restricted' });
    const audit = cluster({ profile: 'pss-baseline', defaultMode: 'audit' });
    expect(psaLevels(audit, undefined, 'baseline')).toEqual({ enforce: 'privileged', audit: 'baseline', warn: 'baseline' });
  });

  it('clusters merge controls and namespaces per key and add up exceptions', () => {
    const r = resolve({
      profile: 'pss-baseline',
      controls: { 'restrict-seccomp': 'audit' },
      namespaces: { ops: { pss: 'privileged' } },
      exceptions: [{ control: 'restrict-sysctls', namespaces: ['db'], reason: 'r', expires: '2027-06-01' }],
      clusters: {
        dev: { kubernetesVersion: '1.30', controls: { 'restrict-apparmor': false } },
        prod: { exceptions: [{ control: 'restrict-selinux', namespaces: ['x'], reason: 'r', expires: '2027-06-01' }] },
      },
    });
    const [dev, prod] = r.config!.clusters;
    expect(dev!.name).toBe('dev');
    expect(dev!.version).toBe('1.30');
    expect(dev!.controls.find((c) => c.id === 'restrict-seccomp')!.cluster.mode).toBe('audit');
    expect(dev!.controls.find((c) => c.id === 'restrict-apparmor')!.cluster.enabled).toBe(false);
    expect(prod!.controls.find((c) => c.id === 'restrict-apparmor')!.cluster.enabled).toBe(true);
    expect(prod!.exceptions.map((e) => e.controls[0])).toEqual(['restrict-sysctls', 'restrict-selinux']);
    expect(prod!.namespaces.find((n) => n.name === 'ops')!.pss).toBe('privileged');
  });
});

describe('exceptions by name', () => {
  it('validates names and keeps names and images apart', () => {
    const ex = (extra: Record<string, unknown>) => ({ exceptions: [{ control: 'disallow-host-path', reason: 'r', expires: '2027-06-01', ...extra }] });
    expect(codes(ex({ names: ['web', 'web-*', 'db.v2'] }))).toEqual([]);
    expect(codes(ex({ names: ['Web'] }))).toEqual(['error:invalid_value:exceptions.0.names']);
    expect(codes(ex({ names: ['*'] }))).toEqual(['error:invalid_value:exceptions.0.names']);
    expect(codes(ex({ names: ['a*b'] }))).toEqual(['error:invalid_value:exceptions.0.names']);
    expect(codes(ex({ names: ['web'], images: ['x'] }))).toEqual(['error:names_with_images:exceptions.0.names']);
  });

  it('become exempt names on the instances of their scope', () => {
    const c = cluster({ exceptions: [{ control: 'restrict-sysctls', namespaces: ['db'], names: ['postgres', 'postgres-*'], reason: 'r', expires: '2027-06-01' }] });
    const sys = lowerCluster(c).controls.find((x) => x.control === 'restrict-sysctls')!;
    expect(sys.instances.map((i) => [i.name, i.exemptNames, i.exemptImages])).toEqual([
      ['restrict-sysctls', [], []],
      ['restrict-sysctls-ns-db', ['postgres', 'postgres-*'], []],
    ]);
    expect(psaLevels(c, 'db', 'restricted').enforce).toBe('privileged');
  });
});

describe('the nsa-cisa profile and controls beyond PSS', () => {
  const enabled = (c: ResolvedCluster) => c.controls.filter((x) => x.cluster.enabled).map((x) => x.id);
  const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
  const registries = {
    'allowed-registries': { options: { registries: ['registry.example.com/'] } },
    'verify-image-signatures': { options: { images: ['registry.example.com/*'], keyless: ['https://issuer.example.com https://ci.example.com/*'] } },
  };

  it('is pss-restricted plus every NSA/CISA control but block-ephemeral-containers', () => {
    const restricted = enabled(cluster({ profile: 'pss-restricted' }));
    const nsa = enabled(cluster({ profile: 'nsa-cisa', controls: registries }));
    expect(nsa.slice(0, restricted.length)).toEqual(restricted);
    // Beyond PSS: the controls whose metadata names NSA/CISA recommendations, in registry order, but the opt-in ones.
    const beyondPss = CONTROL_IDS.filter((id) => getControl(id).pss === undefined && getControl(id).nsa.length > 0 && !getControl(id).optIn);
    expect(beyondPss).not.toContain('block-ephemeral-containers');
    expect(beyondPss).toHaveLength(23);
    expect(nsa.slice(restricted.length)).toEqual(beyondPss);
    expect(nsa).not.toContain('block-ephemeral-containers');
    expect(enabled(cluster({ profile: 'nsa-cisa', controls: { ...registries, 'block-ephemeral-containers': true } }))).toContain('block-ephemeral-containers');
    // The PSS profiles leave every control beyond PSS off.
    expect(restricted.every((id) => !id.startsWith('allowed') && id !== 'disallow-latest-tag')).toBe(true);
  });

  it('holds every control in the profiles its metadata names, and no other control (profiles are no hand lists)', () => {
    const rank = { baseline: 1, restricted: 2 } as const;
    for (const profile of Object.keys(PROFILES) as (keyof typeof PROFILES)[]) {
      for (const id of CONTROL_IDS) {
        const c = getControl(id);
        // A PSS check: in the profiles of its level and above. Beyond PSS: in nsa-cisa when it names NSA/CISA ids and is not opt-in.
        const named = c.pss ? rank[c.pss.level] <= rank[PROFILES[profile].level] : profile === 'nsa-cisa' && c.nsa.length > 0 && !c.optIn;
        expect({ profile, id, on: inProfile(profile, id) }).toEqual({ profile, id, on: named });
      }
      expect(PROFILES[profile].controls.every((id) => getControl(id).pss === undefined && getControl(id).nsa.length > 0 && !getControl(id).optIn)).toBe(true);
    }
    // Every control is in a profile, or its metadata says why none turns it on.
    for (const id of CONTROL_IDS) {
      const inAny = (Object.keys(PROFILES) as (keyof typeof PROFILES)[]).some((p) => inProfile(p, id));
      expect({ id, covered: inAny || getControl(id).optIn !== undefined }).toEqual({ id, covered: true });
      if (getControl(id).optIn) expect({ id, inAny }).toEqual({ id, inAny: false });
    }
    expect(CONTROL_IDS.filter((id) => getControl(id).optIn)).toEqual(['block-ephemeral-containers']);
  });

  it("names in the nsa-cisa description exactly the opt-in controls it leaves out, from their metadata", () => {
    const optIn = CONTROL_IDS.filter((id) => getControl(id).optIn && !getControl(id).pss && getControl(id).nsa.length);
    expect(PROFILES['nsa-cisa'].description).toBe(nsaCisaDescription(optIn));
    for (const id of CONTROL_IDS) expect({ id, named: new RegExp(`\\b${id}\\b`).test(PROFILES['nsa-cisa'].description) }).toEqual({ id, named: optIn.includes(id) || id === 'allowed-registries' || id === 'verify-image-signatures' });
    // Today's registry: one opt-in control.
    expect(PROFILES['nsa-cisa'].description).toBe(
      'pss-restricted plus the NSA/CISA controls beyond PSS: pods, Services, Ingresses, RBAC, ServiceAccounts (all but the opt-in block-ephemeral-containers; allowed-registries and verify-image-signatures once their registries and signers are listed).',
    );
    expect(nsaCisaDescription(['a', 'b'])).toContain('(all but the opt-in a, b; allowed-registries');
    expect(nsaCisaDescription([])).toContain('ServiceAccounts (allowed-registries and verify-image-signatures once');
  });

  it('leaves allowed-registries off with a warning until registries are listed; enabling it without them is an error', () => {
    const r = resolve({ profile: 'nsa-cisa' });
    expect(codes({ profile: 'nsa-cisa' })).toEqual(['warning:missing_option:profile', 'warning:missing_option:profile']);
    expect(r.diagnostics[0]!.message).toBe('profile nsa-cisa includes allowed-registries, which stays off until options.registries is set');
    expect(r.diagnostics[0]!.hint).toContain("'allowed-registries': { options: { registries: ['registry.example.com/'");
    expect(enabled(r.config!.clusters[0]!)).not.toContain('allowed-registries');
    expect(codes({ controls: { 'allowed-registries': true } })).toEqual(['error:missing_option:controls.allowed-registries']);
    expect(codes({ profile: 'nsa-cisa', controls: { 'allowed-registries': { options: { registries: [] } }, 'verify-image-signatures': false } })).toEqual(['error:missing_option:controls.allowed-registries']);
    expect(codes({ profile: 'nsa-cisa', controls: { 'allowed-registries': false, 'verify-image-signatures': false } })).toEqual([]);
    expect(codes({ profile: 'nsa-cisa', controls: registries, namespaces: { ci: { controls: { 'allowed-registries': { options: { registries: [] } } } } } })).toEqual([
      'error:missing_option:namespaces.ci.controls.allowed-registries',
    ]);
  });

  it('leaves verify-image-signatures off until images and a public key or keyless signer are listed', () => {
    const r = resolve({ profile: 'nsa-cisa', controls: { 'allowed-registries': false } });
    expect(r.diagnostics.map((x) => x.message)).toEqual(['profile nsa-cisa includes verify-image-signatures, which stays off until options.images, options.publicKeys or options.keyless is set']);
    expect(enabled(r.config!.clusters[0]!)).not.toContain('verify-image-signatures');
    const images = { images: ['registry.example.com/*'] };
    expect(codes({ controls: { 'verify-image-signatures': { options: images } } })).toEqual(['error:missing_option:controls.verify-image-signatures']);
    expect(codes({ controls: { 'verify-image-signatures': { options: { ...images, publicKeys: [PEM] } } } })).toEqual([]);
    expect(codes({ controls: { 'verify-image-signatures': { options: { ...images, keyless: ['https://issuer.example.com https://ci.example.com/*'] } } } })).toEqual([]);
    expect(codes({ controls: { 'verify-image-signatures': { options: { ...images, keyless: ['https://issuer.example.com'], publicKeys: ['not a key'] } } } })).toEqual([
      'warning:risky_option:controls.verify-image-signatures.options.keyless.0',
      'warning:risky_option:controls.verify-image-signatures.options.publicKeys.0',
    ]);
    // Image exceptions become skipImageReferences; fixtures cannot expect a verdict that needs a registry.
    expect(codes({ controls: { 'verify-image-signatures': { options: { ...images, publicKeys: [PEM] } } }, fixtures: [{ file: 'f.yaml', expect: { 'verify-image-signatures': 'deny' } }] })).toEqual([
      'error:not_checkable_offline:fixtures.0.expect.verify-image-signatures',
    ]);
  });

  it('warns about registry prefixes without a "/"', () => {
    expect(codes({ profile: 'nsa-cisa', controls: { 'allowed-registries': { options: { registries: ['registry.example.com', 'docker.io/library/'] } }, 'verify-image-signatures': false } })).toEqual([
      'warning:risky_option:controls.allowed-registries.options.registries.0',
    ]);
  });

  it('validates the typed options of the new controls', () => {
    expect(codes({ controls: { 'require-resource-limits-requests': { options: { required: ['limits.cpu', 'limits.mem'] } } } })).toEqual([
      'error:invalid_option:controls.require-resource-limits-requests.options.required.1',
    ]);
    expect(resolve({ controls: { 'require-resource-limits-requests': { options: { required: ['limit.memory'] } } } }).diagnostics[0]!.hint).toBe('did you mean "limits.memory"?');
    expect(codes({ controls: { 'require-non-root-groups': { options: { requireSet: 'yes' } } } })).toEqual(['error:invalid_option:controls.require-non-root-groups.options.requireSet']);
    const c = cluster({ profile: 'nsa-cisa', controls: { ...registries, 'require-resource-limits-requests': { options: { required: ['limits.memory', 'requests.memory'] } } } });
    const limits = lowerCluster(c).controls.find((x) => x.control === 'require-resource-limits-requests')!;
    expect(limits.instances[0]!.params).toEqual({ required: ['requests.memory', 'limits.memory'] });
  });

  it('controls beyond PSS do not change PSA levels, and a namespace pss level does not switch them off', () => {
    const c = cluster({ profile: 'nsa-cisa', controls: { ...registries, 'require-readonly-root-fs': 'audit' }, namespaces: { legacy: { pss: 'baseline' }, agents: { pss: 'privileged' } } });
    expect(psaLevels(c, undefined, 'restricted')).toEqual({ enforce: 'restricted', audit: 'restricted', warn: 'restricted' });
    expect(psaLevels(c, 'legacy', 'baseline').enforce).toBe('baseline');
    const ro = c.controls.find((x) => x.id === 'require-readonly-root-fs')!;
    expect(ro.cluster.enabled).toBe(true);
    expect(ro.namespaces).toEqual([]);
  });
});

describe('exceptions relax only what they name', () => {
  const ex = (e: Record<string, unknown>) => ({ exceptions: [{ namespaces: ['apps'], reason: 'r', expires: '2027-06-01', ...e }] });
  const instances = (c: ResolvedCluster, id: string) =>
    lowerCluster(c).controls.find((x) => x.control === id)?.instances.map((i) => [i.name, i.scope.include ?? 'cluster', i.mode]) ?? [];

  it('validates allow per control, with located errors', () => {
    expect(codes(ex({ control: 'require-drop-all-capabilities', allow: { capabilities: ['NET_ADMIN'] } }))).toEqual([]);
    // A control without sub-checks to allow, or a key another control understands.
    expect(codes(ex({ control: ['require-drop-all-capabilities', 'require-run-as-non-root'], allow: { capabilities: ['NET_ADMIN'] } }))).toEqual([
      'error:allow_not_supported:exceptions.0.allow.capabilities',
    ]);
    expect(resolve(ex({ control: 'require-run-as-non-root', allow: { capabilities: ['NET_ADMIN'] } })).diagnostics[0]!.message).toContain(
      'require-run-as-non-root has no sub-checks an exception can allow',
    );
    expect(codes(ex({ control: 'disallow-host-namespaces', allow: { capabilities: ['NET_ADMIN'] } }))).toEqual(['error:allow_not_supported:exceptions.0.allow.capabilities']);
    // Values: capability spellings PSA and containerd read differently, ALL, unknown host namespaces and volume types.
    expect(codes(ex({ control: 'restrict-capabilities-baseline', allow: { capabilities: ['NET_ADMIN', 'CAP_SYS_ADMIN', 'ALL', 'net_raw', 'all'] } }))).toEqual([
      'error:invalid_allow:exceptions.0.allow.capabilities.1',
      'error:invalid_allow:exceptions.0.allow.capabilities.2',
      'error:invalid_allow:exceptions.0.allow.capabilities.3',
      'error:invalid_allow:exceptions.0.allow.capabilities.4',
    ]);
    const hn = resolve(ex({ control: 'disallow-host-namespaces', allow: { hostNamespaces: ['hostPid', 'hostUsers'] } })).diagnostics;
    expect(hn.map((d) => `${d.code}:${d.path.join('.')}`)).toEqual(['invalid_allow:exceptions.0.allow.hostNamespaces.0', 'invalid_allow:exceptions.0.allow.hostNamespaces.1']);
    expect(hn[0]!.hint).toBe('did you mean "hostPID"?');
    expect(codes(ex({ control: 'restrict-volume-types', allow: { volumeTypes: ['nfs', 'hostpath'] } }))).toEqual(['error:invalid_allow:exceptions.0.allow.volumeTypes.1']);
    expect(codes(ex({ control: 'restrict-sysctls', allow: { sysctls: ['net.core.somaxconn', 'kernel.*'] } }))).toEqual(['error:invalid_allow:exceptions.0.allow.sysctls.1']);
    // Host ports: numbers or {min, max} ranges in 1-65535, normalised to the strings the engines compare.
    expect(codes(ex({ control: 'restrict-host-ports', allow: { hostPorts: [9100, { min: 9200, max: 9201 }, 0, '9100', { min: 10, max: 5 }, { min: 1, max: 2, step: 1 }, 70000] } }))).toEqual([
      'error:invalid_allow:exceptions.0.allow.hostPorts.2',
      'error:invalid_allow:exceptions.0.allow.hostPorts.3',
      'error:invalid_allow:exceptions.0.allow.hostPorts.4',
      'error:invalid_allow:exceptions.0.allow.hostPorts.5',
      'error:invalid_allow:exceptions.0.allow.hostPorts.6',
    ]);
    const ports = lowerCluster(cluster(ex({ control: 'restrict-host-ports', allow: { hostPorts: [{ min: 9200, max: 9201 }, 9100, { min: 53, max: 53 }] } })));
    expect(ports.controls.find((x) => x.control === 'restrict-host-ports')!.instances.flatMap((i) => i.allowances)).toEqual([{ values: { hostPorts: ['53', '9100', '9200-9201'] } }]);
    // Host paths: canonical absolute paths, or "<dir>/*"; never the whole filesystem, never another spelling.
    expect(codes(ex({ control: 'disallow-host-path', allow: { hostPaths: ['/var/log', '/var/lib/kubelet/pods/*', '/', '/*', 'var/log', '/var/log/', '/var//log', '/var/log/../etc', '/var/./log', '/var/log*', '/var/*/log', '/...'] } }))).toEqual([
      'error:invalid_allow:exceptions.0.allow.hostPaths.10',
      'error:invalid_allow:exceptions.0.allow.hostPaths.2',
      'error:invalid_allow:exceptions.0.allow.hostPaths.3',
      'error:invalid_allow:exceptions.0.allow.hostPaths.4',
      'error:invalid_allow:exceptions.0.allow.hostPaths.5',
      'error:invalid_allow:exceptions.0.allow.hostPaths.6',
      'error:invalid_allow:exceptions.0.allow.hostPaths.7',
      'error:invalid_allow:exceptions.0.allow.hostPaths.8',
      'error:invalid_allow:exceptions.0.allow.hostPaths.9',
    ]);
    // Profile types and SELinux types: exact spellings, with did-you-mean.
    const st = resolve(ex({ control: ['require-seccomp-profile', 'restrict-seccomp'], allow: { seccompTypes: ['Unconfined', 'unconfined'] } })).diagnostics;
    expect(st.map((d) => `${d.code}:${d.path.join('.')}`)).toEqual(['invalid_allow:exceptions.0.allow.seccompTypes.1']);
    expect(st[0]!.hint).toBe('did you mean "Unconfined"?');
    expect(codes(ex({ control: 'restrict-apparmor', allow: { appArmorTypes: ['Unconfined', 'localhost/x'] } }))).toEqual(['error:invalid_allow:exceptions.0.allow.appArmorTypes.1']);
    expect(codes(ex({ control: 'restrict-selinux', allow: { seLinuxTypes: ['spc_t', 'system_u:system_r:spc_t', ''] } }))).toEqual([
      'error:invalid_allow:exceptions.0.allow.seLinuxTypes.1',
      'error:invalid_allow:exceptions.0.allow.seLinuxTypes.2',
    ]);
    // require-drop-net-raw understands capabilities; the single-check controls understand nothing.
    expect(codes(ex({ control: 'require-drop-net-raw', allow: { capabilities: ['NET_RAW'] } }))).toEqual([]);
    for (const control of ['restrict-proc-mount', 'disallow-privilege-escalation', 'require-run-as-non-root', 'disallow-privileged-containers', 'require-readonly-root-fs']) {
      const d = resolve(ex({ control, allow: { hostPorts: [80] } })).diagnostics;
      expect(d.map((x) => `${x.code}:${x.path.join('.')}`)).toEqual(['allow_not_supported:exceptions.0.allow.hostPorts']);
      expect(d[0]!.message).toContain(`${control} has no sub-checks an exception can allow`);
    }
    expect(resolve(ex({ control: 'restrict-seccomp', allow: { hostPaths: ['/var/log'] } })).diagnostics[0]!.message).toContain('restrict-seccomp allows only seccompTypes');
    // Shape: empty, unknown keys, not a list.
    expect(codes(ex({ control: 'restrict-sysctls', allow: {} }))).toEqual(['error:invalid_value:exceptions.0.allow']);
    expect(codes(ex({ control: 'restrict-sysctls', allow: { sysctl: ['a.b'] } }))).toEqual(['error:unknown_allow:exceptions.0.allow.sysctl']);
    expect(codes(ex({ control: 'restrict-sysctls', allow: { sysctls: 'a.b' } }))).toEqual(['error:invalid_value:exceptions.0.allow.sysctls']);
  });

  it('an allow exception adds an allowance to its scope instead of excepting the control', () => {
    const c = cluster(ex({ control: 'disallow-host-namespaces', names: ['agent-*', 'agent'], allow: { hostNamespaces: ['hostPID'] } }));
    const hn = lowerCluster(c).controls.find((x) => x.control === 'disallow-host-namespaces')!;
    expect(hn.instances.map((i) => [i.name, i.exemptNames, i.allowances])).toEqual([
      ['disallow-host-namespaces', [], []],
      ['disallow-host-namespaces-ns-apps', [], [{ names: ['agent', 'agent-*'], values: { hostNamespaces: ['hostPID'] } }]],
    ]);
    // PSA cannot express an allowance: apps is not enforced at baseline by PSA.
    expect(psaLevels(c, 'apps', 'restricted').enforce).toBe('privileged');
  });

  it('relaxing a restricted control keeps its baseline control where it is relaxed (exception, mode, off, allow, wider options)', () => {
    // Whole image exception of the restricted capability check only: the baseline list still applies in apps.
    const img = cluster(ex({ control: 'require-drop-all-capabilities', images: ['registry.example.com/mesh/*'] }));
    expect(instances(img, 'restrict-capabilities-baseline')).toEqual([['restrict-capabilities-baseline-ns-apps', ['apps'], 'enforce']]);
    // …and PSA still enforces baseline there (only the restricted level is lost).
    expect(psaLevels(img, 'apps', 'restricted').enforce).toBe('baseline');
    // Excepting the baseline control the same way lets the restricted one replace it again.
    const both = cluster(ex({ control: ['require-drop-all-capabilities', 'restrict-capabilities-baseline'], images: ['registry.example.com/mesh/*'] }));
    expect(instances(both, 'restrict-capabilities-baseline')).toEqual([]);
    expect(psaLevels(both, 'apps', 'restricted').enforce).toBe('privileged');
    // allow on the restricted control only: the baseline list applies to the allowed values too.
    const allow = cluster(ex({ control: 'require-drop-all-capabilities', images: ['m*'], allow: { capabilities: ['NET_ADMIN'] } }));
    expect(instances(allow, 'restrict-capabilities-baseline')).toEqual([['restrict-capabilities-baseline-ns-apps', ['apps'], 'enforce']]);
    const allowBoth = cluster(ex({ control: ['require-drop-all-capabilities', 'restrict-capabilities-baseline'], images: ['m*'], allow: { capabilities: ['NET_ADMIN'] } }));
    expect(instances(allowBoth, 'restrict-capabilities-baseline')).toEqual([]);
    // A milder mode, or the restricted control off, in a namespace.
    const modes = cluster({ namespaces: { batch: { controls: { 'require-seccomp-profile': 'warn' } }, ops: { controls: { 'require-default-proc-mount': false } } } });
    expect(instances(modes, 'restrict-seccomp')).toEqual([['restrict-seccomp-ns-batch', ['batch'], 'enforce']]);
    expect(instances(modes, 'restrict-proc-mount')).toEqual([['restrict-proc-mount-ns-ops', ['ops'], 'enforce']]);
    expect(psaLevels(modes, 'batch', 'restricted').enforce).toBe('baseline');
    // Same mode on both: the restricted control replaces the baseline one.
    const audit = cluster({ controls: { 'require-seccomp-profile': 'audit', 'restrict-seccomp': 'audit' } });
    expect(instances(audit, 'restrict-seccomp')).toEqual([]);
    // Options wider than the baseline control's: hostPath among the restricted volume types, more capabilities.
    const wide = cluster({ controls: { 'restrict-volume-types': { options: { allowedVolumeTypes: ['hostPath', 'emptyDir'] } }, 'require-drop-all-capabilities': { options: { allowedCapabilities: ['SYS_ADMIN'] } } } });
    expect(instances(wide, 'disallow-host-path')).toEqual([['disallow-host-path', 'cluster', 'enforce']]);
    expect(instances(wide, 'restrict-capabilities-baseline')).toEqual([['restrict-capabilities-baseline', 'cluster', 'enforce']]);
  });
});
