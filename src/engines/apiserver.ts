/**
 * A real Kubernetes control plane on loopback: etcd and kube-apiserver (src/engines/control-plane.ts),
 * started with a bundle's own control-plane files (admission configuration, audit policy, encryption
 * configuration), in a temporary folder removed on stop.
 *
 * The API server listens on 127.0.0.1 only, authenticates one static-token admin (system:masters) and
 * authorizes with Node,RBAC. etcd listens on loopback without TLS (the checklist's etcd mTLS is a node
 * setting, not something a test of the bundle's files needs). A KMS provider cannot run here (there is no
 * KMS plugin): it is replaced by aescbc with a random key generated per start, as is an aescbc key
 * placeholder; every other provider and the resource list stay as the bundle wrote them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { EngineError, type Logger } from './index.js';
import { ensureControlPlane, type ControlPlaneBinaries } from './control-plane.js';

/** The bundle's control-plane files (YAML text), each optional. */
export interface ControlPlaneFiles {
  readonly admissionConfiguration?: string;
  readonly auditPolicy?: string;
  readonly encryptionConfiguration?: string;
}

export interface StartOptions {
  readonly files: ControlPlaneFiles;
  readonly log?: Logger;
  /** How long to wait for /readyz (default 180 s: a loaded 2-core machine takes 20–60 s). */
  readonly readyTimeoutMs?: number;
  readonly binaries?: ControlPlaneBinaries;
}

export interface ApiResponse {
  readonly status: number;
  /** Parsed JSON body (the raw text when it is not JSON). */
  readonly body: unknown;
  /** The texts of the response's `Warning: 299 - "…"` headers, in order. */
  readonly warnings: readonly string[];
}

export interface RunningControlPlane {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly token: string;
  /** http://127.0.0.1:<port> */
  readonly etcdUrl: string;
  readonly auditLogPath: string;
  /** The encryption configuration the API server runs with (the bundle's, keys filled in). */
  readonly encryptionConfiguration?: string;
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** The raw value of an etcd key (etcd's v3 JSON gateway), or undefined when the key does not exist. */
  etcdGet(key: string): Promise<Buffer | undefined>;
  /** Peak resident memory (VmHWM) of each process in kB, while they run. */
  peakMemoryKb(): { etcd?: number; apiserver?: number };
  /** Stops both processes (SIGTERM, then SIGKILL after 10 s) and removes the temporary folder. */
  stop(): Promise<void>;
}

const ADMIN_TOKEN_USER = 'kubeharden-admin';

/** A free loopback TCP port (bound and released: the small race is acceptable for a local test server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The encryption configuration to start with: `kms` providers become aescbc with a random key (no KMS plugin
 * runs here), aescbc key placeholders get random keys. Throws when the text is not an EncryptionConfiguration.
 */
export function fillEncryptionKeys(text: string): string {
  const doc = parseYaml(text) as { kind?: string; resources?: { providers?: Record<string, unknown>[] }[] };
  if (!doc || doc.kind !== 'EncryptionConfiguration' || !Array.isArray(doc.resources)) throw new EngineError('apiserver_config', 'the encryption configuration is not an EncryptionConfiguration with resources');
  const key = (): string => randomBytes(32).toString('base64');
  for (const r of doc.resources) {
    r.providers = (r.providers ?? []).map((p) => {
      if ('kms' in p) return { aescbc: { keys: [{ name: 'kubeharden-test-key', secret: key() }] } };
      if ('aescbc' in p) {
        const a = p['aescbc'] as { keys?: { name: string; secret: string }[] };
        return { aescbc: { ...a, keys: (a.keys ?? []).map((k) => (/^[A-Za-z0-9+/]{43}=$/.test(k.secret) ? k : { ...k, secret: key() })) } };
      }
      return p;
    });
  }
  return stringifyYaml(doc);
}

function tail(lines: string[], text: string, max = 40): void {
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    lines.push(l);
    if (lines.length > max) lines.shift();
  }
}

/** Starts etcd and kube-apiserver; resolves when /readyz answers `ok`. Throws (after cleaning up) otherwise. */
export async function startControlPlane(options: StartOptions): Promise<RunningControlPlane> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const bins = options.binaries ?? (await ensureControlPlane(log));
  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-apiserver-'));
  const procs: { name: string; child: ChildProcess; tail: string[]; exited?: string }[] = [];
  const killAll = (): void => {
    for (const p of procs) if (p.exited === undefined) p.child.kill('SIGKILL');
  };
  // A test runner that exits without calling stop() must not leave the servers running.
  process.once('exit', killAll);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killAll);
    // The API server first: it would log etcd connection errors while etcd goes away.
    for (const p of [...procs].reverse()) {
      if (p.exited !== undefined) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          p.child.kill('SIGKILL');
          setTimeout(resolve, 2_000);
        }, 10_000);
        p.child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        p.child.kill('SIGTERM');
      });
    }
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });
  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const start = (name: string, bin: string, args: string[]): { name: string; child: ChildProcess; tail: string[]; exited?: string } => {
      const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const p: { name: string; child: ChildProcess; tail: string[]; exited?: string } = { name, child, tail: [] };
      child.stdout!.on('data', (b: Buffer) => tail(p.tail, b.toString('utf8')));
      child.stderr!.on('data', (b: Buffer) => tail(p.tail, b.toString('utf8')));
      child.on('exit', (code, signal) => {
        p.exited = signal ?? String(code);
      });
      child.on('error', (e) => {
        p.exited = e.message;
      });
      procs.push(p);
      return p;
    };
    const etcd = start('etcd', bins.etcd, [
      '--name=kubeharden',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=kubeharden=http://127.0.0.1:${peerPort}`,
      // A throw-away single member: durability is not what is tested, and fsync is slow on a shared disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);

    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},${ADMIN_TOKEN_USER},${ADMIN_TOKEN_USER},"system:masters"\n`, { mode: 0o600 });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const auditLogPath = join(dir, 'audit.log');
    const args = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The kubernetes Service's endpoints are not reconciled: a loopback address is refused for them, and
      // nothing here reaches the API server through the Service.
      '--endpoint-reconciler-type=none',
      `--secure-port=${securePort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--anonymous-auth=false',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // Privileged containers reach admission (kubeadm's setting); without it validation rejects them first.
      '--allow-privileged=true',
      '--profiling=false',
      '--tls-min-version=VersionTLS12',
    ];
    const f = options.files;
    if (f.admissionConfiguration !== undefined) {
      writeFileSync(join(dir, 'admission-configuration.yaml'), f.admissionConfiguration);
      args.push(`--admission-control-config-file=${join(dir, 'admission-configuration.yaml')}`);
    }
    if (f.auditPolicy !== undefined) {
      writeFileSync(join(dir, 'audit-policy.yaml'), f.auditPolicy);
      args.push(`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLogPath}`, '--audit-log-format=json', '--audit-log-mode=blocking');
    }
    let encryptionConfiguration: string | undefined;
    if (f.encryptionConfiguration !== undefined) {
      encryptionConfiguration = fillEncryptionKeys(f.encryptionConfiguration);
      writeFileSync(join(dir, 'encryption-config.yaml'), encryptionConfiguration, { mode: 0o600 });
      args.push(`--encryption-provider-config=${join(dir, 'encryption-config.yaml')}`);
    }
    const url = `https://127.0.0.1:${securePort}`;
    const request = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        const req = httpsRequest(
          `${url}${path}`,
          {
            method,
            agent,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              ...(data ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'content-length': data.length } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // Not JSON (e.g. /readyz): keep the text.
              }
              const warnings: string[] = [];
              for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
                if (res.rawHeaders[i]!.toLowerCase() !== 'warning') continue;
                const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(res.rawHeaders[i + 1]!);
                warnings.push(m ? m[1]!.replace(/\\(.)/g, '$1') : res.rawHeaders[i + 1]!);
              }
              resolve({ status: res.statusCode ?? 0, body: parsed, warnings });
            });
            res.on('error', reject);
          },
        );
        req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: no answer within 120 s`)));
        req.on('error', reject);
        if (data) req.end(data);
        else req.end();
      });
    const etcdGet = (key: string): Promise<Buffer | undefined> =>
      new Promise((resolve, reject) => {
        const data = Buffer.from(JSON.stringify({ key: Buffer.from(key).toString('base64') }));
        const req = httpRequest(`${etcdUrl}/v3/kv/range`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) return reject(new EngineError('etcd_failed', `etcd range ${key}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
            const kvs = (JSON.parse(text) as { kvs?: { value?: string }[] }).kvs;
            resolve(kvs?.[0]?.value === undefined ? undefined : Buffer.from(kvs[0].value, 'base64'));
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(data);
      });

    const started = Date.now();
    const timeout = options.readyTimeoutMs ?? 180_000;
    // etcd first: the API server gives up when etcd does not answer for a while.
    for (;;) {
      if (etcd.exited !== undefined) throw new EngineError('apiserver_start', `etcd exited (${etcd.exited}) before it was healthy:\n${etcd.tail.join('\n')}`);
      const ok = await new Promise<boolean>((resolve) => {
        const req = httpRequest(`${etcdUrl}/health`, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) break;
      if (Date.now() - started > timeout) throw new EngineError('apiserver_start', `etcd was not healthy after ${timeout / 1000} s:\n${etcd.tail.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const apiserver = start('kube-apiserver', bins.kubeApiserver, args);
    let last = '';
    for (;;) {
      if (apiserver.exited !== undefined) throw new EngineError('apiserver_start', `kube-apiserver exited (${apiserver.exited}) before it was ready:\n${apiserver.tail.join('\n')}`);
      try {
        const r = await request('GET', '/readyz');
        if (r.status === 200) break;
        last = `HTTP ${r.status}: ${String(typeof r.body === 'string' ? r.body : JSON.stringify(r.body)).slice(0, 2000)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() - started > timeout) throw new EngineError('apiserver_start', `kube-apiserver was not ready after ${timeout / 1000} s (last /readyz: ${last}); its output ends with:\n${apiserver.tail.join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`kubeharden: kube-apiserver ready at ${url} (${Math.round((Date.now() - started) / 1000)} s)`);
    const vmHwm = (p: { child: ChildProcess; exited?: string }): number | undefined => {
      if (p.exited !== undefined || p.child.pid === undefined) return undefined;
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    };
    return {
      url,
      token,
      etcdUrl,
      auditLogPath,
      ...(encryptionConfiguration !== undefined ? { encryptionConfiguration } : {}),
      request,
      etcdGet,
      peakMemoryKb: () => {
        const e = vmHwm(etcd);
        const a = vmHwm(apiserver);
        return { ...(e !== undefined ? { etcd: e } : {}), ...(a !== undefined ? { apiserver: a } : {}) };
      },
      stop,
    };
  } catch (err) {
    killAll();
    await stop();
    throw err;
  }
}
