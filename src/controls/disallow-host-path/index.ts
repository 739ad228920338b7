import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { debugRunningPod, pod, sample } from '../samples.js';
import { check } from './cel.js';

export default defineControl({
  id: 'disallow-host-path',
  title: 'Disallow hostPath volumes',
  description: 'Pods must not mount hostPath volumes.',
  details: `PSS baseline check hostPathVolumes, all versions. Any spec.volumes[*].hostPath fails, whatever its path or
readOnly setting. Where restrict-volume-types applies it replaces this control (the restricted allow-list also
excludes hostPath), but only where it is at least as strict: where restrict-volume-types is relaxed (excepted, off,
a milder mode, allowed volume types, hostPath among its options) this control keeps applying unless it is
relaxed the same way. Exceptions can allow named paths: allow: { hostPaths: ['/var/log/pods',
'/var/lib/docker/containers/*'] } (exact, or everything below a directory written "<dir>/*"); a volume path
matches only in canonical form (no trailing "/", no empty, "." or ".." segment), so "/var/log/pods/",
"/var/log/pods/../../etc" and "/var/log/podsx" stay denied. The path is compared as written (a symlink on the
node is not followed) and readOnly is not looked at. hostPath volumes also need restrict-volume-types relaxed
(allow: { volumeTypes: ['hostPath'] }). Known gap: a PersistentVolume of type hostPath bound through a PVC is not visible in the pod.`,
  category: 'Pod Security Standards (Baseline)',
  severity: 'high',
  nsa: ['NSA-POD-6'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'baseline', check: 'hostPathVolumes' },
  ...NO_OPTIONS,
  samples: [
    sample('no-volumes', 'allow', pod('plain')),
    sample('empty-dir', 'allow', pod('empty-dir', { volumes: [{ name: 'tmp', emptyDir: {} }] })),
    sample('host-path', 'deny', pod('host-path', { volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'root', hostPath: { path: '/' } }] })),
    sample('host-path-readonly', 'deny', pod('host-path-ro', { volumes: [{ name: 'logs', hostPath: { path: '/var/log', type: 'Directory' } }] })),
    // A debug container added to a running Pod that mounts the host's root: the whole Pod is judged again.
    debugRunningPod('debug-running-host-path-pod', pod('running-host-path', { volumes: [{ name: 'root', hostPath: { path: '/' } }] })),
  ],
});
