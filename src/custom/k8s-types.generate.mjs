#!/usr/bin/env node
// Regenerates src/custom/k8s-types.ts: the field paths of the kinds custom controls match, by the accessor
// that reads them (src/custom/paths.ts), from the OpenAPI v3 schemas Kubernetes publishes in k8s.io/kubernetes
// (api/openapi-spec/v3), read from the Go module cache. Needs Go; kubeharden itself never reads them.
//   node src/custom/k8s-types.generate.mjs
// test/custom-paths.test.ts checks that the committed file is what this script writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The release whose schemas are read (the newest minor kubeharden targets: src/controls/bootstrap-cluster-roles.ts). */
export const RELEASE = 'v1.37.2';

/** The schema files read (api/openapi-spec/v3/<name>_openapi.json). */
const SPEC_FILES = ['api__v1', 'apis__apps__v1', 'apis__batch__v1', 'apis__networking.k8s.io__v1', 'apis__rbac.authorization.k8s.io__v1'];

/** The kinds of src/custom/control.ts CUSTOM_KINDS, by schema name. */
const KINDS = {
  Pod: 'io.k8s.api.core.v1.Pod',
  Service: 'io.k8s.api.core.v1.Service',
  ConfigMap: 'io.k8s.api.core.v1.ConfigMap',
  Secret: 'io.k8s.api.core.v1.Secret',
  ServiceAccount: 'io.k8s.api.core.v1.ServiceAccount',
  PersistentVolumeClaim: 'io.k8s.api.core.v1.PersistentVolumeClaim',
  Namespace: 'io.k8s.api.core.v1.Namespace',
  Deployment: 'io.k8s.api.apps.v1.Deployment',
  StatefulSet: 'io.k8s.api.apps.v1.StatefulSet',
  DaemonSet: 'io.k8s.api.apps.v1.DaemonSet',
  Job: 'io.k8s.api.batch.v1.Job',
  CronJob: 'io.k8s.api.batch.v1.CronJob',
  Ingress: 'io.k8s.api.networking.v1.Ingress',
  NetworkPolicy: 'io.k8s.api.networking.v1.NetworkPolicy',
  Role: 'io.k8s.api.rbac.v1.Role',
  ClusterRole: 'io.k8s.api.rbac.v1.ClusterRole',
  RoleBinding: 'io.k8s.api.rbac.v1.RoleBinding',
  ClusterRoleBinding: 'io.k8s.api.rbac.v1.ClusterRoleBinding',
};

/**
 * What a `workloads: true` control reads: the pod template, with only the metadata a template carries and
 * src/custom/control.ts accepts (labels, annotations). A schema of its own, built here.
 */
const WORKLOAD = 'kubeharden.WorkloadPodTemplate';
const WORKLOAD_META = 'kubeharden.WorkloadPodTemplateMeta';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Top-level fields left out: what the API server writes, which an admission check of a request rarely reads. */
const SKIPPED_ROOT_FIELDS = new Set(['status']);
/** Names per path at most, below a schema (a nested list element starts a schema of its own). */
const MAX_DEPTH = 8;
/** A schema embedded (not as a list element) by two or more schemas is written once and prefixed where used, when it has this many paths. */
const SHARED_MIN_PATHS = 40;

const REF = '#/components/schemas/';

/** The schemas of the spec files, by name. */
function loadSchemas(specDir) {
  const schemas = new Map();
  for (const f of SPEC_FILES) {
    const doc = JSON.parse(readFileSync(join(specDir, `${f}_openapi.json`), 'utf8'));
    for (const [name, s] of Object.entries(doc.components.schemas)) if (!schemas.has(name)) schemas.set(name, s);
  }
  const meta = schemas.get(OBJECT_META);
  schemas.set(WORKLOAD_META, { type: 'object', properties: { labels: meta.properties.labels, annotations: meta.properties.annotations } });
  schemas.set(WORKLOAD, { type: 'object', properties: { metadata: { $ref: REF + WORKLOAD_META }, spec: { $ref: REF + 'io.k8s.api.core.v1.PodSpec' } } });
  return schemas;
}

/**
 * What a property holds: `{ scalars }` (the accessors reading it: string, int, or both for int-or-string),
 * `{ object }` (a schema with properties), `{ map }` (additionalProperties; `strings` when they are strings),
 * `{ list }` (of `string`, of the objects of a schema, or `other`), `{ opaque }` (an object without a schema),
 * or undefined (a number: no accessor reads it).
 */
function classify(schemas, s) {
  const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
  if (ref) {
    const name = ref.slice(REF.length);
    const target = schemas.get(name);
    if (!target) throw new Error(`unknown schema ${name}`);
    if (target.properties) return { object: name };
    return classify(schemas, target);
  }
  if (s.oneOf) {
    const scalars = [...new Set(s.oneOf.flatMap((o) => classify(schemas, o)?.scalars ?? []))].sort();
    return scalars.length ? { scalars } : undefined;
  }
  switch (s.type) {
    case 'string':
      return { scalars: ['string'] };
    case 'integer':
      return { scalars: s.format === 'int-or-string' ? ['int', 'string'] : ['int'] };
    case 'boolean':
      return { scalars: ['bool'] };
    case 'number':
      return undefined;
    case 'array': {
      const item = classify(schemas, s.items ?? {});
      if (item?.object) return { list: item.object };
      if (item?.scalars?.length === 1 && item.scalars[0] === 'string') return { list: 'string' };
      return { list: 'other' };
    }
    case 'object':
      if (s.properties) throw new Error('inline object schema with properties');
      if (s.additionalProperties) return { map: classify(schemas, s.additionalProperties)?.scalars?.join() === 'string' ? 'strings' : 'other' };
      return { opaque: true };
    default:
      if (s.format === 'int-or-string') return { scalars: ['int', 'string'] };
      throw new Error(`unhandled schema ${JSON.stringify(s).slice(0, 200)}`);
  }
}

const sortedProps = (schema) => Object.keys(schema.properties ?? {}).sort();

/** The schemas reachable from the roots: object fields (embedded) and list elements (roots of their own). */
function graph(schemas, roots) {
  const parents = new Map(); // schema -> set of schemas embedding it as an object field
  const elements = new Set();
  const seen = new Set();
  const visit = (name, top) => {
    if (seen.has(name)) return;
    seen.add(name);
    const schema = schemas.get(name);
    for (const p of sortedProps(schema)) {
      if (top && SKIPPED_ROOT_FIELDS.has(p)) continue;
      const c = classify(schemas, schema.properties[p]);
      if (c?.object) {
        parents.set(c.object, (parents.get(c.object) ?? new Set()).add(name));
        visit(c.object, false);
      } else if (c?.list && c.list !== 'string' && c.list !== 'other') {
        elements.add(c.list);
        visit(c.list, false);
      }
    }
  };
  for (const r of roots) visit(r, true);
  return { parents, elements };
}

/** The paths of a schema by accessor, with `compose` naming the shared schemas written once and prefixed. */
function flatten(schemas, name, shared, top) {
  const out = { string: [], int: [], bool: [], strings: [], list: [], object: [], map: [], objects: [], compose: [] };
  const walk = (schemaName, prefix, depth, stack) => {
    const schema = schemas.get(schemaName);
    for (const p of sortedProps(schema)) {
      if (top && prefix.length === 0 && SKIPPED_ROOT_FIELDS.has(p)) continue;
      if (p.includes('.')) throw new Error(`${schemaName}: field name with a dot: ${p}`);
      const path = [...prefix, p];
      const c = classify(schemas, schema.properties[p]);
      if (!c) continue;
      if (c.scalars) for (const s of c.scalars) out[s].push(path);
      else if (c.map) {
        out.object.push(path);
        if (c.map === 'strings') out.map.push(path);
      } else if (c.opaque) out.object.push(path);
      else if (c.list) {
        if (c.list === 'string') out.strings.push(path);
        else if (c.list === 'other') out.list.push(path);
        else out.objects.push([path, c.list]);
      } else if (c.object) {
        // The template's metadata is no field of its own to a workloads control (src/custom/control.ts).
        if (c.object !== WORKLOAD_META) out.object.push(path);
        if (shared.has(c.object)) out.compose.push([path, c.object]);
        else if (depth < MAX_DEPTH && !stack.includes(c.object)) walk(c.object, path, depth + 1, [...stack, c.object]);
      }
    }
  };
  walk(name, [], 1, [name]);
  return out;
}

/** The number of paths of a schema, shared ones expanded (to decide which to share). */
function pathCount(schemas, name) {
  const f = flatten(schemas, name, new Set(), false);
  return f.string.length + f.int.length + f.bool.length + f.strings.length + f.list.length + f.object.length + f.objects.length;
}

/** TypeScript type names: the last name of the schema, with the group and version when two schemas share it. */
function typeNames(names) {
  const short = (n) => n.split('.').at(-1);
  const counts = new Map();
  for (const n of names) counts.set(short(n), (counts.get(short(n)) ?? 0) + 1);
  const out = new Map();
  for (const n of names) {
    const parts = n.split('.');
    const base = counts.get(short(n)) === 1 ? short(n) : parts.slice(-3).map((x) => x[0].toUpperCase() + x.slice(1)).join('');
    out.set(n, `${base}Fields`);
  }
  if (new Set(out.values()).size !== out.size) throw new Error('type name collision');
  return out;
}

const q = (s) => `'${s}'`;

/** The generated TypeScript source, from the spec folder `api/openapi-spec/v3` of k8s.io/kubernetes at RELEASE. */
export function generate(specDir) {
  const schemas = loadSchemas(specDir);
  const roots = [...Object.values(KINDS), WORKLOAD];
  const { parents, elements } = graph(schemas, roots);
  const shared = new Set([...parents].filter(([n, ps]) => ps.size >= 2 && pathCount(schemas, n) >= SHARED_MIN_PATHS).map(([n]) => n).sort());
  const emitted = [...new Set([...roots, ...[...elements].sort(), ...shared])];
  const names = typeNames(emitted);

  const union = (members, indent) => (members.length === 0 ? ' never' : members.map((m) => `\n${indent}| ${m}`).join(''));
  let pathTotal = 0;
  const body = emitted.map((n) => {
    const f = flatten(schemas, n, shared, roots.includes(n));
    pathTotal += f.string.length + f.int.length + f.bool.length + f.strings.length + f.list.length + f.object.length + f.objects.length;
    const dotted = (ps) => ps.map((p) => q(p.join('.')));
    const composed = (key) => f.compose.map(([p, s]) => `\`${p.join('.')}.\${${names.get(s)}['${key}']}\``);
    const member = (key) => `  readonly ${key}:${union([...dotted(f[key]), ...composed(key)], '    ')};`;
    const mapTuples = [...f.map.map((p) => `readonly [${p.map(q).join(', ')}]`), ...f.compose.map(([p, s]) => `readonly [${p.map(q).join(', ')}, ...${names.get(s)}['mapTuple']]`)];
    const objects = f.objects.map(([p, e]) => `    readonly ${q(p.join('.'))}: ${names.get(e)};`);
    const objectsType = [...(objects.length || f.compose.length === 0 ? [`{${objects.length ? `\n${objects.join('\n')}\n  ` : ''}}`] : []), ...f.compose.map(([p, s]) => `Prefixed<'${p.join('.')}', ${names.get(s)}['objects']>`)].join(' & ');
    const what = n === WORKLOAD ? 'The pod template a `workloads: true` control reads (spec, metadata.labels, metadata.annotations).' : `${n}${roots.includes(n) && [...SKIPPED_ROOT_FIELDS].some((f) => schemas.get(n).properties[f]) ? ' (status left out)' : ''}.`;
    return `/** ${what} */
export interface ${names.get(n)} {
${['string', 'int', 'bool', 'strings', 'list', 'object', 'map'].map(member).join('\n')}
  readonly mapTuple:${union(mapTuples, '    ')};
  readonly objects: ${objectsType};
}
`;
  });

  return `/**
 * The field paths of the Kubernetes kinds custom controls match, by the accessor that reads them: for
 * src/custom/paths.ts (typed paths). Generated by src/custom/k8s-types.generate.mjs from the OpenAPI v3
 * schemas of k8s.io/kubernetes@${RELEASE}, api/openapi-spec/v3:
 * ${SPEC_FILES.join(', ')}. Do not edit by hand.
 *
 * ${emitted.length} schemas, ${pathTotal} paths written out (schemas embedded in several places are written once
 * and prefixed where used). Numbers (no accessor reads them) and the kinds' \`status\` are left out; paths stop
 * at ${MAX_DEPTH} names below a schema; a list of objects names the schema of its elements.
 */

/** The members of \`M\` with \`P.\` before each name. */
export type Prefixed<P extends string, M> = { readonly [K in keyof M & string as \`\${P}.\${K}\`]: M[K] };

${body.join('\n')}
/** The fields of each kind \`match.kinds\` takes. */
export interface KindFields {
${Object.entries(KINDS).map(([k, n]) => `  readonly ${k}: ${names.get(n)};`).join('\n')}
}

/** The fields a \`workloads: true\` control reads. */
export type WorkloadFields = ${names.get(WORKLOAD)};
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { createJiti } = await import('jiti');
  const { goModDownload } = await createJiti(import.meta.url).import('../engines/go-helper.ts');
  const specDir = join(goModDownload('k8s.io/kubernetes', RELEASE).dir, 'api', 'openapi-spec', 'v3');
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'k8s-types.ts'), generate(specDir));
}
