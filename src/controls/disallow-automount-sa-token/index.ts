import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const OFF = { automountServiceAccountToken: false };

export default defineControl({
  id: 'disallow-automount-sa-token',
  title: 'Disallow automounting the service account token',
  description: 'Pods must set spec.automountServiceAccountToken to false.',
  details: `NSA/CISA "protecting Pod service account tokens", the Pod part. spec.automountServiceAccountToken must be
exactly false; unset defers to the ServiceAccount, which mounts the token unless it says otherwise, so unset
fails. A Pod can also mount the token itself: a projected volume with a serviceAccountToken source fails too,
whatever its audience (the API server accepts its own audiences, and a Pod can name them), so workloads with a
token for another audience (cloud workload identity, Vault) need an exception like the workloads that call the
Kubernetes API (operators, controllers), by name or namespace. Known gap: a secret volume (or projected secret
source, or secretKeyRef) of a legacy Secret of type kubernetes.io/service-account-token hands the Pod a
long-lived API token, and an admission engine sees only the Pod, not the Secret's type; kubeharden audit
flags it when the Secret is in the same input. The ServiceAccount half, accounts that set
automountServiceAccountToken: false themselves, is the non-pod control disallow-serviceaccount-token-automount;
this Pod setting wins over the ServiceAccount's. Ephemeral containers do not matter here (the flag and the
volumes are pod-level and cannot change on update).`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-9'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  gaps: [
    {
      engine: 'admission',
      what: 'a legacy Secret of type kubernetes.io/service-account-token mounted by the Pod (secret volume, projected secret, secretKeyRef, envFrom), a long-lived API token',
      why: "admission sees only the Pod, not the Secret's type; `kubeharden audit` reports it when the Secret is in its input. Since 1.24 Kubernetes no longer creates such a Secret for every ServiceAccount, but the token controller still fills any that someone creates: restrict who may create Secrets",
    },
  ],
  ...NO_OPTIONS,
  samples: [
    sample('disabled', 'allow', pod('off', OFF)),
    sample('unset', 'deny', pod('plain')),
    sample('enabled', 'deny', pod('on', { automountServiceAccountToken: true })),
    sample('null', 'deny', pod('null', { automountServiceAccountToken: null })),
    // The token mounted explicitly: any projected serviceAccountToken source, with or without an audience.
    sample('disabled-projected-token', 'deny', pod('projected', { ...OFF, volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] })),
    sample('disabled-projected-token-audience', 'deny', pod('projected-audience', { ...OFF, volumes: [{ name: 'vault', projected: { sources: [{ configMap: { name: 'ca' } }, { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 600 } }] } }] })),
    sample('disabled-projected-config-only', 'allow', pod('projected-config', { ...OFF, volumes: [{ name: 'config', projected: { sources: [{ configMap: { name: 'app' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] } }] })),
    // Adding a debug container to a Pod that does not mount the token stays allowed.
    inList('disabled-debug-container', 'allow', 'ephemeralContainers', {}, { podSpec: OFF }),
  ],
});
