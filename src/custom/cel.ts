/**
 * Custom check expressions compiled to CEL for a ValidatingAdmissionPolicy or a Kyverno ValidatingPolicy
 * (the object under review is `object`). The result is `true` or `false` for every object and never an
 * evaluation error:
 * - a field is read with optional selection (`object.?spec.?ingressClassName`, `[?"key"]` for names that are
 *   no CEL identifiers) ending in `.orValue(dyn(null))`; optional selection yields none on a string,
 *   number, boolean or null, but fails on a list, so every proper prefix of a longer path is first checked
 *   not to be a list (`&&` is false as soon as one check is, whatever the others give);
 * - the value is then used only when `type(v)` is the wanted type, else the default (an int may also be a
 *   double holding an integer: see integralDouble);
 * - lists keep only the elements of the wanted type (`filter`), so quantifier bodies read strings or maps.
 * Element variables are named `kh<n>` and the filter variable `kh_f`.
 *
 * `object` stays typed where the API server's TypeChecker types it by the matched kinds' schemas: a path the
 * schema lacks is a type-check warning on the policy (no error; it reads as absent at run time). The cost
 * estimate of a list read this way is unbounded (the value passes through `dyn`), as for any list without
 * maxItems. Measured on a Pod policy (vapTypecheck): `exists` over containers and their ports estimates about
 * 3,800 at 10 items each and 520,000 at 100, below the per-call limit of 1,000,000.
 * Kyverno's autogen rewrites the text `object.spec` only, so this output (`object.?spec`) is not rewritten for
 * workload controllers.
 */
import { celLiteral, celString, isCelIdentifier } from '../lang/cel/cel.js';
import { elementNames, optionLists, type Base, type Expr, type Node, type PresentType, type SettingsArg } from './ast.js';

export interface CelSettings {
  /** The CEL variable holding the object under review; default `object`. */
  readonly object?: string;
}

const CEL_TYPE: Readonly<Record<PresentType, string>> = { string: 'string', int: 'int', bool: 'bool', list: 'list', object: 'map' };

/**
 * Whether `v` is a double holding an integer of at most 2^53 in magnitude, the range a double holds exactly.
 * The Kyverno CLI (1.19) decodes every JSON number of a resource as a double, and the API server a number
 * written with a fraction or exponent (`3.0`): Rego reads both as the integer, so CEL must too. `&&` is false
 * as soon as one operand is, so `int(v)` is never reached with a value out of range (an error).
 */
function integralDouble(v: string): string {
  return `(type(${v}) == double && ${v} >= -9007199254740992.0 && ${v} <= 9007199254740992.0 && double(int(${v})) == ${v})`;
}

/**
 * The CEL expression for a boolean expression: true when it holds for the object, false otherwise (the
 * policy's validation fails when it is false). Options the expression reads become literal lists.
 */
export function toCel<O extends string = never>(expr: Expr<'bool', O>, ...[settings]: SettingsArg<CelSettings, O>): string {
  if (expr?.type !== 'bool') throw new Error('toCel: the expression must be a boolean expression');
  const options = optionLists(expr, settings?.options);
  // celTerm checks the object's name.
  return celTerm(expr, { object: settings?.object ?? 'object', option: (name) => celLiteral(options.get(name)!) });
}

/**
 * `toCel` with the object given as a CEL variable or `dyn(<variable>)` (untyped reading: the API server's
 * TypeChecker then checks no path against a schema) and each option read by a CEL expression `option(name)`
 * (a list of strings, e.g. `variables.teams`) instead of a literal list.
 */
export function celTerm(expr: Expr<'bool', string>, settings: { readonly object: string; readonly option: (name: string) => string }): string {
  if (expr?.type !== 'bool') throw new Error('toCel: the expression must be a boolean expression');
  const object = settings.object;
  const inner = /^dyn\((.*)\)$/.exec(object)?.[1] ?? object;
  if (!isCelIdentifier(inner) || /^kh(\d|_f$)/.test(inner)) throw new Error(`toCel: object ${JSON.stringify(object)} is not a CEL variable name or dyn(<name>) (or a kh<n> / kh_f name)`);
  const elements = elementNames(expr.node, (i) => `kh${i}`);
  const base = (b: Base): string => (b.kind === 'root' ? object : elements.get(b.id)!);

  /** The value at `path` of `b`, or null: never an error. */
  const value = (b: Base, path: readonly string[]): string => {
    const at = (n: number): string => `${base(b)}${path.slice(0, n).map((p) => (isCelIdentifier(p) ? `.?${p}` : `[?${celString(p)}]`)).join('')}.orValue(dyn(null))`;
    if (path.length === 1) return at(1);
    const guards = path.slice(1).map((_, i) => `type(${at(i + 1)}) != list`);
    return `(${guards.join(' && ')} ? ${at(path.length)} : dyn(null))`;
  };
  const literal = (v: string | number | boolean): string => (typeof v === 'number' && v < 0 ? `(${v})` : celLiteral(v));

  const term = (n: Node): string => {
    switch (n.k) {
      case 'const':
        return literal(n.value);
      case 'field': {
        const v = value(n.base, n.path);
        if (n.as === 'int') return `(type(${v}) == int ? ${v} : ${integralDouble(v)} ? int(${v}) : ${literal(n.fallback)})`;
        return `(type(${v}) == ${CEL_TYPE[n.as]} ? ${v} : ${literal(n.fallback)})`;
      }
      case 'present': {
        const v = value(n.base, n.path);
        if (n.as === 'int') return `(type(${v}) == int || ${integralDouble(v)})`;
        return `(type(${v}) == ${CEL_TYPE[n.as]})`;
      }
      case 'list': {
        const v = value(n.base, n.path);
        return `(type(${v}) == list ? ${v}.filter(kh_f, type(kh_f) == ${n.of === 'string' ? 'string' : 'map'}) : [])`;
      }
      case 'element':
        return elements.get(n.id)!;
      case 'compare':
        return `(${term(n.left)} ${n.op} ${term(n.right)})`;
      case 'text':
        return `${term(n.subject)}.${n.op}(${term(n.part)})`;
      case 'matches':
        return `${term(n.subject)}.matches(${celString(n.pattern)})`;
      case 'oneOf':
        return `(${term(n.subject)} in ${Array.isArray(n.values) ? celLiteral(n.values) : settings.option((n.values as { option: string }).option)})`;
      case 'includes':
        return `(${term(n.value)} in ${term(n.list)})`;
      case 'size':
        return `size(${term(n.of)})`;
      case 'quantifier':
        return `${term(n.list)}.${n.q}(${elements.get(n.id)!}, ${term(n.body)})`;
      case 'and':
      case 'or': {
        if (n.args.length === 0) return n.k === 'and' ? 'true' : 'false';
        if (n.args.length === 1) return term(n.args[0]!);
        return `(${n.args.map(term).join(n.k === 'and' ? ' && ' : ' || ')})`;
      }
      case 'not':
        return `!${term(n.arg)}`;
    }
  };
  return term(expr.node);
}
