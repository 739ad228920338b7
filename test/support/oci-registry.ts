/**
 * A minimal, read-only OCI distribution registry for tests: node:http on 127.0.0.1 (a free port), content
 * added in-process. It serves what an image client needs to resolve and read images and their cosign
 * signatures:
 *
 * - `GET /v2/` → 200 (the API version check);
 * - `GET|HEAD /v2/<name>/manifests/<tag|digest>` with `Content-Type` and `Docker-Content-Digest`;
 * - `GET|HEAD /v2/<name>/blobs/<digest>`;
 * - everything else → 404 (405 for other methods) with the distribution spec's `{"errors":[…]}` body.
 *
 * Signatures follow cosign's storage format: for an image `<name>@sha256:<hex>`, an OCI image manifest tagged
 * `sha256-<hex>.sig` in the same repository, one layer per signature. Each layer is a "simple signing"
 * payload (media type `application/vnd.dev.cosign.simplesigning.v1+json`) naming the image's repository and
 * manifest digest; its annotation `dev.cosignproject.cosign/signature` holds the base64 ASN.1/DER ECDSA
 * signature of the payload bytes (SHA-256). No transparency log entry or certificate is attached, so a
 * verifier must be told to skip those checks.
 */
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

interface Repository {
  /** Manifest bytes by digest. */
  readonly manifests: Map<string, Buffer>;
  /** Tag → manifest digest. */
  readonly tags: Map<string, string>;
  readonly blobs: Map<string, Buffer>;
}

export interface RegistryRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface OciRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  readonly host: string;
  /** Every request served so far, in order. */
  readonly requests: readonly RegistryRequest[];
  /** Adds a tiny image (config blob + one gzipped, empty tar layer) under `name:tag`; returns its manifest digest. */
  addImage(name: string, tag: string): string;
  /**
   * Stores a cosign signature of `name@digest` made with `privateKey` (an EC P-256 key); signing the same
   * image again adds a layer to its signature manifest, as cosign does. Returns the signature tag.
   */
  sign(name: string, digest: string, privateKey: KeyObject): string;
  close(): Promise<void>;
}

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ROUTE = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;

/** The cosign signature tag of a manifest digest: `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return `${digest.replace(':', '-')}.sig`;
}

/** The simple signing payload that cosign signs for `repository@digest` (repository includes the registry host). */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': digest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional: {},
    }),
  );
}

/** A POSIX tar archive with no entries: two 512-byte zero blocks. */
const EMPTY_TAR = Buffer.alloc(1024);

export async function startRegistry(): Promise<OciRegistry> {
  const repos = new Map<string, Repository>();
  const requests: RegistryRequest[] = [];

  const repo = (name: string): Repository => {
    if (!NAME.test(name)) throw new Error(`invalid repository name: ${name}`);
    let r = repos.get(name);
    if (!r) {
      r = { manifests: new Map(), tags: new Map(), blobs: new Map() };
      repos.set(name, r);
    }
    return r;
  };
  const putBlob = (r: Repository, mediaType: string, data: Buffer): Descriptor => {
    const digest = sha256(data);
    r.blobs.set(digest, data);
    return { mediaType, size: data.length, digest };
  };
  const putManifest = (r: Repository, tag: string, manifest: Manifest): string => {
    if (!TAG.test(tag)) throw new Error(`invalid tag: ${tag}`);
    const body = Buffer.from(JSON.stringify(manifest));
    const digest = sha256(body);
    r.manifests.set(digest, body);
    r.tags.set(tag, digest);
    return digest;
  };

  const server: Server = createServer((req, res) => {
    const status = handle(req, res);
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
  });

  function handle(req: IncomingMessage, res: ServerResponse): number {
    const path = new URL(req.url ?? '/', 'http://registry').pathname;
    const head = req.method === 'HEAD';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (req.method !== 'GET' && !head) return error(res, 405, 'UNSUPPORTED', 'the operation is unsupported');
    if (path === '/v2/' || path === '/v2') return send(res, 200, 'application/json', Buffer.from('{}'), head);
    const m = ROUTE.exec(path);
    if (!m) return error(res, 404, 'NOT_FOUND', 'not found');
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    const r = repos.get(name);
    if (!r) return error(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
    if (kind === 'blobs') {
      const blob = r.blobs.get(ref);
      if (!blob) return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest: ref });
      res.setHeader('Docker-Content-Digest', ref);
      return send(res, 200, 'application/octet-stream', blob, head);
    }
    const digest = DIGEST.test(ref) ? ref : r.tags.get(ref);
    const body = digest === undefined ? undefined : r.manifests.get(digest);
    if (digest === undefined || !body) return error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference: ref });
    res.setHeader('Docker-Content-Digest', digest);
    return send(res, 200, OCI_MANIFEST, body, head);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    host,
    requests,
    addImage(name, tag) {
      const r = repo(name);
      const layer = putBlob(r, OCI_LAYER_GZIP, gzipSync(EMPTY_TAR));
      const config = {
        architecture: 'amd64',
        os: 'linux',
        // The label makes every name:tag a distinct image (and digest).
        config: { Labels: { 'org.opencontainers.image.ref.name': `${name}:${tag}` } },
        rootfs: { type: 'layers', diff_ids: [sha256(EMPTY_TAR)] },
      };
      const configDesc = putBlob(r, OCI_CONFIG, Buffer.from(JSON.stringify(config)));
      return putManifest(r, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [layer] });
    },
    sign(name, digest, privateKey) {
      const r = repos.get(name);
      if (!r?.manifests.has(digest)) throw new Error(`no image ${name}@${digest} to sign`);
      const tag = signatureTag(digest);
      const payload = simpleSigningPayload(`${host}/${name}`, digest);
      // For EC keys node:crypto produces the ASN.1/DER signature encoding, which is what cosign stores.
      const signature = cryptoSign('sha256', payload, privateKey).toString('base64');
      const layer: Descriptor = { ...putBlob(r, SIMPLE_SIGNING, payload), annotations: { [SIGNATURE_ANNOTATION]: signature } };
      const existing = r.tags.get(tag);
      const previous = existing === undefined ? [] : (JSON.parse(r.manifests.get(existing)!.toString('utf8')) as Manifest).layers;
      const layers = [...previous, layer];
      const config = {
        architecture: '',
        os: '',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      };
      const configDesc = putBlob(r, OCI_CONFIG, Buffer.from(JSON.stringify(config)));
      putManifest(r, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers });
      return tag;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      });
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: Buffer, head: boolean): number {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(body.length) });
  res.end(head ? undefined : body);
  return status;
}

function error(res: ServerResponse, status: number, code: string, message: string, detail?: unknown): number {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] }));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  res.end(body);
  return status;
}
