/**
 * A YAML `kind: List` laid out as kubectl prints it is split on its text into one document per item
 * (src/eval/manifests.ts `listItems`), so a cluster dump is never held as one parsed tree: every item must read
 * exactly as it does in the whole List (kubeharden's reader of the whole document is the reference, itself held
 * to sigs.k8s.io/yaml by test/kube-yaml.test.ts), at the line where it starts; anything the split cannot prove
 * independent (anchors, flow style, odd indentation) is read whole, with the same values.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { listItems, parseDocument } from '../src/eval/manifests.js';
import { readKubeYaml } from '../src/eval/kube-yaml.js';
import { splitDocuments } from '../src/eval/split.js';

type Obj = Record<string, any>;

/** The items of the one List in `text`: split (or read whole) and each read as its own document. */
function itemsOf(text: string): { split: boolean; values: unknown[]; lines: number[]; errors: string[] } {
  const [raw, ...more] = [...splitDocuments(text)];
  expect(more).toEqual([]);
  const items = listItems(raw!);
  expect(items, 'a List').toBeDefined();
  const values: unknown[] = [];
  const lines: number[] = [];
  const errors: string[] = [];
  for (const item of items!) {
    const r = parseDocument(item, 'in.yaml');
    for (const x of r.resources) {
      values.push(x.object);
      lines.push(x.line);
    }
    for (const e of r.errors) errors.push(`${e.line} ${e.message}`);
  }
  return { split: items!.every((i) => i.json === undefined), values, lines, errors };
}

/** The items as the whole document reads. */
function whole(text: string): unknown[] {
  const r = readKubeYaml(text, { rejectDuplicateKeys: true });
  if (!('value' in r)) throw new Error(r.error);
  return (r.value as Obj)['items'] as unknown[];
}

/** 1-based lines of `text` matching `pattern`. */
const linesOf = (text: string, pattern: RegExp): number[] => text.split('\n').flatMap((l, k) => (pattern.test(l) ? [k + 1] : []));

const pod = (name: string, extra: Obj = {}): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps', annotations: { note: 'a: b # not a comment' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27', ...extra }] } });

describe('a kind: List split on its text reads as the whole List', () => {
  it('kubectl -o yaml: block scalars with comment-like and blank lines, nested lists, items before kind', () => {
    const script = '#!/bin/sh\n# a comment line inside the script\n\n  indented: line\n- not an item\necho done\n';
    const dump = { apiVersion: 'v1', items: [pod('a', { command: ['sh', '-c', script] }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { 'run.sh': script, empty: '', list: '- a\n- b\n' } }, pod('b', { args: [] })], kind: 'List', metadata: { resourceVersion: '' } };
    const text = stringify(dump);
    expect(text).toContain('  - |');
    const r = itemsOf(text);
    expect(r.split).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual(whole(text));
    expect(r.values).toEqual(dump.items);
    expect(r.lines).toEqual(linesOf(text, /^ {2}- apiVersion: v1$/));
    expect(r.lines).toHaveLength(3);
  });

  it('YAML 1.1 scalars, a merge key inside an item, comments and blank lines between items, `-` alone, wider dash spacing, indented items', () => {
    const text = [
      '# a dump',
      'apiVersion: v1',
      'kind: PodList',
      'items:',
      '  # first',
      '  - apiVersion: v1',
      '    kind: Pod',
      '    metadata: {name: yes-pod}',
      '    spec:',
      '      hostNetwork: yes',
      '      containers:',
      '      - name: c',
      '        image: i',
      '        securityContext:',
      '          <<: {privileged: on}',
      '          runAsUser: 0x10',
      '',
      '# between items, at column 0',
      '  -',
      '    apiVersion: v1',
      '    kind: ConfigMap',
      '    metadata: {name: cm}',
      '    data: {a: "1", b: off}',
      '  -   apiVersion: v1',
      '      kind: Service',
      '      metadata:',
      '        name: svc',
      'metadata: {}',
      '',
    ].join('\n');
    const r = itemsOf(text);
    expect(r.split).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual(whole(text));
    expect((r.values[0] as Obj)['spec']['hostNetwork']).toBe(true);
    expect((r.values[0] as Obj)['spec']['containers'][0]['securityContext']).toEqual({ privileged: true, runAsUser: 16 });
    // Each at the line where its content starts (the `-` alone is on line 19).
    expect(r.lines).toEqual([6, 20, 24]);
  });

  it('an item that does not read is an error at its line; the others are audited', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n   bad: indentation\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: c}\n';
    const r = itemsOf(text);
    expect(r.split).toBe(true);
    expect((r.values as Obj[]).map((v) => v['metadata']['name'])).toEqual(['a', 'c']);
    expect(r.lines).toEqual([4, 12]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^7 malformed YAML: .*\(at line 11\)$/);
  });

  it('read whole, with the same values, where items may not be independent or the layout is not kubectl\'s', () => {
    const cases = [
      // An anchor in one item, its alias in the next.
      'apiVersion: v1\nkind: List\nitems:\n- &p {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- <<: *p\n  metadata: {name: b}\n',
      // Flow-style items.
      'apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: a}}]\n',
      // A tab.
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: "a\tb"}\n',
    ];
    for (const text of cases) {
      const r = itemsOf(text);
      expect(r.split, JSON.stringify(text)).toBe(false);
      expect(r.errors).toEqual([]);
      expect(r.values).toEqual(whole(text));
    }
  });

  it('CRLF line ends read the same', () => {
    const text = 'apiVersion: v1\r\nkind: List\r\nitems:\r\n- apiVersion: v1\r\n  kind: Pod\r\n  metadata: {name: a}\r\n- apiVersion: v1\r\n  kind: Pod\r\n  metadata: {name: b}\r\n';
    const r = itemsOf(text);
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual(whole(text));
    expect(r.lines).toEqual([4, 7]);
  });

  it('what is not a List is not split: another kind, a List key written twice', () => {
    for (const text of ['apiVersion: v1\nkind: ConfigMap\nitems:\n- a\n', 'apiVersion: v1\nkind: List\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n']) {
      const [raw] = [...splitDocuments(text)];
      expect(listItems(raw!), JSON.stringify(text)).toBeUndefined();
    }
  });
});
