/**
 * What kubeharden writes for Kubernetes tools reads back, with kubectl's YAML reader (the Go program in
 * src/engines/yaml/: sigs.k8s.io/yaml, go-yaml v2, YAML 1.1), as the values that were written: every
 * string stays a string (`yes`, `no`, `on`, `~`, `0755`, `1_000`, `1e3`, `.inf`, `<<` …), in the
 * reference bundle and in the serializer's output for every YAML 1.1 spelling.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toYaml } from '../src/emit/yaml.js';
import { kubectlDecode, type KubectlDocument } from '../src/engines/yaml-check.js';
import { SCALARS } from './kube-yaml-corpus.js';

const GENERATED = fileURLToPath(new URL('../generated/', import.meta.url));

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

function kubectlValues(docs: readonly KubectlDocument[]): unknown[] {
  return docs.map((d) => ('json' in d ? d.json : { ERROR: d.error })).filter((v) => v !== null);
}

/** The values as written (the `yaml` package reads the files back as YAML 1.2, as they were produced). */
function writtenValues(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((v) => v !== null && v !== undefined);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

const files = yamlFiles(GENERATED);
const probes = new Map<string, unknown>();
for (const s of SCALARS) {
  probes.set(`value ${s}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' }, data: { v: s, list: [s] } });
  probes.set(`key ${s}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' }, data: { [s]: 'v' } });
}
probes.set('merge key <<', { data: { '<<': { privileged: 'true' } } });
probes.set('argo-cd args', { spec: { containers: [{ name: 'c', image: 'i', args: ['no', 'yes', 'on', 'off', 'y', 'n', '~', 'null', '0755', '1_000', '1e3', '.inf', '0x1F', '0b101', '0o17', '09', '-.5', '+1'] }] } });

let fromBundle: Map<string, KubectlDocument[]>;
let fromProbes: Map<string, KubectlDocument[]>;

beforeAll(async () => {
  expect(files.length).toBeGreaterThan(100);
  const streams = new Map<string, string>();
  for (const f of files) streams.set(`bundle ${f}`, readFileSync(f, 'utf8'));
  for (const [name, value] of probes) streams.set(name, toYaml(value));
  const all = await kubectlDecode(streams, { log: () => {} });
  fromBundle = new Map([...all].filter(([k]) => k.startsWith('bundle ')));
  fromProbes = new Map([...all].filter(([k]) => !k.startsWith('bundle ')));
}, 600_000);

describe('YAML written for Kubernetes tools reads back unchanged with YAML 1.1 (sigs.k8s.io/yaml)', () => {
  it('every YAML file of the reference bundle', () => {
    const differences: string[] = [];
    for (const f of files) {
      const theirs = kubectlValues(fromBundle.get(`bundle ${f}`)!);
      const ours = writtenValues(readFileSync(f, 'utf8'));
      if (JSON.stringify(canonical(theirs)) !== JSON.stringify(canonical(ours))) differences.push(f.slice(GENERATED.length));
    }
    expect(differences).toEqual([]);
  });

  it('every YAML 1.1 spelling, as a value and as a key', () => {
    const differences: string[] = [];
    for (const [name, value] of probes) {
      const theirs = kubectlValues(fromProbes.get(name)!);
      if (JSON.stringify(canonical(theirs)) !== JSON.stringify(canonical([value]))) differences.push(`${name}: ${JSON.stringify(theirs)}`);
    }
    expect(differences).toEqual([]);
  });

  it('quotes only what needs it', () => {
    expect(toYaml({ a: 'yes', b: 'nginx', c: '0755', d: true, e: 493, f: 'x y' }, { header: false })).toBe('a: "yes"\nb: nginx\nc: "0755"\nd: true\ne: 493\nf: x y\n');
  });
});
