/**
 * verify-image-signatures as `policies.kyverno.io/v1` ImageValidatingPolicies (Kyverno ≥ 1.17), for
 * `kyverno.policyType: 'ValidatingPolicy'`: one policy per control instance (validationActions belong to
 * the whole policy, so every mode and namespace scope is a policy of its own).
 *
 * Facts from Kyverno v1.19.1 (pkg/image/verification/evaluator, pkg/cel/policies/ivpol, pkg/cel/autogen):
 * - Autogen of an ImageValidatingPolicy only covers DaemonSet, Deployment, ReplicaSet, StatefulSet, Job and
 *   CronJob, and its controller list cannot name ReplicationController (a core-group resource has no
 *   `<resource>.<version>.<group>` spelling). So the policy matches Pods and all seven controllers itself
 *   (several resource rules: no autogen), and its image extractors read the pod template by `object.kind`.
 * - matchImageReferences decide which images are verified; an image they select must be verified
 *   (`validationConfigurations.required`). Image exceptions therefore sit in the one match expression: the
 *   control's patterns (Kyverno wildcards `*` and `?`, written as anchored RE2 patterns) and not an exempt
 *   image (exact, or a prefix ending in `*`, as for every other control).
 * - A PolicyException with `images` does nothing for an ImageValidatingPolicy (its CEL cannot read
 *   `exceptions.allowedImages`), and a full exception would need a file of its own; exceptions by name are a
 *   match condition on the object's name instead (the Pod's or the workload's, as the legacy
 *   PolicyException's `names`).
 * - verifyDigest defaults to true when unset: it is always written out.
 *
 * What differs from the ClusterPolicy verifyImages rule: patterns are matched against the image as the
 * manifest writes it (the legacy rule matches Kyverno's normalised form, `docker.io/` and `:latest` added),
 * so a pattern must name the registry the manifests name; the failure policy is per policy (per instance),
 * not one for every instance of the control. Pure: no I/O.
 */
import { getControl, type ControlId } from '../../controls/index.js';
import type { ControlInstance, BundleIR } from '../../ir/types.js';
import type { Mode } from '../../config/types.js';
import { celLiteral } from '../../lang/cel/cel.js';
import { patternMatches } from '../../lang/cel/pod.js';
import type { ImageVerificationCheck } from '../../lang/kyverno.js';
import { KYVERNO_V1_MIN_VERSION } from './version.js';
import { policyAnnotations } from './annotations.js';

/** The controls Kyverno expresses as an ImageValidatingPolicy (those whose check is a verifyImages rule). */
export function isImageValidatingControl(id: ControlId): boolean {
  return getControl(id).engines.kyverno.kind === 'imageVerification';
}

/** The ImageValidatingPolicies of a control, one per instance, named like the instance. */
export function imageValidatingPolicies(ir: BundleIR, id: ControlId, instances: readonly ControlInstance[]): object[] {
  const k = getControl(id).engines.kyverno;
  if (k.kind !== 'imageVerification') throw new Error(`kyverno: ${id} is not an image verification control`);
  return instances.map((inst) => imageValidatingPolicy(ir, id, inst, k.check(inst.params)));
}

export function validationActions(mode: Mode): string[] {
  return mode === 'enforce' ? ['Deny'] : mode === 'warn' ? ['Audit', 'Warn'] : ['Audit'];
}

/** Where each workload kind keeps its pod spec (the legacy autogen paths). */
const POD_SPEC =
  "(object.kind == 'Pod' ? object.?spec : object.kind == 'CronJob' ? object.?spec.?jobTemplate.?spec.?template.?spec : object.?spec.?template.?spec)";

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** A Kyverno wildcard (`*` any run, `?` one character, nothing else special) as an anchored RE2 pattern. */
export function wildcardRegex(pattern: string): string {
  let out = '';
  for (const ch of pattern) out += ch === '*' ? '.*' : ch === '?' ? '.' : /[\\.+()|[\]{}^$]/.test(ch) ? `\\${ch}` : ch;
  return `(?s)^${out}$`;
}

function imageValidatingPolicy(ir: BundleIR, id: ControlId, inst: ControlInstance, check: ImageVerificationCheck): object {
  const control = getControl(id);
  const v = check.verifyImages;
  // The control's values: patterns and keys pass through Kyverno's CEL only as CEL string literals.
  const matchImage =
    `${celLiteral(v.imageReferences.map(unescapeKyverno).map(wildcardRegex))}.exists(r, ref.matches(r))` +
    (inst.exemptImages.length ? ` && !${celLiteral([...inst.exemptImages])}.exists(p, ${patternMatches('p', 'ref')})` : '');
  const attestors = v.attestors.flatMap((set) =>
    set.entries.map((e, i) => {
      const offline = e.keys?.rekor?.ignoreTlog || e.keyless?.rekor?.ignoreTlog ? { ctlog: { insecureIgnoreTlog: true, insecureIgnoreSCT: true } } : {};
      if (e.keys) return { name: `key${i}`, cosign: { key: { data: unescapeKyverno(e.keys.publicKeys) }, ...offline } };
      const issuer = unescapeKyverno(e.keyless!.issuer);
      const subject = unescapeKyverno(e.keyless!.subject);
      const wild = (s: string): boolean => /[*?]/.test(s);
      const identity = {
        ...(wild(issuer) ? { issuerRegExp: wildcardRegex(issuer).replace('(?s)', '') } : { issuer }),
        ...(wild(subject) ? { subjectRegExp: wildcardRegex(subject).replace('(?s)', '') } : { subject }),
      };
      return { name: `keyless${i}`, cosign: { keyless: { identities: [identity] }, ...offline } };
    }),
  );
  const conditions: { name: string; expression: string }[] = [];
  if (inst.scope.include) conditions.push({ name: 'namespaces', expression: `request.namespace in ${celLiteral([...inst.scope.include])}` });
  if (inst.scope.exclude.length) conditions.push({ name: 'excluded-namespaces', expression: `!(request.namespace in ${celLiteral([...inst.scope.exclude])})` });
  if (inst.exemptNames.length) {
    conditions.push({
      name: 'excepted-names',
      expression: `!${celLiteral([...inst.exemptNames])}.exists(p, ${patternMatches('p', "object.?metadata.?name.orValue('')")})`,
    });
  }
  const all = CONTAINER_LISTS.map((l) => `images.${l}`).join(' + ');
  const verified = `verifyImageSignatures(image, [${attestors.map((a) => `attestors.${a.name}`).join(', ')}]) > 0`;
  return {
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ImageValidatingPolicy',
    metadata: {
      name: inst.name,
      annotations: policyAnnotations(control, 'Pod', id, KYVERNO_V1_MIN_VERSION, ir.version),
    },
    spec: {
      // Checked at admission only (registry and Rekor access from the webhook), as the verifyImages rule.
      evaluation: { background: { enabled: false } },
      failurePolicy: check.failurePolicy,
      webhookConfiguration: { timeoutSeconds: 30 },
      validationActions: validationActions(inst.mode),
      // CREATE and UPDATE: on DELETE `object` is null.
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'replicationcontrollers'] },
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'] },
          { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['cronjobs', 'jobs'] },
        ],
      },
      ...(conditions.length ? { matchConditions: conditions } : {}),
      matchImageReferences: [{ expression: matchImage }],
      images: CONTAINER_LISTS.map((l) => ({
        name: l,
        expression: `${POD_SPEC}.?${l}.orValue([]).filter(c, type(c.?image.orValue(null)) == string).map(c, c.image)`,
      })),
      attestors,
      validationConfigurations: { mutateDigest: v.mutateDigest, verifyDigest: v.verifyDigest, required: v.required },
      validations: [
        {
          expression: `(${all}).all(image, ${verified})`,
          messageExpression: `'no valid signature by a trusted key or identity: ' + (${all}).filter(image, !(${verified})).join(', ')`,
        },
      ],
    },
  };
}

/** A value the verifyImages check wrote for Kyverno's variable substitution, back as written (see kyvernoLiteral). */
function unescapeKyverno(s: string): string {
  return s.replace(/\\\{\{/g, '{{');
}
