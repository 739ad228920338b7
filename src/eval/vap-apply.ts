/**
 * Applying ValidatingAdmissionPolicies and bindings to a running kube-apiserver, and waiting until they are in
 * force: the API server loads them asynchronously (informers feed its policy source), so a request sent right
 * after the POST may still be admitted without them. Used by `kubeharden test --engine apiserver` (the bundle's
 * vap/ beside the engines' webhooks) and the VAP tests.
 */
import type { RunningControlPlane } from '../engines/apiserver.js';
import { EngineError } from '../engines/index.js';
import { statusMessage, type Admission } from './apiserver.js';
import { mapLimit } from './map-limit.js';
import { validationActionsAs, type WebhookVerdict } from './webhook-process.js';

type Obj = Record<string, any>;

export const VAP_API = '/apis/admissionregistration.k8s.io/v1';
export const PROBE = 'kubeharden-probe';
export const denial = (policy: string): string => `ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request`;

/** Creates policies, then bindings (each of `objects`), for real. */
export async function applyPolicies(cp: RunningControlPlane, objects: readonly Obj[]): Promise<void> {
  for (const [kind, path] of [['ValidatingAdmissionPolicy', 'validatingadmissionpolicies'], ['ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings']] as const) {
    const errors = (
      await mapLimit(
        objects.filter((o) => o['kind'] === kind),
        8,
        async (o) => {
          const r = await cp.request('POST', `${VAP_API}/${path}`, o);
          return r.status === 201 ? undefined : `${kind} ${o['metadata']['name']}: HTTP ${r.status}: ${statusMessage(r)}`;
        },
      )
    ).filter(Boolean);
    if (errors.length) throw new EngineError('vap_apply', errors.slice(0, 5).join('\n'));
  }
}

/**
 * A probe policy and binding created after everything else: once the API server denies the probe ConfigMap (in `namespace`), its
 * policy source holds every policy and binding created before it (each informer delivers in order).
 */
export async function waitUntilEnforced(cp: RunningControlPlane, probe: string, namespace: string): Promise<void> {
  const exists = await cp.request('GET', `${VAP_API}/validatingadmissionpolicies/${probe}`);
  if (exists.status === 200) await applyPolicies(cp, [PROBE_BINDING(probe)]);
  else await applyPolicies(cp, [
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: probe }, spec: { failurePolicy: 'Fail', matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }] }, validations: [{ expression: `object.metadata.name != '${probe}'`, message: 'probe' }] } },
    PROBE_BINDING(probe),
  ]);
  const started = Date.now();
  for (;;) {
    const r = await cp.request('POST', `/api/v1/namespaces/${namespace}/configmaps?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: probe } });
    if (r.status === 422 && statusMessage(r).includes(denial(probe))) return;
    if (Date.now() - started > 120_000) throw new Error(`probe ${probe} not enforced within 120 s: HTTP ${r.status}: ${statusMessage(r)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

const PROBE_BINDING = (probe: string): Obj => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: probe }, spec: { policyName: probe, validationActions: ['Deny'] } });

/** Deletes `bindings`, then the probe binding, and waits until the probe ConfigMap is admitted again (the deletions before it are in effect). */
export async function unbind(cp: RunningControlPlane, bindings: readonly Obj[], namespace: string): Promise<void> {
  for (const b of [...bindings, PROBE_BINDING(PROBE)]) {
    const r = await cp.request('DELETE', `${VAP_API}/validatingadmissionpolicybindings/${b['metadata']['name']}`);
    if (r.status !== 200 && r.status !== 202) throw new Error(`deleting binding ${b['metadata']['name']}: HTTP ${r.status}: ${statusMessage(r)}`);
  }
  const started = Date.now();
  for (;;) {
    const r = await cp.request('POST', `/api/v1/namespaces/${namespace}/configmaps?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PROBE } });
    if (r.status === 201) return;
    if (Date.now() - started > 120_000) throw new Error(`the bindings' deletion was not in effect within 120 s: HTTP ${r.status}: ${statusMessage(r)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

/**
 * Sets the actions of every binding that denies or warns as generated: `Warn` turns Deny into Warn (the API
 * server's ValidatingAdmissionPolicy plugin answers with the first denial only and runs before the webhooks,
 * while warnings name every failing policy and let the request go on to them); `Audit` turns Deny and Warn
 * into Audit (the policies say nothing in the response). Returns the bindings patched.
 */
export function vapActionsAs(cp: RunningControlPlane, bindings: readonly Obj[], as: 'Warn' | 'Audit'): Promise<string[]> {
  return validationActionsAs(cp, bindings, as, (_, name) => `${VAP_API}/validatingadmissionpolicybindings/${name}`, 'vap_apply');
}

const VAP_WARNING = /^Validation failed for ValidatingAdmissionPolicy '([^']+)' with binding '([^']*)': /;
const VAP_DENIAL = /ValidatingAdmissionPolicy '([^']+)' with binding '([^']*)' denied request/;

/**
 * Reads the ValidatingAdmissionPolicies' verdict from a response: the given policies a denial names (the API
 * server names the first only) and those its warnings name (`Validation failed for ValidatingAdmissionPolicy
 * '<policy>' with binding '<binding>': <message>`, one per failing validation).
 */
export function vapVerdict(a: Admission, policies: ReadonlySet<string>): WebhookVerdict {
  const warns = [...new Set(a.warnings.map((w) => VAP_WARNING.exec(w)?.[1]).filter((p): p is string => p !== undefined && policies.has(p)))].sort();
  if (a.allowed) return { denies: [], warns };
  const m = VAP_DENIAL.exec(a.message);
  if (!m || !policies.has(m[1]!)) return { denies: [], warns, other: a.message };
  return { denies: [m[1]!], warns };
}
