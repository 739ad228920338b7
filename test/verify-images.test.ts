/**
 * Kyverno `verifyImages` end to end, offline: the real Kyverno CLI (`kyverno apply --registry`) resolves
 * images in a registry the test runs on 127.0.0.1 (test/support/oci-registry.ts) and verifies cosign
 * signatures made here with P-256 keys. Signed with the policy's key → pass; unsigned or signed with another
 * key → fail naming the image; an image outside imageReferences → no verdict (and a second local registry
 * holding it receives no request);
 * Deployments through auto-gen; digest-pinned references.
 *
 * Kyverno is a separate process that calls back into this one, so it must be spawned asynchronously
 * (`capture`): a synchronous spawn would block the event loop that serves the registry.
 *
 * What the Kyverno 1.19 CLI does here: go-containerregistry speaks plain HTTP to `127.0.0.1:<port>` and
 * `localhost:<port>` alike; verifyImages reaches the registry with or without `--registry` (that flag only
 * feeds registry data into policy context; it is passed for clarity); each verified image gets two results
 * per rule (`verified image signatures for <ref>` / `image verified`, or `failed to verify image <ref>: …` /
 * `unverified image <repo>@<digest>`); an image outside imageReferences gets no result at all (no skip);
 * the payload's docker-manifest-digest must match the image, its docker-reference is not compared.
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import type { ObjectsFile } from '../src/backends/types.js';
import { toYaml } from '../src/emit/yaml.js';
import { capture, ensureEngine } from '../src/engines/index.js';
import { kyvernoArgs, parseKyvernoOutput, resourceKey, type EngineFindings } from '../src/eval/engines.js';
import { wildcardRegex } from '../src/backends/kyverno/image-validating.js';
import type { Obj } from '../src/eval/review.js';
import { crdSchema, schemaErrors, validator } from './schema.js';
import { sha256, signatureTag, startRegistry, type OciRegistry } from './support/oci-registry.js';

const policyValidator = validator(crdSchema('kyverno.io_clusterpolicies.yaml', 'v1'));
const ivpValidator = validator(crdSchema('policies.kyverno.io_imagevalidatingpolicies.yaml', 'v1'));

interface ReportResult {
  policy: string;
  rule: string;
  result: string;
  message?: string;
  resources: { kind: string; namespace?: string; name: string }[];
}

interface Verdicts {
  /** Report results per `Kind/namespace/name`. */
  readonly results: Map<string, ReportResult[]>;
  /** The same run through the repo's own parser (failures only). */
  readonly findings: EngineFindings;
  readonly stdout: string;
  readonly stderr: string;
}

const NS = 'apps';
const pod = (name: string, image: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: { containers: [{ name: 'main', image }] },
});
const deployment = (name: string, image: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
  },
});

const pem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;

/** A ClusterPolicy with one verifyImages rule: images under `pattern` must carry a cosign signature by `publicKey`. */
function handWrittenPolicy(pattern: string, publicKey: string): Obj {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'verify-signatures' },
    spec: {
      background: false,
      webhookTimeoutSeconds: 30,
      rules: [
        {
          name: 'signed-by-release-key',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              imageReferences: [pattern],
              failureAction: 'Enforce',
              attestors: [{ count: 1, entries: [{ keys: { publicKeys: publicKey, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } }] }],
            },
          ],
        },
      ],
    },
  };
}

async function kyvernoApply(policies: readonly Obj[], resources: readonly Obj[], extraArgs: readonly string[] = []): Promise<Verdicts> {
  const kyverno = await ensureEngine('kyverno');
  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-verify-images-'));
  try {
    writeFileSync(join(dir, 'policies.yaml'), toYaml(policies, { header: false }));
    writeFileSync(join(dir, 'resources.yaml'), toYaml(resources, { header: false }));
    const r = await capture(kyverno, [...kyvernoArgs(join(dir, 'policies.yaml'), join(dir, 'resources.yaml')), '--registry', ...extraArgs]);
    const start = r.stdout.indexOf('{"kind"');
    if (start < 0) throw new Error(`kyverno apply produced no report (exit ${r.code}): ${r.stderr}${r.stdout}`);
    const report = JSON.parse(r.stdout.slice(start)) as { results?: ReportResult[] };
    const results = new Map<string, ReportResult[]>();
    for (const x of report.results ?? []) {
      for (const res of x.resources) {
        const key = resourceKey(res.kind, res.namespace, res.name);
        results.set(key, [...(results.get(key) ?? []), x]);
      }
    }
    // The repo's parser reads ClusterPolicy reports (the ValidatingPolicy backend extends it).
    const findings = policies.every((p) => p['kind'] === 'ClusterPolicy') ? parseKyvernoOutput(r, policies) : new Map();
    return { results, findings, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Kyverno verifyImages against a local registry with cosign signatures', () => {
  let registry: OciRegistry;
  /** A second registry holding the image outside imageReferences: it must never be asked anything. */
  let outsideRegistry: OciRegistry;
  const releaseKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let host: string;
  const digests: Record<string, string> = {};
  let images: Record<'signed' | 'unsigned' | 'otherKey' | 'pinned' | 'outside' | 'webSigned' | 'webUnsigned', string>;

  beforeAll(async () => {
    registry = await startRegistry();
    host = registry.host;
    digests['api'] = registry.addImage('team/api', '1.0');
    registry.sign('team/api', digests['api'], releaseKey.privateKey);
    digests['worker'] = registry.addImage('team/worker', '1.0');
    digests['tool'] = registry.addImage('team/tool', '2.3');
    registry.sign('team/tool', digests['tool'], otherKey.privateKey);
    digests['web'] = registry.addImage('web', 'stable');
    registry.sign('web', digests['web'], releaseKey.privateKey);
    digests['webCanary'] = registry.addImage('web', 'canary');
    outsideRegistry = await startRegistry();
    digests['outside'] = outsideRegistry.addImage('team/api', '1.0');
    outsideRegistry.sign('team/api', digests['outside'], releaseKey.privateKey);
    images = {
      signed: `${host}/team/api:1.0`,
      unsigned: `${host}/team/worker:1.0`,
      otherKey: `${host}/team/tool:2.3`,
      pinned: `${host}/team/api@${digests['api']}`,
      outside: `${outsideRegistry.host}/team/api:1.0`,
      webSigned: `${host}/web:stable`,
      webUnsigned: `${host}/web:canary`,
    };
  });

  afterAll(async () => {
    await registry?.close();
    await outsideRegistry?.close();
  });

  const resources = (): Obj[] => [
    pod('signed', images.signed),
    pod('unsigned', images.unsigned),
    pod('other-key', images.otherKey),
    pod('pinned', images.pinned),
    pod('outside', images.outside),
    deployment('web-signed', images.webSigned),
    deployment('web-unsigned', images.webUnsigned),
  ];

  const podKey = (name: string): string => resourceKey('Pod', NS, name);
  const deployKey = (name: string): string => resourceKey('Deployment', NS, name);

  /** The verdicts one set of policies must give; `rule` is the verifyImages rule's name. */
  async function expectVerdicts(policies: Obj[], rule: string): Promise<void> {
    const before = registry.requests.length;
    const outsideBefore = outsideRegistry.requests.length;
    const v = await kyvernoApply(policies, resources());
    const context = `kyverno stdout:\n${v.stdout}\nstderr:\n${v.stderr}`;
    const of = (key: string): ReportResult[] => v.results.get(key) ?? [];
    const outcomes = (key: string): string[] => [...new Set(of(key).map((x) => x.result))].sort();
    const messages = (key: string): string => of(key).map((x) => x.message ?? '').join('\n');

    // Nothing errored: every verdict is a pass or a fail of the verifyImages rule (or its auto-gen twin).
    for (const [key, list] of v.results) {
      for (const x of list) {
        expect(['pass', 'fail'], `${key}: ${x.result} ${x.message ?? ''}`).toContain(x.result);
        expect([rule, `autogen-${rule}`], key).toContain(x.rule);
      }
    }

    // Signed with the policy's key, by tag and pinned by digest: verified.
    expect(outcomes(podKey('signed')), context).toEqual(['pass']);
    expect(messages(podKey('signed'))).toContain(`verified image signatures for ${images.signed}`);
    expect(outcomes(podKey('pinned')), context).toEqual(['pass']);
    expect(messages(podKey('pinned'))).toContain(`verified image signatures for ${images.pinned}`);

    // No signature at all, or one by another key: refused, naming the image and the reason.
    expect(outcomes(podKey('unsigned')), context).toEqual(['fail']);
    expect(messages(podKey('unsigned'))).toContain(`failed to verify image ${images.unsigned}`);
    expect(messages(podKey('unsigned'))).toContain('no signatures found');
    expect(outcomes(podKey('other-key')), context).toEqual(['fail']);
    expect(messages(podKey('other-key'))).toContain(`failed to verify image ${images.otherKey}`);
    expect(messages(podKey('other-key'))).toContain('no matching signatures');

    // Outside imageReferences: no verdict, and Kyverno never asked any registry about it.
    expect(of(podKey('outside')), context).toEqual([]);

    // Deployments through auto-gen: the Pod template's image decides.
    expect(outcomes(deployKey('web-signed')), context).toEqual(['pass']);
    expect(of(deployKey('web-signed')).map((x) => x.rule)).toContain(`autogen-${rule}`);
    expect(outcomes(deployKey('web-unsigned')), context).toEqual(['fail']);
    expect(messages(deployKey('web-unsigned'))).toContain(`failed to verify image ${images.webUnsigned}`);

    // The repo's own parser of `kyverno apply` output sees exactly the refused resources.
    expect([...v.findings.keys()].sort()).toEqual([deployKey('web-unsigned'), podKey('other-key'), podKey('unsigned')].sort());

    // The verdicts came from this registry: Kyverno read the signature manifests of the images it verified.
    const served = registry.requests.slice(before).map((q) => `${q.method} ${q.path} ${q.status}`);
    expect(served).toContain(`GET /v2/team/api/manifests/${signatureTag(digests['api']!)} 200`);
    expect(served).toContain(`GET /v2/team/worker/manifests/${signatureTag(digests['worker']!)} 404`);
    expect(served).toContain(`GET /v2/web/manifests/${signatureTag(digests['web']!)} 200`);
    // The image outside imageReferences lives in a second registry on another port: not one request reached it.
    expect(outsideRegistry.requests.slice(outsideBefore), context).toEqual([]);
  }

  it('the test registry speaks the distribution API', async () => {
    const get = (path: string, method = 'GET'): Promise<Response> => fetch(`http://${host}${path}`, { method });
    expect((await get('/v2/')).status).toBe(200);

    const byTag = await get('/v2/team/api/manifests/1.0');
    expect(byTag.status).toBe(200);
    expect(byTag.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(byTag.headers.get('docker-content-digest')).toBe(digests['api']);
    const body = Buffer.from(await byTag.arrayBuffer());
    expect(sha256(body)).toBe(digests['api']);
    const manifest = JSON.parse(body.toString('utf8')) as { config: { digest: string; size: number }; layers: { digest: string }[] };
    expect(manifest.layers).toHaveLength(1);

    const head = await get(`/v2/team/api/manifests/${digests['api']}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(digests['api']);
    expect(head.headers.get('content-length')).toBe(String(body.length));

    const config = await get(`/v2/team/api/blobs/${manifest.config.digest}`);
    const configBytes = Buffer.from(await config.arrayBuffer());
    expect(sha256(configBytes)).toBe(manifest.config.digest);
    expect(configBytes.length).toBe(manifest.config.size);
    expect((await get(`/v2/team/api/blobs/${manifest.layers[0]!.digest}`, 'HEAD')).status).toBe(200);

    // The signature: one simple-signing layer whose payload names the image digest, signed by the release key.
    const sig = JSON.parse(await (await get(`/v2/team/api/manifests/${signatureTag(digests['api']!)}`)).text()) as { layers: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    expect(sig.layers.map((l) => l.mediaType)).toEqual(['application/vnd.dev.cosign.simplesigning.v1+json']);
    const payload = Buffer.from(await (await get(`/v2/team/api/blobs/${sig.layers[0]!.digest}`)).arrayBuffer());
    expect(JSON.parse(payload.toString('utf8'))).toEqual({
      critical: { identity: { 'docker-reference': `${host}/team/api` }, image: { 'docker-manifest-digest': digests['api'] }, type: 'cosign container image signature' },
      optional: {},
    });
    const signature = Buffer.from(sig.layers[0]!.annotations['dev.cosignproject.cosign/signature']!, 'base64');
    expect(verify('sha256', payload, releaseKey.publicKey, signature)).toBe(true);
    expect(verify('sha256', payload, otherKey.publicKey, signature)).toBe(false);

    // Unknown things: 404 with the distribution error body.
    const missing = await get(`/v2/team/worker/manifests/${signatureTag(digests['worker']!)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('MANIFEST_UNKNOWN');
    expect(((await (await get('/v2/nope/manifests/1.0')).json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NAME_UNKNOWN');
    expect(((await (await get(`/v2/team/api/blobs/sha256:${'0'.repeat(64)}`)).json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('BLOB_UNKNOWN');
    expect((await get('/v2/_catalog')).status).toBe(404);
    expect((await get('/v2/team/api/manifests/1.0', 'PUT')).status).toBe(405);

    // The second registry serves the image kept outside imageReferences (so silence from it means something).
    const outside = await fetch(`http://${outsideRegistry.host}/v2/team/api/manifests/1.0`);
    expect(outside.status).toBe(200);
    expect(outside.headers.get('docker-content-digest')).toBe(digests['outside']);
    expect(outsideRegistry.host).not.toBe(host);
  });

  it('a hand-written policy validates against the Kyverno CRD schema', () => {
    expect(schemaErrors(policyValidator, handWrittenPolicy(`${host}/*`, pem(releaseKey.publicKey)))).toEqual([]);
  });

  it('verifies signatures with a hand-written verifyImages policy', async () => {
    await expectVerdicts([handWrittenPolicy(`${host}/*`, pem(releaseKey.publicKey))], 'signed-by-release-key');
  }, 120_000);

  /** The legacy Kyverno ClusterPolicies the bundle holds for the verify-image-signatures control with these options. */
  function compiledPolicies(options: Record<string, unknown>): Obj[] {
    const result = compile({ name: 'sig', profile: 'pss-baseline', kyverno: { policyType: 'ClusterPolicy' }, controls: { 'verify-image-signatures': { options } } }, { today: '2026-11-26' });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const file = result.clusters[0]!.files.find((f) => f.path === 'kyverno/verify-image-signatures.yaml') as ObjectsFile | undefined;
    expect(file, 'kyverno/verify-image-signatures.yaml in the bundle').toBeDefined();
    const policies = file!.objects as Obj[];
    for (const p of policies) expect(schemaErrors(policyValidator, p)).toEqual([]);
    return policies;
  }
  const verifyImagesRules = (policies: readonly Obj[]): string[] =>
    policies.flatMap((p) => ((p['spec'] as { rules: { name: string; verifyImages?: unknown }[] }).rules).filter((r) => r.verifyImages).map((r) => r.name));

  it('verifies signatures with the policy compiled for the verify-image-signatures control', async () => {
    const policies = compiledPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false });
    const rules = verifyImagesRules(policies);
    expect(rules).toHaveLength(1);
    await expectVerdicts(policies, rules[0]!);
  }, 120_000);

  it('the compiled policy accepts a signature by any one of its public keys', async () => {
    const policies = compiledPolicies({ images: [`${host}/*`], publicKeys: [pem(otherKey.publicKey), pem(releaseKey.publicKey)], transparencyLog: false });
    const v = await kyvernoApply(policies, [pod('signed', images.signed), pod('other-key', images.otherKey), pod('unsigned', images.unsigned)]);
    const outcomes = (name: string): string[] => [...new Set((v.results.get(podKey(name)) ?? []).map((x) => x.result))];
    expect(outcomes('signed'), v.stdout + v.stderr).toEqual(['pass']);
    expect(outcomes('other-key'), v.stdout + v.stderr).toEqual(['pass']);
    expect(outcomes('unsigned'), v.stdout + v.stderr).toEqual(['fail']);
  }, 120_000);

  it('with mutateDigest false the compiled policy verifies tags without requiring a digest (verifyDigest follows it)', async () => {
    const policies = compiledPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false, mutateDigest: false });
    const rule = (policies[0] as { spec: { rules: { verifyImages: { verifyDigest: boolean; mutateDigest: boolean }[] }[] } }).spec.rules[0]!.verifyImages[0]!;
    expect(rule).toMatchObject({ mutateDigest: false, verifyDigest: false });
    const v = await kyvernoApply(policies, [pod('signed', images.signed), pod('pinned', images.pinned), pod('unsigned', images.unsigned)]);
    const of = (name: string): string[] => [...new Set((v.results.get(podKey(name)) ?? []).map((x) => x.result))];
    expect(of('pinned'), v.stdout + v.stderr).toEqual(['pass']);
    expect(of('signed'), v.stdout + v.stderr).toEqual(['pass']);
    expect(of('unsigned'), v.stdout + v.stderr).toEqual(['fail']);
  }, 120_000);

  it('the verdicts swap when the policy trusts the other key instead', async () => {
    const v = await kyvernoApply([handWrittenPolicy(`${host}/*`, pem(otherKey.publicKey))], [pod('signed', images.signed), pod('other-key', images.otherKey)]);
    const outcomes = (name: string): string[] => [...new Set((v.results.get(podKey(name)) ?? []).map((x) => x.result))];
    expect(outcomes('signed'), v.stdout + v.stderr).toEqual(['fail']);
    expect(outcomes('other-key'), v.stdout + v.stderr).toEqual(['pass']);
  }, 120_000);

  // --- The same control as a policies.kyverno.io/v1 ImageValidatingPolicy (kyverno.policyType 'ValidatingPolicy').

  /** The ImageValidatingPolicies the bundle holds for the control, validated against the v1 CRD schema. */
  function imageValidatingPolicies(options: Record<string, unknown>, extra: Record<string, unknown> = {}): Obj[] {
    const result = compile(
      { name: 'sig', profile: 'pss-baseline', kyverno: { policyType: 'ValidatingPolicy' }, controls: { 'verify-image-signatures': { options } }, ...extra },
      { today: '2026-11-26' },
    );
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const file = result.clusters[0]!.files.find((f) => f.path === 'kyverno/verify-image-signatures.yaml') as ObjectsFile | undefined;
    expect(file, 'kyverno/verify-image-signatures.yaml in the bundle').toBeDefined();
    const policies = file!.objects as Obj[];
    for (const p of policies) {
      expect([p['apiVersion'], p['kind']]).toEqual(['policies.kyverno.io/v1', 'ImageValidatingPolicy']);
      expect(schemaErrors(ivpValidator, p)).toEqual([]);
    }
    return policies;
  }

  /** A Pod template in each of the seven workload controllers. */
  function workloads(name: string, image: string): Obj[] {
    const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } };
    const selector = { matchLabels: { app: name } };
    const m = (apiVersion: string, kind: string, spec: Obj): Obj => ({ apiVersion, kind, metadata: { name: `${name}-${kind.toLowerCase()}`, namespace: NS }, spec });
    return [
      m('apps/v1', 'Deployment', { selector, template }),
      m('apps/v1', 'DaemonSet', { selector, template }),
      m('apps/v1', 'StatefulSet', { selector, serviceName: name, template }),
      m('apps/v1', 'ReplicaSet', { selector, template }),
      m('v1', 'ReplicationController', { selector: { app: name }, template }),
      m('batch/v1', 'Job', { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } }),
      m('batch/v1', 'CronJob', { schedule: '0 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } }),
    ];
  }

  /** Results per resource key, with the CLI run under --warnings-as-errors (the v1 types carry no deprecation). */
  async function ivpVerdicts(policies: Obj[], resources: Obj[]): Promise<{ of: (key: string) => string[]; messages: (key: string) => string; v: Verdicts }> {
    const v = await kyvernoApply(policies, resources, ['--warnings-as-errors']);
    for (const [key, list] of v.results) for (const x of list) expect(['pass', 'fail'], `${key}: ${x.result} ${x.message ?? ''}\n${v.stdout}`).toContain(x.result);
    expect(v.stdout).not.toMatch(/deprecat/i);
    return {
      of: (key) => [...new Set((v.results.get(key) ?? []).map((x) => x.result))].sort(),
      messages: (key) => (v.results.get(key) ?? []).map((x) => x.message ?? '').join('\n'),
      v,
    };
  }

  it('ImageValidatingPolicy: the compiled policy verifies Pods, refuses unsigned and foreign-key images naming them, never asks about images outside its patterns', async () => {
    const policies = imageValidatingPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false });
    expect(policies.map((p) => (p['metadata'] as Obj)['name'])).toEqual(['verify-image-signatures']);
    const outsideBefore = outsideRegistry.requests.length;
    const before = registry.requests.length;
    const { of, messages, v } = await ivpVerdicts(policies, [pod('signed', images.signed), pod('pinned', images.pinned), pod('unsigned', images.unsigned), pod('other-key', images.otherKey), pod('outside', images.outside)]);
    const ctx = v.stdout + v.stderr;
    expect(of(podKey('signed')), ctx).toEqual(['pass']);
    expect(of(podKey('pinned')), ctx).toEqual(['pass']);
    expect(of(podKey('unsigned')), ctx).toEqual(['fail']);
    expect(messages(podKey('unsigned'))).toContain(`no valid signature by a trusted key or identity: ${images.unsigned}`);
    expect(of(podKey('other-key')), ctx).toEqual(['fail']);
    expect(messages(podKey('other-key'))).toContain(images.otherKey);
    // Outside the patterns: nothing to verify (a pass with no image), and its registry was never asked.
    expect(of(podKey('outside')), ctx).toEqual(['pass']);
    expect(outsideRegistry.requests.slice(outsideBefore)).toEqual([]);
    const served = registry.requests.slice(before).map((q) => `${q.method} ${q.path} ${q.status}`);
    expect(served).toContain(`GET /v2/team/api/manifests/${signatureTag(digests['api']!)} 200`);
    expect(served).toContain(`GET /v2/team/worker/manifests/${signatureTag(digests['worker']!)} 404`);
  }, 180_000);

  it('ImageValidatingPolicy: all seven workload controllers are checked through their Pod template, ReplicationController included', async () => {
    const policies = imageValidatingPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false });
    const signed = workloads('good', images.webSigned);
    const unsigned = workloads('bad', images.webUnsigned);
    const { of, v } = await ivpVerdicts(policies, [...signed, ...unsigned]);
    const key = (o: Obj): string => resourceKey(o['kind'], NS, (o['metadata'] as Obj)['name']);
    expect(new Set([...signed, ...unsigned].map((o) => o['kind'])).size).toBe(7);
    for (const o of signed) expect(of(key(o)), `${key(o)}\n${v.stdout}`).toEqual(['pass']);
    for (const o of unsigned) expect(of(key(o)), `${key(o)}\n${v.stdout}`).toEqual(['fail']);
  }, 180_000);

  it('ImageValidatingPolicy: any one of several keys suffices; init and ephemeral containers are checked too', async () => {
    const policies = imageValidatingPolicies({ images: [`${host}/*`], publicKeys: [pem(otherKey.publicKey), pem(releaseKey.publicKey)], transparencyLog: false });
    const withInit = { ...pod('init-unsigned', images.signed), spec: { containers: [{ name: 'main', image: images.signed }], initContainers: [{ name: 'init', image: images.unsigned }] } };
    const withEphemeral = { ...pod('ephemeral-unsigned', images.signed), spec: { containers: [{ name: 'main', image: images.signed }], ephemeralContainers: [{ name: 'debug', image: images.unsigned }] } };
    const { of, v } = await ivpVerdicts(policies, [pod('signed', images.signed), pod('other-key', images.otherKey), pod('unsigned', images.unsigned), withInit, withEphemeral]);
    expect(of(podKey('signed')), v.stdout).toEqual(['pass']);
    expect(of(podKey('other-key')), v.stdout).toEqual(['pass']);
    expect(of(podKey('unsigned')), v.stdout).toEqual(['fail']);
    expect(of(podKey('init-unsigned')), v.stdout).toEqual(['fail']);
    expect(of(podKey('ephemeral-unsigned')), v.stdout).toEqual(['fail']);
  }, 180_000);

  it('ImageValidatingPolicy: image and name exceptions, exempt namespaces; mutateDigest makes a digest mandatory (verifyDigest)', async () => {
    const exceptions = [
      { control: 'verify-image-signatures', images: [`${host}/team/worker*`], reason: 'test', expires: '2027-01-01' },
      { control: 'verify-image-signatures', names: ['legacy-*'], reason: 'test', expires: '2027-01-01' },
    ];
    const policies = imageValidatingPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false }, { exceptions, exemptNamespaces: ['ops'] });
    const inOps = { ...pod('in-ops', images.otherKey), metadata: { name: 'in-ops', namespace: 'ops' } };
    const { of, v } = await ivpVerdicts(policies, [pod('worker', images.unsigned), pod('legacy-tool', images.otherKey), pod('tool', images.otherKey), inOps]);
    // The excepted image is not verified; the excepted name and the exempt namespace get no verdict at all.
    expect(of(podKey('worker')), v.stdout).toEqual(['pass']);
    expect(of(podKey('legacy-tool')), v.stdout).toEqual([]);
    expect(of(resourceKey('Pod', 'ops', 'in-ops')), v.stdout).toEqual([]);
    expect(of(podKey('tool')), v.stdout).toEqual(['fail']);

    const pinning = imageValidatingPolicies({ images: [`${host}/*`], publicKeys: [pem(releaseKey.publicKey)], transparencyLog: false, mutateDigest: true });
    expect(((pinning[0]!['spec'] as Obj)['validationConfigurations'] as Obj)).toEqual({ mutateDigest: true, verifyDigest: true, required: true });
    const d = await ivpVerdicts(pinning, [pod('signed', images.signed), pod('pinned', images.pinned)]);
    expect(d.of(podKey('pinned')), d.v.stdout).toEqual(['pass']);
    // `kyverno apply` validates without the mutation: a tag alone is refused for lacking the digest.
    expect(d.of(podKey('signed')), d.v.stdout).toEqual(['fail']);
    expect(d.messages(podKey('signed'))).toContain(`image ${images.signed} does not have a digest`);
  }, 180_000);

  it('ImageValidatingPolicy: Kyverno wildcards become anchored RE2 patterns', () => {
    expect(wildcardRegex('registry.example.com/*')).toBe('(?s)^registry\\.example\\.com/.*$');
    expect(wildcardRegex('ghcr.io/org/app:v?.*')).toBe('(?s)^ghcr\\.io/org/app:v.\\..*$');
    expect(wildcardRegex('a+b(c)[d]{e}|^$\\')).toBe('(?s)^a\\+b\\(c\\)\\[d\\]\\{e\\}\\|\\^\\$\\\\$');
    const re = (p: string): RegExp => new RegExp(wildcardRegex(p).replace('(?s)', ''), 's');
    expect(re('registry.example.com/*').test('registry.example.com/team/api:1.0')).toBe(true);
    expect(re('registry.example.com/*').test('registryXexample.com/team/api:1.0')).toBe(false);
    expect(re('registry.example.com/*').test('evil.io/registry.example.com/x')).toBe(false);
  });
});
