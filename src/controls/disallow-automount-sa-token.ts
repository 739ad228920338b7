import { NO_OPTIONS, defineControl } from './types.js';
import { inList, pod, sample } from './samples.js';

const OFF = { automountServiceAccountToken: false };

export default defineControl({
  id: 'disallow-automount-sa-token',
  title: 'Disallow automounting the service account token',
  description: 'Pods must set spec.automountServiceAccountToken to false.',
  details: `NSA/CISA "protecting Pod service account tokens", the Pod part. spec.automountServiceAccountToken must be
exactly false; unset defers to the ServiceAccount, which mounts the token unless it says otherwise, so unset
fails. Workloads that call the Kubernetes API (operators, controllers) need an exception by name or
namespace. Known gaps: a token mounted explicitly through a projected serviceAccountToken volume is not
covered (restrict-volume-types does not forbid projected volumes). The ServiceAccount half, accounts that
set automountServiceAccountToken: false themselves, is the non-pod control
disallow-serviceaccount-token-automount; this Pod setting wins over the ServiceAccount's. Ephemeral
containers do not matter here (the flag is pod-level and cannot change on update).`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-9'],
  ...NO_OPTIONS,
  samples: [
    sample('disabled', 'allow', pod('off', OFF)),
    sample('unset', 'deny', pod('plain')),
    sample('enabled', 'deny', pod('on', { automountServiceAccountToken: true })),
    sample('null', 'deny', pod('null', { automountServiceAccountToken: null })),
    // Adding a debug container to a Pod that does not mount the token stays allowed.
    inList('disabled-debug-container', 'allow', 'ephemeralContainers', {}, { podSpec: OFF }),
  ],
});
