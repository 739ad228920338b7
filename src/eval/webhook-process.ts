/**
 * What the engines' admission controllers need to run as webhooks of the test API server
 * (src/eval/gatekeeper-webhook.ts, src/eval/kyverno-webhook.ts): their CRDs established, an admin kubeconfig,
 * and the process itself with its recent output kept for failure messages.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningControlPlane } from '../engines/apiserver.js';
import { EngineError } from '../engines/index.js';
import { statusMessage } from './apiserver.js';
import type { Obj } from './review.js';

/** What an engine's webhook said about one request: what denied it and what warned (sorted), in the engine's terms. */
export interface WebhookVerdict {
  readonly denies: readonly string[];
  readonly warns: readonly string[];
  /** The request failed for another reason than a denial by the engine (the message). */
  readonly other?: string;
}

/** POSTs an object; an existing one (409) is kept. */
export async function createOrKeep(cp: RunningControlPlane, path: string, body: Obj, what: string): Promise<void> {
  const r = await cp.request('POST', path, body);
  if (r.status !== 201 && r.status !== 200 && r.status !== 409) throw new EngineError('webhook_setup', `creating ${what}: HTTP ${r.status}: ${statusMessage(r)}`);
}

/** Polls `check` every 200 ms until it returns a value other than undefined; throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>, detail: () => string = () => ''): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() - started > ms) throw new EngineError('webhook_timeout', `${what}: not done within ${Math.round(ms / 1000)} s${detail() ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates the CRDs (existing ones kept) and the namespace, and waits until every CRD is established. */
export async function installCrds(cp: RunningControlPlane, crds: readonly Obj[], namespace: string): Promise<void> {
  for (const crd of crds) await createOrKeep(cp, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd, `CRD ${String((crd['metadata'] as Obj)['name'])}`);
  for (const crd of crds) {
    const name = String((crd['metadata'] as Obj)['name']);
    await waitFor(`CRD ${name} established`, 60_000, async () => {
      const r = await cp.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      const conditions = (((r.body as Obj | undefined)?.['status'] as Obj | undefined)?.['conditions'] ?? []) as Obj[];
      return conditions.some((c) => c['type'] === 'Established' && c['status'] === 'True') ? true : undefined;
    });
  }
  await createOrKeep(cp, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, `namespace ${namespace}`);
}

/** Writes `<dir>/kubeconfig` for the control plane's admin token (its serving certificate is self-signed) and returns its path. */
export function writeKubeconfig(dir: string, cp: RunningControlPlane): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kubeharden', cluster: { server: cp.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token: cp.token } }],
      contexts: [{ name: 'kubeharden', context: { cluster: 'kubeharden', user: 'admin' } }],
      'current-context': 'kubeharden',
    }),
    { mode: 0o600 },
  );
  return path;
}

export interface WebhookProcess {
  /** The last lines it printed (colour codes removed). */
  output(): string;
  /** Throws when the process has exited. */
  alive(): void;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export function startWebhookProcess(what: string, binary: string, args: readonly string[], env: NodeJS.ProcessEnv): WebhookProcess {
  const child = spawn(binary, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let exited: string | undefined;
  const keep = (buf: Buffer): void => {
    for (const l of buf.toString('utf8').replace(/\x1b\[[0-9;]*m/g, '').split('\n')) if (l.trim()) lines.push(l.slice(0, 2000));
    if (lines.length > 400) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
  });
  child.once('error', (err) => {
    exited = `could not start (${err.message})`;
  });
  const output = (): string => lines.slice(-60).join('\n');
  return {
    output,
    alive() {
      if (exited) throw new EngineError('webhook_exited', `${what} ${exited}:\n${output()}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || exited) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

/**
 * Sets `spec.validationActions` of every object (a Kyverno ValidatingPolicy, a ValidatingAdmissionPolicyBinding)
 * that denies or warns as generated: `Warn` turns Deny into Warn, `Audit` turns Deny and Warn into Audit (the
 * object then says nothing in the response). The actions are computed from the generated objects, so either
 * call restores the other's. Returns the names patched.
 */
export async function validationActionsAs(cp: RunningControlPlane, objects: readonly Obj[], as: 'Warn' | 'Audit', pathOf: (o: Obj, name: string) => string, code: string): Promise<string[]> {
  const patched: string[] = [];
  for (const o of objects) {
    const actions = ((o['spec'] ?? {}) as Obj)['validationActions'];
    if (!Array.isArray(actions) || !actions.some((a) => a === 'Deny' || a === 'Warn')) continue;
    const name = String(((o['metadata'] ?? {}) as Obj)['name']);
    const to = [...new Set(actions.map((a) => (a === 'Deny' || a === 'Warn' ? as : String(a))))];
    const r = await cp.request('PATCH', pathOf(o, name), { spec: { validationActions: to } });
    if (r.status !== 200) throw new EngineError(code, `setting ${String(o['kind'])} ${name}'s actions to ${to.join(', ')}: HTTP ${r.status}: ${statusMessage(r)}`);
    patched.push(name);
  }
  return patched;
}
