import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { perContainerList, pod, runningPodUpdates, sample } from '../samples.js';
import { check } from './cel.js';

/** A Pod admitted before the policy existed, running a privileged container. */
const RUNNING = pod('running-privileged', { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { privileged: true } }] });

export default defineControl({
  id: 'disallow-privileged-containers',
  title: 'Disallow privileged containers',
  description: 'Containers must not set securityContext.privileged to true.',
  details: `PSS baseline check privileged, all versions. securityContext.privileged of every container (init, regular
and ephemeral) must be unset or false; there is no pod-level field. Ephemeral containers arrive through an UPDATE
of pods/ephemeralcontainers (kubectl debug --profile=sysadmin adds a privileged one), so UPDATE requests are
checked too.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'high',
  nsa: ['NSA-POD-5'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'privileged' },
  ...NO_OPTIONS,
  samples: [
    sample('no-security-context', 'allow', pod('plain')),
    ...perContainerList('privileged', 'deny', { securityContext: { privileged: true } }),
    ...perContainerList('privileged-false', 'allow', { securityContext: { privileged: false } }),
    // Pod updates are evaluated as PSA does: a metadata-only change to a Pod that predates the policy passes
    // (finalizers can be removed), a new image does not.
    ...runningPodUpdates(RUNNING, 'registry.example.com/app:1.1'),
  ],
});
