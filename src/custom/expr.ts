/**
 * Custom check expressions: a small typed builder whose expressions compile to Gatekeeper Rego (`toRego`) and
 * to CEL for ValidatingAdmissionPolicies and Kyverno ValidatingPolicies (`toCel`), with the same verdict on
 * every object (test/custom-expr.test.ts checks it with the real opa binary and the API server's CEL
 * admission code on generated and hand-written objects).
 *
 * An expression states what must HOLD: the policy passes an object when the expression is true and reports a
 * violation when it is false.
 *
 * ```ts
 * const ok = and(
 *   oneOf(str('spec.ingressClassName', ''), option('allowedClasses')),
 *   all(list('spec.tls'), (tls) => gt(size(tls.strings('hosts')), 0)),
 *   hasLabel('team'),
 * );
 * toCel(ok, { options: { allowedClasses: ['nginx'] } });        // over `object`
 * toRego(ok, { input: 'obj', options: { allowedClasses: ['nginx'] } });
 * ```
 *
 * Semantics, the same in both languages:
 * - Every field is read with a default: `str(path, d)` is the value at `path` when it is a string, else `d`;
 *   absent, null and a value of another type (a number where a string is expected, a string where an object
 *   is on the path, …) all read as the default. `int` takes integers in the int64 range (1.5, 1e21 and "80"
 *   read as the default); `bool` takes true and false only. One case is left open: an integral number
 *   written with a fraction or exponent (`1.0`, `1e2`) is a double to Kubernetes' CEL (the default) but an
 *   integer to Rego; the API server's typed objects never hold one in an integer field.
 * - `strings(path)` is the list at `path` with only its string elements; `list(path)` with only its object
 *   elements; absent, null or not a list: empty. So `exists` over nothing is false and `all` is true.
 * - `present(path, type)` (and `hasLabel`, `hasAnnotation`) is whether the field holds a value of that type.
 * - Strings compare by code points, case-sensitively, without normalization; `size` of a string counts
 *   code points. `matches` is an unanchored RE2 search (Go's regexp in both engines) of a pattern checked when
 *   the expression is built (src/custom/regex.ts).
 * - Options (`option(name)`) are named lists of strings given to the compiler, which writes them into the
 *   policy as literal lists: a changed list means a rebuilt policy, and the policy needs no parameter object.
 *
 * Not offered, because the engines differ: case folding (CEL's lowerAscii is ASCII-only, Rego's lower is not),
 * ordering of strings, floating-point numbers, arithmetic (int64 overflow), string indexing.
 */
import { checkText, type Base, type Expr, type Node, type Option, type PresentType, type ValueType } from './ast.js';
import { checkRegex } from './regex.js';
import type { Elements, Fields, TypedRef } from './typed-ref.js';

export type { Expr, Option, OptionLists, PresentType, ValueType } from './ast.js';
export { toRego, type RegoSettings } from './rego.js';
export { toCel, type CelSettings } from './cel.js';

/** A field path: dot-separated names (`spec.ingressClassName`), or the names as a list when one holds a dot. */
export type FieldPath = string | readonly [string, ...string[]];

/** An object to read fields from: the object under review (the functions below) or a list element in `exists`/`all`. */
export interface ObjectRef {
  /** The string at `path`, or `fallback` when it is absent, null or not a string. */
  str(path: FieldPath, fallback: string): Expr<'string'>;
  /** The integer at `path`, or `fallback` when it is absent, null or not an int64 integer. */
  int(path: FieldPath, fallback: number): Expr<'int'>;
  /** The boolean at `path`, or `fallback` when it is absent, null or not a boolean. */
  bool(path: FieldPath, fallback: boolean): Expr<'bool'>;
  /** The strings of the list at `path` (other elements skipped; empty when absent or not a list). */
  strings(path: FieldPath): Expr<'strings'>;
  /** The objects of the list at `path` (other elements skipped; empty when absent or not a list). */
  list(path: FieldPath): Expr<'objects'>;
  /** Whether the field at `path` holds a value of type `as`. */
  present(path: FieldPath, as: PresentType): Expr<'bool'>;
}

/** The options an expression (or a union of expressions) reads. */
export type OptionsOf<E> = E extends Expr<ValueType, infer O> ? O : never;

function make<T extends ValueType, O extends string = never>(type: T, node: Node, options: readonly O[] = []): Expr<T, O> {
  return Object.freeze({ type, node, options: Object.freeze([...new Set(options)]) });
}

function isExpr(v: unknown): v is Expr<ValueType, string> {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { node?: unknown }).node === 'object';
}

function expect<T extends ValueType>(v: unknown, types: readonly T[], what: string): Expr<T, string> {
  if (!isExpr(v) || !(types as readonly string[]).includes(v.type)) throw new Error(`custom expression: ${what} must be an expression of type ${types.join(' or ')}`);
  return v as Expr<T, string>;
}

function parsePath(path: FieldPath): readonly string[] {
  if (typeof path === 'string') {
    const parts = path.split('.');
    if (parts.some((p) => p === '')) throw new Error(`custom expression: field path ${JSON.stringify(path)} has an empty name (give a list of names for keys with dots)`);
    return parts.map((p) => checkText(p, 'a field name'));
  }
  if (!Array.isArray(path) || path.length === 0) throw new Error('custom expression: a field path needs at least one name');
  return path.map((p) => checkText(p, 'a field name'));
}

/** A literal of type `type`, checked: a string without lone surrogates, a safe integer, a boolean. */
function literal(v: unknown, type: 'string' | 'int' | 'bool', what: string): string | number | boolean {
  if (type === 'string') return checkText(v, what);
  if (type === 'int') {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`custom expression: ${what} must be a safe integer`);
    return v === 0 ? 0 : v;
  }
  if (typeof v !== 'boolean') throw new Error(`custom expression: ${what} must be a boolean`);
  return v;
}

/** A literal of type `type` or an expression of that type, as a node. */
function operand(v: unknown, type: 'string' | 'int' | 'bool', what: string): { node: Node; options: readonly string[] } {
  if (isExpr(v)) return { node: expect(v, [type], what).node, options: v.options };
  return { node: { k: 'const', value: literal(v, type, what) }, options: [] };
}

function objectRef(base: Base): ObjectRef {
  return Object.freeze({
    str: (path: FieldPath, fallback: string) => make('string', { k: 'field', base, path: parsePath(path), as: 'string', fallback: literal(fallback, 'string', 'the default') }),
    int: (path: FieldPath, fallback: number) => make('int', { k: 'field', base, path: parsePath(path), as: 'int', fallback: literal(fallback, 'int', 'the default') }),
    bool: (path: FieldPath, fallback: boolean) => make('bool', { k: 'field', base, path: parsePath(path), as: 'bool', fallback: literal(fallback, 'bool', 'the default') }),
    strings: (path: FieldPath) => make('strings', { k: 'list', base, path: parsePath(path), of: 'string' }),
    list: (path: FieldPath) => make('objects', { k: 'list', base, path: parsePath(path), of: 'object' }),
    present: (path: FieldPath, as: PresentType) => {
      if (!['string', 'int', 'bool', 'list', 'object'].includes(as)) throw new Error(`custom expression: present() takes string, int, bool, list or object, not ${String(as)}`);
      return make('bool', { k: 'present', base, path: parsePath(path), as });
    },
  });
}

const ROOT = objectRef({ kind: 'root' });

/** The string at `path` of the object under review, or `fallback` when it is absent, null or not a string. */
export function str(path: FieldPath, fallback: string): Expr<'string'> {
  return ROOT.str(path, fallback);
}

/** The integer at `path` of the object under review, or `fallback` when it is absent, null or not an int64 integer. */
export function int(path: FieldPath, fallback: number): Expr<'int'> {
  return ROOT.int(path, fallback);
}

/** The boolean at `path` of the object under review, or `fallback` when it is absent, null or not a boolean. */
export function bool(path: FieldPath, fallback: boolean): Expr<'bool'> {
  return ROOT.bool(path, fallback);
}

/** The strings of the list at `path` of the object under review (other elements skipped; empty when absent or not a list). */
export function strings(path: FieldPath): Expr<'strings'> {
  return ROOT.strings(path);
}

/** The objects of the list at `path` of the object under review (other elements skipped; empty when absent or not a list). */
export function list(path: FieldPath): Expr<'objects'> {
  return ROOT.list(path);
}

/** Whether the field at `path` of the object under review holds a value of type `as`. */
export function present(path: FieldPath, as: PresentType): Expr<'bool'> {
  return ROOT.present(path, as);
}

/** The label `key` (`metadata.labels[key]`) of the object under review, or `fallback` when it is absent or not a string. */
export function label(key: string, fallback = ''): Expr<'string'> {
  return ROOT.str(['metadata', 'labels', checkText(key, 'a label key')], fallback);
}

/** Whether the object under review has the label `key` with a string value. */
export function hasLabel(key: string): Expr<'bool'> {
  return ROOT.present(['metadata', 'labels', checkText(key, 'a label key')], 'string');
}

/** The annotation `key` of the object under review, or `fallback` when it is absent or not a string. */
export function annotation(key: string, fallback = ''): Expr<'string'> {
  return ROOT.str(['metadata', 'annotations', checkText(key, 'an annotation key')], fallback);
}

/** Whether the object under review has the annotation `key` with a string value. */
export function hasAnnotation(key: string): Expr<'bool'> {
  return ROOT.present(['metadata', 'annotations', checkText(key, 'an annotation key')], 'string');
}

function compare(op: '==' | '!=' | '<' | '<=' | '>' | '>=', left: unknown, right: unknown, types: readonly ('string' | 'int' | 'bool')[]): Expr<'bool', string> {
  const l = expect(left, types, `the left side of ${op}`);
  const r = operand(right, l.type, `the right side of ${op}`);
  return make('bool', { k: 'compare', op, left: l.node, right: r.node }, [...l.options, ...r.options]);
}

/** `left == right` for strings, integers or booleans (both sides of one type). */
export function eq<A extends string = never, B extends string = never>(left: Expr<'string', A>, right: string | Expr<'string', B>): Expr<'bool', A | B>;
export function eq<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B>;
export function eq<A extends string = never, B extends string = never>(left: Expr<'bool', A>, right: boolean | Expr<'bool', B>): Expr<'bool', A | B>;
export function eq(left: Expr<'string' | 'int' | 'bool', string>, right: unknown): Expr<'bool', string> {
  return compare('==', left, right, ['string', 'int', 'bool']);
}

/** `left != right` for strings, integers or booleans (both sides of one type). */
export function ne<A extends string = never, B extends string = never>(left: Expr<'string', A>, right: string | Expr<'string', B>): Expr<'bool', A | B>;
export function ne<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B>;
export function ne<A extends string = never, B extends string = never>(left: Expr<'bool', A>, right: boolean | Expr<'bool', B>): Expr<'bool', A | B>;
export function ne(left: Expr<'string' | 'int' | 'bool', string>, right: unknown): Expr<'bool', string> {
  return compare('!=', left, right, ['string', 'int', 'bool']);
}

/** `left < right` for integers. */
export function lt<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B> {
  return compare('<', left, right, ['int']) as Expr<'bool', A | B>;
}

/** `left <= right` for integers. */
export function le<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B> {
  return compare('<=', left, right, ['int']) as Expr<'bool', A | B>;
}

/** `left > right` for integers. */
export function gt<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B> {
  return compare('>', left, right, ['int']) as Expr<'bool', A | B>;
}

/** `left >= right` for integers. */
export function ge<A extends string = never, B extends string = never>(left: Expr<'int', A>, right: number | Expr<'int', B>): Expr<'bool', A | B> {
  return compare('>=', left, right, ['int']) as Expr<'bool', A | B>;
}

function text<A extends string, B extends string>(op: 'startsWith' | 'endsWith' | 'contains', subject: Expr<'string', A>, part: string | Expr<'string', B>): Expr<'bool', A | B> {
  const s = expect(subject, ['string'], `the string of ${op}`);
  const p = operand(part, 'string', `the argument of ${op}`);
  return make('bool', { k: 'text', op, subject: s.node, part: p.node }, [...s.options, ...p.options]) as Expr<'bool', A | B>;
}

/** Whether `subject` starts with `prefix` (case-sensitive; every string starts with ''). */
export function startsWith<A extends string = never, B extends string = never>(subject: Expr<'string', A>, prefix: string | Expr<'string', B>): Expr<'bool', A | B> {
  return text('startsWith', subject, prefix);
}

/** Whether `subject` ends with `suffix` (case-sensitive). */
export function endsWith<A extends string = never, B extends string = never>(subject: Expr<'string', A>, suffix: string | Expr<'string', B>): Expr<'bool', A | B> {
  return text('endsWith', subject, suffix);
}

/** Whether `subject` contains `part` (case-sensitive). */
export function contains<A extends string = never, B extends string = never>(subject: Expr<'string', A>, part: string | Expr<'string', B>): Expr<'bool', A | B> {
  return text('contains', subject, part);
}

/**
 * Whether `pattern` matches somewhere in `subject`: an unanchored RE2 search (use `^…$` to match it whole).
 * The pattern is a constant, checked now against the RE2 subset of src/custom/regex.ts.
 */
export function matches<A extends string = never>(subject: Expr<'string', A>, pattern: string): Expr<'bool', A> {
  const s = expect(subject, ['string'], 'the string of matches');
  checkRegex(checkText(pattern, 'the pattern'));
  return make('bool', { k: 'matches', subject: s.node, pattern }, s.options) as Expr<'bool', A>;
}

/** A named list of strings given when the policy is built (`toRego`/`toCel` settings `options`). */
export function option<const N extends string>(name: N): Option<N> {
  if (checkText(name, 'an option name') === '') throw new Error('custom expression: an option needs a name');
  return Object.freeze({ option: name });
}

/** Whether `subject` is one of `values`: a list given now, or an option given when the policy is built. */
export function oneOf<A extends string = never, N extends string = never>(subject: Expr<'string', A>, values: Option<N> | readonly string[]): Expr<'bool', A | N> {
  const s = expect(subject, ['string'], 'the string of oneOf');
  if (Array.isArray(values)) {
    const list = values.map((v, i) => checkText(v, `oneOf value ${i}`));
    return make('bool', { k: 'oneOf', subject: s.node, values: list }, s.options) as Expr<'bool', A | N>;
  }
  const name = (values as Option<N>).option;
  checkText(name, 'an option name');
  return make('bool', { k: 'oneOf', subject: s.node, values: { option: name } }, [...s.options, name]) as Expr<'bool', A | N>;
}

/** Whether the list of strings `list` holds `value`. */
export function includes<A extends string = never, B extends string = never>(list: Expr<'strings', A>, value: string | Expr<'string', B>): Expr<'bool', A | B> {
  const l = expect(list, ['strings'], 'the list of includes');
  const v = operand(value, 'string', 'the value of includes');
  return make('bool', { k: 'includes', list: l.node, value: v.node }, [...l.options, ...v.options]) as Expr<'bool', A | B>;
}

/** The number of elements of a list, or of characters (Unicode code points) of a string. */
export function size<A extends string = never>(of: Expr<'strings' | 'objects' | 'string', A>): Expr<'int', A> {
  const e = expect(of, ['strings', 'objects', 'string'], 'the argument of size');
  return make('int', { k: 'size', of: e.node }, e.options) as Expr<'int', A>;
}

let nextElement = 0;

function quantifier(q: 'exists' | 'all', listExpr: unknown, body: (element: never) => unknown): Expr<'bool', string> {
  const l = expect(listExpr, ['strings', 'objects'], `the list of ${q}`);
  if (typeof body !== 'function') throw new Error(`custom expression: ${q} needs a function of the element`);
  const id = nextElement++;
  const of = l.type === 'strings' ? 'string' : 'object';
  const element = of === 'string' ? make('string', { k: 'element', id }) : objectRef({ kind: 'element', id });
  const b = expect(body(element as never), ['bool'], `the condition of ${q}`);
  return make('bool', { k: 'quantifier', q, list: l.node, of, id, body: b.node }, [...l.options, ...b.options]);
}

/** Whether some element of the list satisfies `body` (false for an empty list). A typed list (`fieldsOf`) gives typed elements. */
export function exists<F extends Fields, B extends string = never>(list: Elements<F>, body: (element: TypedRef<F>) => Expr<'bool', B>): Expr<'bool', B>;
export function exists<A extends string = never, B extends string = never>(list: Expr<'objects', A>, body: (element: ObjectRef) => Expr<'bool', B>): Expr<'bool', A | B>;
export function exists<A extends string = never, B extends string = never>(list: Expr<'strings', A>, body: (element: Expr<'string'>) => Expr<'bool', B>): Expr<'bool', A | B>;
export function exists(list: Expr<'objects' | 'strings', string>, body: (element: never) => Expr<'bool', string>): Expr<'bool', string> {
  return quantifier('exists', list, body);
}

/** Whether every element of the list satisfies `body` (true for an empty list). A typed list (`fieldsOf`) gives typed elements. */
export function all<F extends Fields, B extends string = never>(list: Elements<F>, body: (element: TypedRef<F>) => Expr<'bool', B>): Expr<'bool', B>;
export function all<A extends string = never, B extends string = never>(list: Expr<'objects', A>, body: (element: ObjectRef) => Expr<'bool', B>): Expr<'bool', A | B>;
export function all<A extends string = never, B extends string = never>(list: Expr<'strings', A>, body: (element: Expr<'string'>) => Expr<'bool', B>): Expr<'bool', A | B>;
export function all(list: Expr<'objects' | 'strings', string>, body: (element: never) => Expr<'bool', string>): Expr<'bool', string> {
  return quantifier('all', list, body);
}

function junction<A extends readonly Expr<'bool', string>[]>(k: 'and' | 'or', args: A): Expr<'bool', OptionsOf<A[number]>> {
  const xs = args.map((a, i) => expect(a, ['bool'], `argument ${i + 1} of ${k}`));
  return make('bool', { k, args: xs.map((x) => x.node) }, xs.flatMap((x) => x.options)) as Expr<'bool', OptionsOf<A[number]>>;
}

/** Whether every argument is true (true without arguments). */
export function and<A extends readonly Expr<'bool', string>[]>(...args: A): Expr<'bool', OptionsOf<A[number]>> {
  return junction('and', args);
}

/** Whether some argument is true (false without arguments). */
export function or<A extends readonly Expr<'bool', string>[]>(...args: A): Expr<'bool', OptionsOf<A[number]>> {
  return junction('or', args);
}

/** The negation of `arg`. */
export function not<A extends string = never>(arg: Expr<'bool', A>): Expr<'bool', A> {
  const a = expect(arg, ['bool'], 'the argument of not');
  return make('bool', { k: 'not', arg: a.node }, a.options) as Expr<'bool', A>;
}
