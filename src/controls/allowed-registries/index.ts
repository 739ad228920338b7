import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const imageVolume = (reference: string) => ({ volumes: [{ name: 'model', image: { reference } }] });

export default defineControl({
  id: 'allowed-registries',
  title: 'Allow images only from listed registries',
  description: 'Every image (containers and image volumes) must come from a listed registry or repository prefix.',
  details: `NSA/CISA "use trusted repositories". Every image reference a pod pulls, the image of every container (init,
regular, ephemeral) and spec.volumes[*].image.reference, must start with one of the registries option's
entries, compared as plain string prefixes (case-sensitive, no wildcards) of the reference written the way
the container runtime reads it: a name whose first path component is not a host (contains no "." or ":" and
is not "localhost") is on Docker Hub, so "nginx:1.27" is matched as "docker.io/library/nginx:1.27",
"bitnami/redis" as "docker.io/bitnami/redis" and "docker.io/nginx" as "docker.io/library/nginx"; references
naming a host are matched as written ("index.docker.io/…" is not rewritten). End host entries with "/":
"registry.example.com" would also match "registry.example.com.evil.io/x" and "registry.example.com:5000/x"
(kubeharden warns about entries without "/"). An entry can name a repository path
("registry.example.com/team-a/") to narrow the trust. The option has no default: a profile leaves the
control off (with a warning) until registries are listed, and enabling it without registries is an error.
Mirrors and pull-through caches rewrite pulls on the node, which admission cannot see: list the names
written in the manifests.`,
  category: 'Images (NSA/CISA)',
  severity: 'high',
  nsa: ['NSA-POD-3'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  options: {
    registries: opt.strings(
      'Allowed prefixes of the canonical image reference, e.g. "registry.example.com/" or "docker.io/library/". No default: required.',
      ['registry.example.com/', 'docker.io/library/', 'ghcr.io/example-org/', 'registry.k8s.io/'],
    ),
  },
  defaults: () => ({ registries: [] }),
  requiredOptions: ['registries'],
  sampleOptions: { registries: ['docker.io/library/', 'localhost/', 'registry.example.com/'] },
  lintOptions: (o) =>
    (Array.isArray(o.registries) ? o.registries : []).flatMap((r, index) =>
      typeof r === 'string' && !r.includes('/')
        ? [{ option: 'registries', index, message: `"${r}" has no "/", so it also matches "${r}.evil.example/…" and "${r}:5000/…"`, hint: `write "${r}/" to allow exactly that registry` }]
        : [],
    ),
  params: { registries: 'strings' },
  lower: (o) => ({ registries: [...new Set(o.registries)].sort() }),
  samples: [
    sample('listed-registry', 'allow', pod('listed')),
    ...perContainerList('unlisted-registry', 'deny', { image: 'quay.io/example/app:1.0' }),
    ...perContainerList('host-prefix-lookalike', 'deny', { image: 'registry.example.com.evil.io/app:1.0' }),
    ...perContainerList('listed-registry-with-digest', 'allow', {
      image: 'registry.example.com/app@sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000',
    }),
    inList('registry-port', 'deny', 'containers', { image: 'registry.example.com:5000/app:1.0' }),
    inList('docker-hub-official-short', 'allow', 'containers', { image: 'nginx:1.27' }),
    inList('docker-hub-official-explicit', 'allow', 'containers', { image: 'docker.io/nginx:1.27' }),
    inList('docker-hub-official-library', 'allow', 'containers', { image: 'docker.io/library/nginx:1.27' }),
    inList('docker-hub-user-repository', 'deny', 'containers', { image: 'bitnami/nginx:1.27' }),
    inList('docker-hub-user-repository-explicit', 'deny', 'containers', { image: 'docker.io/bitnami/nginx:1.27' }),
    inList('localhost', 'allow', 'containers', { image: 'localhost/app:1.0' }),
    inList('localhost-lookalike', 'deny', 'containers', { image: 'localhost.evil.io/app:1.0' }),
    sample('image-volume-listed', 'allow', pod('volume-listed', imageVolume('registry.example.com/models/llm:1'))),
    sample('image-volume-unlisted', 'deny', pod('volume-unlisted', imageVolume('quay.io/example/models:1'))),
  ],
});
