/**
 * The API server's audit rule matching, first match wins: a line-by-line port of k8s.io/apiserver
 * pkg/audit/policy/checker.go (v0.37.2: ruleMatches, ruleMatchesResource, ruleMatchesNonResource,
 * pathMatches). test/control-plane.test.ts pins its corner cases; test/apiserver.test.ts checks it against
 * the levels a real kube-apiserver records.
 */
type Obj = Record<string, any>;

export interface Request {
  user: string;
  groups?: string[];
  verb: string;
  /** Resource requests. */
  group?: string;
  resource?: string;
  subresource?: string;
  /** The object's name (empty for list, watch and create without a name). */
  name?: string;
  namespace?: string;
  /** Non-resource requests. */
  path?: string;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

function ruleMatches(rule: Obj, r: Request): boolean {
  const users = list(rule['users']);
  if (users.length && !users.includes(r.user)) return false;
  const userGroups = list(rule['userGroups']);
  if (userGroups.length && !(r.groups ?? []).some((g) => userGroups.includes(g))) return false;
  const verbs = list(rule['verbs']);
  if (verbs.length && !verbs.includes(r.verb)) return false;
  // Namespaces or resources make it a resource rule (nonResourceURLs are then not looked at).
  if (list(rule['namespaces']).length || list(rule['resources']).length) return ruleMatchesResource(rule, r);
  if (list(rule['nonResourceURLs']).length) return ruleMatchesNonResource(rule, r);
  return true;
}

function ruleMatchesNonResource(rule: Obj, r: Request): boolean {
  if (r.path === undefined) return false;
  return list(rule['nonResourceURLs']).some((spec) => pathMatches(r.path!, spec));
}

/** `*`, the exact path, or a prefix before trailing `*`s (Go's strings.TrimRight: every trailing `*`). */
function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function ruleMatchesResource(rule: Obj, r: Request): boolean {
  if (r.path !== undefined) return false;
  const namespaces = list(rule['namespaces']);
  // Cluster-scoped resources have the empty namespace.
  if (namespaces.length && !namespaces.includes(r.namespace ?? '')) return false;
  const groupResources = (rule['resources'] ?? []) as Obj[];
  if (!groupResources.length) return true;
  const resource = r.resource ?? '';
  const subresource = r.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const gr of groupResources) {
    const group = (gr['group'] ?? '') as string;
    if (group !== (r.group ?? '') && group !== '*') continue;
    const resources = list(gr['resources']);
    if (!resources.length) return true;
    const names = list(gr['resourceNames']);
    for (const res of resources) {
      if (names.length && !names.includes(r.name ?? '')) continue;
      if (res === combined || res === '*') return true;
      // "*/subresource": that subresource of any resource.
      if (subresource && res.startsWith('*/') && subresource === res.slice(2)) return true;
      // "resource/*": the resource itself and every subresource of it.
      if (res.endsWith('/*') && resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

export function levelOf(policy: Obj, r: Request): string {
  for (const rule of policy['rules']) if (ruleMatches(rule, r)) return rule['level'];
  return 'None';
}
