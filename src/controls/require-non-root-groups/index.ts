import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'require-non-root-groups',
  title: 'Require non-root groups',
  description: 'runAsGroup, fsGroup and supplementalGroups must not be 0 where set (optionally: must be set).',
  details: `NSA/CISA Table I (non-zero runAsGroup, supplementalGroups, fsGroup); the optional "non-root groups" PSS
control, which Pod Security Admission does not implement. An explicit group ID 0 fails wherever it appears:
spec.securityContext.runAsGroup, spec.securityContext.fsGroup, any entry of
spec.securityContext.supplementalGroups, and securityContext.runAsGroup of every container (init, regular,
ephemeral); a pod-level 0 fails even if every container overrides it (as PSA treats runAsUser). Unset is
allowed by default, because a group is then taken from the image (often 0, a known gap): set requireSet to
also require runAsGroup (on the pod, or on every container that the pod does not cover) and a pod fsGroup;
Windows pods are exempt from requireSet (the API does not allow these fields there). There is no
user-namespace relaxation.`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-1', 'NSA-POD-7'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  options: {
    requireSet: opt.boolean('Also require runAsGroup (pod or every container) and a pod fsGroup to be set, not only non-zero. Default: false.'),
  },
  defaults: () => ({ requireSet: false }),
  params: { requireSet: 'boolean' },
  lower: (o) => ({ requireSet: o.requireSet }),
  samples: [
    sample('unset', 'allow', pod('plain')),
    sample('pod-groups-non-zero', 'allow', pod('groups', { securityContext: { runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000, 4000] } })),
    sample('pod-run-as-group-0', 'deny', pod('rag0', { securityContext: { runAsGroup: 0 } })),
    sample('pod-fs-group-0', 'deny', pod('fsg0', { securityContext: { fsGroup: 0 } })),
    sample('pod-supplemental-group-0', 'deny', pod('sg0', { securityContext: { supplementalGroups: [1000, 0] } })),
    // An explicit 0 at pod level fails even when every container overrides it.
    sample('pod-0-overridden', 'deny', pod('override', { securityContext: { runAsGroup: 0 }, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext: { runAsGroup: 1000 } }] })),
    ...perContainerList('container-run-as-group-0', 'deny', { securityContext: { runAsGroup: 0 } }),
    ...perContainerList('container-run-as-group-non-zero', 'allow', { securityContext: { runAsGroup: 1000 } }),
    inList('container-null-run-as-group', 'allow', 'containers', { securityContext: { runAsGroup: null } }),
  ],
});
