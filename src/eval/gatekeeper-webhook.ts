/**
 * Gatekeeper as a real admission webhook of the pinned kube-apiserver (src/engines/apiserver.ts): the
 * manager of the pinned release runs out of the cluster on loopback, and the bundle's gatekeeper/ objects are
 * applied through the API as a user applies them, so the API server itself calls Gatekeeper for every request.
 *
 * Out of a cluster the manager needs (read from its v3.23 sources): its CRDs (the chart's crds/ folder of the
 * same module, from the Go module cache) and namespace; `--debug-use-fake-pod` (it loads a template or
 * constraint only after reading its own Pod, which does not exist here); `--disable-cert-rotation` with a
 * serving certificate of our own for 127.0.0.1 (its rotator can only issue a certificate for the in-cluster
 * Service name), and the ValidatingWebhookConfiguration written by us (without the rotator it never touches
 * one): `url: https://127.0.0.1:<port>/v1/admit`, our CA, `failurePolicy: Fail` so that a webhook that is
 * down shows as failed requests, not as admitted ones. Only the `webhook`, `status` and `generate` operations
 * run: `generate` creates each template's constraint CRD, the status controllers report per constraint
 * whether the webhook enforces it (`status.byPod[].enforced`); generating VAPs from templates stays off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freePort, type RunningControlPlane } from '../engines/apiserver.js';
import { goModDownload } from '../engines/go-helper.js';
import { EngineError, type Logger } from '../engines/index.js';
import { GATEKEEPER_MANAGER, ensureWebhookEngine } from '../engines/webhooks.js';
import { statusMessage, type Admission } from './apiserver.js';
import type { ConstraintTemplate } from '../backends/gatekeeper/types.js';
import type { Obj } from './review.js';
import { createOrKeep, installCrds, startWebhookProcess, waitFor, writeKubeconfig, type WebhookProcess, type WebhookVerdict } from './webhook-process.js';

export const GATEKEEPER_NAMESPACE = 'gatekeeper-system';
/** The name Gatekeeper's own controllers look for (pkg/webhook/common.go). */
const WEBHOOK_CONFIGURATION = 'gatekeeper-validating-webhook-configuration';
const WEBHOOK_NAME = 'validation.gatekeeper.sh';
/** The id the manager reports its status under with `--debug-use-fake-pod`. */
const FAKE_POD = 'no-pod';

export interface RunningGatekeeper {
  /** The manager's recent output (for failure messages). */
  output(): string;
  /** Removes the webhook configuration, then stops the manager. */
  stop(): Promise<void>;
}

/** The CRDs of the pinned release: the Helm chart's crds/ folder (plain YAML) from the Go module cache. */
export function gatekeeperCrds(): Obj[] {
  const dir = (goModDownload(GATEKEEPER_MANAGER.module, GATEKEEPER_MANAGER.version)).dir;
  const crdDir = join(dir, 'charts', 'gatekeeper', 'crds');
  const out: Obj[] = [];
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(crdDir, f), 'utf8'))) {
      const o = d.toJS() as Obj | null;
      if (o && o['kind'] === 'CustomResourceDefinition') out.push(o);
    }
  }
  if (out.length === 0) throw new EngineError('gatekeeper_crds', `no CustomResourceDefinition in ${crdDir}`);
  return out;
}

/** A CA and a serving certificate for 127.0.0.1 (openssl), valid one day. */
function webhookCertificates(dir: string): { caPem: string } {
  const openssl = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new EngineError('openssl_failed', `\`openssl ${args.join(' ')}\` failed: ${r.error ? r.error.message : r.stderr.trim()}${r.error ? ' (install openssl: it makes the webhook certificates)' : ''}`, { cause: r.error });
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=kubeharden webhook CA']);
  openssl(['req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'san.ext']);
  return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8') };
}

function httpGetStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpGet(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Installs Gatekeeper's CRDs and namespace, starts the manager against the API server and registers its
 * validating webhook. Returns once the manager is ready and the webhook configuration exists.
 */
export async function startGatekeeper(cp: RunningControlPlane, log: Logger): Promise<RunningGatekeeper> {
  const binary = await ensureWebhookEngine(GATEKEEPER_MANAGER, log);
  const started = Date.now();
  await installCrds(cp, gatekeeperCrds(), GATEKEEPER_NAMESPACE);

  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-gatekeeper-'));
  let proc: WebhookProcess | undefined;
  const output = (): string => proc?.output() ?? '';
  const stop = async (): Promise<void> => {
    // The webhook fails closed: its registration goes before the manager does.
    const r = await cp.request('DELETE', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`);
    if (r.status !== 200 && r.status !== 404) log(`kubeharden: could not remove the Gatekeeper webhook configuration: HTTP ${r.status}: ${statusMessage(r)}`);
    await proc?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { caPem } = webhookCertificates(dir);
    const [port, health, prometheus] = [await freePort(), await freePort(), await freePort()];
    const args = [
      `--kubeconfig=${writeKubeconfig(dir, cp)}`,
      '--debug-use-fake-pod',
      '--disable-cert-rotation',
      `--cert-dir=${dir}`,
      '--host=127.0.0.1',
      `--port=${port}`,
      `--health-addr=127.0.0.1:${health}`,
      `--prometheus-port=${prometheus}`,
      '--metrics-addr=0',
      '--operation=webhook',
      '--operation=status',
      // The template controller creates a template's constraint CRD only under `generate`.
      '--operation=generate',
      '--disable-opa-builtin={http.send}',
      '--default-create-vap-for-templates=false',
      '--default-create-vap-binding-for-constraints=false',
      '--log-level=WARNING',
    ];
    proc = startWebhookProcess('the Gatekeeper manager', binary, args, { ...process.env, POD_NAMESPACE: GATEKEEPER_NAMESPACE, POD_NAME: FAKE_POD });
    await waitFor(
      'the Gatekeeper manager /readyz',
      180_000,
      async () => {
        proc!.alive();
        return (await httpGetStatus(`http://127.0.0.1:${health}/readyz`)) === 200 ? true : undefined;
      },
      output,
    );
    await createOrKeep(
      cp,
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: WEBHOOK_CONFIGURATION },
        webhooks: [
          {
            name: WEBHOOK_NAME,
            clientConfig: { url: `https://127.0.0.1:${port}/v1/admit`, caBundle: Buffer.from(caPem).toString('base64') },
            admissionReviewVersions: ['v1', 'v1beta1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            matchPolicy: 'Exact',
            timeoutSeconds: 10,
            namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [GATEKEEPER_NAMESPACE] }] },
            // As Gatekeeper's own manifest (every resource, and the subresources its policies can judge), plus
            // what the bundle README tells users to add (`validatingWebhookCustomRules`): namespaces/status and
            // namespaces/finalize, through which a Namespace can be relabelled.
            rules: [
              {
                apiGroups: ['*'],
                apiVersions: ['*'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['*', 'pods/ephemeralcontainers', 'services/status', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale', 'replicationcontrollers/scale', 'namespaces/status', 'namespaces/finalize'],
              },
            ],
          },
        ],
      },
      'the Gatekeeper ValidatingWebhookConfiguration',
    );
    log(`kubeharden: Gatekeeper ${GATEKEEPER_MANAGER.version} serving admission at 127.0.0.1:${port} (${Math.round((Date.now() - started) / 1000)} s)`);
    return { output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface GatekeeperObjects {
  readonly templates: readonly ConstraintTemplate[];
  readonly constraints: readonly object[];
  readonly expansions: readonly object[];
}

const name = (o: object): string => String(((o as Obj)['metadata'] as Obj | undefined)?.['name'] ?? '');

/**
 * Gatekeeper reports errors in an object's status while it reconciles, some of them transient (under load a
 * template's CRD creation is retried and reports "already exists" once): an error counts once it has stayed
 * for ERROR_GRACE_MS. Returns a function to call with each poll's errors; it throws a lasting one.
 */
const ERROR_GRACE_MS = 10_000;
function lastingErrors(what: string): (errors: readonly unknown[]) => void {
  let since: number | undefined;
  return (errors) => {
    if (!errors.length) {
      since = undefined;
      return;
    }
    since ??= Date.now();
    if (Date.now() - since >= ERROR_GRACE_MS) throw new EngineError('gatekeeper_apply', `${what}: ${JSON.stringify(errors).slice(0, 2000)}`);
  };
}

/** Waits until this manager's `status.byPod` entry of a constraint has seen its generation and enforces it. */
async function waitEnforced(cp: RunningControlPlane, gk: RunningGatekeeper, c: object): Promise<void> {
  const kind = String((c as Obj)['kind']);
  const lasting = lastingErrors(`Gatekeeper reports errors for constraint ${kind}/${name(c)}`);
  await waitFor(
    `constraint ${kind}/${name(c)} enforced by the Gatekeeper webhook`,
    120_000,
    async () => {
      const r = await cp.request('GET', `/apis/constraints.gatekeeper.sh/v1beta1/${kind.toLowerCase()}/${name(c)}`);
      const entry = byPod(r.body);
      lasting(((entry?.['errors'] ?? []) as Obj[]));
      if (entry && ((entry['errors'] ?? []) as Obj[]).length) return undefined;
      return entry && entry['enforced'] === true && generationSeen(r.body, entry) ? true : undefined;
    },
    gk.output,
  );
}

const byPod = (o: unknown): Obj | undefined => (((((o as Obj | undefined)?.['status'] as Obj | undefined)?.['byPod'] ?? []) as Obj[]).find((p) => p['id'] === FAKE_POD));
const generationSeen = (o: unknown, entry: Obj): boolean => Number(entry['observedGeneration'] ?? 0) >= Number((((o as Obj)['metadata'] as Obj)['generation'] as number | undefined) ?? 1);

/**
 * Sets every constraint that denies or warns as generated to `dryrun` (`quiet`: it says nothing in the
 * response) or back to its generated action, and waits until the webhook has seen each change.
 */
export async function gatekeeperQuiet(cp: RunningControlPlane, gk: RunningGatekeeper, constraints: readonly object[], quiet: boolean): Promise<void> {
  for (const c of constraints) {
    const action = String(((c as Obj)['spec'] as Obj | undefined)?.['enforcementAction'] ?? 'deny');
    if (action !== 'deny' && action !== 'warn') continue;
    const kind = String((c as Obj)['kind']).toLowerCase();
    const r = await cp.request('PATCH', `/apis/constraints.gatekeeper.sh/v1beta1/${kind}/${name(c)}`, { spec: { enforcementAction: quiet ? 'dryrun' : action } });
    if (r.status !== 200) throw new EngineError('gatekeeper_apply', `setting constraint ${name(c)} to ${quiet ? 'dryrun' : action}: HTTP ${r.status}: ${statusMessage(r)}`);
    await waitEnforced(cp, gk, c);
  }
}

/**
 * Applies the bundle's Gatekeeper objects through the API (templates, then the constraints of the kinds
 * they define, then the expansion templates) and waits until the webhook enforces every constraint and
 * has loaded every template and expansion template (their `status.byPod` entry of this manager).
 */
export async function applyGatekeeperObjects(cp: RunningControlPlane, gk: RunningGatekeeper, objects: GatekeeperObjects, log: Logger): Promise<void> {
  const started = Date.now();
  const fail = (what: string, r: { status: number; body: unknown }): never => {
    throw new EngineError('gatekeeper_apply', `${what}: HTTP ${r.status}: ${statusMessage(r as never)}`);
  };
  for (const t of objects.templates) {
    const r = await cp.request('POST', '/apis/templates.gatekeeper.sh/v1/constrainttemplates', t);
    if (r.status !== 201) fail(`ConstraintTemplate ${name(t)}`, r);
  }
  // Each template's constraint kind is a CRD Gatekeeper creates once it has compiled the template.
  for (const t of objects.templates) {
    const kind = t.spec.crd.spec.names.kind;
    const lasting = lastingErrors(`Gatekeeper refuses ConstraintTemplate ${name(t)}`);
    await waitFor(
      `ConstraintTemplate ${name(t)} created by Gatekeeper`,
      120_000,
      async () => {
        const r = await cp.request('GET', `/apis/templates.gatekeeper.sh/v1/constrainttemplates/${name(t)}`);
        const status = ((r.body as Obj | undefined)?.['status'] ?? {}) as Obj;
        const errors = ((status['byPod'] ?? []) as Obj[]).flatMap((p) => (p['errors'] ?? []) as Obj[]);
        lasting(errors);
        if (errors.length || status['created'] !== true) return undefined;
        const crd = await cp.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${kind.toLowerCase()}.constraints.gatekeeper.sh`);
        const conditions = (((crd.body as Obj | undefined)?.['status'] as Obj | undefined)?.['conditions'] ?? []) as Obj[];
        return conditions.some((c) => c['type'] === 'Established' && c['status'] === 'True') ? true : undefined;
      },
      gk.output,
    );
  }
  for (const c of objects.constraints) {
    const kind = String((c as Obj)['kind']).toLowerCase();
    const r = await cp.request('POST', `/apis/constraints.gatekeeper.sh/v1beta1/${kind}`, c);
    if (r.status !== 201) fail(`constraint ${String((c as Obj)['kind'])}/${name(c)}`, r);
  }
  for (const e of objects.expansions) {
    // The CRD's plural is singular: expansiontemplate.
    const r = await cp.request('POST', '/apis/expansion.gatekeeper.sh/v1beta1/expansiontemplate', e);
    if (r.status !== 201) fail(`ExpansionTemplate ${name(e)}`, r);
  }
  for (const c of objects.constraints) await waitEnforced(cp, gk, c);
  for (const e of objects.expansions) {
    const lasting = lastingErrors(`Gatekeeper reports errors for ExpansionTemplate ${name(e)}`);
    await waitFor(
      `ExpansionTemplate ${name(e)} loaded by Gatekeeper`,
      120_000,
      async () => {
        const r = await cp.request('GET', `/apis/expansion.gatekeeper.sh/v1beta1/expansiontemplate/${name(e)}`);
        const entry = byPod(r.body);
        lasting(((entry?.['errors'] ?? []) as Obj[]));
        if (entry && ((entry['errors'] ?? []) as Obj[]).length) return undefined;
        return entry && generationSeen(r.body, entry) ? true : undefined;
      },
      gk.output,
    );
  }
  log(`kubeharden: Gatekeeper enforces ${objects.templates.length} templates, ${objects.constraints.length} constraints, ${objects.expansions.length} expansion templates (${Math.round((Date.now() - started) / 1000)} s)`);
}


const DENIED = `admission webhook "${WEBHOOK_NAME}" denied the request: `;

/** Reads Gatekeeper's denial (`[constraint] message` lines) and warnings of the given constraints from a response. */
export function gatekeeperVerdict(a: Admission, constraints: ReadonlySet<string>): WebhookVerdict {
  const lines = (text: string): string[] => {
    const out: string[] = [];
    // A message may hold newlines of its own: a line that does not open with a known constraint continues the previous one.
    for (const l of text.split('\n')) {
      const m = /^\[([^\]]+)\] ([\s\S]*)$/.exec(l);
      if (m && constraints.has(m[1]!)) out.push(`${m[1]}: ${m[2]}`);
      else if (out.length) out[out.length - 1] += `\n${l}`;
    }
    return out;
  };
  const warns = a.warnings.flatMap((w) => (/^\[([^\]]+)\] /.exec(w) && constraints.has(/^\[([^\]]+)\] /.exec(w)![1]!) ? lines(w) : [])).sort();
  if (a.allowed) return { denies: [], warns };
  const at = a.message.indexOf(DENIED);
  if (at < 0) return { denies: [], warns, other: a.message };
  return { denies: lines(a.message.slice(at + DENIED.length)).sort(), warns };
}
