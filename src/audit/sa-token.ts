/**
 * Legacy service-account token Secrets (type kubernetes.io/service-account-token): the token controller
 * writes a long-lived API token into them, and a Pod that mounts one (secret volume, projected secret
 * source, secretKeyRef, envFrom) holds that token whatever automountServiceAccountToken says. An admission
 * engine sees only the Pod, never the Secret's type, so the bundle's policies cannot tell such a Secret
 * from any other; `kubeharden audit` can when the Secret is part of its input, and reports it under
 * disallow-automount-sa-token.
 */
import type { Obj } from '../eval/review.js';
import type { AuditInput } from './input.js';
import { prescan } from './prescan.js';

export const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
const TOKEN_SECRET_DOC = /kubernetes\.io\/service-account-token/;

/** The key of a Secret (or of a Pod's reference to one): namespace (empty when not set) and name. */
export function secretKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function namespaceOf(o: Obj): string {
  const md = isObj(o['metadata']) ? o['metadata'] : {};
  return typeof md['namespace'] === 'string' ? md['namespace'] : '';
}

/** The token Secrets among objects: keys of `v1` Secrets of type kubernetes.io/service-account-token. */
export function tokenSecretsOf(objects: readonly Obj[]): string[] {
  const keys: string[] = [];
  for (const o of objects) {
    if (o['kind'] !== 'Secret' || o['apiVersion'] !== 'v1' || o['type'] !== TOKEN_SECRET_TYPE) continue;
    const md = isObj(o['metadata']) ? o['metadata'] : {};
    if (typeof md['name'] === 'string' && md['name']) keys.push(secretKey(namespaceOf(o), md['name']));
  }
  return keys;
}

/** A first, cheap pass over the inputs: only documents that mention the token type are parsed. */
export async function scanTokenSecrets(inputs: readonly AuditInput[]): Promise<string[]> {
  const found = new Set<string>();
  await prescan(inputs, TOKEN_SECRET_DOC, (r) => {
    for (const k of tokenSecretsOf([r.object])) found.add(k);
  });
  return [...found].sort();
}

/** The pod spec of a Pod or of a workload controller's pod template (CronJob: its job's). */
export function podSpecOf(o: Obj): Obj | undefined {
  const spec = isObj(o['spec']) ? o['spec'] : undefined;
  if (!spec) return undefined;
  if (o['kind'] === 'Pod') return spec;
  const template = (s: Obj): Obj | undefined => (isObj(s['template']) && isObj(s['template']['spec']) ? s['template']['spec'] : undefined);
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ReplicationController', 'Job'].includes(String(o['kind']))) return template(spec);
  if (o['kind'] === 'CronJob') {
    const job = isObj(spec['jobTemplate']) && isObj(spec['jobTemplate']['spec']) ? spec['jobTemplate']['spec'] : undefined;
    return job ? template(job) : undefined;
  }
  return undefined;
}

const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Where a pod spec uses a Secret by name: every secret volume, projected secret source and env reference. */
export function secretUses(podSpec: Obj): { secret: string; where: string }[] {
  const uses: { secret: string; where: string }[] = [];
  for (const v of list(podSpec['volumes'])) {
    const name = JSON.stringify(str(v['name']));
    if (isObj(v['secret']) && str(v['secret']['secretName'])) uses.push({ secret: str(v['secret']['secretName']), where: `volume ${name}` });
    const sources = isObj(v['projected']) ? list(v['projected']['sources']) : [];
    for (const s of sources) if (isObj(s['secret']) && str(s['secret']['name'])) uses.push({ secret: str(s['secret']['name']), where: `projected volume ${name}` });
  }
  const kinds: Record<string, string> = { initContainers: 'init container', containers: 'container', ephemeralContainers: 'ephemeral container' };
  for (const [l, word] of Object.entries(kinds)) {
    for (const c of list(podSpec[l])) {
      const who = `${word} ${JSON.stringify(str(c['name']))}`;
      for (const e of list(c['env'])) {
        const ref = isObj(e['valueFrom']) && isObj(e['valueFrom']['secretKeyRef']) ? e['valueFrom']['secretKeyRef'] : undefined;
        if (ref && str(ref['name'])) uses.push({ secret: str(ref['name']), where: `${who} env ${JSON.stringify(str(e['name']))}` });
      }
      for (const e of list(c['envFrom'])) if (isObj(e['secretRef']) && str(e['secretRef']['name'])) uses.push({ secret: str(e['secretRef']['name']), where: `${who} envFrom` });
    }
  }
  return uses;
}

/** The token Secrets an object's pods use, as messages (empty when none). */
export function tokenSecretMessages(o: Obj, tokenSecrets: ReadonlySet<string>): string[] {
  const spec = podSpecOf(o);
  if (!spec) return [];
  const ns = namespaceOf(o);
  const subject = o['kind'] === 'Pod' ? 'pod' : 'pod template';
  return secretUses(spec)
    .filter((u) => tokenSecrets.has(secretKey(ns, u.secret)))
    .map(
      (u) =>
        `${subject} uses Secret ${JSON.stringify(u.secret)} (type ${TOKEN_SECRET_TYPE}, a long-lived API token) in ${u.where}; ` +
        'admission cannot see a Secret\'s type, this finding comes from the audit input',
    );
}

/**
 * The object with automountServiceAccountToken forced on in its pod spec: evaluated through the bundle, it
 * shows whether disallow-automount-sa-token applies to the object at all (namespace, exceptions) and with
 * which action.
 */
export function withAutomount(o: Obj): Obj {
  const copy = structuredClone(o);
  const spec = podSpecOf(copy);
  if (spec) spec['automountServiceAccountToken'] = true;
  return copy;
}
