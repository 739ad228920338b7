import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, pod, sample } from '../samples.js';
import type { Manifest } from '../types.js';
import { check } from './cel.js';

/** A Pod that got a debug container before the policy existed. */
const DEBUGGED = inList('debugged', 'deny', 'ephemeralContainers', {}).object;
const relabelled = (): Manifest => {
  const p = structuredClone(DEBUGGED) as { metadata: Record<string, unknown> };
  p.metadata['labels'] = { release: 'canary' };
  return p as unknown as Manifest;
};

export default defineControl({
  id: 'block-ephemeral-containers',
  title: 'Block ephemeral containers',
  description: 'Pods must not get ephemeral (debug) containers.',
  details: `NSA/CISA pod security enforcement: ephemeral containers (\`kubectl debug\`) run in a pod with whatever
security context the debugging user chooses. Any spec.ephemeralContainers entry fails, except those whose
image matches an image exception (a way to allow approved debug images). They only arrive through an UPDATE
of the pods/ephemeralcontainers subresource, which is checked; a later metadata-only update of a Pod that got
one before the policy passes. Opt-in: no profile enables it. In a cluster the webhook must receive the
pods/ephemeralcontainers subresource: Kyverno registers it for rules that match Pod; for Gatekeeper, check
that the webhook's rules list it (custom webhook rules often do not). The offline engines check the UPDATE
with the old object (WASM, gator) or the new object alone (Kyverno CLI, which then also denies later updates
of a debugged Pod). Alternative: do not grant update on pods/ephemeralcontainers in RBAC.`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-4'],
  optIn: 'it blocks `kubectl debug`, which many teams troubleshoot with; turn it on where debugging goes another way',
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NO_OPTIONS,
  samples: [
    sample('no-ephemeral-containers', 'allow', pod('plain')),
    inList('add-debug-container', 'deny', 'ephemeralContainers', {}),
    inList('add-restricted-debug-container', 'deny', 'ephemeralContainers', {
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    }),
    {
      name: 'update-labels-of-debugged-pod',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: DEBUGGED,
      object: relabelled(),
      podOnly: true,
    },
  ],
});
