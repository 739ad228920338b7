import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, perContainerList, pod, sample } from '../samples.js';
import { check } from './cel.js';

const DIGEST = 'sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000';
const PINNED = { image: `registry.example.com/app@${DIGEST}` };
const imageVolume = (reference: string) => ({ volumes: [{ name: 'model', image: { reference } }] });

export default defineControl({
  id: 'require-image-digest',
  title: 'Require images pinned by digest',
  description: 'Images (containers and image volumes) must be pinned by @sha256 digest.',
  details: `NSA/CISA "building secure container images": a digest names exactly the image that was scanned and
approved. Every image (init, regular and ephemeral containers, spec.volumes[*].image.reference) must end in
"@sha256:" followed by 64 lower-case hex digits; a tag may come before it ("app:1.0@sha256:…", which runs the
digest). Other algorithms and malformed digests fail. Resolving tags to digests is a mutating step (e.g. a
mutating webhook or the CI pipeline) that has to run before this validation.`,
  category: 'Images (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-3'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NO_OPTIONS,
  samples: [
    sample('tag-only', 'deny', pod('tagged')),
    ...perContainerList('digest', 'allow', PINNED, { base: PINNED }),
    ...perContainerList('tag', 'deny', { image: 'registry.example.com/app:1.0' }, { base: PINNED }),
    inList('tag-and-digest', 'allow', 'containers', { image: `registry.example.com/app:1.0@${DIGEST}` }),
    inList('short-digest', 'deny', 'containers', { image: 'registry.example.com/app@sha256:0f0e0d0c' }),
    inList('upper-case-digest', 'deny', 'containers', { image: `registry.example.com/app@${DIGEST.toUpperCase().replace('SHA256', 'sha256')}` }),
    inList('sha512-digest', 'deny', 'containers', { image: `registry.example.com/app@sha512:${'ab'.repeat(64)}` }),
    inList('registry-port-digest', 'allow', 'containers', { image: `registry.example.com:5000/app@${DIGEST}` }),
    sample('image-volume-digest', 'allow', pod('volume-digest', { containers: [{ name: 'app', ...PINNED }], ...imageVolume(`registry.example.com/model@${DIGEST}`) })),
    sample('image-volume-tag', 'deny', pod('volume-tag', { containers: [{ name: 'app', ...PINNED }], ...imageVolume('registry.example.com/model:1') })),
  ],
});
