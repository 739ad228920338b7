/**
 * The real Pod Security Admission library (k8s.io/pod-security-admission v0.37.2, built by
 * src/engines/psa.ts) as an oracle for kubeharden's Pod Security Standards controls: every sample of every
 * control, at every supported Kubernetes version, evaluated by PSA at the control's level and version.
 *
 * A sample expected `deny` must make PSA report the control's own check (`pss.check`); a sample expected
 * `allow` must not. Other checks may fail on a sample (a baseline sample is not restricted-compliant, a
 * restricted sample usually sets only the field under test), so the verdict is read per check, not per pod.
 *
 * The few places where the library at v0.37.2 and kubeharden differ on purpose are listed in
 * KNOWN_DIFFERENCES with the reason, and asserted to differ exactly as described. Anything else failing
 * here is a disagreement between kubeharden and PSA; do not "fix" it by changing a sample's expectation
 * without checking the PSA source.
 *
 * A missing Go toolchain or a checker that does not build fails the suite (beforeAll throws); it never skips.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { CONTROL_IDS, getControl, type ControlId } from '../src/controls/index.js';
import type { AnyControl, Manifest, PssLevel, Sample } from '../src/controls/types.js';
import {
  BASELINE_CAPABILITIES,
  KNOWN_VOLUME_TYPES,
  SUPPORTED_VERSIONS,
  baselineSelinuxTypes,
  baselineSysctls,
  checksAppArmorFields,
  minor,
  pssVersionLabel,
  type KubernetesVersion,
} from '../src/pss/versions.js';
import { sampleApplies } from '../src/eval/bundle.js';
import { ensurePsaChecker, psaEvaluate, type PsaReason, type PsaRequest, type PsaResult } from '../src/engines/psa.js';

/** The pinned library version (src/engines/psa/go.mod). */
const PSA_LIBRARY = 'v0.37.2';
/** The newest policy version the library has checks for; newer requests are evaluated at this version. */
const PSA_MAX_POLICY_VERSION = 'v1.37';

interface KnownDifference {
  readonly control: ControlId;
  readonly sample: string;
  /** Target minors at which the library at v0.37.2 is expected to differ (inclusive). */
  readonly from: number;
  readonly to: number;
  readonly why: string;
  /** What PSA v0.37.2 reports for the control's check on this sample (exactly). */
  readonly psaReasons: readonly PsaReason[];
}

/**
 * Deliberate differences. The upstream checks are versioned by policy version, but some changes were made
 * in place inside an existing versioned check, so the library at v0.37.2 applies them to every policy
 * version it evaluates. kubeharden targets an apiserver version, and an apiserver of that version runs its
 * own (older) copy of the check, so kubeharden follows the older code below the version the change shipped.
 */
const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    // The appArmorProfile field checks (pod and container securityContext.appArmorProfile.type) were added
    // to the v1.0 appArmorProfile check in Kubernetes 1.30, together with the field. An apiserver older
    // than 1.30 only checks the beta annotations, so kubeharden allows the field there; the library at
    // v0.37.2 checks the field at every policy version.
    control: 'restrict-apparmor',
    sample: 'pod-field-unconfined-before-1-30',
    from: 25,
    to: 29,
    why: 'appArmorProfile field checks were added in place in Kubernetes 1.30',
    psaReasons: [{ check: 'appArmorProfile', reason: 'forbidden AppArmor profile', detail: 'pod must not set AppArmor profile type to "Unconfined"' }],
  },
  {
    // `image` volumes were added to the restrictedVolumes allow-list (v1.0 check) in Kubernetes 1.33. The
    // check of an apiserver older than 1.33 does not list them (the volume source was alpha there), so
    // kubeharden denies them at the restricted level; the library at v0.37.2 allows them at every policy version.
    control: 'restrict-volume-types',
    sample: 'image-before-1-33',
    from: 25,
    to: 32,
    why: 'image volumes were allowed in place in Kubernetes 1.33',
    psaReasons: [],
  },
];

function knownDifference(control: ControlId, sample: string, version: KubernetesVersion): KnownDifference | undefined {
  const m = minor(version);
  return KNOWN_DIFFERENCES.find((d) => d.control === control && d.sample === sample && m >= d.from && m <= d.to);
}

interface Case {
  readonly key: string;
  readonly control: ControlId;
  readonly sample: Sample;
  readonly version: KubernetesVersion;
  /** False when the version is below the control's `since`: kubeharden skips the control there. */
  readonly active: boolean;
}

const controlActive = (c: AnyControl, version: KubernetesVersion): boolean => c.pss !== undefined && minor(version) >= (c.pss.since ?? 0);

const cases: Case[] = [];
for (const version of SUPPORTED_VERSIONS) {
  for (const id of CONTROL_IDS) {
    const c = getControl(id);
    if (!c.pss) continue;
    for (const s of c.samples) {
      if (!sampleApplies(s, version)) continue;
      cases.push({ key: `sample|${version}|${id}|${s.name}`, control: id, sample: s, version, active: controlActive(c, version) });
    }
  }
}

/**
 * Allow-list probes: every value of the version tables kubeharden's control defaults are built from
 * (sysctls, SELinux types, capabilities, volume types, profile types), plus values no version allows, each
 * in a minimal Pod, at every version. kubeharden allows a value iff the control's default option list at
 * that version contains it; PSA must agree for the control's own check.
 */
interface Probe {
  readonly control: ControlId;
  /** The control option holding the allow-list (its default at the version is kubeharden's verdict). */
  readonly option: string;
  readonly values: readonly string[];
  /** Values allowed whatever the option says (PSA allows them and the option documents them as implied). */
  readonly alwaysAllowed?: readonly string[];
  /** Versions at which kubeharden checks the field at all (default: every supported version). */
  readonly checkedAt?: (v: KubernetesVersion) => boolean;
  readonly pod: (value: string) => Manifest;
}

const IMAGE = 'registry.example.com/app:1.0';
const probePod = (name: string, spec: Record<string, unknown>, container: Record<string, unknown> = {}): Manifest => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'apps' },
  spec: { ...spec, containers: [{ name: 'app', image: IMAGE, ...container }] },
});
const union = (f: (v: KubernetesVersion) => readonly string[]): string[] => [...new Set(SUPPORTED_VERSIONS.flatMap((v) => f(v)))];
const EXTRA_CAPABILITIES = ['NET_RAW', 'NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_TIME', 'BPF', 'PERFMON', 'IPC_LOCK', 'ALL', 'CAP_CHOWN', 'chown'];
const PROFILE_TYPES = ['RuntimeDefault', 'Localhost', 'Unconfined'];

const PROBES: readonly Probe[] = [
  {
    control: 'restrict-sysctls',
    option: 'allowedSysctls',
    values: [...union(baselineSysctls), 'kernel.msgmax', 'net.core.somaxconn', 'net.ipv4.ip_forward', 'net.ipv4.tcp_congestion_control'],
    pod: (v) => probePod('sysctl', { securityContext: { sysctls: [{ name: v, value: '1' }] } }),
  },
  {
    control: 'restrict-selinux',
    option: 'allowedTypes',
    values: ['', ...union(baselineSelinuxTypes), 'spc_t', 'unconfined_t', 'container_logreader_t'],
    alwaysAllowed: [''],
    pod: (v) => probePod('selinux', { securityContext: { seLinuxOptions: { type: v } } }),
  },
  {
    control: 'restrict-capabilities-baseline',
    option: 'allowedCapabilities',
    values: [...BASELINE_CAPABILITIES, ...EXTRA_CAPABILITIES],
    pod: (v) => probePod('cap-add', {}, { securityContext: { capabilities: { add: [v] } } }),
  },
  {
    control: 'require-drop-all-capabilities',
    option: 'allowedCapabilities',
    values: [...BASELINE_CAPABILITIES, ...EXTRA_CAPABILITIES],
    pod: (v) => probePod('cap-add-restricted', {}, { securityContext: { capabilities: { drop: ['ALL'], add: [v] } } }),
  },
  {
    control: 'restrict-volume-types',
    option: 'allowedVolumeTypes',
    values: KNOWN_VOLUME_TYPES,
    pod: (v) => probePod('volume', { volumes: [{ name: 'v', [v]: {} }] }),
  },
  {
    control: 'restrict-seccomp',
    option: 'allowedTypes',
    values: PROFILE_TYPES,
    pod: (v) => probePod('seccomp', { securityContext: { seccompProfile: { type: v } } }),
  },
  {
    control: 'require-seccomp-profile',
    option: 'allowedTypes',
    values: PROFILE_TYPES,
    pod: (v) => probePod('seccomp-restricted', { securityContext: { seccompProfile: { type: v } } }),
  },
  {
    control: 'restrict-apparmor',
    option: 'allowedTypes',
    values: PROFILE_TYPES,
    checkedAt: checksAppArmorFields,
    pod: (v) => probePod('apparmor', {}, { securityContext: { appArmorProfile: { type: v } } }),
  },
];

/** The deliberate differences of KNOWN_DIFFERENCES, as they show up in the allow-list probes. */
const KNOWN_PROBE_DIFFERENCES: readonly { control: ControlId; value: string; from: number; to: number; why: string }[] = [
  { control: 'restrict-apparmor', value: 'Unconfined', from: 25, to: 29, why: 'appArmorProfile field checks were added in place in Kubernetes 1.30' },
  { control: 'restrict-volume-types', value: 'image', from: 25, to: 32, why: 'image volumes were allowed in place in Kubernetes 1.33' },
];

interface ProbeCase {
  readonly key: string;
  readonly probe: Probe;
  readonly value: string;
  readonly version: KubernetesVersion;
  readonly expect: 'allow' | 'deny';
}

const probeCases: ProbeCase[] = [];
for (const version of SUPPORTED_VERSIONS) {
  for (const probe of PROBES) {
    const allowed = (getControl(probe.control).defaults(version) as Record<string, readonly string[]>)[probe.option];
    if (!allowed) throw new Error(`${probe.control} has no option ${probe.option}`);
    for (const value of probe.values) {
      const checked = probe.checkedAt?.(version) ?? true;
      const ok = !checked || allowed.includes(value) || (probe.alwaysAllowed ?? []).includes(value);
      probeCases.push({ key: `probe|${version}|${probe.control}|${value}`, probe, value, version, expect: ok ? 'allow' : 'deny' });
    }
  }
}

const LEVELS: readonly PssLevel[] = ['baseline', 'restricted'];
/** A pod every check allows, to read the check list PSA runs at a level and version. */
const CATALOG_POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'catalog', namespace: 'apps' },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
};
const catalogKey = (version: KubernetesVersion, level: PssLevel): string => `catalog|${version}|${level}`;

/** The PSA check IDs kubeharden says PSA runs at a level and version (overridden baseline checks removed). */
function expectedChecks(level: PssLevel, version: KubernetesVersion): string[] {
  const active = CONTROL_IDS.map((id) => ({ id, c: getControl(id) })).filter(({ c }) => controlActive(c, version));
  const ids = new Set<string>();
  for (const { c } of active) if (c.pss!.level === 'baseline' || level === 'restricted') ids.add(c.pss!.check);
  if (level === 'restricted') {
    for (const { c } of active) {
      if (c.pss!.level === 'restricted' && c.pss!.overrides) ids.delete(getControl(c.pss!.overrides as ControlId).pss!.check);
    }
  }
  return [...ids].sort();
}

let results: Map<string, PsaResult>;

beforeAll(async () => {
  const started = Date.now();
  await ensurePsaChecker((line) => process.stderr.write(`${line}\n`));
  const built = Date.now();
  const requests: PsaRequest[] = cases.map((k) => ({ id: k.key, level: getControl(k.control).pss!.level, version: pssVersionLabel(k.version), pod: k.sample.object }));
  for (const k of probeCases) requests.push({ id: k.key, level: getControl(k.probe.control).pss!.level, version: pssVersionLabel(k.version), pod: k.probe.pod(k.value) });
  for (const version of SUPPORTED_VERSIONS) {
    for (const level of LEVELS) requests.push({ id: catalogKey(version, level), level, version: pssVersionLabel(version), pod: CATALOG_POD });
  }
  results = await psaEvaluate(requests);
  process.stderr.write(
    `psa-oracle: checker ready in ${((built - started) / 1000).toFixed(1)} s; ${requests.length} PSA evaluations in ${((Date.now() - built) / 1000).toFixed(1)} s ` +
      `(${cases.filter((k) => k.active).length} sample×version comparisons, ${cases.filter((k) => !k.active).length} below a control's since, ${probeCases.length} allow-list probes)\n`,
  );
}, 900_000);

function result(key: string): PsaResult {
  const r = results.get(key);
  if (!r) throw new Error(`no PSA result for ${key}`);
  return r;
}

const ownReasons = (r: PsaResult, check: string): PsaReason[] => r.reasons.filter((x) => x.check === check);
const describeReasons = (r: PsaResult): string =>
  (r.reasons.length ? r.reasons.map((x) => `${x.check}: ${x.reason}${x.detail ? ` (${x.detail})` : ''}`).join('; ') : 'allowed') +
  (r.warnings?.length ? ` [unknown fields dropped: ${r.warnings.join(', ')}]` : '');

describe(`Pod Security Admission ${PSA_LIBRARY} as oracle`, () => {
  it('every control maps to a PSA check, or is an NSA/CISA control beyond PSS (not compared with PSA)', () => {
    for (const id of CONTROL_IDS) {
      const c = getControl(id);
      if (c.pss) continue;
      expect(c.category, id).toMatch(/\(NSA\/CISA\)$/);
      expect(c.nsa.length, id).toBeGreaterThan(0);
    }
    expect(CONTROL_IDS.filter((id) => getControl(id).pss).length).toBe(19);
  });

  describe.each(SUPPORTED_VERSIONS)('Kubernetes %s', (version) => {
    it('PSA runs exactly the checks of the active controls, with the same overrides', () => {
      for (const level of LEVELS) {
        const r = result(catalogKey(version, level));
        expect(r.allowed, `${level}: ${describeReasons(r)}`).toBe(true);
        expect(r.evaluatedVersion).toBe(pssVersionLabel(version));
        expect([...(r.checks ?? [])].sort(), level).toEqual(expectedChecks(level, version));
      }
    });

    it('the default allow-lists of the version tables match PSA', () => {
      const wrong: string[] = [];
      expect(probeCases.filter((x) => x.version === version).length).toBeGreaterThan(0);
      for (const k of probeCases.filter((x) => x.version === version)) {
        const pss = getControl(k.probe.control).pss!;
        const r = result(k.key);
        const got = ownReasons(r, pss.check).length ? 'deny' : 'allow';
        const m = minor(version);
        const known = KNOWN_PROBE_DIFFERENCES.find((d) => d.control === k.probe.control && d.value === k.value && m >= d.from && m <= d.to);
        if (known) {
          expect(got, `${k.probe.control} ${JSON.stringify(k.value)}: ${known.why}`).not.toBe(k.expect);
          continue;
        }
        if (got !== k.expect) wrong.push(`${k.probe.control} ${JSON.stringify(k.value)}: kubeharden ${k.expect}, PSA ${pss.level} ${pssVersionLabel(version)}: ${describeReasons(r)}`);
      }
      expect(wrong).toEqual([]);
    });

    for (const id of CONTROL_IDS) {
      const c = getControl(id);
      const pss = c.pss;
      if (!pss) continue;
      const mine = cases.filter((k) => k.version === version && k.control === id);

      if (!controlActive(c, version)) {
        // kubeharden skips a control below its `since`; PSA at that policy version has no such check either,
        // so it cannot report it, whatever the sample.
        it(`${id}: skipped below ${pss.since}, and PSA ${pssVersionLabel(version)} has no ${pss.check} check`, () => {
          expect(mine.length).toBeGreaterThan(0);
          expect(result(catalogKey(version, pss.level)).checks).not.toContain(pss.check);
          const reported = mine.filter((k) => ownReasons(result(k.key), pss.check).length > 0).map((k) => k.sample.name);
          expect(reported).toEqual([]);
        });
        continue;
      }

      it(`${id} (${pss.level}/${pss.check}): ${mine.length} samples agree with PSA`, () => {
        expect(mine.filter((k) => k.sample.expect === 'allow').length, 'allowed samples').toBeGreaterThan(0);
        expect(mine.filter((k) => k.sample.expect === 'deny').length, 'denied samples').toBeGreaterThan(0);
        const wrong: string[] = [];
        for (const k of mine) {
          const r = result(k.key);
          const own = ownReasons(r, pss.check);
          const got = own.length ? 'deny' : 'allow';
          // The library evaluates the Pod alone, so UPDATE samples are compared by their plain (no old object) verdict.
          const want = k.sample.expectWithoutOldObject ?? k.sample.expect;
          const known = knownDifference(id, k.sample.name, version);
          if (known) {
            // A deliberate difference: PSA v0.37.2 must give the opposite verdict, for exactly the stated reason.
            expect(got, `${k.sample.name}: ${known.why}`).not.toBe(want);
            expect(own, `${k.sample.name}: ${known.why}`).toEqual(known.psaReasons);
            continue;
          }
          if (got !== want) {
            wrong.push(`${k.sample.name}${k.sample.operation === 'UPDATE' ? ' (UPDATE)' : ''}: kubeharden ${want}, PSA ${pss.level} ${pssVersionLabel(version)}: ${describeReasons(r)}`);
          }
        }
        expect(wrong).toEqual([]);
      });
    }
  });

  it('samples only use fields core/v1 knows, except the deliberately unknown volume source', () => {
    // PSA decodes the Pod with the core/v1 types (as the apiserver does), so a misspelt field would be dropped
    // silently and an allow sample would pass without testing anything.
    const unknown = new Set<string>();
    for (const k of cases) for (const w of result(k.key).warnings ?? []) unknown.add(`${k.control}/${k.sample.name}: ${w}`);
    expect([...unknown].sort()).toEqual(['restrict-volume-types/unknown-future-type: unknown field "spec.volumes[0].someFutureVolume"']);
  });

  it('every known difference applies to an existing sample and shows up at every version it names', () => {
    for (const d of KNOWN_DIFFERENCES) {
      const s = getControl(d.control).samples.find((x) => x.name === d.sample);
      expect(s, `${d.control}/${d.sample}`).toBeDefined();
      const versions = SUPPORTED_VERSIONS.filter((v) => minor(v) >= d.from && minor(v) <= d.to);
      expect(versions.length, `${d.control}/${d.sample}`).toBeGreaterThan(0);
      for (const v of versions) {
        expect(sampleApplies(s!, v), `${d.control}/${d.sample} at ${v}`).toBe(true);
        expect(results.has(`sample|${v}|${d.control}|${d.sample}`)).toBe(true);
      }
      // Above the stated range the sample no longer applies or agrees again (checked by the per-version tests).
    }
  });

  it(`the library has checks up to ${PSA_MAX_POLICY_VERSION}, so no supported version is clamped to an older policy`, () => {
    for (const version of SUPPORTED_VERSIONS) {
      expect(result(catalogKey(version, 'baseline')).evaluatedVersion).toBe(pssVersionLabel(version));
    }
    expect(pssVersionLabel(SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!)).toBe(PSA_MAX_POLICY_VERSION);
  });
});
