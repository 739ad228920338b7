/**
 * Custom check expressions (src/custom/expr.ts) give the same verdict in Rego and in CEL on every object.
 *
 * A corpus of expressions covering every operation is compiled to Rego and to CEL, and evaluated on objects
 * from a seeded generator (Pods, Ingresses and a custom Widget kind with absent fields, nulls, values of the
 * wrong type, empty and non-empty lists, mixed-case and non-ASCII strings, strings that almost match) and on
 * hand-written objects:
 * - the Rego by the real opa binary, in one `opa eval --strict-builtin-errors` over all of them (so a built-in
 *   called with a wrong-typed argument fails the run), every verdict a boolean: never undefined;
 * - the CEL by the ValidatingAdmissionPolicy oracle (src/engines/vap.ts: the API server's admission code), one
 *   policy and binding per expression, every object a CREATE; a Deny is a false expression, and any error,
 *   compile error or policy that does not match fails the test.
 * The verdicts must be identical for every (expression, object) pair, each corpus expression must be true on
 * some objects and false on others, and hand-written cases pin the expected verdict.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture, ensureEngine } from '../src/engines/index.js';
import { vapEvaluate, type VapRequest } from '../src/engines/vap.js';
import {
  all, and, annotation, bool, contains, endsWith, eq, exists, ge, gt, hasAnnotation, hasLabel, includes, int, label, le, list, lt,
  matches, ne, not, oneOf, option, or, present, size, startsWith, str, strings, toCel, toRego, type Expr,
} from '../src/custom/expr.js';
import { checkRegex } from '../src/custom/regex.js';

type Obj = Record<string, unknown>;

const OPTIONS = {
  allowedClasses: ['nginx', 'nginx-internal'],
  teams: ['payments', 'search', 'ünicode'],
  caps: ['NET_BIND_SERVICE', 'CHOWN'],
  none: [],
} as const;

/** The corpus: every operation, each expression true on some generated objects and false on others. */
const CORPUS: Readonly<Record<string, Expr<'bool', keyof typeof OPTIONS>>> = {
  classIsNginx: eq(str('spec.ingressClassName', ''), 'nginx'),
  classAllowed: oneOf(str('spec.ingressClassName', 'nginx'), option('allowedClasses')),
  classSet: ne(str('spec.ingressClassName', ''), ''),
  hasTeam: hasLabel('team'),
  teamKnown: oneOf(label('team'), option('teams')),
  teamNonEmpty: and(hasLabel('team'), not(eq(label('team'), ''))),
  teamNotInEmptyOption: and(not(oneOf(label('team'), option('none'))), hasLabel('team')),
  appPrefix: startsWith(label('app.kubernetes.io/name', 'web'), 'web'),
  ownerDomain: endsWith(annotation('owner'), '@example.com'),
  ownerOrTeam: or(hasAnnotation('owner'), hasLabel('team')),
  nameContainsTest: contains(str('metadata.name', ''), 'test'),
  nameDns: matches(str('metadata.name', ''), '^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$'),
  teamPayAnyCase: matches(label('team'), '(?i)pay'),
  nameNoUpper: not(matches(str('metadata.name', ''), '[A-Z]')),
  descAccents: matches(str('spec.description', ''), 'é|ü|ß'),
  imagesFromRegistry: all(list('spec.containers'), (c) => startsWith(c.str('image', ''), 'registry.example.com/')),
  noLatest: not(exists(list('spec.containers'), (c) => or(endsWith(c.str('image', ''), ':latest'), not(contains(c.str('image', ''), ':'))))),
  notPrivileged: all(list('spec.containers'), (c) => eq(c.bool('securityContext.privileged', false), false)),
  runAsUserHigh: all(list('spec.containers'), (c) => ge(c.int('securityContext.runAsUser', 1000), 1000)),
  runAsNonZero: all(list('spec.containers'), (c) => ne(c.int('securityContext.runAsUser', -1), 0)),
  port80: exists(list('spec.containers'), (c) => exists(c.list('ports'), (p) => eq(p.int('containerPort', 0), 80))),
  portsUnprivileged: all(list('spec.containers'), (c) => all(c.list('ports'), (p) => and(gt(p.int('containerPort', 1024), 1023), le(p.int('containerPort', 1024), 65535)))),
  dropAll: all(list('spec.containers'), (c) => includes(c.strings('securityContext.capabilities.drop'), 'ALL')),
  addAllowed: all(list('spec.containers'), (c) => all(c.strings('securityContext.capabilities.add'), (s) => oneOf(s, option('caps')))),
  fewContainers: lt(size(list('spec.containers')), 2),
  noInitContainers: eq(size(list('spec.initContainers')), 0),
  hostNetworkOff: eq(bool('spec.hostNetwork', false), false),
  hostNetworkOrLabel: or(not(bool('spec.hostNetwork', false)), eq(label('network'), 'host')),
  tlsPresent: present('spec.tls', 'list'),
  tlsHosts: all(list('spec.tls'), (t) => gt(size(t.strings('hosts')), 0)),
  rulesInDomain: all(list('spec.rules'), (r) => endsWith(r.str('host', ''), '.example.com')),
  internalHost: exists(strings('spec.hosts'), (h) => matches(h, '\\.internal$')),
  noEmptyHost: not(includes(strings('spec.hosts'), '')),
  hostsShort: all(strings('spec.hosts'), (h) => lt(size(h), 12)),
  priorityWithin: le(int('spec.priority', 0), int('spec.maxPriority', 10)),
  modeChanged: ne(str('spec.mode', ''), str('spec.previousMode', '')),
  modeKnownOrEmpty: or(oneOf(str('spec.mode', ''), ['strict', 'relaxed']), oneOf(str('spec.mode', ''), option('none')), eq(size(str('spec.mode', '')), 0)),
  nameShort: le(size(str('metadata.name', '')), 5),
  descTenChars: eq(size(str('spec.description', '')), 10),
  enabledDefaultTrue: eq(bool('spec.enabled', true), true),
  enabledEqualsHostNetwork: eq(bool('spec.enabled', false), bool('spec.hostNetwork', false)),
  itemNamedA: exists(list('spec.items'), (i) => and(eq(i.str('name', ''), 'a'), eq(i.int('count', -1), -1))),
  specIsObject: present('spec', 'object'),
  priorityIsInt: present('spec.priority', 'int'),
  enabledIsBool: present('spec.enabled', 'bool'),
  hostsIsList: present('spec.hosts', 'list'),
  registryFromSpec: all(list('spec.containers'), (c) => startsWith(c.str('image', ''), str('spec.registry', 'registry.example.com/'))),
  imageEndsWithName: exists(list('spec.containers'), (c) => and(ne(c.str('name', ''), ''), contains(c.str('image', ''), c.str('name', '')))),
  titleLiterals: oneOf(str('spec.title', ''), ['Straße', 'a"b\\c', 'tab\there', '😀', '{{x}}', 'object.spec']),
  titleBackslash: matches(str('spec.title', ''), '^a"b\\\\c$'),
  titleLineBreak: matches(str('spec.title', ''), '\\n|\\t'),
  titleOrDesc: or(eq(str('spec.title', ''), 'Straße'), contains(str('spec.description', ''), 'über')),
  podsHaveContainers: or(ne(str('kind', ''), 'Pod'), gt(size(list('spec.containers')), 0)),
  elementUnused: exists(list('spec.containers'), () => hasLabel('team')),
  noHostPathVolume: not(exists(list('spec.volumes'), (v) => v.present('hostPath', 'object'))),
  reservedWordField: ne(str('spec.namespace', 'default'), 'kube-system'),
  dottedKeyPath: eq(str(['metadata', 'labels', 'app.kubernetes.io/name'], 'none'), 'web'),
  throughListPrefix: or(eq(str('spec.containers.name', 'none'), 'app'), hasLabel('team')),
};

/** Expressions for the hand-written expectations only (some are constant on purpose). */
const HAND_EXPRS: Readonly<Record<string, Expr<'bool', keyof typeof OPTIONS>>> = {
  existsContainer: exists(list('spec.containers'), () => and()),
  allContainers: all(list('spec.containers'), () => or()),
  existsHost: exists(strings('spec.hosts'), () => and()),
  allHosts: all(strings('spec.hosts'), () => or()),
  classDefaultNginx: eq(str('spec.ingressClassName', 'nginx'), 'nginx'),
  priorityDefault7: eq(int('spec.priority', 7), 7),
  priorityBelow0: lt(int('spec.priority', 7), 0),
  enabledDefaultFalse: eq(bool('spec.enabled', false), true),
  hasTeam: hasLabel('team'),
  teamEmpty: eq(label('team', 'unset'), ''),
  hostsIncludeA: includes(strings('spec.hosts'), 'a'),
  oneHost: eq(size(strings('spec.hosts')), 1),
  oneContainer: eq(size(list('spec.containers')), 1),
  nameHasEst: matches(str('metadata.name', ''), 'est'),
  nameStartsEst: matches(str('metadata.name', ''), '^est'),
  nameTwoChars: eq(size(str('metadata.name', '')), 2),
  nameCaseSensitive: eq(str('metadata.name', ''), 'Test'),
  emptyAnd: and(),
  emptyOr: or(),
  inEmptyOption: oneOf(str('metadata.name', ''), option('none')),
  nestedDefault: eq(str('spec.a.b.c', 'd'), 'd'),
};

const HAND: readonly { readonly id: string; readonly object: Obj; readonly expect: Readonly<Record<string, boolean>> }[] = [
  {
    id: 'empty-lists',
    object: pod({ metadata: { name: 'test' }, spec: { containers: [], hosts: [] } }),
    expect: { existsContainer: false, allContainers: true, existsHost: false, allHosts: true, oneContainer: false, nameHasEst: true, nameStartsEst: false, emptyAnd: true, emptyOr: false, inEmptyOption: false },
  },
  {
    id: 'wrong-types',
    object: pod({ metadata: { name: 5, labels: { team: 5 } }, spec: { containers: 'app', hosts: { a: 'a' }, ingressClassName: 42, priority: '3', enabled: 'true' } }),
    expect: { existsContainer: false, allContainers: true, existsHost: false, allHosts: true, classDefaultNginx: true, priorityDefault7: true, enabledDefaultFalse: false, hasTeam: false, teamEmpty: false, nameHasEst: false, nameTwoChars: false },
  },
  {
    id: 'nulls',
    object: pod({ metadata: null, spec: { containers: null, hosts: null, ingressClassName: null, priority: null, enabled: null } }),
    expect: { existsContainer: false, allContainers: true, classDefaultNginx: true, priorityDefault7: true, enabledDefaultFalse: false, hasTeam: false, nestedDefault: true },
  },
  { id: 'spec-is-string', object: pod({ spec: 'spec' }), expect: { allContainers: true, classDefaultNginx: true, priorityDefault7: true, nestedDefault: true } },
  { id: 'spec-is-list', object: pod({ spec: [{ containers: [{}] }] }), expect: { existsContainer: false, allContainers: true, classDefaultNginx: true, nestedDefault: true } },
  { id: 'list-in-path', object: pod({ spec: { a: [{ b: { c: 'x' } }] } }), expect: { nestedDefault: true } },
  { id: 'nested-value', object: pod({ spec: { a: { b: { c: 'x' } } } }), expect: { nestedDefault: false } },
  { id: 'float-priority', object: pod({ spec: { priority: 1.5 } }), expect: { priorityDefault7: true, priorityBelow0: false } },
  { id: 'huge-priority', object: pod({ spec: { priority: 1e20 } }), expect: { priorityDefault7: true } },
  { id: 'negative-priority', object: pod({ spec: { priority: -3, enabled: true } }), expect: { priorityDefault7: false, priorityBelow0: true, enabledDefaultFalse: true } },
  {
    id: 'mixed-lists',
    object: pod({ metadata: { name: '😀é', labels: { team: '' } }, spec: { containers: [1, 'x', null, { name: 'a' }], hosts: [1, null, 'a', ['a'], { a: 'a' }] } }),
    expect: { oneContainer: true, allContainers: false, existsContainer: true, hostsIncludeA: true, oneHost: true, nameTwoChars: true, hasTeam: true, teamEmpty: true },
  },
  { id: 'case', object: pod({ metadata: { name: 'test' }, spec: { ingressClassName: 'NGINX' } }), expect: { nameCaseSensitive: false, classDefaultNginx: false, nameHasEst: true } },
];

function pod(fields: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Pod', ...fields };
}

/** mulberry32: a small seeded PRNG, enough for reproducible test data. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

const MISSING = Symbol('missing');

/** Values of every JSON type, for fields of the wrong type and list elements that are not what the list holds. */
const JUNK: readonly unknown[] = [null, 0, 1, -1, 80, 1000, 1.5, -0.5, 1e20, 2 ** 53, -(2 ** 63), true, false, '', 'x', '80', '1000', 'true', 'ALL', [], ['a'], [1, 'x', null], {}, { a: 1 }, { name: 'x' }, [{}]];
const NAMES = ['web', 'web-1', 'test-pod', 'Test', 'a-very-long-name-indeed', 'api', 'tëst', 'x', '', 'nginx-test-2', 'WEB', 'web_1', '😀é', 'abc'];
const TEAMS = ['payments', 'Payments', 'PAYMENTS', 'payments ', 'pay', 'search', 'sëarch', 'ünicode', 'unicode', '', 'platform', 'repay'];
const APPS = ['web', 'web-frontend', 'Web', 'webb', 'api', '', ' web', 'wéb'];
const OWNERS = ['alice@example.com', 'bob@example.com.evil', 'Alice@EXAMPLE.COM', 'carol@examplecom', '@example.com', '', 'dave@sub.example.com'];
const IMAGES = [
  'registry.example.com/app:1.0', 'registry.example.com/app:latest', 'registry.example.com.evil/app:1', 'Registry.Example.com/app:1',
  'registry.example.com', 'docker.io/library/nginx:latest', 'docker.io/app:2', 'nginx', 'nginx:LATEST', 'app@sha256:abc', 'régistry.example.com/app:1',
  ' registry.example.com/app:1', '日本/app:latest', 'registry.example.com/😀:1', '',
];
const CONTAINER_NAMES = ['app', 'nginx', 'sidecar', '', 'App', 'ap'];
const CLASSES = ['nginx', 'NGINX', 'nginx-internal', 'nginx ', 'traefik', '', 'ngínx'];
const HOSTS = ['a.example.com', 'example.com', 'a.example.com.evil', 'A.EXAMPLE.COM', 'b.internal', 'b.internal.x', 'internal', 'ä.example.com', '', 'a', 'very-long-host.example.com'];
const CAPS = ['NET_BIND_SERVICE', 'CHOWN', 'ALL', 'all', 'SYS_ADMIN', 'net_bind_service', ''];
const MODES = ['strict', 'Strict', 'relaxed', 'off', '', 'strict '];
const DESCRIPTIONS = ['', 'naïve café', 'Straße', 'STRASSE', 'über', 'uber alles', '😀 emoji', 'plain text', 'ß', 'tëst'];
const TITLES = ['Straße', 'Strasse', 'straße', 'STRASSE', '', 'a"b\\c', 'a"b\\cd', 'tab\there', 'line\nbreak', '😀', '{{x}}', 'object.spec'];
const INTS: readonly unknown[] = [0, 1, 2, 3, 5, 10, 80, 443, 999, 1000, 1023, 1024, 65534, 65535, 65536, -1, 1.5, 1e20, '1000', 2 ** 31];
const REGISTRIES = ['registry.example.com/', 'docker.io/', '', 'registry.example.com'];
const NAMESPACES = ['default', 'kube-system', '', 'Kube-System'];

/** Generated objects: each field absent, null, of the wrong type or a plausible value. */
function generate(r: Random, count: number): Obj[] {
  const value = (good: () => unknown): unknown => {
    const x = r.next();
    if (x < 0.12) return MISSING;
    if (x < 0.2) return null;
    if (x < 0.3) return structuredClone(r.pick(JUNK));
    return good();
  };
  const object = (fields: Readonly<Record<string, () => unknown>>): Obj => {
    const out: Obj = {};
    for (const [k, g] of Object.entries(fields)) {
      const v = value(g);
      if (v !== MISSING) out[k] = v;
    }
    return out;
  };
  const listOf = (element: () => unknown, max = 3): unknown[] =>
    Array.from({ length: r.below(max + 1) }, () => (r.next() < 0.85 ? element() : structuredClone(r.pick(JUNK))));
  const metadata = (): Obj =>
    object({
      name: () => r.pick(NAMES),
      labels: () => object({ team: () => r.pick(TEAMS), 'app.kubernetes.io/name': () => r.pick(APPS), network: () => r.pick(['host', 'Host', 'pod']) }),
      annotations: () => object({ owner: () => r.pick(OWNERS) }),
    });
  const container = (): Obj =>
    object({
      name: () => r.pick(CONTAINER_NAMES),
      image: () => r.pick(IMAGES),
      securityContext: () =>
        object({
          privileged: () => r.next() < 0.5,
          runAsUser: () => r.pick(INTS),
          capabilities: () => object({ add: () => listOf(() => r.pick(CAPS)), drop: () => listOf(() => r.pick(CAPS)) }),
        }),
      ports: () => listOf(() => object({ containerPort: () => r.pick(INTS) })),
    });
  const containers = (): unknown[] => listOf(container);
  const out: Obj[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.pick(['Pod', 'Pod', 'Ingress', 'Widget']);
    const spec =
      kind === 'Pod'
        ? () =>
            object({
              containers,
              initContainers: () => listOf(container, 1),
              hostNetwork: () => r.next() < 0.5,
              enabled: () => r.next() < 0.5,
              volumes: () => listOf(() => object({ name: () => 'v', hostPath: () => ({ path: '/' }), emptyDir: () => ({}) })),
            })
        : kind === 'Ingress'
          ? () =>
              object({
                ingressClassName: () => r.pick(CLASSES),
                tls: () => listOf(() => object({ hosts: () => listOf(() => r.pick(HOSTS)), secretName: () => 'tls' })),
                rules: () => listOf(() => object({ host: () => r.pick(HOSTS) })),
              })
          : () =>
              object({
                mode: () => r.pick(MODES),
                previousMode: () => r.pick(MODES),
                priority: () => r.pick(INTS),
                maxPriority: () => r.pick(INTS),
                enabled: () => r.next() < 0.5,
                hostNetwork: () => r.next() < 0.5,
                hosts: () => listOf(() => r.pick(HOSTS), 4),
                items: () => listOf(() => object({ name: () => r.pick(['a', 'A', 'b', '']), count: () => r.pick(INTS) })),
                description: () => r.pick(DESCRIPTIONS),
                title: () => r.pick(TITLES),
                registry: () => r.pick(REGISTRIES),
                namespace: () => r.pick(NAMESPACES),
                containers,
              });
    const apiVersion = kind === 'Pod' ? 'v1' : kind === 'Ingress' ? 'networking.k8s.io/v1' : 'example.com/v1';
    const o: Obj = { apiVersion, kind };
    const md = value(metadata);
    if (md !== MISSING) o['metadata'] = md;
    const s = value(spec);
    if (s !== MISSING) o['spec'] = s;
    out.push(o);
  }
  return out;
}

const RESOURCES: Readonly<Record<string, string>> = { Pod: 'pods', Ingress: 'ingresses', Widget: 'widgets' };
const RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
  { apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['ingresses'] },
  { apiGroups: ['example.com'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['widgets'] },
];

const SEED = 20261126;
const GENERATED = 1000;

type Verdicts = Map<string, Map<string, boolean>>;

interface Run {
  readonly exprs: readonly [string, Expr<'bool', keyof typeof OPTIONS>][];
  readonly cases: readonly { readonly id: string; readonly object: Obj }[];
  readonly rego: Verdicts;
  readonly cel: Verdicts;
  readonly regoMs: number;
  readonly celMs: number;
}

let dir: string;
let run: Run;

/** Every expression on every case with opa, in one process. */
async function evalRego(exprs: Run['exprs'], cases: Run['cases']): Promise<Verdicts> {
  const opa = await ensureEngine('opa');
  const rules = exprs.map(([, e], i) => `e${i} := {c.id: ${toRego(e, { input: 'obj', options: OPTIONS })} | some c in input.cases; obj := c.object}`);
  const policy = `package kh_custom_expr\n\n${rules.join('\n\n')}\n\nverdicts := {${exprs.map(([name], i) => `${JSON.stringify(name)}: e${i}`).join(', ')}}\n`;
  writeFileSync(join(dir, 'policy.rego'), policy);
  writeFileSync(join(dir, 'input.json'), JSON.stringify({ cases }));
  const out = await capture(opa, ['eval', '--strict-builtin-errors', '--format', 'json', '-d', join(dir, 'policy.rego'), '-i', join(dir, 'input.json'), 'data.kh_custom_expr.verdicts']);
  if (out.code !== 0) throw new Error(`opa eval failed (${out.code}):\n${out.stdout.slice(0, 4000)}\n${out.stderr.slice(0, 4000)}`);
  const value = (JSON.parse(out.stdout) as { result?: { expressions: { value: Record<string, Record<string, unknown>> }[] }[] }).result?.[0]?.expressions[0]?.value;
  if (!value) throw new Error(`opa eval gave no result: ${out.stdout.slice(0, 2000)}`);
  const verdicts: Verdicts = new Map();
  for (const [name] of exprs) {
    const byCase = new Map<string, boolean>();
    for (const [id, v] of Object.entries(value[name] ?? {})) {
      if (typeof v !== 'boolean') throw new Error(`Rego of ${name} gave ${JSON.stringify(v)} for ${id}`);
      byCase.set(id, v);
    }
    verdicts.set(name, byCase);
  }
  return verdicts;
}

/** Every expression on every case with the ValidatingAdmissionPolicy oracle, in one process. */
async function evalCel(exprs: Run['exprs'], cases: Run['cases']): Promise<Verdicts> {
  const policyName = (i: number): string => `kh-expr-${i}`;
  const policies = exprs.map(([name, e], i) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: policyName(i) },
    spec: { failurePolicy: 'Fail', matchConstraints: { resourceRules: RULES }, validations: [{ expression: toCel(e, { options: OPTIONS }), message: name }] },
  }));
  const bindings = exprs.map((_, i) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName(i) },
    spec: { policyName: policyName(i), validationActions: ['Deny'] },
  }));
  const requests: VapRequest[] = cases.map((c) => ({ id: c.id, operation: 'CREATE', object: c.object, namespace: 'default', resource: RESOURCES[String(c.object['kind'])]! }));
  const ev = await vapEvaluate({ policies, bindings }, requests);
  const problems: string[] = [...ev.errors];
  for (const p of ev.policies) for (const e of p.compileErrors) problems.push(`${p.name} does not compile: ${e}`);
  const index = new Map(exprs.map(([name], i) => [policyName(i), name]));
  const verdicts: Verdicts = new Map(exprs.map(([name]) => [name, new Map<string, boolean>()]));
  for (const c of cases) {
    const res = ev.results.get(c.id)!;
    const matched = new Set(res.matched.map((m) => m.policy));
    const denied = new Set<string>();
    for (const d of res.decisions) {
      if (d.error || d.action !== 'Deny') problems.push(`${c.id}: ${d.policy} ${d.action}${d.error ? ' (error)' : ''}: ${d.message}`);
      else denied.add(d.policy);
    }
    for (const [policy, name] of index) {
      if (!matched.has(policy)) problems.push(`${c.id}: ${policy} did not match`);
      verdicts.get(name)!.set(c.id, !denied.has(policy));
    }
  }
  if (problems.length) throw new Error(`the ValidatingAdmissionPolicy oracle reported ${problems.length} problems:\n${problems.slice(0, 20).join('\n')}`);
  return verdicts;
}

describe('custom check expressions: Rego and CEL agree', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-custom-expr-'));
    const exprs = [...Object.entries(CORPUS), ...Object.entries(HAND_EXPRS).map(([n, e]) => [`hand:${n}`, e] as [string, Expr<'bool', keyof typeof OPTIONS>])];
    const cases = [...generate(new Random(SEED), GENERATED).map((object, i) => ({ id: `g${i}`, object })), ...HAND.map((h) => ({ id: `h:${h.id}`, object: h.object }))];
    let t = performance.now();
    const rego = await evalRego(exprs, cases);
    const regoMs = performance.now() - t;
    t = performance.now();
    const cel = await evalCel(exprs, cases);
    const celMs = performance.now() - t;
    run = { exprs, cases, rego, cel, regoMs, celMs };
    process.stderr.write(`custom-expr: ${exprs.length} expressions × ${cases.length} objects = ${exprs.length * cases.length} evaluations per engine; opa ${Math.round(regoMs)} ms, VAP oracle ${Math.round(celMs)} ms\n`);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives a verdict for every expression on every object in both engines', () => {
    expect(run.exprs.length).toBeGreaterThanOrEqual(30);
    expect(run.exprs.length * run.cases.length).toBeGreaterThan(5000);
    for (const [name] of run.exprs) {
      expect(run.rego.get(name)!.size, `Rego verdicts of ${name}`).toBe(run.cases.length);
      expect(run.cel.get(name)!.size, `CEL verdicts of ${name}`).toBe(run.cases.length);
    }
  });

  it('gives the same verdict in Rego and CEL on every object', () => {
    const mismatches: string[] = [];
    for (const [name, e] of run.exprs) {
      for (const c of run.cases) {
        const r = run.rego.get(name)!.get(c.id);
        const v = run.cel.get(name)!.get(c.id);
        if (r !== v) mismatches.push(`${name} on ${c.id}: Rego ${r}, CEL ${v}\n  object: ${JSON.stringify(c.object)}\n  CEL: ${toCel(e, { options: OPTIONS })}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('each corpus expression is true on some objects and false on others', () => {
    const oneSided: string[] = [];
    for (const name of Object.keys(CORPUS)) {
      const values = new Set(run.rego.get(name)!.values());
      if (values.size !== 2) oneSided.push(`${name}: always ${[...values].join()}`);
    }
    expect(oneSided).toEqual([]);
  });

  it('gives the expected verdicts on the hand-written objects', () => {
    const wrong: string[] = [];
    for (const h of HAND) {
      for (const [name, expected] of Object.entries(h.expect)) {
        const key = `hand:${name}`;
        if (!HAND_EXPRS[name]) throw new Error(`no hand expression ${name}`);
        for (const [engine, verdicts] of [['Rego', run.rego], ['CEL', run.cel]] as const) {
          const got = verdicts.get(key)!.get(`h:${h.id}`);
          if (got !== expected) wrong.push(`${engine} ${name} on ${h.id}: ${got}, expected ${expected}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('custom check expressions: building and compiling', () => {
  it('compiles to a Rego term and a CEL expression', () => {
    const e = and(oneOf(str('spec.ingressClassName', ''), option('allowedClasses')), hasLabel('team'));
    expect(toCel(e, { options: { allowedClasses: ['nginx'] } })).toBe(
      '(((type((type(object.?spec.orValue(dyn(null))) != list ? object.?spec.?ingressClassName.orValue(dyn(null)) : dyn(null))) == string ? ' +
        '(type(object.?spec.orValue(dyn(null))) != list ? object.?spec.?ingressClassName.orValue(dyn(null)) : dyn(null)) : "") in ["nginx"]) && ' +
        '(type((type(object.?metadata.orValue(dyn(null))) != list && type(object.?metadata.?labels.orValue(dyn(null))) != list ? object.?metadata.?labels.?team.orValue(dyn(null)) : dyn(null))) == string))',
    );
    expect(toRego(e, { input: 'obj', options: { allowedClasses: ['nginx'] } })).toBe(
      '({(object.get({0: kh_t0 | kh_t0 := object.get(obj, ["spec", "ingressClassName"], null); is_string(kh_t0)}, 0, "") in ["nginx"]), ' +
        'object.get({0: true | kh_t1 := object.get(obj, ["metadata", "labels", "team"], null); is_string(kh_t1)}, 0, false)} == {true})',
    );
    expect(toRego(hasLabel('a'))).toContain('object.get(input.review.object, ');
  });

  it('names nested quantifier elements apart and the same way whatever was built before', () => {
    const build = (): Expr<'bool'> => all(list('spec.containers'), (c) => exists(c.list('ports'), (p) => eq(p.int('containerPort', 0), c.int('port', 1))));
    const first = build();
    expect(toCel(build())).toBe(toCel(first));
    expect(toCel(first)).toMatch(/\.all\(kh0, .*\.exists\(kh1, /);
    expect(toRego(first)).toMatch(/some kh_e1 in .*some kh_e0 in /);
  });

  it('refuses what the engines would not evaluate alike', () => {
    expect(() => toCel(oneOf(str('a', ''), option('missing')) as unknown as Expr<'bool'>)).toThrow(/option "missing"/);
    expect(() => str('a..b', '')).toThrow(/empty name/);
    expect(() => str('a', '\ud800')).toThrow(/lone surrogate/);
    expect(() => eq(int('a', 0), 1.5)).toThrow(/safe integer/);
    expect(() => eq(int('a', 2 ** 60), 1)).toThrow(/safe integer/);
    expect(() => eq(str('a', ''), 1 as unknown as string)).toThrow(/must be a string/);
    expect(() => startsWith(int('a', 0) as unknown as Expr<'string'>, 'x')).toThrow(/type string/);
    expect(() => toRego(str('a', '') as unknown as Expr<'bool'>)).toThrow(/boolean expression/);
    expect(() => toRego(hasLabel('a'), { input: 'input.review["object"]' })).toThrow(/reference/);
    let leaked: Expr<'string'> | undefined;
    const e = exists(list('spec.containers'), (c) => {
      leaked = c.str('name', '');
      return eq(leaked, 'x');
    });
    expect(() => toCel(and(e, eq(leaked!, 'y')))).toThrow(/outside the exists\/all/);
  });

  it('accepts the RE2 subset and refuses the rest', () => {
    for (const ok of ['^a$', '(?i)pay', '(?is)a.b', 'a|b|', '[a-z0-9-]+', '[^-a]', '[\\d\\]]', '\\.internal$', 'x{2}', 'x{2,}', 'x{2,5}?', '(?:ab)*?', '\\x41\\bz\\B', 'é+', '']) {
      expect(() => checkRegex(ok), ok).not.toThrow();
    }
    for (const bad of ['(?=a)', '(?<n>a)', '\\1', '\\p{L}', '\\u0041', 'a**', '*a', 'a{1001}', '(a{100}){100}', '[a-]b-c]', '[z-a]', '[]', '[[:alpha:]]', '(a', 'a)', 'a{', '^*', '\\Z', '(?i)(?m)a', 'a{2}{3}']) {
      expect(() => checkRegex(bad), bad).toThrow();
    }
  });
});
