/**
 * Custom controls: two checks of your own, written with the check builder, compiled into every target
 * (Gatekeeper Rego + CEL, Kyverno, ValidatingAdmissionPolicies) and proven offline by `kubeharden test`.
 * `npx kubeharden build --config examples/custom-controls/policies.config.ts` writes
 * examples/custom-controls/generated/.
 */
import { defineConfig, defineControl, fieldsOf, oneOf, option } from 'kubeharden';

type Obj = Record<string, unknown>;

const pod = (name: string, labels?: Obj): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'apps', ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.0' }] },
});

const deployment = (name: string, own: Obj, template: Obj): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'apps', labels: own },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...template } }, spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.0' }] } },
  },
});

/** What each control matches, shared with `fieldsOf`: its field paths are then typed (and completed) for that object. */
const workloads = { workloads: true } as const;
const ingresses = { kinds: ['Ingress'] } as const;

/** Pods, and every workload by its pod template, carry `team` with one of the teams (exact, case-sensitive). */
const requireTeamLabel = defineControl({
  id: 'require-team-label',
  title: 'Require a team label',
  description: 'Pods (and the pod templates of workloads) must carry the label team with one of the listed teams.',
  severity: 'medium',
  match: workloads,
  options: { teams: { description: 'The teams a Pod may belong to (exact label values).', default: [] } },
  sampleOptions: { teams: ['payments', 'search'] },
  message: 'Pods must carry the label team with one of the allowed teams.',
  // The pod template's label `team` (label keys are free; `label('team')` reads the same field).
  check: oneOf(fieldsOf(workloads).str('metadata.labels.team', ''), option('teams')),
  samples: [
    { name: 'payments', expect: 'allow', object: pod('payments', { team: 'payments' }) },
    { name: 'search', expect: 'allow', object: pod('search', { team: 'search', app: 'search' }) },
    { name: 'no-labels', expect: 'deny', object: pod('no-labels') },
    { name: 'other-label', expect: 'deny', object: pod('other-label', { owner: 'payments' }) },
    { name: 'upper-case-value', expect: 'deny', object: pod('upper-case-value', { team: 'Payments' }) },
    { name: 'upper-case-key', expect: 'deny', object: pod('upper-case-key', { Team: 'payments' }) },
    { name: 'prefix-look-alike', expect: 'deny', object: pod('prefix-look-alike', { team: 'payments-eu' }) },
    { name: 'suffix-look-alike', expect: 'deny', object: pod('suffix-look-alike', { team: 'xsearch' }) },
    { name: 'padded-value', expect: 'deny', object: pod('padded-value', { team: ' payments' }), apiServerRejects: 'Invalid value: " payments"' },
    { name: 'empty-value', expect: 'deny', object: pod('empty-value', { team: '' }) },
    // Not a valid object for the API server (it refuses it while decoding); engines that judge manifests offline still deny it.
    { name: 'wrong-type', expect: 'deny', object: pod('wrong-type', { team: 42 }), apiServerRejects: 'cannot unmarshal number into Go struct field' },
    { name: 'annotation-not-label', expect: 'deny', object: { ...pod('annotation-not-label'), metadata: { name: 'annotation-not-label', namespace: 'apps', annotations: { team: 'payments' } } } },
    // A workload is judged by its pod template: the label on the Deployment's own metadata does not count.
    { name: 'deployment-template-label', expect: 'allow', object: deployment('deployment-template-label', {}, { team: 'payments' }) },
    { name: 'deployment-own-label-only', expect: 'deny', object: deployment('deployment-own-label-only', { team: 'payments' }, {}) },
    { name: 'deployment-wrong-team-in-template', expect: 'deny', object: deployment('deployment-wrong-team-in-template', { team: 'payments' }, { team: 'billing' }) },
  ],
});

const ingress = (name: string, spec: Obj): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'apps' },
  spec: { rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }], ...spec },
});

/** Ingresses name one of the allowed classes in spec.ingressClassName; unset fails. */
const restrictIngressClass = defineControl({
  id: 'restrict-ingress-class',
  title: 'Restrict Ingress classes',
  description: 'Ingresses must set spec.ingressClassName to one of the allowed classes.',
  severity: 'medium',
  nsa: ['NSA-NET-9'],
  match: ingresses,
  options: { classes: { description: 'The allowed Ingress classes (exact names).', default: [] } },
  sampleOptions: { classes: ['internal', 'external'] },
  message: 'Ingresses must set spec.ingressClassName to one of the allowed classes.',
  // A path the Ingress schema does not have, or read as another type (`int('spec.ingressClassName', 0)`), is a type error.
  check: oneOf(fieldsOf(ingresses).str('spec.ingressClassName', ''), option('classes')),
  samples: [
    { name: 'internal', expect: 'allow', object: ingress('internal', { ingressClassName: 'internal' }) },
    { name: 'external', expect: 'allow', object: ingress('external', { ingressClassName: 'external' }) },
    { name: 'unset', expect: 'deny', object: ingress('unset', {}) },
    { name: 'empty', expect: 'deny', object: ingress('empty', { ingressClassName: '' }), apiServerRejects: 'spec.ingressClassName: Invalid value: ""' },
    { name: 'other-class', expect: 'deny', object: ingress('other-class', { ingressClassName: 'nginx' }) },
    { name: 'upper-case', expect: 'deny', object: ingress('upper-case', { ingressClassName: 'Internal' }), apiServerRejects: 'spec.ingressClassName: Invalid value: "Internal"' },
    { name: 'prefix-look-alike', expect: 'deny', object: ingress('prefix-look-alike', { ingressClassName: 'internal-public' }) },
    { name: 'suffix-look-alike', expect: 'deny', object: ingress('suffix-look-alike', { ingressClassName: 'not-external' }) },
    { name: 'wrong-type', expect: 'deny', object: ingress('wrong-type', { ingressClassName: ['internal'] }), apiServerRejects: 'cannot unmarshal array into Go struct field' },
    // The legacy annotation is not the field the check reads.
    {
      name: 'legacy-annotation-only',
      expect: 'deny',
      object: { ...ingress('legacy-annotation-only', {}), metadata: { name: 'legacy-annotation-only', namespace: 'apps', annotations: { 'kubernetes.io/ingress.class': 'internal' } } },
    },
  ],
});

export default defineConfig({
  name: 'custom-controls',
  profile: 'pss-baseline',
  kubernetesVersion: '1.37',
  // Every target: Gatekeeper templates with Rego and CEL, Kyverno ValidatingPolicies (the default), and
  // native ValidatingAdmissionPolicies.
  gatekeeper: { engines: ['Rego', 'CEL'] },
  vap: { enabled: true },
  customControls: [requireTeamLabel, restrictIngressClass],
  controls: {
    'require-team-label': { mode: 'enforce', options: { teams: ['payments', 'search'] } },
    'restrict-ingress-class': { mode: 'enforce', options: { classes: ['internal', 'external'] } },
  },
});
