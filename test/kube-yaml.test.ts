/**
 * kubeharden reads manifests as kubectl does: every stream of test/kube-yaml-corpus.ts goes through
 * kubeharden's reader and through the Go program in src/engines/yaml/ (k8s.io/apimachinery's
 * YAMLOrJSONDecoder + sigs.k8s.io/yaml, the versions kubectl 1.37 uses), in one process run; the JSON of
 * every document and the point where reading stops with an error must be the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, readYamlStream } from '../src/eval/manifests.js';
import { DocumentSplitter, splitDocuments, type RawDocument } from '../src/eval/split.js';
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
 * js-yaml, which tokenizes for kubeharden, holds flow collections to YAML's indentation rule, libyaml does not;
 * and a YAML document made of a flow collection followed by more content (`{"a": 1}{"b": 2}` in a stream
 * kubectl reads as YAML: after a comment, a byte order mark, a no-break space or 4096 bytes of white space)
 * is the first collection to go-yaml, which never looks at the rest: kubeharden reports the document instead
 * of dropping objects silently.
 */
const STRICTER = new Set([
  'flow: multi-line',
  'json stream: after a comment is yaml',
  'json stream: after a BOM is yaml',
  'json stream: after a no-break space',
  'json stream: 4096 spaces first is yaml',
  'json stream: 2048 two-byte spaces first is yaml',
]);

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

describe('JSON streams (a stream that starts with `{`, as kubectl reads it)', () => {
  const stream = '\n  {"apiVersion": "v1", "kind": "Pod",\n   "metadata": {"name": "a"}}{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}\n\n{"apiVersion": "v1",\r\n "kind": "ConfigMap", "metadata": {"name": "c"}}\n';

  it('reads objects written one after another or one per line, each with the line it starts on', () => {
    expect(readYamlStream(stream).map((d) => ('value' in d ? [d.line, (d.value as { kind: string }).kind] : d))).toEqual([
      [2, 'Pod'],
      [3, 'Service'],
      [5, 'ConfigMap'],
    ]);
    const parsed = parseManifests(stream, 's.json');
    expect(parsed.errors).toEqual([]);
    expect(parsed.resources.map((r) => [r.index, r.line, r.object['kind']])).toEqual([
      [0, 2, 'Pod'],
      [1, 3, 'Service'],
      [2, 5, 'ConfigMap'],
    ]);
  });

  it('gives the same documents whatever the chunking', () => {
    const texts = [stream, '{"a": 1} 12345 -6.5e7 {"b": 2}', '{"a": 1}\n---\nb: yes\n', '{"a": 1}{"b": 2}{"c": [1, 2\n', '{"a": 1} {b: on}\n', `{"s": "${'x'.repeat(5000)}", "n": 12345}{"t": true}`];
    for (const text of texts) {
      const whole = splitDocuments(text);
      for (const size of [1, 2, 7, 4096]) {
        const s = new DocumentSplitter();
        const pieces: RawDocument[] = [];
        for (let i = 0; i < text.length; i += size) pieces.push(...s.push(text.slice(i, i + size)));
        pieces.push(...s.end());
        expect(pieces, `${JSON.stringify(text.slice(0, 30))} in chunks of ${size}`).toEqual(whole);
      }
    }
  });

  it('reads the rest as YAML after an invalid first or second value, and stops at an invalid third one, with its line', () => {
    expect(readYamlStream('{"a": 1}\n---\nb: yes\n')).toEqual([
      { value: { a: 1 }, line: 1 },
      { value: { b: true }, line: 3 },
    ]);
    expect(parseManifests('{"apiVersion": "v1", "kind": "A"}\n{"apiVersion": "v1", "kind": "B"}\n\n{"apiVersion": "v1", "kind": C}\n{"apiVersion": "v1", "kind": "D"}\n', 'x.json')).toEqual({
      resources: [expect.objectContaining({ line: 1 }), expect.objectContaining({ line: 2 })],
      errors: [{ source: 'x.json', index: 2, line: 4, message: "malformed JSON: invalid character 'C' looking for beginning of value" }],
    });
  });
});
