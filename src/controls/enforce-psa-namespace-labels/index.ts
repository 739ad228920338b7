import { cel, defineControl, rego, type LowerContext, type Sample } from '../types.js';
import { opt } from '../options.js';
import { NAMESPACE, NAMESPACE_LABEL_TARGET, object } from '../kinds.js';
import { check } from './cel.js';

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ENFORCE_VERSION = 'pod-security.kubernetes.io/enforce-version';

const namespace = (name: string, labels?: Record<string, string>) => object(NAMESPACE, name, {}, labels ? { labels } : {});

export default defineControl({
  id: 'enforce-psa-namespace-labels',
  title: 'Keep Pod Security Admission labels at the configured level',
  description: "A Namespace's pod-security.kubernetes.io/enforce label must not be weaker than the level the config gives it.",
  details: `NSA/CISA "pod security enforcement": Pod Security Admission enforces whatever level a Namespace's
pod-security.kubernetes.io/enforce label names, so anyone allowed to update a Namespace can switch PSA off
for it by relabelling it privileged. This control checks Namespace objects on CREATE and UPDATE: the enforce
label, when present, must be privileged, baseline or restricted and at least the level the config gives
that namespace (its pss setting, else the cluster's level; a namespace whose level is privileged may carry
any label). The enforce-version label is require-current-psa-version's (it warns by default, as charts pin
old versions). A Namespace without an enforce label gets the
API server's PSA defaults (control-plane/admission-configuration.yaml sets them to the cluster's level); set
requireLabel to demand the label on every Namespace (then create namespaces with the labels of psa/).
Exempt namespaces are not checked (Gatekeeper and Kyverno match a Namespace object by its own name).
An UPDATE counts only what it changes: a finding about the enforce label (or its absence, with
requireLabel) when the update changes that label, so a Namespace labelled before the policy can still get
other labels, annotations and finalizers. Labels can also
change through the namespaces/status and namespaces/finalize subresources (their writes keep metadata
changes): they are judged the same way (the namespace controller finalizes namespaces whatever their
labels). The Kyverno rule matches Namespace/status and Namespace/finalize, so Kyverno's webhook receives them
(its CEL sees them as plain UPDATEs: request.subResource is always empty there). Known gap:
Gatekeeper evaluates only what its ValidatingWebhookConfiguration forwards, and Gatekeeper's own install
forwards "*" (no subresources) plus a fixed list without namespaces/status or namespaces/finalize; add both
to its webhook rules (Helm value validatingWebhookCustomRules) to close it there. Offline, gator sees these
writes as AdmissionReviews; the Kyverno CLI evaluates the Namespace object only (it cannot replay a
subresource request). restrict-rbac-escalation-verbs flags roles that grant update or patch on these
subresources.`,
  category: 'Namespaces (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-POD-4'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NAMESPACE_LABEL_TARGET,
  followsPssLevel: true,
  options: {
    requireLabel: opt.boolean('Every Namespace must carry the enforce label (default: false, the API server defaults apply to unlabelled ones).'),
  },
  defaults: () => ({ requireLabel: false }),
  params: { level: 'strings', requireLabel: 'boolean' },
  // Samples are checked at the restricted level (the level of the pss-restricted and nsa-cisa profiles).
  lower: (o, _version, context?: LowerContext) => ({ level: [context?.level ?? 'restricted'], requireLabel: o.requireLabel }),
  samples: [
    { name: 'restricted', expect: 'allow', object: namespace('restricted', { [ENFORCE]: 'restricted' }) },
    // Version pins are require-current-psa-version's (a warning by default): the level alone decides here.
    { name: 'restricted-pinned-to-old-version', expect: 'allow', object: namespace('old', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: 'v1.24' }) },
    // Pod Security Admission refuses malformed labels on the Namespace itself (422): these two are validation proofs.
    { name: 'restricted-bad-version', expect: 'allow', object: namespace('bad-version', { [ENFORCE]: 'restricted', [ENFORCE_VERSION]: '1.37' }), apiServerRejects: 'must be "latest" or "v1.x"' },
    { name: 'baseline-pinned-to-newest', expect: 'deny', object: namespace('baseline-pinned', { [ENFORCE]: 'baseline', [ENFORCE_VERSION]: 'latest' }) },
    { name: 'baseline-below-level', expect: 'deny', object: namespace('baseline', { [ENFORCE]: 'baseline' }) },
    { name: 'privileged', expect: 'deny', object: namespace('privileged', { [ENFORCE]: 'privileged' }) },
    { name: 'unknown-level', expect: 'deny', object: namespace('unknown', { [ENFORCE]: 'Restricted' }), apiServerRejects: 'must be one of privileged, baseline, restricted' },
    { name: 'no-label', expect: 'allow', object: namespace('no-label') },
    { name: 'audit-label-only', expect: 'allow', object: namespace('audit-only', { 'pod-security.kubernetes.io/audit': 'privileged' }) },
    ...(['status', 'finalize'] as const).map((sub): Sample => ({
      name: `${sub}-write-relabels-to-privileged`,
      expect: 'deny',
      operation: 'UPDATE',
      subResource: sub,
      oldObject: namespace(`relabel-${sub}`, { [ENFORCE]: 'restricted' }),
      object: namespace(`relabel-${sub}`, { [ENFORCE]: 'privileged' }),
    })),
    {
      // The namespace controller finalizing a namespace that was labelled privileged before the policy.
      name: 'finalize-write-keeps-labels',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      subResource: 'finalize',
      oldObject: namespace('finalizing', { [ENFORCE]: 'privileged', team: 'a' }),
      object: namespace('finalizing', { [ENFORCE]: 'privileged', team: 'b' }),
    },
    {
      // Labelled before the policy: an UPDATE that keeps the enforce label (a team label changes) introduces nothing.
      name: 'update-keeps-weak-label',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('keeps-weak', { [ENFORCE]: 'privileged', team: 'a' }),
      object: namespace('keeps-weak', { [ENFORCE]: 'privileged', team: 'b' }),
    },
    {
      // From one level below the configured one to another: the update writes the label.
      name: 'relabel-privileged-to-baseline',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('relabel-weak', { [ENFORCE]: 'privileged' }),
      object: namespace('relabel-weak', { [ENFORCE]: 'baseline' }),
    },
    {
      // The pin is new, the weak label is not: a finding of require-current-psa-version only.
      name: 'update-keeps-weak-label-pins-old-version',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('keeps-weak-repins', { [ENFORCE]: 'privileged' }),
      object: namespace('keeps-weak-repins', { [ENFORCE]: 'privileged', [ENFORCE_VERSION]: 'v1.24' }),
    },
    {
      name: 'relabel-to-privileged',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: namespace('relabel', { [ENFORCE]: 'restricted' }),
      object: namespace('relabel', { [ENFORCE]: 'privileged' }),
    },
  ],
});
