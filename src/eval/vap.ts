/**
 * The bundle's ValidatingAdmissionPolicies evaluated by the offline oracle (src/engines/vap.ts: the API
 * server's own admission code), normalised into the per-resource findings the other engines produce
 * (src/eval/engines.ts). Each decision belongs to the control its policy names in the
 * `kubeharden.io/control` annotation.
 */
import type { CompiledCluster } from '../compile.js';
import { EngineError, type Logger } from '../engines/index.js';
import { vapEvaluate, type VapAction, type VapInput, type VapParamKind, type VapRequest } from '../engines/vap.js';
import { keyOf, withNamespaceNameLabel, type EngineFinding, type EngineFindings } from './engines.js';
import { CLUSTER_SCOPED_KINDS, type Action, type Obj } from './review.js';

export const CONTROL_ANNOTATION = 'kubeharden.io/control';

/** The objects of a bundle's `vap/` target. */
export interface VapBundle {
  readonly policies: readonly object[];
  readonly bindings: readonly object[];
  /** Parameter objects (anything in `vap/` that is neither a policy, a binding nor a CRD). */
  readonly params: readonly object[];
  /** Param kinds defined by CustomResourceDefinitions in `vap/`. */
  readonly paramKinds: readonly VapParamKind[];
}

const ACTIONS: Readonly<Record<VapAction, Action>> = { Deny: 'deny', Warn: 'warn', Audit: 'audit' };

/** Whether a file path belongs to the `vap/` target (not its samples). */
function inVapTarget(path: string): boolean {
  return (path === 'vap' || path.startsWith('vap/')) && !path.includes('/samples/');
}

/** The `vap/` objects of a compiled cluster, or undefined when the bundle has no VAP target. */
export function vapObjectsOf(cc: CompiledCluster): VapBundle | undefined {
  const objects: Obj[] = [];
  for (const f of cc.files) if ('objects' in f && inVapTarget(f.path)) objects.push(...(f.objects as Obj[]));
  return vapBundleOf(objects);
}

/** Sorts objects into policies, bindings, params and param kinds; undefined when there is no policy. */
export function vapBundleOf(objects: readonly Obj[]): VapBundle | undefined {
  const policies: object[] = [];
  const bindings: object[] = [];
  const params: object[] = [];
  const paramKinds: VapParamKind[] = [];
  for (const o of objects) {
    const api = String(o['apiVersion'] ?? '');
    if (o['kind'] === 'ValidatingAdmissionPolicy' && api.startsWith('admissionregistration.k8s.io/')) policies.push(o);
    else if (o['kind'] === 'ValidatingAdmissionPolicyBinding' && api.startsWith('admissionregistration.k8s.io/')) bindings.push(o);
    else if (o['kind'] === 'CustomResourceDefinition') {
      const spec = (o['spec'] ?? {}) as { group?: string; scope?: string; names?: { kind?: string; plural?: string }; versions?: { name?: string }[] };
      for (const v of spec.versions ?? []) {
        if (spec.group && spec.names?.kind && v.name) paramKinds.push({ apiVersion: `${spec.group}/${v.name}`, kind: spec.names.kind, ...(spec.names.plural ? { resource: spec.names.plural } : {}), namespaced: spec.scope === 'Namespaced' });
      }
    } else if (o['kind'] !== 'Kustomization' && o['kind'] !== undefined) params.push(o);
  }
  return policies.length ? { policies, bindings, params, paramKinds } : undefined;
}

/** An UPDATE to evaluate (the oracle also takes CREATEs as plain objects). */
export interface VapUpdate {
  readonly operation: 'UPDATE';
  readonly object: Obj;
  readonly oldObject: Obj;
  readonly subResource?: string;
}

function isUpdate(r: Obj | VapUpdate): r is VapUpdate {
  return (r as VapUpdate).operation === 'UPDATE' && typeof (r as VapUpdate).object === 'object' && !('kind' in r);
}

function namespaceOf(o: Obj): string {
  const md = (o['metadata'] ?? {}) as Obj;
  if (CLUSTER_SCOPED_KINDS.has(String(o['kind']))) return '';
  return typeof md['namespace'] === 'string' && md['namespace'] ? md['namespace'] : 'default';
}

function controlOf(o: object | undefined): string | undefined {
  return ((o as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations ?? {})[CONTROL_ANNOTATION];
}

/**
 * Findings per resource (keyed by `resourceKey`) from the oracle, in one process. The Namespace objects among
 * the resources give the namespaces' labels (namespaceSelector); a namespaced object without a namespace is
 * evaluated in `default`. Any error — a policy that does not compile, an evaluation or configuration error
 * (under failurePolicy Fail or Ignore), a decision of a policy without the control annotation, a bad
 * resource — throws: an error is never an allow, and never a finding of some control.
 */
/**
 * The user the audit's requests come from. Every request an API server admits has an authenticated user, and
 * policies may read it (the bundle's policies over cluster-wide kinds let the API server's own
 * `system:apiserver` requests through): an ordinary user, neither that one nor in a system group.
 */
export const AUDIT_USER = { username: 'kubeharden:audit', groups: ['system:authenticated'] } as const;

const STRENGTH: Readonly<Record<Action, number>> = { audit: 0, warn: 1, deny: 2 };

export async function vapFindings(bundle: VapBundle, resources: readonly (Obj | VapUpdate)[], opts: { log?: Logger; checker?: string; params?: readonly object[]; namespaces?: readonly Obj[] } = {}): Promise<EngineFindings> {
  const controls = new Map<string, string>();
  for (const p of bundle.policies) {
    const name = (p as { metadata?: { name?: string } }).metadata?.name ?? '';
    const control = controlOf(p);
    if (control !== undefined) controls.set(name, control);
  }
  // Namespaces as the API server admits them: with the kubernetes.io/metadata.name label it sets on every one
  // (bindings select namespaces by it, and a Namespace object by its own labels).
  const admitted = resources.map((r): Obj | VapUpdate => (isUpdate(r) ? { ...r, object: withNamespaceNameLabel(r.object), oldObject: withNamespaceNameLabel(r.oldObject) } : withNamespaceNameLabel(r)));
  const objects = admitted.map((r) => (isUpdate(r) ? r.object : r));
  const namespaces = [...(opts.namespaces ?? []).map(withNamespaceNameLabel), ...objects.filter((o) => o['kind'] === 'Namespace' && String(o['apiVersion']) === 'v1')];
  const input: VapInput = { policies: bundle.policies, bindings: bundle.bindings, params: [...bundle.params, ...(opts.params ?? [])], paramKinds: bundle.paramKinds, namespaces };
  const keys = new Map<string, string>();
  const requests: VapRequest[] = admitted.map((r, i) => {
    const object = isUpdate(r) ? r.object : r;
    const id = String(i);
    keys.set(id, keyOf(object));
    return {
      id,
      operation: isUpdate(r) ? 'UPDATE' : 'CREATE',
      object,
      namespace: namespaceOf(object),
      userInfo: AUDIT_USER,
      ...(isUpdate(r) ? { oldObject: r.oldObject, ...(r.subResource ? { subResource: r.subResource } : {}) } : {}),
    };
  });
  const ev = await vapEvaluate(input, requests, { ...(opts.log ? { log: opts.log } : {}), ...(opts.checker ? { checker: opts.checker } : {}) });
  const errors: string[] = [...ev.errors];
  for (const p of ev.policies) for (const e of p.compileErrors) errors.push(`ValidatingAdmissionPolicy ${p.name} does not compile: ${e}`);
  const out: EngineFindings = new Map();
  for (const [id, res] of ev.results) {
    const key = keys.get(id)!;
    for (const e of res.ignoredErrors) errors.push(`${key}: ValidatingAdmissionPolicy ${e.policy}${e.binding ? ` with binding ${e.binding}` : ''} failed (ignored by failurePolicy Ignore): ${e.message}`);
    const list: EngineFinding[] = out.get(key) ?? [];
    // A binding's actions are one finding: [Warn, Audit] (warn mode: warned, and kept in the audit log) is a
    // warn, as the other engines report warn mode; the strongest action of a policy and binding wins.
    const seen = new Map<string, EngineFinding>();
    for (const d of res.decisions) {
      if (d.error) {
        errors.push(`${key}: ValidatingAdmissionPolicy ${d.policy}${d.binding ? ` with binding ${d.binding}` : ''} failed: ${d.message}`);
        continue;
      }
      const control = controls.get(d.policy);
      if (control === undefined) {
        errors.push(`${key}: ValidatingAdmissionPolicy ${d.policy} decided without a ${CONTROL_ANNOTATION} annotation`);
        continue;
      }
      const one = `${d.policy}\u0000${d.binding ?? ''}\u0000${d.message}`;
      const finding: EngineFinding = { control, action: ACTIONS[d.action], message: d.message };
      const before = seen.get(one);
      if (!before) {
        seen.set(one, finding);
        list.push(finding);
      } else if (STRENGTH[finding.action] > STRENGTH[before.action]) {
        list[list.indexOf(before)] = finding;
        seen.set(one, finding);
      }
    }
    if (list.length) out.set(key, list);
  }
  if (errors.length) throw new EngineError('vap_check_failed', `the ValidatingAdmissionPolicy oracle reported ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.slice(0, 20).join('\n')}${errors.length > 20 ? '\n…' : ''}`);
  for (const list of out.values()) list.sort((a, b) => a.control.localeCompare(b.control) || a.action.localeCompare(b.action) || a.message.localeCompare(b.message));
  return out;
}
