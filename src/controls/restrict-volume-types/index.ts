import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { debugRunningPod, pod, sample } from '../samples.js';
import { KNOWN_VOLUME_TYPES, restrictedVolumeTypes } from '../../pss/versions.js';
import { check } from './cel.js';

export default defineControl({
  id: 'restrict-volume-types',
  title: 'Restrict volume types',
  description: 'Pods may only use the restricted volume types (configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret).',
  details: `PSS restricted check restrictedVolumes (an allow-list, so unknown and future volume sources fail closed).
Every spec.volumes[*] must use one of configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim,
projected, secret, and image from Kubernetes 1.33 (added in place in the apiserver). A volume with no source is
defaulted to emptyDir by the API server and is allowed. Replaces disallow-host-path where both apply and this control is not relaxed more than that one. Exceptions can
allow named volume sources: allow: { volumeTypes: ['nfs'] }.`,
  category: 'Pod Security Standards (Restricted)',
  severity: 'medium',
  nsa: ['NSA-POD-6'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  pss: { level: 'restricted', check: 'restrictedVolumes', overrides: 'disallow-host-path' },
  options: {
    allowedVolumeTypes: opt.strings('Volume source fields pods may use. Default: the PSS restricted list for the target version.', KNOWN_VOLUME_TYPES),
  },
  defaults: (v) => ({ allowedVolumeTypes: restrictedVolumeTypes(v) }),
  params: { allowedVolumeTypes: 'strings' },
  lower: (o) => ({ allowedVolumeTypes: [...o.allowedVolumeTypes].sort() }),
  samples: [
    sample('no-volumes', 'allow', pod('plain')),
    sample(
      'allowed-types',
      'allow',
      pod('allowed', {
        volumes: [
          { name: 'a', configMap: { name: 'cm' } },
          { name: 'b', secret: { secretName: 's' } },
          { name: 'c', emptyDir: {} },
          { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'e', projected: { sources: [] } },
          { name: 'f', downwardAPI: { items: [] } },
          { name: 'g', csi: { driver: 'csi.example.com' } },
          { name: 'h', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } },
        ],
      }),
    ),
    sample('host-path', 'deny', pod('host-path', { volumes: [{ name: 'root', hostPath: { path: '/' } }] })),
    sample('nfs', 'deny', pod('nfs', { volumes: [{ name: 'share', nfs: { server: 'nfs.example.com', path: '/export' } }] })),
    // A debug container added to a running Pod with an NFS volume: the whole Pod is judged again.
    debugRunningPod('debug-running-nfs-pod', pod('running-nfs', { volumes: [{ name: 'share', nfs: { server: 'nfs.example.com', path: '/export' } }] })),
    sample('git-repo', 'deny', pod('git-repo', { volumes: [{ name: 'src', gitRepo: { repository: 'https://example.com/repo.git' } }] })),
    // A volume type this API server does not know yet: it refuses the field (strict field validation; without it
    // the field is dropped and the volume has no type), a later release would admit it.
    { ...sample('unknown-future-type', 'deny', pod('future', { volumes: [{ name: 'x', someFutureVolume: {} }] })), apiServerRejects: 'unknown field' },
    sample('image-from-1-33', 'allow', pod('image-new', { volumes: [{ name: 'model', image: { reference: 'registry.example.com/model:1', pullPolicy: 'IfNotPresent' } }] }), { from: 33 }),
    sample('image-before-1-33', 'deny', pod('image-old', { volumes: [{ name: 'model', image: { reference: 'registry.example.com/model:1' } }] }), { to: 32 }),
  ],
});
