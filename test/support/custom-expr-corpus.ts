/**
 * The corpus of custom check expressions and the seeded object generator shared by the differential tests
 * (test/custom-expr.test.ts: opa and the VAP oracle; test/custom-expr-engines.test.ts: gator, the Kyverno CLI
 * and the OPA WebAssembly build), with opa's verdicts as the reference the other engines are compared with.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, ensureEngine } from '../../src/engines/index.js';
import {
  all, and, annotation, bool, contains, endsWith, eq, exists, ge, gt, hasAnnotation, hasLabel, includes, int, label, le, list, lt,
  matches, ne, not, oneOf, option, or, present, size, startsWith, str, strings, toRego, type Expr,
} from '../../src/custom/expr.js';

export type Obj = Record<string, unknown>;

export const OPTIONS = {
  allowedClasses: ['nginx', 'nginx-internal'],
  teams: ['payments', 'search', 'ünicode'],
  caps: ['NET_BIND_SERVICE', 'CHOWN'],
  none: [],
} as const;

/** The corpus: every operation, each expression true on some generated objects and false on others. */
export const CORPUS: Readonly<Record<string, Expr<'bool', keyof typeof OPTIONS>>> = {
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
export const HAND_EXPRS: Readonly<Record<string, Expr<'bool', keyof typeof OPTIONS>>> = {
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

export const HAND: readonly { readonly id: string; readonly object: Obj; readonly expect: Readonly<Record<string, boolean>> }[] = [
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

export function pod(fields: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Pod', ...fields };
}

/** mulberry32: a small seeded PRNG, enough for reproducible test data. */
export class Random {
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
export function generate(r: Random, count: number): Obj[] {
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

/** The seed and size of the generated corpus objects. */
export const SEED = 20261126;
export const GENERATED = 1000;

/** An expression of the corpus, by name (hand-written ones as `hand:<name>`). */
export type CorpusExpr = readonly [string, Expr<'bool', keyof typeof OPTIONS>];
/** An object of the corpus, by id (`g<n>` generated, `h:<id>` hand-written). */
export interface CorpusCase {
  readonly id: string;
  readonly object: Obj;
}
/** Verdicts: expression name → case id → whether the expression holds. */
export type Verdicts = Map<string, Map<string, boolean>>;

/** Every corpus and hand-written expression. */
export function corpusExprs(): CorpusExpr[] {
  return [...Object.entries(CORPUS), ...Object.entries(HAND_EXPRS).map(([n, e]) => [`hand:${n}`, e] as const)];
}

/** The generated objects (seed SEED, GENERATED of them) and the hand-written ones. */
export function corpusCases(): CorpusCase[] {
  return [...generate(new Random(SEED), GENERATED).map((object, i) => ({ id: `g${i}`, object })), ...HAND.map((h) => ({ id: `h:${h.id}`, object: h.object }))];
}

/**
 * Every expression on every case with the real opa binary, in one `opa eval --strict-builtin-errors` process
 * (files written to `dir`); every verdict must be a boolean.
 */
export async function evalRego(dir: string, exprs: readonly CorpusExpr[], cases: readonly CorpusCase[]): Promise<Verdicts> {
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
