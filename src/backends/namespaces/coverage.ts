/**
 * What the coverage report needs from the namespace objects: whether NetworkPolicies block the cloud metadata
 * service, and how a namespace's objects differ from the cluster-wide ones.
 */
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';
import type { ResolvedCluster } from '../../ir/cluster.js';
import { DEFAULT_DENY_CONTROL, METADATA_CONTROL, QUOTA_CONTROL } from './objects.js';

interface Peer {
  ipBlock?: { cidr?: string; except?: string[] };
  namespaceSelector?: unknown;
  podSelector?: unknown;
}
interface PolicySpec {
  podSelector?: { matchLabels?: object; matchExpressions?: unknown[] };
  policyTypes?: string[];
  egress?: { to?: Peer[] }[];
}

function ipv4(a: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (!m) return undefined;
  return m.slice(1).reduce((n, x) => n * 256 + Number(x), 0);
}

/** Whether an IPv4 CIDR contains an IPv4 address (an IPv6 CIDR never does). */
export function cidrContains(cidr: string, address: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipv4(address);
  const n = ipv4(net ?? '');
  const b = Number(bits);
  if (a === undefined || n === undefined || !Number.isInteger(b) || b < 0 || b > 32) return false;
  const size = 2 ** (32 - b);
  return Math.floor(a / size) === Math.floor(n / size);
}

/** Whether an egress peer lets traffic reach an external address (pod and namespace selectors only match pods). */
function peerAllows(p: Peer, address: string): boolean {
  if (!p.ipBlock?.cidr) return false;
  return cidrContains(p.ipBlock.cidr, address) && !(p.ipBlock.except ?? []).some((e) => cidrContains(e, address));
}

/**
 * Whether a namespace holding exactly these NetworkPolicies blocks egress from all its pods to `address`:
 * some policy selects every pod for Egress, and no Egress policy has a rule that reaches the address
 * (a rule without `to` reaches everything; ports are ignored, so a port-limited rule counts as reaching it).
 */
export function egressBlocked(specs: readonly PolicySpec[], address: string): boolean {
  const egress = specs.filter((s) => (s.policyTypes ?? ['Ingress']).includes('Egress') || s.egress !== undefined);
  const selectsAll = (s: PolicySpec): boolean => !s.podSelector?.matchLabels && !s.podSelector?.matchExpressions?.length;
  if (!egress.some(selectsAll)) return false;
  return !egress.some((s) => (s.egress ?? []).some((r) => !r.to?.length || r.to.some((p) => peerAllows(p, address))));
}

/** How a namespace's generated objects differ from the cluster-wide ones, per control. */
export function namespaceObjectDifferences(cluster: ResolvedCluster, namespace: string): { control: string; change: string }[] {
  const own = cluster.namespaceObjects.namespaces.find((n) => n.namespace === namespace)?.settings;
  if (!own) return [];
  const base = cluster.namespaceObjects.cluster;
  const out: { control: string; change: string }[] = [];
  const onOff = (a: boolean, b: boolean): string | undefined => (a === b ? undefined : b ? 'on' : 'off');
  const dd = onOff(base.network.defaultDeny, own.network.defaultDeny) ?? (own.network.defaultDeny && base.network.allowDns !== own.network.allowDns ? (own.network.allowDns ? 'with allow-dns' : 'without allow-dns') : undefined);
  if (dd) out.push({ control: DEFAULT_DENY_CONTROL, change: dd });
  const blocked = (s: NamespaceObjectSettings): string => (s.network.defaultDeny ? 'by default-deny' : s.network.blockCloudMetadata ? 'by allow-egress-except-cloud-metadata' : 'no');
  if (blocked(base) !== blocked(own)) out.push({ control: METADATA_CONTROL, change: blocked(own) === 'no' ? 'off' : `on (${blocked(own)})` });
  const parts: string[] = [];
  if (JSON.stringify(base.quota) !== JSON.stringify(own.quota)) parts.push(own.quota ? (base.quota ? 'quota changed' : 'quota on') : 'quota off');
  if (JSON.stringify(base.limitRange) !== JSON.stringify(own.limitRange)) parts.push(own.limitRange ? (base.limitRange ? 'limit range changed' : 'limit range on') : 'limit range off');
  if (parts.length) out.push({ control: QUOTA_CONTROL, change: parts.join('; ') });
  return out;
}
