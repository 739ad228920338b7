import { cel, defineControl, rego, type LowerContext, type Sample } from '../types.js';
import { minor } from '../../pss/versions.js';
import { NAMESPACE, NAMESPACE_LABEL_TARGET, object } from '../kinds.js';
import { check } from './cel.js';

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ENFORCE_VERSION = 'pod-security.kubernetes.io/enforce-version';

const namespace = (name: string, labels?: Record<string, string>) => object(NAMESPACE, name, {}, labels ? { labels } : {});
const pinned = (name: string, version: string) => namespace(name, { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: version });

/** Values Pod Security Admission does not read as a version (its format is "latest" or v1.N, N without leading zeros). */
const MALFORMED: readonly (readonly [string, string])[] = [
  ['no-v-prefix', '1.37'],
  ['uppercase-latest', 'Latest'],
  ['leading-zero', 'v1.037'],
  ['patch-version', 'v1.37.0'],
  ['empty', ''],
];

export default defineControl({
  id: 'require-current-psa-version',
  title: 'Keep Pod Security Admission version pins current',
  description: "A Namespace's pod-security.kubernetes.io/enforce-version label must be \"latest\" or not older than the target version (warns by default).",
  details: `NSA/CISA "pod security enforcement": Pod Security Admission evaluates a Namespace's enforce level at
the Pod Security Standards version its pod-security.kubernetes.io/enforce-version label names, so a pin to an
older version applies an older, weaker standard (checks added since are not made). This control checks
Namespace objects on CREATE and UPDATE: the enforce-version label, when present, must be "latest" or v1.N with
N at least the bundle's target minor (a value PSA cannot read as a version, such as 1.37, Latest or v1.37.0,
is a finding too). Its default mode is warn, in every profile that includes it: Helm charts pin old versions
on the namespaces they create (Gatekeeper's own chart labels v1.24), and a pin only narrows which checks run,
it does not switch PSA off (enforce-psa-namespace-labels blocks a weaker level), so the finding is shown to
the user and recorded (Gatekeeper enforcementAction warn, a Kyverno Audit policy with admission warnings,
"warn" in kubeharden audit) rather than blocking the install. Set the control to enforce (controls:
{ 'require-current-psa-version': 'enforce' }, per cluster or namespace) to block such pins; a defaultMode of
audit or warn applies to it as to every control. A namespace whose level is privileged is not checked (the
pin changes nothing there), nor are exempt namespaces (Gatekeeper and Kyverno match a Namespace object by its
own name). An UPDATE counts only when it changes the enforce-version label, so a Namespace pinned before the
policy can still get other labels, annotations and finalizers. Labels can also change through the
namespaces/status and namespaces/finalize subresources (their writes keep metadata changes): they are judged
the same way. The Kyverno rule matches Namespace/status and Namespace/finalize (its CEL sees them as plain
UPDATEs); Gatekeeper evaluates them only where its ValidatingWebhookConfiguration forwards them, which its
own install does not (add both to its webhook rules, Helm value validatingWebhookCustomRules).`,
  category: 'Namespaces (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NAMESPACE_LABEL_TARGET,
  followsPssLevel: true,
  defaultMode: 'warn',
  options: {},
  defaults: () => ({}),
  params: { level: 'strings', minVersion: 'strings' },
  // Samples are checked at the restricted level (the level of the pss-restricted and nsa-cisa profiles).
  lower: (_o, version, context?: LowerContext) => ({ level: [context?.level ?? 'restricted'], minVersion: [`v1.${minor(version)}`] }),
  samples: [
    { name: 'no-version-label', expect: 'allow', object: namespace('unpinned', { [ENFORCE]: 'restricted' }) },
    { name: 'no-labels', expect: 'allow', object: namespace('no-labels') },
    { name: 'latest', expect: 'allow', object: pinned('latest', 'latest') },
    { name: 'pinned-to-newest', expect: 'allow', object: pinned('pinned', 'v1.37') },
    // v1.25 is the target at 1.25 only; pinned below a newer target, it is an older standard.
    { name: 'pinned-to-1-25', expect: 'allow', object: pinned('pinned-125', 'v1.25'), versions: { to: 25 } },
    { name: 'pinned-below-target', expect: 'deny', object: pinned('pinned-below', 'v1.25'), versions: { from: 26 } },
    // What Gatekeeper's own chart labels its namespace with.
    { name: 'pinned-to-1-24', expect: 'deny', object: pinned('old', 'v1.24') },
    { name: 'pinned-to-1-0', expect: 'deny', object: pinned('oldest', 'v1.0') },
    // The version also applies to the API server's default level when the enforce label is absent.
    { name: 'version-without-level', expect: 'deny', object: namespace('version-only', { [ENFORCE_VERSION]: 'v1.24' }) },
    // Only the enforce version pins what blocks: audit and warn versions are not checked.
    { name: 'old-audit-version', expect: 'allow', object: namespace('audit-version', { [ENFORCE]: 'restricted', 'pod-security.kubernetes.io/audit-version': 'v1.24' }) },
    // Pod Security Admission refuses a malformed version label on the Namespace itself (the API server answers
    // 422); the policies deny it all the same, for an API server without the PodSecurity plugin.
    ...MALFORMED.map(([name, value]): Sample => ({ name: `malformed-${name}`, expect: 'deny', object: pinned(`malformed-${name}`, value), apiServerRejects: 'must be "latest" or "v1.x"' })),
    {
      // Pinned before the policy: an UPDATE that keeps the pin (a team label changes) introduces nothing.
      name: 'update-keeps-old-version',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('keeps-old-version', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24' }),
      object: namespace('keeps-old-version', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24', team: 'a' }),
    },
    {
      name: 'update-pins-older-version',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: pinned('repin-older', 'latest'),
      object: pinned('repin-older', 'v1.24'),
    },
    {
      name: 'update-moves-to-current-version',
      expect: 'allow',
      operation: 'UPDATE',
      oldObject: pinned('repin-newer', 'v1.24'),
      object: pinned('repin-newer', 'latest'),
    },
    {
      // The enforce label keeps a weak value written before the policy; the pin is new.
      name: 'update-keeps-weak-label-pins-old-version',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('keeps-weak-repins', { [ENFORCE]: 'privileged' }),
      object: namespace('keeps-weak-repins', { [ENFORCE]: 'privileged', [ENFORCE_VERSION]: 'v1.24' }),
    },
    {
      name: 'status-write-pins-old-version',
      expect: 'deny',
      operation: 'UPDATE',
      subResource: 'status',
      oldObject: namespace('repin-status', { [ENFORCE]: 'restricted' }),
      object: namespace('repin-status', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24' }),
    },
    {
      // The namespace controller finalizing a namespace pinned before the policy.
      name: 'finalize-write-keeps-old-version',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      subResource: 'finalize',
      oldObject: namespace('finalizing-pinned', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24', team: 'a' }),
      object: namespace('finalizing-pinned', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24', team: 'b' }),
    },
  ],
});
