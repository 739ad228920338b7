/**
 * Custom check expressions evaluated directly on a JSON object, with the semantics src/custom/expr.ts states
 * (and src/custom/rego.ts and src/custom/cel.ts compile): used at build time to check that a custom control's
 * samples get the verdicts they expect before any file is written. test/custom-expr.test.ts holds it to opa's
 * verdicts on the whole expression corpus; test/custom-controls.test.ts checks that the samples it accepts get
 * the same verdicts from every engine.
 */
import { elementNames, type Expr, type Node, type PresentType } from './ast.js';
import { goRegex } from './regex.js';

type Json = unknown;

/** 2^63: the JSON text of a double of at least this magnitude is outside int64. */
const INT64_LIMIT = 2 ** 63;

/** Thrown when an expression uses what cannot be evaluated here with certainty (some regular expressions). */
export class OfflineUnsupported extends Error {}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function hasType(v: Json, as: PresentType): boolean {
  switch (as) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v);
    case 'object':
      return isObject(v);
    case 'int':
      // The engines read the object's JSON text: a double of magnitude 2^63 or more prints as an integer outside
      // int64 (-2^63 as -9223372036854776000), so only magnitudes below 2^63 are ints here.
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < INT64_LIMIT;
  }
}

function at(base: Json, path: readonly string[]): Json {
  let cur = base;
  for (const p of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, p)) return null;
    cur = cur[p];
  }
  return cur;
}

/** Code points of a string (what `size` counts). */
const codePoints = (s: string): number => [...s].length;

/** Compares two strings by code points (CEL and Rego compare UTF-8 bytes, which orders the same way). */
function cmp(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Whether `expr` holds for `object`, options given as lists. Throws for a malformed expression (an element used
 * outside its quantifier), as the compilers do.
 */
export function evaluate(expr: Expr<'bool', string>, object: Json, options: Readonly<Record<string, readonly string[]>>): boolean {
  elementNames(expr.node, (i) => String(i));
  const env = new Map<number, Json>();
  const val = (n: Node): Json => {
    switch (n.k) {
      case 'const':
        return n.value;
      case 'field': {
        const v = at(n.base.kind === 'root' ? object : env.get(n.base.id), n.path);
        return hasType(v, n.as) ? v : n.fallback;
      }
      case 'present':
        return hasType(at(n.base.kind === 'root' ? object : env.get(n.base.id), n.path), n.as);
      case 'list': {
        const v = at(n.base.kind === 'root' ? object : env.get(n.base.id), n.path);
        return Array.isArray(v) ? v.filter((e) => (n.of === 'string' ? typeof e === 'string' : isObject(e))) : [];
      }
      case 'element':
        return env.get(n.id);
      case 'compare': {
        const c = cmp(val(n.left) as string, val(n.right) as string);
        return { '==': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[n.op];
      }
      case 'text': {
        const s = val(n.subject) as string;
        const p = val(n.part) as string;
        return n.op === 'startsWith' ? s.startsWith(p) : n.op === 'endsWith' ? s.endsWith(p) : s.includes(p);
      }
      case 'matches': {
        const re = goRegex(n.pattern);
        if (!re) throw new OfflineUnsupported(`the pattern ${JSON.stringify(n.pattern)} cannot be evaluated offline`);
        return re.test(val(n.subject) as string);
      }
      case 'oneOf': {
        const list = Array.isArray(n.values) ? n.values : options[(n.values as { option: string }).option];
        if (!Array.isArray(list)) throw new Error(`custom expression: option ${JSON.stringify((n.values as { option: string }).option)} needs a list of strings`);
        return list.includes(val(n.subject) as string);
      }
      case 'includes':
        return (val(n.list) as Json[]).includes(val(n.value));
      case 'size': {
        const v = val(n.of);
        return typeof v === 'string' ? codePoints(v) : (v as Json[]).length;
      }
      case 'quantifier': {
        const items = val(n.list) as Json[];
        const test = (e: Json): boolean => {
          env.set(n.id, e);
          return val(n.body) === true;
        };
        const saved = env.get(n.id);
        const r = n.q === 'exists' ? items.some(test) : items.every(test);
        env.set(n.id, saved);
        return r;
      }
      case 'and':
        return n.args.every((a) => val(a) === true);
      case 'or':
        return n.args.some((a) => val(a) === true);
      case 'not':
        return val(n.arg) !== true;
    }
  };
  return val(expr.node) === true;
}
