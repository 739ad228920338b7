import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const secretEnv = (secret: string) => ({ env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }] });
const secretEnvFrom = (secret: string) => ({ envFrom: [{ secretRef: { name: secret } }] });

export default defineControl({
  id: 'disallow-secrets-in-env-vars',
  title: 'Disallow Secrets in environment variables',
  description: 'Containers must not read Secrets into environment variables (env secretKeyRef, envFrom secretRef).',
  details: `NSA/CISA "secrets": environment variables leak through /proc/<pid>/environ, crash dumps, logs and child
processes; mount Secrets as files instead. Every container (init, regular, ephemeral) fails when an
env[].valueFrom.secretKeyRef or an envFrom[].secretRef names a Secret that is not in allowedSecrets (exact
names, or prefixes ending in "*"; names only, in any namespace). ConfigMaps and plain values are not
checked, so a secret copied into a ConfigMap or a literal value is not detected.`,
  category: 'Secrets (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-10'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  options: {
    allowedSecrets: opt.strings('Secrets that may still be read into environment variables: exact names or prefixes ending in "*". Default: none.'),
  },
  defaults: () => ({ allowedSecrets: [] }),
  sampleOptions: { allowedSecrets: ['public-config', 'legacy-*'] },
  params: { allowedSecrets: 'strings' },
  lower: (o) => ({ allowedSecrets: [...new Set(o.allowedSecrets)].sort() }),
  samples: [
    sample('no-env', 'allow', pod('plain')),
    ...perContainerList('secret-key-ref', 'deny', secretEnv('db-credentials')),
    ...perContainerList('env-from-secret', 'deny', secretEnvFrom('db-credentials')),
    ...perContainerList('config-map-and-literal', 'allow', {
      env: [{ name: 'MODE', value: 'prod' }, { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } }],
      envFrom: [{ configMapRef: { name: 'settings' } }],
    }),
    inList('allowed-secret-exact', 'allow', 'containers', secretEnv('public-config')),
    inList('allowed-secret-prefix', 'allow', 'containers', secretEnvFrom('legacy-db')),
    inList('prefix-is-not-substring', 'deny', 'containers', secretEnvFrom('my-legacy-db')),
    inList('secret-volume', 'allow', 'containers', { volumeMounts: [{ name: 'creds', mountPath: '/var/run/creds', readOnly: true }] }, {
      podSpec: { volumes: [{ name: 'creds', secret: { secretName: 'db-credentials' } }] },
    }),
  ],
});
