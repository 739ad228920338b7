/**
 * Reads one YAML document the way kubectl and the API server do: sigs.k8s.io/yaml's YAMLToJSON, which
 * decodes with go-yaml v2 (YAML 1.1) and converts the result to JSON.
 *
 * js-yaml's event parser tokenizes the text (fast, with source offsets); everything that gives the events
 * a meaning is go-yaml v2's, reproduced here and checked against the Go code by test/kube-yaml.test.ts:
 * - plain scalars resolve as YAML 1.1: `y`/`yes`/`on`/`true` (three casings) are true, `n`/`no`/`off`/
 *   `false` false, `~`/`null`/empty null, integers in Go syntax with `_` separators (`0755` octal, `0x`,
 *   `0o`, `0b`), floats including `.inf`/`.nan`; everything else, and every quoted scalar, is a string;
 * - explicit tags (`!!str`, `!!int`, `!!bool`, `!!float`, `!!null`, `!!binary`, `!!timestamp`) convert or
 *   fail as go-yaml does; unknown tags leave the text a string;
 * - `<<` merge keys take a mapping, an alias of one, or a sequence of them (earlier ones win); they are
 *   applied where they stand, so a key written before `<<` is overwritten by the merge and one written
 *   after it wins;
 * - a duplicate key keeps its last value (with `rejectDuplicateKeys`, a key written twice in one mapping is
 *   an error instead, as the API server's strict field validation has it; a key after `<<` still wins); keys become strings as YAMLToJSON writes them (`yes` → "true",
 *   `0x10` → "16", floats in Go's 32-bit %g form); a null, sequence, mapping or out-of-range key fails;
 * - aliases repeat their anchor's value; an alias inside its own anchor, an unknown anchor, excessive
 *   aliasing (go-yaml's ratio check) fail; `.inf`/`.nan` values fail, as JSON cannot hold them.
 * Only the first document of the text counts (go-yaml's Unmarshal reads one; kubectl has already split
 * the stream on `---` lines).
 */
import { getScalarValue, parseEvents, type Event } from 'js-yaml';

export type KubeYamlResult =
  | {
      readonly value: unknown;
      readonly offset: number;
      /** With `itemOffsets`: where each element of the top-level mapping's `items` sequence starts, when it is written there. */
      readonly items?: readonly number[];
    }
  | { readonly error: string; readonly offset: number };

const enum K {
  Scalar,
  Seq,
  Map,
  Alias,
}

interface ScalarNode {
  readonly k: K.Scalar;
  readonly value: string;
  /** Full tag (`tag:yaml.org,2002:str`), a local tag as written, or '' when there is none. */
  readonly tag: string;
  /** libyaml's plain_implicit: a plain scalar without a tag, or one with the non-specific tag `!`. */
  readonly implicit: boolean;
  readonly pos: number;
}
interface SeqNode {
  readonly k: K.Seq;
  readonly children: Node[];
  readonly pos: number;
}
interface MapNode {
  readonly k: K.Map;
  /** Keys and values, alternating. */
  readonly children: Node[];
  readonly pos: number;
}
interface AliasNode {
  readonly k: K.Alias;
  readonly name: string;
  readonly target: Node;
  readonly pos: number;
}
type Node = ScalarNode | SeqNode | MapNode | AliasNode;

class YamlError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const TAG_PREFIX = 'tag:yaml.org,2002:';
const STR = `${TAG_PREFIX}str`;
const BOOL = `${TAG_PREFIX}bool`;
const INT = `${TAG_PREFIX}int`;
const FLOAT = `${TAG_PREFIX}float`;
const NULL = `${TAG_PREFIX}null`;
const TIMESTAMP = `${TAG_PREFIX}timestamp`;
const BINARY = `${TAG_PREFIX}binary`;
const MERGE = `${TAG_PREFIX}merge`;
const RESOLVABLE = new Set(['', STR, BOOL, INT, FLOAT, NULL, TIMESTAMP]);

/** A resolved integer: kept exact (keys are written from it), with its Go type for map-key identity. */
class GoInt {
  constructor(
    readonly big: bigint,
    readonly unsigned: boolean,
  ) {}
}
/** A float that came from YAML (kept apart from ints for map-key identity and key formatting). */
class GoFloat {
  constructor(
    readonly v: number,
    /** Where the scalar is, for the error when JSON cannot hold the value. */
    readonly pos = 0,
  ) {}
}

/** go-yaml v2's resolve table: the exact spellings with a fixed meaning. */
const FIXED = new Map<string, [string, unknown]>();
for (const [v, tag, list] of [
  [true, BOOL, 'y Y yes Yes YES true True TRUE on On ON'],
  [false, BOOL, 'n N no No NO false False FALSE off Off OFF'],
  [null, NULL, '~ null Null NULL'],
  [Number.NaN, FLOAT, '.nan .NaN .NAN'],
  [Number.POSITIVE_INFINITY, FLOAT, '.inf .Inf .INF +.inf +.Inf +.INF'],
  [Number.NEGATIVE_INFINITY, FLOAT, '-.inf -.Inf -.INF'],
  ['<<', MERGE, '<<'],
] as const) {
  for (const s of list.split(' ')) FIXED.set(s, [tag, typeof v === 'number' ? new GoFloat(v) : v]);
}
FIXED.set('', [NULL, null]);

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt/ParseUint with base 0 (the input has no underscores). */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  if (s === '') return undefined;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    if (!signed) return undefined;
    neg = s[0] === '-';
    s = s.slice(1);
    if (s === '') return undefined;
  }
  let digits = s;
  let re = /^[0-9]+$/;
  let prefix = '';
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b') [digits, re, prefix] = [s.slice(2), /^[01]+$/, '0b'];
    else if (p === 'o') [digits, re, prefix] = [s.slice(2), /^[0-7]+$/, '0o'];
    else if (p === 'x') [digits, re, prefix] = [s.slice(2), /^[0-9a-fA-F]+$/, '0x'];
    else [digits, re, prefix] = [s.slice(1), /^[0-7]*$/, '0o'];
  }
  if (!re.test(digits)) return undefined;
  let n = digits === '' ? 0n : BigInt(`${prefix}${digits}`);
  if (neg) n = -n;
  if (signed ? n < I64_MIN || n > I64_MAX : n > U64_MAX) return undefined;
  return n;
}

/** strconv's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i++;
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0') {
    const c = s[i + 1]!.toLowerCase();
    if (c === 'b' || c === 'o' || c === 'x') {
      hex = c === 'x';
      i += 2;
      saw = '0';
    }
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseFloat(s, 64) for the inputs go-yaml gives it (decimal forms starting with '.'). */
function parseGoFloatDot(s: string): number | undefined {
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  const t = s.replace(/_/g, '');
  if (!/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP_FORMS = [
  /^\d{4}-\d{1,2}-\d{1,2}[Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[-+]\d{2}:\d{2})$/,
  /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?$/,
  /^\d{4}-\d{1,2}-\d{1,2}$/,
];

/** go-yaml v2's resolve(tag, in): [resolved tag, value]. Values: string, boolean, null, GoInt, GoFloat. */
function resolve(tag: string, text: string, pos: number): [string, unknown] {
  if (!RESOLVABLE.has(tag)) return [tag, text];
  const [rtag, out] = resolvePlain(tag, text);
  if (tag === '' || tag === rtag || tag === STR) return [rtag, out];
  if (tag === FLOAT && rtag === INT) return [FLOAT, new GoFloat(Number((out as GoInt).big))];
  throw new YamlError(`cannot decode ${shortTag(rtag)} \`${text}\` as a ${shortTag(tag)}`, pos);
}

function shortTag(tag: string): string {
  return tag.startsWith(TAG_PREFIX) ? `!!${tag.slice(TAG_PREFIX.length)}` : tag;
}

function resolvePlain(tag: string, text: string): [string, unknown] {
  const c = text.charCodeAt(0);
  // The hint: digits, signs, '.', or a letter that starts a fixed spelling; anything else is a string.
  const hint =
    text === '' ? 'M' : c >= 48 && c <= 57 ? 'D' : c === 43 || c === 45 ? 'S' : c === 46 ? '.' : 'yYnNtTfFoO~'.includes(text[0]!) ? 'M' : '';
  if (hint === '' || tag === STR) return [STR, text];
  const fixed = FIXED.get(text);
  if (fixed) return fixed;
  if (hint === '.') {
    const f = parseGoFloatDot(text);
    if (f !== undefined) return [FLOAT, new GoFloat(f)];
  } else if (hint === 'D' || hint === 'S') {
    if ((tag === '' || tag === TIMESTAMP) && TIMESTAMP_FORMS.some((r) => r.test(text))) return [TIMESTAMP, text];
    const plain = text.replace(/_/g, '');
    const i = parseGoInt(plain, true);
    if (i !== undefined) return [INT, new GoInt(i, false)];
    const u = parseGoInt(plain, false);
    if (u !== undefined) return [INT, new GoInt(u, true)];
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return [FLOAT, new GoFloat(f)];
    }
    if (plain.startsWith('0b')) {
      const b = /^[01]+$/.test(plain.slice(2)) ? BigInt(`0b${plain.slice(2)}`) : undefined;
      if (b !== undefined && b <= I64_MAX) return [INT, new GoInt(b, false)];
      if (b !== undefined && b <= U64_MAX) return [INT, new GoInt(b, true)];
    } else if (plain.startsWith('-0b')) {
      const b = /^[01]+$/.test(plain.slice(3)) ? -BigInt(`0b${plain.slice(3)}`) : undefined;
      if (b !== undefined && b >= I64_MIN) return [INT, new GoInt(b, false)];
    }
  }
  return [STR, text];
}

/**
 * Whether go-yaml v2 reads `text`, written as a plain scalar (as a value or a key), as that very string:
 * false for YAML 1.1 booleans, nulls, numbers and the merge key `<<`. Writers quote the others.
 */
export function plainReadsAsString(text: string): boolean {
  if (text === '<<') return false;
  const [tag] = resolvePlain('', text);
  return tag === STR || tag === TIMESTAMP;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 32), as sigs.k8s.io/yaml writes float keys. */
function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (v === Number.POSITIVE_INFINITY) return '.inf';
  if (v === Number.NEGATIVE_INFINITY) return '-.inf';
  const f = Math.fround(v);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  if (!Number.isFinite(f)) return f > 0 ? '.inf' : '-.inf';
  let digits = '';
  let exp = 0;
  for (let p = 1; p <= 9; p++) {
    const s = Math.abs(f).toExponential(p - 1);
    if (Math.fround(Number(s)) === Math.abs(f)) {
      const [m, e] = s.split('e');
      digits = m!.replace('.', '').replace(/0+$/, '') || '0';
      exp = Number(e);
      break;
    }
  }
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Go's base64.StdEncoding.DecodeString (line breaks ignored), as text. */
function decodeBinary(text: string, pos: number): string {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new YamlError('!!binary value contains invalid base64 data', pos);
  }
  return Buffer.from(s, 'base64').toString('utf8');
}

/** The tag of an event as go-yaml sees it: `!!x` expanded, `!<…>` verbatim, others as written. */
function tagOf(src: string, start: number, end: number): string {
  if (start < 0) return '';
  const t = src.slice(start, end);
  if (t.startsWith('!<') && t.endsWith('>')) return uriDecode(t.slice(2, -1));
  if (t.startsWith('!!')) return TAG_PREFIX + uriDecode(t.slice(2));
  return t;
}

function uriDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** go-yaml's escapes in double-quoted scalars (no `\/`, which YAML 1.2 added). */
const ESCAPE = /\\(?:[0abt\tnvfre "'\\N_LP\n]|\r\n?|x[0-9a-fA-F]{2}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/y;

function checkEscapes(src: string, start: number, end: number): void {
  for (let i = src.indexOf('\\', start); i !== -1 && i < end; i = src.indexOf('\\', i)) {
    ESCAPE.lastIndex = i;
    const m = ESCAPE.exec(src);
    if (!m) throw new YamlError(/^\\[xuU]/.test(src.slice(i, i + 2)) ? 'did not find expected hexdecimal number' : 'found unknown escape character', i);
    const code = m[1] ?? m[2];
    if (code !== undefined) {
      const v = parseInt(code, 16);
      if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) throw new YamlError('found invalid Unicode character escape code', i);
    }
    i = ESCAPE.lastIndex;
  }
}

/** The node tree of the first document, as go-yaml's parser builds it (anchors bound in parse order). */
function buildTree(src: string, events: readonly Event[]): Node | undefined {
  const anchors = new Map<string, Node>();
  const stack: (SeqNode | MapNode)[] = [];
  let root: Node | undefined;
  let started = false;
  const add = (n: Node): void => {
    const top = stack[stack.length - 1];
    if (top) top.children.push(n);
    else root = n;
  };
  for (const e of events) {
    switch (e.type) {
      case 1:
        if (started) return root;
        started = true;
        break;
      case 2:
      case 3: {
        const n = { k: e.type === 2 ? K.Seq : K.Map, children: [], pos: e.start } as SeqNode | MapNode;
        if (e.anchorStart >= 0) anchors.set(src.slice(e.anchorStart, e.anchorEnd), n);
        add(n);
        stack.push(n);
        break;
      }
      case 4: {
        if (e.style === 3) checkEscapes(src, e.valueStart, e.valueEnd);
        const tag = tagOf(src, e.tagStart, e.tagEnd);
        const n: ScalarNode = {
          k: K.Scalar,
          value: getScalarValue(src, e),
          tag,
          implicit: (tag === '' && e.style === 1) || tag === '!',
          pos: e.valueStart >= 0 ? e.valueStart : Math.max(e.anchorStart, e.tagStart, 0),
        };
        if (e.anchorStart >= 0) anchors.set(src.slice(e.anchorStart, e.anchorEnd), n);
        add(n);
        break;
      }
      case 5: {
        const name = src.slice(e.anchorStart, e.anchorEnd);
        const target = anchors.get(name);
        if (!target) throw new YamlError(`unknown anchor '${name}' referenced`, e.anchorStart);
        add({ k: K.Alias, name, target, pos: e.anchorStart - 1 });
        break;
      }
      case 6:
        if (stack.length) stack.pop();
        else if (started) return root;
        break;
    }
  }
  return root;
}

/** A go-yaml map[interface{}]interface{}: key identity is Go's (type and value). */
type GoMap = Map<string, { key: unknown; value: unknown; pos: number }>;

/** NaN is not equal to itself: every NaN key is a key of its own in a Go map. */
let nanKeys = 0;

function keyId(k: unknown): string {
  if (k === null) return 'n';
  if (typeof k === 'string') return `s${k}`;
  if (typeof k === 'boolean') return k ? 'bt' : 'bf';
  if (k instanceof GoInt) return `${k.unsigned ? 'u' : 'i'}${k.big}`;
  if (k instanceof GoFloat) return Number.isNaN(k.v) ? `fNaN${nanKeys++}` : `f${Object.is(k.v, -0) ? '-0' : k.v}`;
  return 'x';
}

const ALIAS_RATIO_LOW = 400000;
const ALIAS_RATIO_HIGH = 4000000;

function allowedAliasRatio(decodes: number): number {
  if (decodes <= ALIAS_RATIO_LOW) return 0.99;
  if (decodes >= ALIAS_RATIO_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decodes - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW));
}

/** go-yaml v2's decoder into interface{} (map[interface{}]interface{} for mappings). */
class Decoder {
  constructor(private readonly rejectDuplicateKeys = false) {}
  private decodes = 1; // the document node
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly active = new Set<AliasNode>();

  decode(n: Node, into?: GoMap): unknown {
    this.decodes++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.aliasCount > 100 && this.decodes > 1000 && this.aliasCount / this.decodes > allowedAliasRatio(this.decodes)) {
      throw new YamlError('document contains excessive aliasing', n.pos);
    }
    switch (n.k) {
      case K.Alias: {
        if (this.active.has(n)) throw new YamlError(`anchor '${n.name}' value contains itself`, n.pos);
        this.active.add(n);
        this.aliasDepth++;
        const v = this.decode(n.target, into);
        this.aliasDepth--;
        this.active.delete(n);
        return v;
      }
      case K.Scalar:
        return this.scalar(n);
      case K.Seq:
        return n.children.map((c) => this.decode(c));
      case K.Map: {
        const out: GoMap = into ?? new Map();
        const c = n.children;
        // Keys written in this mapping (a `<<` merge may still be overridden by one of them).
        const written = this.rejectDuplicateKeys ? new Set<unknown>() : undefined;
        for (let i = 0; i < c.length; i += 2) {
          const kn = c[i]!;
          if (kn.k === K.Scalar && kn.value === '<<' && (kn.implicit || kn.tag === MERGE)) {
            this.merge(c[i + 1]!, out);
            continue;
          }
          const key = this.decode(kn);
          if (key instanceof Map || Array.isArray(key)) throw new YamlError('invalid map key', kn.pos);
          const id = keyId(key);
          if (written) {
            if (written.has(id)) throw new YamlError(`duplicate key ${JSON.stringify(kn.k === K.Scalar ? kn.value : String(key))}: the API server rejects it (strict field validation), kubectl would apply only the last value`, kn.pos);
            written.add(id);
          }
          const value = this.decode(c[i + 1]!);
          out.set(id, { key, value, pos: kn.pos });
        }
        return out;
      }
    }
  }

  private merge(n: Node, out: GoMap): void {
    const wantMap = (): never => {
      throw new YamlError('map merge requires map or sequence of maps as the value', n.pos);
    };
    if (n.k === K.Map) this.decode(n, out);
    else if (n.k === K.Alias) {
      if (n.target.k !== K.Map) wantMap();
      this.decode(n, out);
    } else if (n.k === K.Seq) {
      // Backwards: earlier mappings take precedence.
      for (let i = n.children.length - 1; i >= 0; i--) {
        const c = n.children[i]!;
        if (c.k === K.Alias ? c.target.k !== K.Map : c.k !== K.Map) wantMap();
        this.decode(c, out);
      }
    } else wantMap();
  }

  private scalar(n: ScalarNode): unknown {
    if (n.tag === '' && !n.implicit) return n.value;
    const [tag, v] = resolve(n.tag, n.value, n.pos);
    if (v instanceof GoFloat) return new GoFloat(v.v, n.pos);
    return tag === BINARY ? decodeBinary(n.value, n.pos) : v;
  }
}

/** The JSON value YAMLToJSON makes of a decoded value. */
function toJson(v: unknown): unknown {
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const { key, value, pos } of (v as GoMap).values()) {
      let s: string;
      if (typeof key === 'string') s = key;
      else if (typeof key === 'boolean') s = String(key);
      else if (key instanceof GoInt && !key.unsigned) s = key.big.toString();
      else if (key instanceof GoFloat) s = formatFloat32(key.v);
      else throw new YamlError(`unsupported map key: ${key === null ? 'null' : key instanceof GoInt ? `uint64 ${key.big}` : String(key)}`, pos);
      // Two keys of different Go types with the same text (`1` and "1"): YAMLToJSON keeps one of them
      // in random map order, so there is no single reading to audit.
      if (seen.has(s)) throw new YamlError(`mapping has two keys that both read as ${JSON.stringify(s)} (kubectl keeps one of them at random)`, pos);
      seen.add(s);
      out[s] = toJson(value);
    }
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x));
  if (v instanceof GoInt) return Number(v.big);
  if (v instanceof GoFloat) {
    if (!Number.isFinite(v.v)) throw new YamlError(`json: unsupported value: ${Number.isNaN(v.v) ? 'NaN' : v.v > 0 ? '+Inf' : '-Inf'}`, v.pos);
    return v.v;
  }
  return v;
}

/**
 * Where the elements of the root mapping's `items` sequence start (the last `items` key wins, as in the
 * decoded value), or undefined when the items do not come from a sequence written under that key (an
 * alias, a merge): their places are then not known one by one.
 */
function itemPositions(root: Node): number[] | undefined {
  if (root.k !== K.Map) return undefined;
  let seq: Node | undefined;
  for (let i = 0; i < root.children.length; i += 2) {
    const k = root.children[i]!;
    if (k.k === K.Scalar && k.value === 'items' && (k.tag === '' || k.tag === '!' || k.tag === STR)) seq = root.children[i + 1];
    else if (k.k === K.Scalar && k.value === '<<') seq = undefined;
  }
  return seq?.k === K.Seq ? seq.children.map((c) => c.pos) : undefined;
}

const DOC_END = /^\.\.\.(?:[ \t]|$)/m;

/**
 * The first YAML document of `text` as YAMLToJSON reads it (undefined when the document is empty), or the
 * error go-yaml / YAMLToJSON reports. `offset` is where the value starts or the error was found.
 */
export function readKubeYaml(text: string, opts: { rejectDuplicateKeys?: boolean; itemOffsets?: boolean } = {}): KubeYamlResult {
  // go-yaml reads one document: whatever follows its `...` end marker is never parsed.
  const m = DOC_END.exec(text);
  if (m) {
    // libyaml skips no `...` before the first document: one with nothing before it is an error.
    if (!/^[ \t]*[^\s#]/m.test(text.slice(0, m.index))) return { error: 'did not find expected node content', offset: m.index };
    text = text.slice(0, m.index);
  }
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: 10000 });
  } catch (err) {
    const e = err as { reason?: string; message: string; mark?: { position?: number } };
    return { error: e.reason ?? e.message.split('\n')[0]!, offset: e.mark?.position ?? 0 };
  }
  let root: Node | undefined;
  try {
    root = buildTree(text, events);
    if (!root) return { value: undefined, offset: 0 };
    const decoded = new Decoder(opts.rejectDuplicateKeys).decode(root);
    const value = toJson(decoded) ?? undefined;
    const items = opts.itemOffsets ? itemPositions(root) : undefined;
    return { value, offset: root.pos, ...(items ? { items } : {}) };
  } catch (err) {
    if (err instanceof YamlError) return { error: err.message, offset: err.pos };
    if (err instanceof RangeError) return { error: 'document is nested too deeply', offset: root?.pos ?? 0 };
    throw err;
  }
}

/** 0-based line of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
