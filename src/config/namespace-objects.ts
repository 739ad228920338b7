/**
 * Resolves the `network` and `resources` settings (cluster-wide and per namespace) into the objects
 * generated per namespace: NetworkPolicies, a ResourceQuota and a LimitRange (NSA-NET-2/3/4/11).
 * Called by resolve (config/resolve/cluster.ts); diagnostics carry key paths like every other setting.
 */
import { describe } from '../controls/options.js';
import { didYouMean, type Diagnostics, type KeyPath } from '../diagnostics.js';
import type { ContainerResources, QuotaResource } from './types.js';

export interface ResolvedNetwork {
  readonly defaultDeny: boolean;
  readonly allowDns: boolean;
  readonly blockCloudMetadata: boolean;
  /** Egress to the API server under default-deny (ports: never empty). */
  readonly apiServerEgress?: ResolvedAllow;
  /** Ingress from the API server to webhooks under default-deny (ports: empty means every port). */
  readonly webhookIngress?: ResolvedAllow;
}

export interface ResolvedAllow {
  /** Sorted, de-duplicated. */
  readonly cidrs: readonly string[];
  /** Sorted, de-duplicated. */
  readonly ports: readonly number[];
}

export type ResolvedContainerResources = Readonly<Partial<Record<keyof ContainerResources, string>>>;

export interface ResolvedLimitRange {
  readonly default?: ResolvedContainerResources;
  readonly defaultRequest?: ResolvedContainerResources;
  readonly max?: ResolvedContainerResources;
  readonly min?: ResolvedContainerResources;
}

/** What is generated in one namespace. */
export interface NamespaceObjectSettings {
  readonly network: ResolvedNetwork;
  /** `spec.hard` of the ResourceQuota; absent: no quota. */
  readonly quota?: Readonly<Partial<Record<QuotaResource, string>>>;
  /** The LimitRange's Container item; absent: no LimitRange. */
  readonly limitRange?: ResolvedLimitRange;
}

export interface ResolvedNamespaceObjects {
  /** Every named namespace without an override of its own (and every namespace with the opt-in label). */
  readonly cluster: NamespaceObjectSettings;
  /** Non-exempt namespaces whose settings differ from the cluster-wide ones, sorted by name. */
  readonly namespaces: readonly { readonly namespace: string; readonly settings: NamespaceObjectSettings }[];
  /** Namespaces carrying this label get the cluster-wide objects too (Kyverno generate only). */
  readonly optInLabel?: { readonly key: string; readonly value: string };
}

export const DEFAULT_NETWORK: ResolvedNetwork = { defaultDeny: false, allowDns: true, blockCloudMetadata: false };

export const DEFAULT_QUOTA: Readonly<Partial<Record<QuotaResource, string>>> = {
  'limits.cpu': '8',
  'limits.memory': '16Gi',
  pods: '50',
  'requests.cpu': '4',
  'requests.memory': '8Gi',
};

export const DEFAULT_LIMIT_RANGE: ResolvedLimitRange = {
  default: { cpu: '500m', memory: '512Mi' },
  defaultRequest: { cpu: '100m', memory: '128Mi' },
  max: { cpu: '2', memory: '4Gi' },
};

export const QUOTA_RESOURCES: readonly QuotaResource[] = [
  'configmaps', 'limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'persistentvolumeclaims', 'pods',
  'requests.cpu', 'requests.ephemeral-storage', 'requests.memory', 'requests.storage', 'secrets', 'services',
  'services.loadbalancers', 'services.nodeports',
];
const COUNT_RESOURCES: readonly string[] = ['configmaps', 'persistentvolumeclaims', 'pods', 'secrets', 'services', 'services.loadbalancers', 'services.nodeports'];
const CONTAINER_RESOURCES: readonly (keyof ContainerResources)[] = ['cpu', 'ephemeral-storage', 'memory'];
const LIMIT_FIELDS = ['default', 'defaultRequest', 'max', 'min'] as const;
const NETWORK_KEYS = ['defaultDeny', 'allowDns', 'blockCloudMetadata', 'apiServerEgress', 'webhookIngress'] as const;
const BOOLEAN_NETWORK_KEYS = ['defaultDeny', 'allowDns', 'blockCloudMetadata'] as const;
/** Where the API server listens: the `kubernetes` Service's port and kube-apiserver's default secure port. */
export const DEFAULT_API_SERVER_PORTS: readonly number[] = [443, 6443];

const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/** An allow rule's `{cidrs, ports?}`; `defaultPorts` when ports are not given. */
function resolveAllow(d: Diagnostics, v: unknown, path: KeyPath, defaultPorts: readonly number[]): ResolvedAllow | undefined | 'invalid' {
  if (v === false) return undefined;
  if (!isObject(v)) {
    d.error('invalid_value', path, `expected {cidrs, ports?}, got ${describe(v)}`);
    return 'invalid';
  }
  checkKeys(d, v, path, ['cidrs', 'ports']);
  let ok = true;
  const cidrs = v['cidrs'];
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    d.error('invalid_value', [...path, 'cidrs'], `cidrs must be a non-empty list of CIDRs such as '10.0.0.10/32', got ${describe(cidrs)}`);
    ok = false;
  } else {
    cidrs.forEach((c: unknown, i: number) => {
      if (typeof c !== 'string' || !(IPV4_CIDR.test(c) || IPV6_CIDR.test(c))) {
        ok = false;
        d.error('invalid_cidr', [...path, 'cidrs', i], `${describe(c)} is not a CIDR such as '10.0.0.10/32' or 'fd00::10/128'`);
      } else if (c === '0.0.0.0/0' || c === '::/0') {
        d.warn('allow_everything', [...path, 'cidrs', i], `${c} opens this direction to every address, which undoes default-deny for it`, 'list the API server (or control-plane node) addresses');
      }
    });
  }
  let ports = defaultPorts;
  if (v['ports'] !== undefined) {
    const p = v['ports'];
    if (!Array.isArray(p) || p.length === 0 || p.some((x) => !Number.isInteger(x) || (x as number) < 1 || (x as number) > 65535)) {
      ok = false;
      d.error('invalid_value', [...path, 'ports'], `ports must be a non-empty list of port numbers 1-65535, got ${describe(p)}`);
    } else ports = p as number[];
  }
  if (!ok) return 'invalid';
  return { cidrs: [...new Set(cidrs as string[])].sort(), ports: [...new Set(ports)].sort((a, b) => a - b) };
}

/** Kubernetes quantity syntax (decimal or binary suffix, or an exponent). */
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity as a number (for comparisons only; output keeps the user's spelling). */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (!m) return Number.NaN;
  const unit = m[3] ?? '';
  if (/^[eE]/.test(unit)) return Number(m[1]) * 10 ** Number(unit.slice(1));
  return Number(m[1]) * SUFFIX[unit]!;
}

type Layer = { readonly value: unknown; readonly path: KeyPath };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(d: Diagnostics, obj: Record<string, unknown>, path: KeyPath, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const m = didYouMean(key, allowed);
    d.error('unknown_key', [...path, key], `unknown key "${key}"`, m ? `did you mean "${m}"?` : `allowed keys: ${allowed.join(', ')}`);
  }
}

function applyNetwork(d: Diagnostics, base: ResolvedNetwork, layer: Layer): ResolvedNetwork {
  if (layer.value === undefined) return base;
  if (!isObject(layer.value)) {
    d.error('invalid_value', layer.path, `network must be an object {defaultDeny?, allowDns?, blockCloudMetadata?}, got ${describe(layer.value)}`);
    return base;
  }
  checkKeys(d, layer.value, layer.path, NETWORK_KEYS);
  const out: Record<string, unknown> = { ...base };
  for (const k of BOOLEAN_NETWORK_KEYS) {
    const v = layer.value[k];
    if (v === undefined) continue;
    if (typeof v === 'boolean') out[k] = v;
    else d.error('invalid_value', [...layer.path, k], `${k} must be true or false, got ${describe(v)}`);
  }
  for (const [k, ports] of [['apiServerEgress', DEFAULT_API_SERVER_PORTS], ['webhookIngress', []]] as const) {
    const v = layer.value[k];
    if (v === undefined) continue;
    const a = resolveAllow(d, v, [...layer.path, k], ports);
    if (a === 'invalid') continue;
    if (a) out[k] = a;
    else delete out[k];
  }
  return out as unknown as ResolvedNetwork;
}

function quantity(d: Diagnostics, v: unknown, path: KeyPath, what: string): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    d.error('invalid_quantity', path, `${what} must be a quantity string, got the number ${String(v)}`, `write it as a string: '${String(v)}'`);
    return undefined;
  }
  if (typeof v !== 'string' || !QUANTITY.test(v)) {
    d.error('invalid_quantity', path, `${what} must be a Kubernetes quantity such as '500m', '2', '512Mi' or '10Gi', got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function resolveQuota(d: Diagnostics, v: unknown, path: KeyPath): Partial<Record<QuotaResource, string>> | undefined | 'invalid' {
  if (v === false) return undefined;
  if (v === true) return { ...DEFAULT_QUOTA };
  if (!isObject(v)) {
    d.error('invalid_value', path, `quota must be true, false or {hard}, got ${describe(v)}`);
    return 'invalid';
  }
  checkKeys(d, v, path, ['hard']);
  if (v['hard'] === undefined) return { ...DEFAULT_QUOTA };
  const hp = [...path, 'hard'];
  if (!isObject(v['hard']) || Object.keys(v['hard']).length === 0) {
    d.error('invalid_value', hp, `hard must be a non-empty object of resource → quantity, got ${describe(v['hard'])}`);
    return 'invalid';
  }
  const out: Partial<Record<QuotaResource, string>> = {};
  let ok = true;
  for (const [k, q] of Object.entries(v['hard'])) {
    if (!QUOTA_RESOURCES.includes(k as QuotaResource)) {
      ok = false;
      const m = didYouMean(k, QUOTA_RESOURCES);
      d.error('unknown_key', [...hp, k], `"${k}" is not a quota resource kubeharden supports; supported: ${QUOTA_RESOURCES.join(', ')}`, m ? `did you mean "${m}"?` : undefined);
      continue;
    }
    const val = quantity(d, q, [...hp, k], `quota ${k}`);
    if (val === undefined) ok = false;
    else if (COUNT_RESOURCES.includes(k) && !/^\d+$/.test(val)) {
      ok = false;
      d.error('invalid_quantity', [...hp, k], `quota ${k} counts objects: a whole number such as '10', got '${val}'`);
    } else out[k as QuotaResource] = val;
  }
  return ok ? (Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as Partial<Record<QuotaResource, string>>) : 'invalid';
}

function resolveLimitRange(d: Diagnostics, v: unknown, path: KeyPath): ResolvedLimitRange | undefined | 'invalid' {
  if (v === false) return undefined;
  if (v === true) return DEFAULT_LIMIT_RANGE;
  if (!isObject(v)) {
    d.error('invalid_value', path, `limitRange must be true, false or {default?, defaultRequest?, max?, min?}, got ${describe(v)}`);
    return 'invalid';
  }
  checkKeys(d, v, path, LIMIT_FIELDS);
  const out: Record<string, ResolvedContainerResources | undefined> = { ...DEFAULT_LIMIT_RANGE };
  let ok = true;
  for (const f of LIMIT_FIELDS) {
    const r = v[f];
    if (r === undefined) continue;
    const fp = [...path, f];
    if (!isObject(r)) {
      ok = false;
      d.error('invalid_value', fp, `${f} must be an object {cpu?, memory?, ephemeral-storage?}, got ${describe(r)}`);
      continue;
    }
    checkKeys(d, r, fp, CONTAINER_RESOURCES);
    const res: Partial<Record<keyof ContainerResources, string>> = {};
    for (const k of CONTAINER_RESOURCES) {
      if (r[k] === undefined) continue;
      const q = quantity(d, r[k], [...fp, k], `limitRange ${f}.${k}`);
      if (q === undefined) ok = false;
      else res[k] = q;
    }
    out[f] = Object.keys(res).length ? res : undefined;
  }
  if (!ok) return 'invalid';
  // Kubernetes rejects a LimitRange whose amounts are out of order (min ≤ defaultRequest ≤ default ≤ max).
  const order: (typeof LIMIT_FIELDS)[number][] = ['min', 'defaultRequest', 'default', 'max'];
  for (const k of CONTAINER_RESOURCES) {
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        const a = out[order[i]!]?.[k];
        const b = out[order[j]!]?.[k];
        if (a !== undefined && b !== undefined && quantityValue(a) > quantityValue(b)) {
          ok = false;
          d.error('inconsistent_limits', [...path, v[order[j]!] !== undefined ? order[j]! : order[i]!, k], `limitRange ${order[i]}.${k} (${a}) is larger than ${order[j]}.${k} (${b}); Kubernetes requires min ≤ defaultRequest ≤ default ≤ max`);
        }
      }
    }
  }
  const clean: Record<string, ResolvedContainerResources> = {};
  for (const f of LIMIT_FIELDS) if (out[f]) clean[f] = out[f]!;
  return ok ? clean : 'invalid';
}

function applyResources(d: Diagnostics, base: NamespaceObjectSettings, layer: Layer): NamespaceObjectSettings {
  if (layer.value === undefined) return base;
  if (!isObject(layer.value)) {
    d.error('invalid_value', layer.path, `resources must be an object {quota?, limitRange?}, got ${describe(layer.value)}`);
    return base;
  }
  checkKeys(d, layer.value, layer.path, ['quota', 'limitRange']);
  let { quota, limitRange } = base;
  if (layer.value['quota'] !== undefined) {
    const q = resolveQuota(d, layer.value['quota'], [...layer.path, 'quota']);
    if (q !== 'invalid') quota = q;
  }
  if (layer.value['limitRange'] !== undefined) {
    const l = resolveLimitRange(d, layer.value['limitRange'], [...layer.path, 'limitRange']);
    if (l !== 'invalid') limitRange = l;
  }
  return { network: base.network, ...(quota ? { quota } : {}), ...(limitRange ? { limitRange } : {}) };
}

function settingsFrom(d: Diagnostics, base: NamespaceObjectSettings, network: readonly Layer[], resources: readonly Layer[]): NamespaceObjectSettings {
  let s = base;
  for (const l of network) s = { ...s, network: applyNetwork(d, s.network, l) };
  for (const l of resources) s = applyResources(d, s, l);
  return s;
}

function warnings(d: Diagnostics, s: NamespaceObjectSettings, networkPath: KeyPath, resourcesPath: KeyPath): void {
  if (s.network.defaultDeny && s.network.blockCloudMetadata) {
    d.add({
      code: 'metadata_blocked_by_default_deny',
      severity: 'info',
      message: 'blockCloudMetadata writes no policy while defaultDeny is on: default-deny already blocks the metadata service, and an "all egress except metadata" policy would re-open every other destination',
      path: [...networkPath, 'blockCloudMetadata'],
    });
  }
  for (const k of ['apiServerEgress', 'webhookIngress'] as const) {
    if (!s.network.defaultDeny && s.network[k]) d.add({ code: 'ignored_key', severity: 'info', message: `${k} only matters with defaultDeny`, path: [...networkPath, k] });
  }
  if (!s.network.defaultDeny && !s.network.allowDns) {
    d.add({ code: 'ignored_key', severity: 'info', message: 'allowDns only matters with defaultDeny', path: [...networkPath, 'allowDns'] });
  }
  const q = s.quota;
  if (q && !s.limitRange && (['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'] as const).some((k) => q[k] !== undefined)) {
    d.warn(
      'quota_without_limit_range',
      [...resourcesPath, 'quota'],
      'a cpu/memory ResourceQuota without a LimitRange rejects every pod whose containers do not set those requests/limits',
      'turn on resources.limitRange so containers get defaults',
    );
  }
}

/**
 * What a profile that asks for namespace isolation (NSA/CISA NET-3, NET-4) starts from: default-deny with
 * DNS, and the default quota and limit range. Pass it as `defaults` to resolveNamespaceObjects.
 */
export const ISOLATED_NAMESPACE_DEFAULTS: NamespaceObjectSettings = {
  network: { defaultDeny: true, allowDns: true, blockCloudMetadata: false },
  quota: DEFAULT_QUOTA,
  limitRange: DEFAULT_LIMIT_RANGE,
};

/**
 * `defaults`: the starting point before the config's settings (a profile may pass ISOLATED_NAMESPACE_DEFAULTS).
 * `clusterLayers`: the `network`/`resources` values of the base config and the cluster entry (the entry's
 * value replaces the base's, like other cluster settings). `namespaceLayers`: per namespace, its entries.
 */
export function resolveNamespaceObjects(
  d: Diagnostics,
  cluster: { network: Layer; resources: Layer },
  namespaces: ReadonlyMap<string, readonly { value: Record<string, unknown>; path: KeyPath }[]>,
  exempt: readonly string[],
  defaults: NamespaceObjectSettings = { network: DEFAULT_NETWORK },
  scope: Layer = { value: undefined, path: ['namespaceObjects'] },
): ResolvedNamespaceObjects {
  const optInLabel = resolveScope(d, scope);
  const clusterSettings = settingsFrom(d, defaults, [cluster.network], [cluster.resources]);
  warnings(d, clusterSettings, cluster.network.path, cluster.resources.path);
  const out: { namespace: string; settings: NamespaceObjectSettings }[] = [];
  for (const ns of [...namespaces.keys()].sort()) {
    const cfgs = namespaces.get(ns)!;
    const net = cfgs.filter((c) => c.value['network'] !== undefined).map((c) => ({ value: c.value['network'], path: [...c.path, 'network'] }));
    const res = cfgs.filter((c) => c.value['resources'] !== undefined).map((c) => ({ value: c.value['resources'], path: [...c.path, 'resources'] }));
    if (!net.length && !res.length) continue;
    const s = settingsFrom(d, clusterSettings, net, res);
    if (exempt.includes(ns)) continue; // resolve (namespaces.ts) already warns that an exempt namespace's rules have no effect
    warnings(d, s, net[0]?.path ?? cluster.network.path, res[0]?.path ?? cluster.resources.path);
    if (JSON.stringify(s) !== JSON.stringify(clusterSettings)) out.push({ namespace: ns, settings: s });
  }
  return { cluster: clusterSettings, namespaces: out, ...(optInLabel ? { optInLabel } : {}) };
}

/** A label key (optional DNS-subdomain prefix and "/", then a name) and value, as the API server validates them. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function resolveScope(d: Diagnostics, layer: Layer): { key: string; value: string } | undefined {
  if (layer.value === undefined) return undefined;
  if (!isObject(layer.value)) {
    d.error('invalid_value', layer.path, `namespaceObjects must be an object {optInLabel?}, got ${describe(layer.value)}`);
    return undefined;
  }
  checkKeys(d, layer.value, layer.path, ['optInLabel']);
  const l = layer.value['optInLabel'];
  if (l === undefined) return undefined;
  const path = [...layer.path, 'optInLabel'];
  const [key = '', value, ...rest] = typeof l === 'string' ? l.split('=') : [];
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  const valid =
    typeof l === 'string' && value !== undefined && !rest.length && LABEL_NAME.test(name) && LABEL_VALUE.test(value) && value !== '' &&
    (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
  if (!valid) {
    d.error('invalid_label', path, `optInLabel must be a label "key=value" such as 'kubeharden.io/isolate=true', got ${describe(l)}`);
    return undefined;
  }
  return { key, value };
}
