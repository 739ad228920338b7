import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const RO = { securityContext: { readOnlyRootFilesystem: true } };

export default defineControl({
  id: 'require-readonly-root-fs',
  title: 'Require a read-only root filesystem',
  description: 'Containers must set securityContext.readOnlyRootFilesystem to true.',
  details: `NSA/CISA "immutable container file systems". Every container (init, regular and ephemeral) must set
securityContext.readOnlyRootFilesystem: true; unset or false fails (there is no pod-level field). Mount an
emptyDir where the application needs to write (/tmp, caches). Pods with spec.os.name: windows are exempt (the
API does not allow the field there). Ephemeral containers are checked too, so \`kubectl debug\` needs
--custom with readOnlyRootFilesystem (none of kubectl's debug profiles sets it), or an image exception for
the debug image. Not part of the Pod Security Standards.`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-2'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NO_OPTIONS,
  samples: [
    sample('unset', 'deny', pod('plain')),
    ...perContainerList('read-only', 'allow', RO, { base: RO }),
    ...perContainerList('writable', 'deny', { securityContext: { readOnlyRootFilesystem: false } }, { base: RO }),
    ...perContainerList('no-security-context', 'deny', { securityContext: {} }, { base: RO }),
    sample('with-writable-empty-dir', 'allow', pod('tmp', {
      containers: [{ name: 'app', image: 'registry.example.com/app:1.0', ...RO, volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    })),
    sample('windows-unset', 'allow', pod('windows', { os: { name: 'windows' } })),
  ],
});
