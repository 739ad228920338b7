/**
 * Tricky YAML streams for the differential test of kubeharden's manifest reader against kubectl's
 * (test/kube-yaml.test.ts runs every entry through the Go program in src/engines/yaml/ in one process).
 * Written for this project; escapes (\r, \t, \uFEFF) are spelled in JavaScript so the bytes are exact.
 */

export interface CorpusEntry {
  readonly name: string;
  readonly text: string;
}

/** Every plain-scalar spelling whose YAML 1.1 reading matters (and look-alikes that must stay strings). */
export const SCALARS = [
  // booleans and look-alikes
  'y', 'Y', 'yes', 'Yes', 'YES', 'yEs', 'true', 'True', 'TRUE', 'tRUE', 'on', 'On', 'ON', 'oN',
  'n', 'N', 'no', 'No', 'NO', 'nO', 'false', 'False', 'FALSE', 'fALSE', 'off', 'Off', 'OFF', 'oFF',
  't', 'f', 'o', 'O', 'yes!', 'on-call', 'Yes please', 'ye', 'Y2',
  // nulls
  '~', 'null', 'Null', 'NULL', 'nULL', '~~', 'nil', 'None',
  // integers
  '0', '00', '-0', '+0', '7', '-7', '+7', '0755', '-0755', '0o755', '0O17', '0o', '0x1F', '0X1f', '-0x1F', '+0x10', '0x', '0xG',
  '0b101', '0B11', '-0b101', '+0b1', '0b', '0b102', '08', '09', '012345678', '1_000', '1__0', '_1', '1_', '0x_1F', '0_7',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '1,000', '1:20', '190:20:30', '12:30:45', '0.1.2',
  // floats
  '1.0', '1.', '.5', '-.5', '+.5', '5.e3', '1e3', '1E3', '1e+3', '1.5e-3', '-1.5E+3', '1e', 'e3', '1e400', '-1e400', '1e-400',
  '.5_0', '._5', '.5e1_0', '1_000.5', '0.1', '-0.0', '3.14159265358979', '6.02e23', '0x1p3', '1.5_', '08.5', '1e6', '123456789.0',
  '.nan', '.NaN', '.NAN', '.Nan', 'NaN', 'nan', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '-.inf', '-.Inf', '-.INF', '.iNF', 'inf', 'Infinity', '+.nan', '-.nan',
  // timestamps (strings when decoded), signs and dots
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10', '2001-12-14T21:59:43Z', '2001-13-45', '20011214',
  '+', '-1-', '.', '..', '+-1', '=', '<<<', 'a<<', '0.', '-.', '+.',
];

const entries: CorpusEntry[] = [];
const add = (name: string, text: string): void => void entries.push({ name, text });

// Every spelling as a plain value, a quoted value, a key, and inside flow collections.
for (const s of SCALARS) {
  add(`plain value ${s}`, `v: ${s}\n`);
  add(`quoted value ${s}`, `v: "${s}"\nw: '${s}'\n`);
  add(`key ${s}`, `${s}: v\n`);
  add(`flow ${s}`, `{a: ${s}, b: [${s}]}\n`);
  add(`sequence ${s}`, `- ${s}\n`);
}

// The example: YAML 1.1 booleans and a merge key in a Pod.
add(
  'pod with yes/on and a merge',
  `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  hostNetwork: yes
  hostPID: On
  hostIPC: n
  containers:
  - name: c
    image: nginx
    securityContext:
      privileged: on
      <<: {privileged: true, allowPrivilegeEscalation: Y}
    args: ["no", no, off, '0755', 0755, 1_000, 0x10]
`,
);

// Merge keys.
add('merge: inline mapping', `a:\n  <<: {x: 1, y: 2}\n  z: 3\n`);
add('merge: alias', `base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n`);
add('merge: key before the merge is overwritten', `base: &b {x: 1, y: 2}\nc:\n  y: 3\n  <<: *b\n`);
add('merge: list, earlier wins', `a: &a {x: a1, y: a2}\nb: &b {x: b1, z: b3}\nc:\n  <<: [*a, *b]\n`);
add('merge: list of inline mappings', `c:\n  <<: [{x: 1}, {x: 2, y: 2}]\n  w: 0\n`);
add('merge: nested', `a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n  z: 3\n`);
add('merge: nested inline', `c:\n  <<:\n    <<: {deep: 1}\n    mid: 2\n  top: 3\n`);
add('merge: two merge keys', `a: &a {x: 1, y: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n`);
add('merge: quoted key is an ordinary key', `c:\n  "<<": {x: 1}\n  '<<': {y: 1}\n`);
add('merge: explicit tag', `c:\n  !!merge <<: {x: 1}\n`);
add('merge: tagged quoted', `c:\n  !!merge "<<": {x: 1}\n`);
add('merge: into a sequence item', `base: &sc {privileged: true}\ncontainers:\n- name: c\n  securityContext:\n    <<: *sc\n    runAsNonRoot: true\n`);
add('merge: scalar is an error', `c:\n  <<: 1\n`);
add('merge: null is an error', `c:\n  <<: ~\n`);
add('merge: list with a scalar is an error', `c:\n  <<: [{x: 1}, 2]\n`);
add('merge: alias of a scalar is an error', `s: &s 1\nc:\n  <<: *s\n`);
add('merge: alias of a sequence is an error', `s: &s [1]\nc:\n  <<: *s\n`);
add('merge: nested list is an error', `c:\n  <<: [[{x: 1}]]\n`);
add('merge: overrides a null', `c:\n  x: ~\n  <<: {x: 1}\n`);
add('merge: brings a null', `c:\n  x: 1\n  <<: {x: ~}\n`);
add('merge: at top level', `<<: {apiVersion: v1, kind: ConfigMap}\nmetadata: {name: m}\n`);
add('merge: empty mapping', `c:\n  <<: {}\n  a: 1\n`);

// Anchors and aliases.
add('alias: scalar', `a: &x yes\nb: *x\n`);
add('alias: mapping', `a: &m {k: v}\nb: *m\n`);
add('alias: sequence', `a: &s [1, 2]\nb: *s\n`);
add('alias: redefined anchor', `a: &x 1\nb: *x\nc: &x 2\nd: *x\n`);
add('alias: unknown anchor', `a: *nope\n`);
add('alias: forward reference', `a: *x\nb: &x 1\n`);
add('alias: recursive', `a: &r {b: *r}\n`);
add('alias: recursive sequence', `a: &r [*r]\n`);
add('alias: as a key', `a: &k name\n*k : value\n`);
add('alias: mapping as a key', `a: &k {x: 1}\n? *k\n: value\n`);
add('alias: anchor on a key', `&k key: v\nother: *k\n`);
add('alias: anchored empty value', `a: &e\nb: *e\n`);
{
  const row = (ref: string): string => `[${Array(10).fill(ref).join(', ')}]`;
  add('alias: billion laughs', `a: &a ${row('lol')}\nb: &b ${row('*a')}\nc: &c ${row('*b')}\nd: &d ${row('*c')}\ne: &e ${row('*d')}\n`);
  add('alias: moderate reuse', `a: &a ${row('x')}\nb: &b ${row('*a')}\nc: ${row('*b')}\n`);
  add('alias: 150 aliases of one anchor', `a: &v value\n${Array.from({ length: 150 }, (_, i) => `k${i}: *v`).join('\n')}\n`);
}

// Duplicate keys: the last one wins.
add('duplicate: same key', `a: 1\na: 2\n`);
add('duplicate: nested', `m:\n  a: 1\n  b: 2\n  a: 3\n`);
add('duplicate: booleans', `yes: 1\ntrue: 2\nY: 3\n`);
add('duplicate: ints', `1: a\n0x1: b\n01: c\n`);
add('duplicate: in a pod', `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: false\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n`);

// Non-string keys.
add('key: sequence', `[a]: b\n`);
add('key: flow mapping', `{a: 1}: b\n`);
add('key: complex block', `? - a\n: b\n`);
add('key: empty', `: v\n`);
add('key: explicit empty', `? \n: v\n`);
add('key: float forms', `1.5: a\n0.1: b\n1e6: c\n123456789.0: d\n0.00001: e\n3.14159265358979: f\n-0.0: g\n`);
add('key: int forms', `0x10: a\n0o17: b\n-5: c\n9223372036854775807: d\n`);

// Quoting, escapes, multi-line scalars.
add('quoted: escapes', `a: "tab\\there"\nb: "\\x41\\u00e9\\U0001F600"\nc: "\\/"\nd: "\\N\\_\\L\\P"\ne: 'it''s'\nf: "\\e\\0\\a"\n`);
add('quoted: bad escape', `a: "\\q"\n`);
add('quoted: multi-line', `a: "one\n  two\n\n  three"\nb: 'x\n  y'\n`);
add('quoted: unclosed', `a: "open\n`);
add('plain: multi-line', `a: one\n  two\n  three\nb: c\n`);
add('plain: with colon and hash', `a: b:c\nb: c#d\nc: d # comment\nd: http://x.y/z\n`);
add('plain: mapping in value is an error', `a: b: c\n`);
add('plain: leading indicators', `a: -x\nb: ?x\nc: :x\n`);
add('plain: reserved indicator', `a: @x\n`);
add('plain: backtick', "a: `x`\n");

// Block scalars.
add('block: literal', `a: |\n  line1\n  yes\n\n  line3\nb: 1\n`);
add('block: strip keep clip', `a: |-\n  x\n\nb: |+\n  y\n\nc: |\n  z\n\n\nd: 1\n`);
add('block: folded', `a: >\n  one\n  two\n\n  three\n    indented\n  four\nb: >-\n  x\n  y\n`);
add('block: indentation indicator', `a: |2\n    four\n  two\nb: >1\n  x\n`);
add('block: empty', `a: |\nb: >\n`);
add('block: top level', `--- \n|\n  text\n`);
add('block: less indented line', `a: |\n    x\n  y\n`);

// Flow collections.
add('flow: nested', `{a: [1, {b: yes}], c: {d: [off, ~]}}\n`);
add('flow: multi-line', `a: [\n  1,\n  2,\n]\nb: {\n  x: 1,\n  y: 2\n}\n`);
add('flow: trailing comma in mapping', `a: {x: 1,}\n`);
add('flow: unclosed', `a: [1, 2\n`);
add('flow: empty key', `a: {: v}\n`);
add('flow: single pair in sequence', `a: [x: 1, y: 2]\n`);

// Document markers, directives, BOM, CRLF, tabs.
add('markers: separators with comments', `---\na: 1\n--- # second\nb: 2\n---   \nc: 3\n---\t# tab\nd: 4\n`);
add('markers: content on the separator line', `--- {a: 1}\n`);
add('markers: separator glued to text', `a: 1\n---b: 2\n`);
add('markers: four dashes', `a: 1\n----\nb: 2\n`);
add('markers: empty documents', `---\n---\n# only a comment\n---\na: 1\n---\n`);
add('markers: document end then content', `a: 1\n...\nb: 2\n`);
add('markers: document end then garbage', `a: 1\n...\nb: [\n`);
add('markers: leading document end', `...\na: 1\n`);
add('markers: document end with comment', `a: 1\n... # end\n`);
add('markers: indented separator is content', `a: |\n  x\n  ---\n  y\n`);
add('markers: separator inside a block scalar', `a: |\n  x\n---\nb: 2\n`);
add('directive: YAML 1.1', `%YAML 1.1\n---\na: 1\n`);
add('directive: alone', `%YAML 1.2\na: 1\n`);
add('directive: tag', `%TAG ! tag:example.com,2000:\n---\na: !x 1\n`);
add('bom: at start', `\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {a: yes}\n`);
add('bom: at start of a later document', `a: 1\n---\n\uFEFFb: 2\n`);
add('crlf: line ends', `apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: m\r\ndata:\r\n  a: "x"\r\n  b: |\r\n    one\r\n    two\r\n---\r\nc: on\r\n`);
add('crlf: lone carriage return', `a: x\ry\n`);
add('tabs: after colon', `a:\tb\nc:\t\tyes\n`);
add('tabs: indentation is an error', `a:\n\tb: 1\n`);
add('tabs: inside a value', `a: x\ty\n`);
add('tabs: before a comment', `a: 1\t# c\n`);
add('tabs: in a block scalar', `a: |\n  x\ty\n  \tz\n`);
add('tabs: trailing', `a: 1\t\nb: 2\n`);

// Explicit tags.
add('tag: str', `a: !!str 123\nb: !!str yes\nc: !!str ~\n`);
add('tag: int', `a: !!int "12"\nb: !!int 0x10\n`);
add('tag: int mismatch', `a: !!int abc\n`);
add('tag: bool', `a: !!bool yes\nb: !!bool "on"\n`);
add('tag: bool mismatch', `a: !!bool 1\n`);
add('tag: float', `a: !!float 1\nb: !!float "2.5"\n`);
add('tag: null', `a: !!null ~\nb: !!null ""\n`);
add('tag: null mismatch', `a: !!null x\n`);
add('tag: binary', `a: !!binary aGVsbG8=\nb: !!binary |\n  aGVs\n  bG8=\n`);
add('tag: binary invalid', `a: !!binary "***"\n`);
add('tag: timestamp', `a: !!timestamp 2001-12-14\n`);
add('tag: timestamp mismatch', `a: !!timestamp yes\n`);
add('tag: local', `a: !custom 12\nb: !custom yes\n`);
add('tag: non-specific', `a: ! 12\nb: ! yes\n`);
add('tag: verbatim', `a: !<tag:yaml.org,2002:str> 12\n`);
add('tag: on a mapping', `a: !!map {b: 1}\nc: !custom {d: yes}\n`);
add('tag: on a sequence', `a: !!seq [1]\nb: !!set {x, y}\n`);

// Kubernetes-shaped streams.
add(
  'list: kind List',
  `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    hostPID: yes\n    containers: [{name: c, image: i}]\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n  data: {on: off}\n`,
);
add('json: object', `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"a": "yes"}}\n`);
add('json: after a yaml document', `a: 1\n---\n{"b": 2, "c": [true, null, 1.5e3]}\n`);
add(
  'deployment: merge through anchors into the pod template',
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      <<: &host {hostPID: on, hostIPC: Y}\n      containers:\n      - &c {name: c, image: i, securityContext: {privileged: yes}}\n      initContainers:\n      - <<: *c\n        name: init\n`,
);
add('quoted keys and spaced colons', `"hostNetwork": yes\n'hostPID' : on\nhostIPC   :   y\n`);
add('key look-alikes', `hostNetwork: false\nhostNetwork : true\n"hostNetwork": false\n`);
add('configmap with octal-looking data', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  mode: 0644\n  enabled: on\n  count: 1_000\n`);
add('errors: bad indentation', `a:\n  b: 1\n c: 2\n`);
add('errors: sequence in mapping', `a: 1\n- b\n`);
add('errors: block sequence after value', `a: - b\n`);
add('errors: stray quote', `a: "x"y\n`);
add('errors: second document has an error', `a: 1\n---\nb: [\n---\nc: 3\n`);
// JSON streams: a stream that starts with `{` is a series of JSON values (YAMLOrJSONDecoder); within the
// first two values an invalid one switches the rest of the stream to YAML, later it is an error.
const pod = `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx"}]}}`;
const service = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort"}}`;
add('json stream: concatenated objects', `${pod}${service}`);
add('json stream: one object per line', `${pod}\n${service}\n{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m"},"data":{"a":"on"}}\n`);
add('json stream: objects over several lines, blank lines and CRLF', `\r\n  {\r\n  "a": [1,\r\n 2]\r\n}\r\n\r\n\t{"b": {}} {"c": []}\r\n`);
add('json stream: white space only between objects', ` {"a":1} \t {"b":2}\n\n`);
add('json stream: yaml after the first object', `{"a": 1}\n---\nb: yes\n---\nc: on\n`);
add('json stream: yaml on the line of the first object', `{"a": 1}   b: yes\n`);
add('json stream: yaml after the first object, no separator', `{"a": 1}\nb: yes\n`);
add('json stream: second object is yaml flow', `{"a": 1}\n{b: yes, c: [on]}\n`);
add('json stream: second object truncated', `{"a": 1}{"b":`);
add('json stream: yaml after two objects', `{"a": 1}\n{"b": 2}\n---\nc: 3\n`);
add('json stream: third object invalid', `{"a": 1}{"b": 2}{"c": }\n`);
add('json stream: third object truncated', `{"a": 1}{"b": 2}{"c": [1, 2`);
add('json stream: fourth object invalid after three', `{"a": 1}{"b": 2}{"c": 3}\n{"d": yes}\n`);
add('json stream: first object is yaml flow', `{a: yes, b: [on, 0755]}\n`);
add('json stream: first object has a trailing comma', `{"a": 1,}\n`);
add('json stream: first object invalid, yaml after it', `{"a": 1,}\n---\nb: on\n`);
add('json stream: scalars between objects', `{"a": 1} 01 "x" true null -2.5e3 [1]`);
add('json stream: literal run into the next value', `{"a": 1}{"b": 2} truex`);
add('json stream: numbers', `{"a": -0.5e-3, "b": 1E+2, "c": 0, "d": 12345678901234567890, "e": 1.0}{"f": -0}`);
add('json stream: bad numbers', `{"a": 1}{"b": 2}{"c": 01}`);
add('json stream: bad exponent', `{"a": 1}{"b": 2}{"c": 1e}`);
add('json stream: strings and escapes', `{"a": "\\u00e9\\n\\t\\"\\\\\\/ x", "b": "\\ud83d\\ude00", "c": "日本"}{"d": "\\b\\f\\r"}`);
add('json stream: bad escape in the third object', `{"a": 1}{"b": 2}{"c": "\\x"}`);
add('json stream: control character in a string', `{"a": 1}{"b": 2}{"c": "a\tb"}`);
add('json stream: duplicate keys', `{"a": 1, "a": 2}{"b": {"c": 1, "c": [3]}}`);
add('json stream: nested', `{"a": {"b": [{"c": [[], {}, [{"d": null}]]}]}}{"e": [[[[1]]]]}`);
add('json stream: missing colon in the third object', `{"a": 1}{"b": 2}{"c" 3}`);
add('json stream: missing comma in the third object', `{"a": 1}{"b": 2}{"c": 3 "d": 4}`);
add('json stream: unquoted key in the third object', `{"a": 1}{"b": 2}{c: 3}`);
add('json stream: kind List then an object', `{"apiVersion": "v1", "kind": "List", "items": [${pod}, ${service}]}\n${service}\n`);
add('json stream: after a comment is yaml', `# c\n{"a": 1}{"b": 2}\n`);
add('json stream: after a BOM is yaml', `\uFEFF{"a": 1}{"b": 2}\n`);
add('json stream: after a BOM, one object', `\uFEFF{"a": 1}\n`);
add('json stream: after a no-break space', `\u00a0{"a": 1}\n{"b": 2}\n`);
add('json stream: no-break space after the object', `{"a": 1}\u00a0`);
add('json stream: no-break space and line end after the object', `{"a": 1}\u00a0\n`);
add('json stream: vertical tab after the object, then yaml', `{"a": 1}\u000b\u000cb: 2\n`);
add('json stream: 4000 spaces first', `${' '.repeat(4000)}{"a": 1}{"b": 2}`);
add('json stream: 4095 spaces first', `${' '.repeat(4095)}{"a": 1}{"b": 2}`);
add('json stream: 4096 spaces first is yaml', `${' '.repeat(4096)}{"a": 1}{"b": 2}`);
add('json stream: 2047 two-byte spaces first', `${'\u0085'.repeat(2047)}{"a": 1}\n`);
add('json stream: 2048 two-byte spaces first is yaml', `${'\u0085'.repeat(2048)}{"a": 1}{"b": 2}`);
add('json stream: yaml 1.1 words stay strings in json', `{"a": "yes", "b": "on", "c": "0755"}{"d": "~"}`);
add('json stream: empty objects', `{}{}\n{}`);
add('scalar document', `just text\n`);
add('sequence document', `- a\n- b\n`);
add('empty stream', ``);
add('comment-only stream', `# nothing\n`);

export const CORPUS: readonly CorpusEntry[] = entries;
