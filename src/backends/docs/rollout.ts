/**
 * The bundle README's sections on applying it safely: the policy engines' own namespaces, Pod Security
 * Admission labels and defaults, and rolling out (observe, then enforce) and back, per engine.
 */
import type { ResolvedCluster } from '../../ir/cluster.js';
import { PSA_FIELD_MANAGER, PSA_LABEL_PREFIX, PSA_NAMESPACES_FILE } from '../psa/index.js';
import type { PsaLevels } from '../../ir/psa.js';
import { getControl } from '../../controls/index.js';
import { isPodControl } from '../../controls/types.js';

const code = (xs: readonly string[]): string => xs.map((x) => `\`${x}\``).join(', ');

/** What `kyverno/` holds, in a few words (the cluster's `kyverno.policyType`). */
const kyvernoPolicies = (c: ResolvedCluster): string => (c.kyvernoPolicyType === 'ClusterPolicy' ? 'ClusterPolicies' : 'policies.kyverno.io/v1 policies');

export function applyCommands(c: ResolvedCluster, hasPsaFile: boolean): string[] {
  return [
    '```sh',
    `kubectl apply -k ${c.name}/kyverno        # Kyverno ${kyvernoPolicies(c)}`,
    `kubectl apply -k ${c.name}/gatekeeper     # Gatekeeper (run twice: constraints need the CRDs their templates create)`,
    ...(c.vap.enabled ? [`kubectl apply -k ${c.name}/vap            # or: native ValidatingAdmissionPolicies (no engine; see below)`] : []),
    ...(hasPsaFile ? [`kubectl apply --server-side --field-manager=${PSA_FIELD_MANAGER} -f ${c.name}/${PSA_NAMESPACES_FILE}   # PSA labels only`] : []),
    '```',
  ];
}

export function policyEnginesReadme(c: ResolvedCluster): string[] {
  return [
    '## Policy engines',
    '',
    'Install one engine, or both with mutual exemptions. Each engine admits its own pods only if the other engine lets them through: with `failurePolicy: Fail`, an engine pod that is rescheduled while the other engine denies it never comes back, and then every request its webhook covers is rejected cluster-wide.',
    '',
    c.engineNamespaces.length
      ? `The engines' namespaces (${code(c.engineNamespaces)}: \`policyEngines.namespaces\`) are exempt from every control in both engines and from PSA, so Kyverno's pods, service accounts and webhooks pass Gatekeeper's constraints and the other way round. Install the engines into these namespaces (Helm: \`-n kyverno\`, \`-n gatekeeper-system\`), or list the ones you use.`
      : 'No policy engine namespaces are exempt (`policyEngines.namespaces: []`): make sure each engine runs in a namespace of `exemptNamespaces`.',
    '',
  ];
}

/** `d`: the AdmissionConfiguration defaults (ir.psa). */
export function psaReadme(c: ResolvedCluster, d: PsaLevels): string[] {
  const infra = c.namespaces.filter((n) => n.infra);
  return [
    '## Pod Security Admission',
    '',
    `Namespaces without a \`${PSA_LABEL_PREFIX}enforce\` label get the AdmissionConfiguration defaults (\`control-plane/admission-configuration.yaml\`): enforce \`${d.enforce}\`, audit and warn \`${d.audit}\`${d.enforce === 'privileged' ? ' — PSA rejects nothing there, so infrastructure namespaces outside kube-* (CSI node plugins, node exporters, CNI agents) keep starting pods while audit and warn report what the target level would reject' : ''} (\`psa.defaultEnforce\`).${infra.length ? ` Infrastructure namespaces (\`psa.infraNamespaces\`): ${infra.map((n) => `\`${n.name}\` ${n.pss}`).join(', ')}; they get labels of that level and no namespace objects.` : ''}`,
    '',
    `\`${PSA_NAMESPACES_FILE}\` only sets labels: it names each namespace of the config with its six PSA labels and nothing else, never a \`kube-*\` or exempt namespace. Apply it server-side (above): the field manager \`${PSA_FIELD_MANAGER}\` then owns those labels and nothing else of the Namespace. There is no kustomization, and the objects carry \`argocd.argoproj.io/sync-options: Delete=false,Prune=false\` and \`kustomize.toolkit.fluxcd.io/prune: disabled\`, so a GitOps prune or delete leaves the namespaces and their workloads alone. Never \`kubectl delete -f\` this file: that deletes the namespaces. To remove the labels: \`kubectl label namespace <name> ${['enforce', 'enforce-version', 'audit', 'audit-version', 'warn', 'warn-version'].map((m) => `${PSA_LABEL_PREFIX}${m}-`).join(' ')}\`.`,
    '',
  ];
}

export function rolloutReadme(c: ResolvedCluster): string[] {
  const observing = c.rollout === 'observe';
  return [
    '## Rolling out',
    '',
    observing
      ? '**This bundle is built in observe mode (`rollout: \'observe\'`): nothing is rejected.** Controls that would enforce warn instead (Kyverno: `Audit` with admission warnings; Gatekeeper: `warn`), PSA enforces nothing (labels and defaults carry the levels in audit and warn only), and the namespace objects (NetworkPolicies, quotas, limit ranges), which have no audit mode, are left out.'
      : 'This bundle enforces (`rollout: \'enforce\'`). Build it with `rollout: \'observe\'` first on a cluster that already runs workloads: the same bundle, but controls that would enforce only warn (Kyverno `Audit` with admission warnings, Gatekeeper `warn`), PSA enforces nothing (audit and warn keep the levels), and namespace objects are left out.',
    '',
    '1. **Observe.** Apply the observe-mode bundle. Admission now answers with warnings and both engines record violations: `kubectl get policyreports -A` (Kyverno), `kubectl get constraints -o yaml` (`status.violations` of Gatekeeper\'s audit), and the API server\'s `pod-security.kubernetes.io/audit-violations` annotations.',
    `2. **Read the reports, offline too.** \`kubectl get deploy,sts,ds,job,cronjob,pod,svc,ing,sa,role,rolebinding,clusterrole,clusterrolebinding,ns -A -o yaml > dump.yaml\` and \`kubeharden audit dump.yaml\` show, per object, which control would deny it once enforced.`,
    '3. **Fix or except.** Fix the workloads, or add time-limited `exceptions` (by namespace, image or name) to the config, rebuild and re-apply. List infrastructure namespaces in `psa.infraNamespaces`; size quotas before listing namespaces that get namespace objects.',
    '4. **Enforce.** When the reports are empty (or only show what you accept), set `rollout: \'enforce\'` (the default), rebuild and apply. Enforce namespace by namespace if you like: `namespaces.<name>.controls` can keep single controls in `audit` or `warn`.',
    '',
    '## Rolling back',
    '',
    'Each part comes off on its own; remove the failing part first, then investigate.',
    '',
    `- **Kyverno:** \`kubectl delete -k ${c.name}/kyverno\` removes the ${kyvernoPolicies(c)}; check what remains of the generated NetworkPolicies, quotas and limit ranges with \`kubectl get networkpolicy,resourcequota,limitrange -A -l app.kubernetes.io/managed-by=kyverno\` and delete those you no longer want (they are all named \`kubeharden-…\`). Faster, without deleting: re-apply an observe-mode bundle. If the Kyverno webhook itself is down and blocks requests, scale Kyverno up again or delete its \`ValidatingWebhookConfiguration\`s (Kyverno recreates them when it is back).`,
    `- **Gatekeeper:** \`kubectl delete -k ${c.name}/gatekeeper\` (constraints first if the templates' CRDs are slow to go: \`kubectl delete constraints --all\`), or re-apply in observe mode. Emergency: \`kubectl delete validatingwebhookconfiguration gatekeeper-validating-webhook-configuration\`.`,
    `- **PSA:** set the labels back (\`kubectl label namespace <name> ${PSA_LABEL_PREFIX}enforce=privileged --overwrite\`), or remove them (see Pod Security Admission); for the defaults, restore the previous \`--admission-control-config-file\` (control-plane/FLAGS.md, Rollback).`,
    '- **Control plane:** see `control-plane/FLAGS.md`, Rollback (never drop an encryption provider before rewriting what it encrypted).',
    '',
  ];
}

/**
 * How UPDATEs and subresource writes are judged (bundle README, under Controls): objects that predate the
 * bundle must keep getting labels, finalizers and status from their controllers.
 */
export function updatesReadme(c: ResolvedCluster): string[] {
  // Controls that match the same subresources share one entry: `Namespace/finalize`, `Namespace/status` (`a`, `b`).
  const byMatch = new Map<string, string[]>();
  for (const rc of c.controls) {
    const t = getControl(rc.id).target;
    const matched = (t?.subresources ?? []).flatMap((s) => t!.kinds.map((k) => `\`${k.kind}/${s}\``)).join(', ');
    if (matched) byMatch.set(matched, [...(byMatch.get(matched) ?? []), `\`${rc.id}\``]);
  }
  const subresources = [...byMatch].map(([matched, ids]) => `${matched} (${ids.join(', ')})`);
  const legacy = c.kyvernoPolicyType === 'ClusterPolicy';
  // Ephemeral containers are checked where they are added, by every pod control: under the v1 types by a policy
  // of its own (backends/kyverno/validating-policy.ts); a ClusterPolicy rule matching Pods is extended to that
  // subresource by Kyverno itself (its webhook rules, policy cache and rule matching, kyverno v1.19).
  if (c.controls.some((rc) => (rc.cluster.enabled || rc.namespaces.some((n) => n.settings.enabled)) && isPodControl(getControl(rc.id)))) {
    subresources.unshift(legacy ? '`Pod/ephemeralcontainers` (every rule matching Pods: Kyverno adds that subresource itself)' : '`Pod/ephemeralcontainers` (the `<instance>.ephemeralcontainers` policy of every pod control)');
  }
  return [
    '**Updates.** Pod controls re-check a Pod on UPDATE only when Pod Security Admission would (images, containers, ephemeral containers, seccomp annotations change); workloads are always checked. Every other control denies on UPDATE only what the update introduces, compared with the object before it: a role rule or aggregation selector the role already had (exactly), a binding subject already listed with the same roleRef, a Namespace PSA label the update leaves as it was, a LoadBalancer or NodePort Service that already failed with the same ports, an external IP already listed, an Ingress whose rules and TLS stay, a ServiceAccount that already mounted its token. So objects created before this bundle can still get labels, finalizers, owner references and status; a new or widened rule, a new subject, a type change, a new port or address is denied. Existing violations still show where objects are judged as they are: Gatekeeper\'s audit, Kyverno\'s background reports and `kubeharden audit`.',
    '',
    `**Subresources.** Kyverno's ${legacy ? 'rules' : 'policies'} match their kinds only, no subresource${subresources.length ? `, except ${subresources.join(', ')}: writes through them can change what the control checks (labels, annotations, ephemeral containers)` : ''}. No kubeharden expression reads \`request.subResource\`: such a write is judged as an UPDATE of the object, by the rule above. Gatekeeper evaluates whatever its ValidatingWebhookConfiguration forwards: its default install forwards every resource without subresources plus a fixed list of subresources that includes \`services/status\`, reviewed by the Service constraints as an UPDATE of the Service; a status write cannot change the spec, so it passes unless it changes what a control checks (a removed allowed annotation). Add \`namespaces/status\` and \`namespaces/finalize\` to Gatekeeper's webhook rules (Helm value \`validatingWebhookCustomRules\`) for relabelling through them to be checked there too.`,
    '',
  ];
}
