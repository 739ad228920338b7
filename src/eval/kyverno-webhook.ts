/**
 * Kyverno as a real admission webhook of the pinned kube-apiserver (src/engines/apiserver.ts): the admission
 * controller of the Kyverno CLI's release runs out of the cluster on loopback, and the bundle's Kyverno
 * policies are applied through the API, so the API server itself calls Kyverno for every request.
 *
 * Out of a cluster the controller needs (read from its v1.19 sources): its CRDs (config/crds of the same
 * module, from the Go module cache) and namespace; `--serverIP=127.0.0.1:<port>` (with the port: it is the
 * webhook URL's host part, and it turns off the checks that need its Deployment); the six environment
 * variables it refuses to start without; the names of its CA and TLS Secrets. It elects itself leader (a
 * Lease), makes its own CA and serving certificate for that IP and registers its webhook configurations
 * itself, as in a cluster. Generating ValidatingAdmissionPolicies from policies and admission reports are
 * off: the verdicts are the webhook's.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freePort, type RunningControlPlane } from '../engines/apiserver.js';
import { goModDownload } from '../engines/go-helper.js';
import { EngineError, type Logger } from '../engines/index.js';
import { KYVERNO_ADMISSION, ensureWebhookEngine } from '../engines/webhooks.js';
import { statusMessage, type Admission } from './apiserver.js';
import type { Obj } from './review.js';
import { createOrKeep, installCrds, startWebhookProcess, validationActionsAs, waitFor, writeKubeconfig, type WebhookProcess, type WebhookVerdict } from './webhook-process.js';

export const KYVERNO_NAMESPACE = 'kyverno';
const TLS_SECRET = 'kyverno-svc.kyverno.svc.kyverno-tls-pair';
const CA_SECRET = 'kyverno-svc.kyverno.svc.kyverno-tls-ca';

export interface RunningKyverno {
  output(): string;
  /** Stops the controller, then removes the webhook configurations it registered. */
  stop(): Promise<void>;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? yamlFiles(join(dir, f)) : f.endsWith('.yaml') ? [join(dir, f)] : []));
}

/** The CRDs of the pinned release (config/crds, every group) from the Go module cache. */
export function kyvernoCrds(): Obj[] {
  const dir = join(goModDownload(KYVERNO_ADMISSION.module, KYVERNO_ADMISSION.version).dir, 'config', 'crds');
  const out: Obj[] = [];
  for (const f of yamlFiles(dir)) {
    for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) {
      const o = d.toJS() as Obj | null;
      if (o && o['kind'] === 'CustomResourceDefinition') out.push(o);
    }
  }
  if (out.length === 0) throw new EngineError('kyverno_crds', `no CustomResourceDefinition under ${dir}`);
  return out;
}

/** The webhook configurations Kyverno registers (all named `kyverno-…`). */
async function kyvernoWebhookConfigurations(cp: RunningControlPlane): Promise<{ kind: string; name: string }[]> {
  const out: { kind: string; name: string }[] = [];
  for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
    const r = await cp.request('GET', `/apis/admissionregistration.k8s.io/v1/${kind}`);
    for (const item of ((r.body as Obj | undefined)?.['items'] ?? []) as Obj[]) {
      const name = String((item['metadata'] as Obj)['name']);
      if (name.startsWith('kyverno-')) out.push({ kind, name });
    }
  }
  return out;
}

/**
 * Installs Kyverno's CRDs and namespace and starts the admission controller against the API server. Returns
 * once it serves with its own certificate and has registered its resource webhook configuration.
 */
export async function startKyverno(cp: RunningControlPlane, log: Logger): Promise<RunningKyverno> {
  const binary = await ensureWebhookEngine(KYVERNO_ADMISSION, log);
  const started = Date.now();
  await installCrds(cp, kyvernoCrds(), KYVERNO_NAMESPACE);

  const dir = mkdtempSync(join(tmpdir(), 'kubeharden-kyverno-'));
  let proc: WebhookProcess | undefined;
  const output = (): string => proc?.output() ?? '';
  const stop = async (): Promise<void> => {
    await proc?.stop();
    // Out of a cluster Kyverno leaves its webhook configurations behind (failurePolicy Fail): remove them.
    for (const w of await kyvernoWebhookConfigurations(cp)) {
      const r = await cp.request('DELETE', `/apis/admissionregistration.k8s.io/v1/${w.kind}/${w.name}`);
      if (r.status !== 200 && r.status !== 404) log(`kubeharden: could not remove Kyverno's ${w.name}: HTTP ${r.status}: ${statusMessage(r)}`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Every port its own (free) one: another Kyverno may run beside it (two test files at once), and its
    // metrics server listens even with --disableMetrics (8000 by default).
    const [port, metrics] = [await freePort(), await freePort()];
    const args = [
      `--kubeconfig=${writeKubeconfig(dir, cp)}`,
      `--serverIP=127.0.0.1:${port}`,
      '--webhookServerHost=127.0.0.1',
      `--webhookServerPort=${port}`,
      `--caSecretName=${CA_SECRET}`,
      `--tlsSecretName=${TLS_SECRET}`,
      '--controllerRuntimeMetricsAddress=0',
      '--disableMetrics',
      `--metricsPort=${metrics}`,
      '--profilePort=0',
      '--generateValidatingAdmissionPolicy=false',
      '--admissionReports=false',
      '--enablePolicyException=true',
    ];
    const env = {
      ...process.env,
      KYVERNO_NAMESPACE,
      KYVERNO_SERVICEACCOUNT_NAME: 'kyverno-admission-controller',
      KYVERNO_DEPLOYMENT: 'kyverno-admission-controller',
      KYVERNO_POD_NAME: 'kubeharden-local',
      INIT_CONFIG: 'kyverno',
      METRICS_CONFIG: 'kyverno-metrics',
    };
    proc = startWebhookProcess('the Kyverno admission controller', binary, args, env);
    await waitFor(
      "Kyverno's serving certificate and resource webhook configuration",
      180_000,
      async () => {
        proc!.alive();
        const tls = await cp.request('GET', `/api/v1/namespaces/${KYVERNO_NAMESPACE}/secrets/${TLS_SECRET}`);
        if (tls.status !== 200) return undefined;
        return (await kyvernoWebhookConfigurations(cp)).some((w) => w.name === 'kyverno-resource-validating-webhook-cfg') ? true : undefined;
      },
      output,
    );
    log(`kubeharden: Kyverno ${KYVERNO_ADMISSION.version} serving admission at 127.0.0.1:${port} (${Math.round((Date.now() - started) / 1000)} s)`);
    return { output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The REST collection of a Kyverno policy or exception kind the bundle holds. */
function collection(o: Obj): string {
  const [group, version] = String(o['apiVersion']).split('/');
  const plural: Record<string, string> = { ValidatingPolicy: 'validatingpolicies', ClusterPolicy: 'clusterpolicies', PolicyException: 'policyexceptions' };
  const kind = String(o['kind']);
  if (!plural[kind]) throw new EngineError('kyverno_apply', `no collection for ${kind}`);
  const ns = ((o['metadata'] ?? {}) as Obj)['namespace'];
  return `/apis/${group}/${version}${kind === 'PolicyException' ? `/namespaces/${String(ns ?? 'default')}` : ''}/${plural[kind]}`;
}

/** True when Kyverno reports the policy ready: its webhook is configured for it. */
function policyReady(o: Obj | undefined): boolean {
  const status = (o?.['status'] ?? {}) as Obj;
  if (o?.['kind'] === 'ClusterPolicy') return ((status['conditions'] ?? []) as Obj[]).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
  return ((status['conditionStatus'] ?? {}) as Obj)['ready'] === true;
}

/**
 * Applies the bundle's Kyverno validation policies and exceptions through the API (Kyverno's own policy
 * webhook validates them) and waits until Kyverno reports every policy ready.
 */
export async function applyKyvernoObjects(cp: RunningControlPlane, ky: RunningKyverno, objects: { readonly policies: readonly object[]; readonly exceptions: readonly object[] }, log: Logger): Promise<void> {
  const started = Date.now();
  for (const o of [...objects.exceptions, ...objects.policies] as Obj[]) {
    const ns = ((o['metadata'] ?? {}) as Obj)['namespace'];
    if (o['kind'] === 'PolicyException' && typeof ns === 'string') await createOrKeep(cp, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, `namespace ${ns}`);
    const r = await cp.request('POST', collection(o), o);
    if (r.status !== 201) throw new EngineError('kyverno_apply', `${String(o['kind'])} ${String((o['metadata'] as Obj)['name'])}: HTTP ${r.status}: ${statusMessage(r)}`);
  }
  for (const o of objects.policies as Obj[]) {
    const name = String((o['metadata'] as Obj)['name']);
    await waitFor(
      `${String(o['kind'])} ${name} ready in Kyverno`,
      120_000,
      async () => {
        const r = await cp.request('GET', `${collection(o)}/${name}`);
        return policyReady(r.body as Obj | undefined) ? true : undefined;
      },
      ky.output,
    );
  }
  log(`kubeharden: Kyverno enforces ${objects.policies.length} policies, ${objects.exceptions.length} exceptions (${Math.round((Date.now() - started) / 1000)} s)`);
}

/**
 * Sets the actions of every ValidatingPolicy that denies or warns as generated: `Warn` turns Deny into Warn
 * (Kyverno serves its policies through several webhooks and the API server answers with the first denial
 * only, while warnings name every failing policy); `Audit` turns Deny and Warn into Audit (the policies say
 * nothing in the response). Returns the policies patched.
 */
export function kyvernoActionsAs(cp: RunningControlPlane, policies: readonly object[], as: 'Warn' | 'Audit'): Promise<string[]> {
  const validating = (policies as Obj[]).filter((o) => o['kind'] === 'ValidatingPolicy');
  return validationActionsAs(cp, validating, as, (o, name) => `${collection(o)}/${name}`, 'kyverno_apply');
}


/**
 * Reads Kyverno's verdict from a response: the names of the given policies its denial message and its
 * warnings name (`Policy <name> failed: …` for the policies.kyverno.io kinds, `policy <name>` for
 * ClusterPolicies).
 */
export function kyvernoVerdict(a: Admission, policies: ReadonlySet<string>): WebhookVerdict {
  const named = (text: string): string[] => {
    const out = new Set<string>();
    for (const m of text.matchAll(/(?:^|[\s"])(?:Policy |policy )?([a-z0-9][a-z0-9.-]*[a-z0-9])(?: failed|:)/g)) if (policies.has(m[1]!)) out.add(m[1]!);
    return [...out].sort();
  };
  const warns = [...new Set(a.warnings.flatMap((w) => named(w)))].sort();
  if (a.allowed) return { denies: [], warns };
  if (!/admission webhook "[^"]*kyverno[^"]*" denied the request/.test(a.message)) return { denies: [], warns, other: a.message };
  return { denies: named(a.message), warns };
}
