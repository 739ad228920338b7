/**
 * The kube-apiserver audit policy (`--audit-policy-file`, NSA-LOG-1). The API server uses the level of the
 * FIRST rule that matches a request, so the order below is part of the policy:
 *   1. anything that can carry secret material: Metadata only (never the body), before any other rule;
 *   2. high-volume noise (health checks, kube-proxy watches, Lease renewals and leader election): None;
 *   3. writes that change who may do what, or that open a shell into a pod: RequestResponse;
 *      writes of status subresources: Metadata;
 *   4. every other write: Request;
 *   5. everything else (reads): Metadata.
 */

/** One `audit.k8s.io/v1` PolicyRule (the fields kubeharden uses). */
export interface AuditRule {
  readonly level: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
  readonly users?: readonly string[];
  readonly userGroups?: readonly string[];
  readonly verbs?: readonly string[];
  readonly resources?: readonly { readonly group: string; readonly resources?: readonly string[] }[];
  readonly namespaces?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly omitStages?: readonly string[];
}

export const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'patch', 'update'] as const;
const READ_VERBS = ['get', 'list', 'watch'] as const;

export const AUDIT_RULES: readonly AuditRule[] = [
  // 1. Secret material: Secrets, ConfigMaps (often hold credentials), service account token requests and
  //    token reviews carry tokens in their bodies. Metadata records who touched what, without the content.
  {
    level: 'Metadata',
    resources: [
      { group: '', resources: ['configmaps', 'secrets', 'serviceaccounts/token'] },
      { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
    ],
  },
  // 2. Noise with no security value.
  { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/metrics', '/readyz*', '/version', '/version/'] },
  {
    level: 'None',
    users: ['system:kube-proxy'],
    verbs: ['watch'],
    resources: [
      { group: '', resources: ['endpoints', 'services', 'services/status'] },
      { group: 'discovery.k8s.io', resources: ['endpointslices'] },
    ],
  },
  { level: 'None', userGroups: ['system:nodes'], verbs: ['get'], resources: [{ group: '', resources: ['nodes', 'nodes/status'] }] },
  // Leases: node heartbeats (every kubelet renews its Lease in kube-node-lease every 10 s) and leader
  // election of controllers and operators, by anyone. Creating and deleting a Lease still falls through.
  {
    level: 'None',
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
    resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }],
  },
  // Reading events; writing them is recorded below at Metadata (an event body is not worth its volume).
  { level: 'None', verbs: [...READ_VERBS], resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
  { level: 'Metadata', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
  // 3. Interactive access to containers, whatever the verb (exec and attach arrive as GET over websockets).
  {
    level: 'RequestResponse',
    resources: [{ group: '', resources: ['pods/attach', 'pods/ephemeralcontainers', 'pods/exec', 'pods/portforward'] }],
  },
  // Changes to authorization, admission and trust, and to the policies and labels kubeharden generates.
  {
    level: 'RequestResponse',
    verbs: [...WRITE_VERBS],
    resources: [
      { group: '', resources: ['namespaces', 'serviceaccounts'] },
      { group: 'admissionregistration.k8s.io' },
      { group: 'apiextensions.k8s.io', resources: ['customresourcedefinitions'] },
      { group: 'certificates.k8s.io' },
      { group: 'constraints.gatekeeper.sh' },
      { group: 'expansion.gatekeeper.sh' },
      { group: 'kyverno.io' },
      { group: 'policies.kyverno.io' },
      { group: 'rbac.authorization.k8s.io' },
      { group: 'templates.gatekeeper.sh' },
    ],
  },
  // Status writes (kubelets reporting pods and nodes, controllers their objects' status, the cloud controller
  // a LoadBalancer's address): frequent, and the status is not what anyone authorizes. Who wrote which
  // object is enough. The core group is listed on its own for API servers that do not know group "*".
  { level: 'Metadata', verbs: [...WRITE_VERBS], resources: [{ group: '', resources: ['*/status'] }, { group: '*', resources: ['*/status'] }] },
  // 4. Every other write: the request body shows what changed.
  { level: 'Request', verbs: [...WRITE_VERBS] },
  // 5. Everything else.
  { level: 'Metadata' },
];

export function auditPolicy(): object {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    // The RequestReceived stage duplicates every event; ResponseComplete (or ResponseStarted) is enough.
    omitStages: ['RequestReceived'],
    rules: AUDIT_RULES,
  };
}
