/**
 * kubeharden reads manifests as kubectl does: every stream of test/kube-yaml-corpus.ts goes through
 * kubeharden's reader and through the Go program in src/engines/yaml/ (k8s.io/apimachinery's
 * YAMLOrJSONDecoder + sigs.k8s.io/yaml, the versions kubectl 1.37 uses), in one process run; the JSON of
 * every document and the point where reading stops with an error must be the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readYamlStream } from '../src/eval/manifests.js';
import { readKubeYaml } from '../src/eval/kube-yaml.js';
import { kubectlDecode, type KubectlDocument } from '../src/engines/yaml-check.js';
import { CORPUS } from './kube-yaml-corpus.js';

/** Documents as kubectl keeps them: empty ones dropped, the error (if any) last. */
function kubectlView(docs: readonly KubectlDocument[]): unknown[] {
  return docs.filter((d) => !('json' in d) || d.json !== null).map((d) => ('json' in d ? d.json : 'ERROR'));
}

/** JSON with keys sorted (Go writes maps sorted; kubeharden keeps the document's order). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/**
 * Streams kubectl reads and kubeharden rejects with a located input error (never the other way round):
 * js-yaml, which tokenizes for kubeharden, holds flow collections to YAML's indentation rule, libyaml does not.
 */
const STRICTER = new Set(['flow: multi-line']);

function oursView(text: string): unknown[] {
  return readYamlStream(text)
    .filter((d) => !('value' in d) || (d.value !== undefined && d.value !== null))
    .map((d) => ('value' in d ? JSON.parse(JSON.stringify(d.value)) : 'ERROR'));
}

let kubectl: Map<string, KubectlDocument[]>;

beforeAll(async () => {
  kubectl = await kubectlDecode(new Map(CORPUS.map((e) => [e.name, e.text])), { log: () => {} });
}, 600_000);

describe('the manifest reader agrees with kubectl (sigs.k8s.io/yaml) on every corpus stream', () => {
  it('has a corpus of distinct streams', () => {
    expect(new Set(CORPUS.map((e) => e.name)).size).toBe(CORPUS.length);
    expect(CORPUS.length).toBeGreaterThan(500);
  });

  it('reads every document to the same JSON and stops at the same error', () => {
    const differences: string[] = [];
    for (const e of CORPUS) {
      if (STRICTER.has(e.name)) continue;
      const theirs = kubectlView(kubectl.get(e.name)!);
      const ours = oursView(e.text);
      if (JSON.stringify(canonical(ours)) !== JSON.stringify(canonical(theirs))) {
        differences.push(`${e.name}: kubeharden ${JSON.stringify(ours)} — kubectl ${JSON.stringify(theirs)} (${JSON.stringify(kubectl.get(e.name))})`);
      }
    }
    expect(differences).toEqual([]);
  });

  it('rejects, with an error, the few streams kubectl reads and kubeharden cannot', () => {
    for (const name of STRICTER) {
      const e = CORPUS.find((x) => x.name === name)!;
      expect(kubectlView(kubectl.get(name)!)).not.toContain('ERROR');
      expect(oursView(e.text)).toEqual(['ERROR']);
    }
  });

  it('includes both outcomes: errors and YAML 1.1 values', () => {
    const errors = CORPUS.filter((e) => kubectlView(kubectl.get(e.name)!).includes('ERROR'));
    expect(errors.length).toBeGreaterThan(30);
    expect(kubectlView(kubectl.get('plain value yes')!)).toEqual([{ v: true }]);
    expect(kubectlView(kubectl.get('plain value 0755')!)).toEqual([{ v: 493 }]);
  });
});

describe('cases the Go program cannot decide', () => {
  it('two keys of different types with the same text are an input error (kubectl keeps one at random)', () => {
    expect(readKubeYaml('1: a\n"1": b\n')).toMatchObject({ error: expect.stringContaining('two keys') });
    expect(readKubeYaml('true: a\nyes: b\n')).toEqual({ value: { true: 'b' }, offset: 0 });
  });
});

describe('line numbers', () => {
  it('gives the line of every document and of every error', () => {
    const r = readYamlStream('# c\na: 1\n---\n\n\nb: 2\n---\nc: [\n');
    expect(r).toEqual([
      { value: { a: 1 }, line: 2 },
      { value: { b: 2 }, line: 6 },
      { error: expect.any(String), line: 8 },
    ]);
    // kubectl fails on the bad separator before it returns the document the line ends.
    expect(readYamlStream('a: 1\n--- x\n')).toEqual([{ error: expect.stringContaining('invalid document separator'), line: 2 }]);
    expect(readYamlStream('\na: 1\nb:\n  c: .inf\n')).toEqual([{ error: expect.stringMatching(/\+Inf \(at line 4\)$/), line: 2 }]);
    expect(readYamlStream('a: 1\nb:\n  - [\n')).toEqual([{ error: expect.stringMatching(/\(at line 3\)$/), line: 1 }]);
  });
});
