/**
 * The objects kubeharden puts into each namespace: NetworkPolicies (NSA-NET-2, NSA-NET-3, NSA-NET-11), a
 * ResourceQuota and a LimitRange (NSA-NET-4). The same builders feed the plain manifests and the `data` of
 * the Kyverno generate rules, so both routes create identical objects.
 *
 * How the NetworkPolicies combine (NetworkPolicy has no deny rules: for each direction, a pod selected by
 * at least one policy of that type may only use the flows that some selecting policy allows; a pod no
 * policy selects for a direction is unrestricted in that direction):
 *
 * - `kubeharden-default-deny` selects every pod for Ingress and Egress and allows nothing, so from then on only flows
 *   opened by other policies in the namespace are allowed (including the metadata service: it is blocked).
 * - `kubeharden-allow-dns` adds egress on UDP/TCP 53 to the kube-dns pods in kube-system, so name resolution keeps
 *   working under default-deny. It allows nothing else.
 * - `kubeharden-allow-api-server` and `kubeharden-allow-webhooks` (when configured) add egress to the API
 *   server's addresses and ingress from them (webhooks served in the namespace), by ipBlock.
 * - `allow-egress-except-cloud-metadata` (only when default-deny is off) selects every pod for Egress and
 *   allows every IPv4 and IPv6 destination except the metadata addresses. Pods may then reach everything
 *   but the metadata service, unless another policy of the namespace explicitly allows a range that
 *   contains the metadata address (allows add up). With default-deny on it is not written: it would
 *   re-open all egress, and default-deny already blocks the metadata service.
 */
import type { NamespaceObjectSettings } from '../../config/namespace-objects.js';

/** The control ids these objects implement (as planned in the NSA catalogue). */
export const DEFAULT_DENY_CONTROL = 'default-deny-network-policy';
export const METADATA_CONTROL = 'block-cloud-metadata-egress';
export const QUOTA_CONTROL = 'namespace-resource-quota';
export type NamespaceControl = typeof DEFAULT_DENY_CONTROL | typeof METADATA_CONTROL | typeof QUOTA_CONTROL;
/** Implemented by generate policies and manifests rather than by control files in src/controls. */
export const NAMESPACE_CONTROLS: readonly string[] = [DEFAULT_DENY_CONTROL, METADATA_CONTROL, QUOTA_CONTROL];

/**
 * Every object kubeharden puts into a namespace is named `kubeharden-…`, so that it never takes the name
 * of an object the namespace's owners wrote (`default-deny`, `allow-dns` and `namespace-quota` are common
 * names): Kyverno's generate rules, which keep what they generate in sync, only ever own these names.
 */
export const OBJECT_PREFIX = 'kubeharden-';
export const DEFAULT_DENY_NAME = `${OBJECT_PREFIX}default-deny`;
export const ALLOW_DNS_NAME = `${OBJECT_PREFIX}allow-dns`;
export const ALLOW_API_SERVER_NAME = `${OBJECT_PREFIX}allow-api-server`;
export const ALLOW_WEBHOOKS_NAME = `${OBJECT_PREFIX}allow-webhooks`;
export const METADATA_POLICY_NAME = `${OBJECT_PREFIX}allow-egress-except-cloud-metadata`;
export const QUOTA_NAME = `${OBJECT_PREFIX}namespace-quota`;
export const LIMIT_RANGE_NAME = `${OBJECT_PREFIX}container-limits`;

/** Cloud metadata services (AWS, Azure, GCP and most others on IPv4; AWS's IPv6 endpoint). */
export const METADATA_IPV4 = '169.254.169.254/32';
export const METADATA_IPV6 = 'fd00:ec2::254/128';

/** An object put into a namespace, without its namespace (Kyverno fills it in from the trigger). */
export interface NamespacedObject {
  readonly control: NamespaceControl;
  /** The object's name, which is also its generate rule's base name. */
  readonly name: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** Everything but apiVersion, kind and metadata. */
  readonly body: Readonly<Record<string, unknown>>;
}

function metadata(control: NamespaceControl): { labels: Record<string, string>; annotations: Record<string, string> } {
  return { labels: { 'app.kubernetes.io/managed-by': 'kubeharden' }, annotations: { 'kubeharden.io/control': control } };
}

export function networkPolicyObjects(s: NamespaceObjectSettings): NamespacedObject[] {
  const out: NamespacedObject[] = [];
  const np = (control: NamespaceControl, name: string, spec: object): NamespacedObject => ({
    control,
    name,
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    body: { spec },
  });
  if (s.network.defaultDeny) {
    out.push(np(DEFAULT_DENY_CONTROL, DEFAULT_DENY_NAME, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
    if (s.network.allowDns) {
      out.push(
        np(DEFAULT_DENY_CONTROL, ALLOW_DNS_NAME, {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  // Set by the API server on every namespace (a `name` label is not).
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        }),
      );
    }
    // The API server is outside the pod network (host network or another network): ipBlock peers only.
    const peers = (cidrs: readonly string[]): object[] => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    const tcp = (ports: readonly number[]): object => (ports.length ? { ports: ports.map((port) => ({ protocol: 'TCP', port })) } : {});
    const api = s.network.apiServerEgress;
    if (api) out.push(np(DEFAULT_DENY_CONTROL, ALLOW_API_SERVER_NAME, { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: peers(api.cidrs), ...tcp(api.ports) }] }));
    const hooks = s.network.webhookIngress;
    if (hooks) out.push(np(DEFAULT_DENY_CONTROL, ALLOW_WEBHOOKS_NAME, { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: peers(hooks.cidrs), ...tcp(hooks.ports) }] }));
  } else if (s.network.blockCloudMetadata) {
    out.push(
      np(METADATA_CONTROL, METADATA_POLICY_NAME, {
        podSelector: {},
        policyTypes: ['Egress'],
        // `except` must lie inside `cidr`, so IPv4 and IPv6 are two peers.
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [METADATA_IPV4] } }, { ipBlock: { cidr: '::/0', except: [METADATA_IPV6] } }] }],
      }),
    );
  }
  return out;
}

export function resourceObjects(s: NamespaceObjectSettings): NamespacedObject[] {
  const out: NamespacedObject[] = [];
  if (s.quota) out.push({ control: QUOTA_CONTROL, name: QUOTA_NAME, apiVersion: 'v1', kind: 'ResourceQuota', body: { spec: { hard: { ...s.quota } } } });
  if (s.limitRange) {
    out.push({ control: QUOTA_CONTROL, name: LIMIT_RANGE_NAME, apiVersion: 'v1', kind: 'LimitRange', body: { spec: { limits: [{ type: 'Container', ...s.limitRange }] } } });
  }
  return out;
}

/** The manifest of an object in a namespace. */
export function manifest(o: NamespacedObject, namespace: string): Record<string, unknown> {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace, ...metadata(o.control) }, ...o.body };
}

/**
 * The generate rule's `data`: the manifest without apiVersion, kind, name and namespace, and without our
 * labels (Kyverno replaces the labels of what it generates with its own, `app.kubernetes.io/managed-by: kyverno`).
 */
export function generateData(o: NamespacedObject): Record<string, unknown> {
  return { metadata: { annotations: metadata(o.control).annotations }, ...o.body };
}
