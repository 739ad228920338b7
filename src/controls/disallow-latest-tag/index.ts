import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { inList, perContainerList, pod, runningPodUpdates, sample } from '../samples.js';
import { check } from './cel.js';

const DIGEST = 'sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000';
/** A Pod admitted before the policy existed, running a latest image. */
const RUNNING = pod('running-latest', { containers: [{ name: 'app', image: 'registry.example.com/app:latest' }] });
const imageVolume = (reference: string) => ({ volumes: [{ name: 'model', image: { reference } }] });

export default defineControl({
  id: 'disallow-latest-tag',
  title: 'Disallow the latest tag and untagged images',
  description: 'Images (containers and image volumes) must name a tag other than latest, or a digest.',
  details: `NSA/CISA "building secure container images": a mutable tag makes what runs unreviewable. Every image
(init, regular and ephemeral containers, spec.volumes[*].image.reference) fails when its tag is "latest"
(exact, case-sensitive; also next to a digest, where the tag is misleading) or when it has neither a tag nor
a digest (an untagged name pulls latest). The tag is the part after ":" in the last path component, before
any "@": "registry.example.com:5000/app" is untagged (5000 is a port) and fails; "app@sha256:…" (digest,
no tag) passes. Other mutable tags (stable, main) are not detected: require-image-digest is the strict
form.`,
  category: 'Images (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-3'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  ...NO_OPTIONS,
  samples: [
    sample('tagged', 'allow', pod('tagged')),
    ...perContainerList('latest', 'deny', { image: 'registry.example.com/app:latest' }),
    ...perContainerList('untagged', 'deny', { image: 'registry.example.com/app' }),
    ...perContainerList('digest-only', 'allow', { image: `registry.example.com/app@${DIGEST}` }),
    inList('registry-port-untagged', 'deny', 'containers', { image: 'registry.example.com:5000/app' }),
    inList('registry-port-tagged', 'allow', 'containers', { image: 'registry.example.com:5000/app:1.0' }),
    inList('registry-port-latest', 'deny', 'containers', { image: 'registry.example.com:5000/team/app:latest' }),
    inList('latest-with-digest', 'deny', 'containers', { image: `registry.example.com/app:latest@${DIGEST}` }),
    inList('tag-with-digest', 'allow', 'containers', { image: `registry.example.com/app:1.0@${DIGEST}` }),
    inList('bare-name-untagged', 'deny', 'containers', { image: 'nginx' }),
    inList('bare-name-latest', 'deny', 'containers', { image: 'nginx:latest' }),
    inList('tag-containing-latest', 'allow', 'containers', { image: 'registry.example.com/app:latest-2024' }),
    inList('upper-case-latest-is-another-tag', 'allow', 'containers', { image: 'registry.example.com/app:LATEST' }),
    sample('image-volume-tagged', 'allow', pod('volume-tagged', imageVolume('registry.example.com/model:1'))),
    sample('image-volume-latest', 'deny', pod('volume-latest', imageVolume('registry.example.com/model:latest'))),
    sample('image-volume-untagged', 'deny', pod('volume-untagged', imageVolume('registry.example.com/model'))),
    // Updates are evaluated as PSA does: a metadata-only change to a Pod that predates the policy passes.
    ...runningPodUpdates(RUNNING, 'registry.example.com/app'),
  ],
});
