/**
 * Custom check expressions compiled to Rego (v1 syntax, as kubeharden's ConstraintTemplates). The result is
 * one term that is `true` or `false` for every object: never undefined, and no built-in function is ever
 * called with an argument of the wrong type (it evaluates under `--strict-builtin-errors`). How:
 * - a field is read with `object.get(base, path, null)` inside an object comprehension that keeps it only
 *   when it has the wanted type, and `object.get` of that comprehension supplies the default;
 * - lists are array comprehensions that keep only the elements of the wanted type;
 * - comparisons and membership are written as parenthesized terms (`(a == b)`, `(a in [...])`), which are
 *   booleans; `and` / `or` compare the set of their arguments' values with `{true}` / `{false}`, `not` is
 *   `(a == false)`; `exists` / `all` look for `true` / `false` in the array of the body's values.
 * Temporary and element variables are named `kh_t<n>` and `kh_e<n>`: the input reference must not use them.
 */
import { checkText, elementNames, INT64_MAX, INT64_MIN, optionLists, type Base, type Expr, type Node, type PresentType, type SettingsArg } from './ast.js';

export interface RegoSettings {
  /** A Rego reference to the object under review (an object); default `input.review.object`, as in Gatekeeper. */
  readonly input?: string;
}

const REFERENCE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** A Rego string literal (JSON escapes; non-ASCII characters as they are). */
export function regoString(s: string): string {
  return JSON.stringify(checkText(s, 'a string'));
}

function regoStrings(list: readonly string[]): string {
  return `[${list.map(regoString).join(', ')}]`;
}

/** The body conditions under which `v` has type `as` (`int`: a JSON integer in the int64 range, as Kubernetes' CEL reads it). */
function typeConditions(v: string, as: PresentType): string[] {
  switch (as) {
    case 'string':
      return [`is_string(${v})`];
    case 'bool':
      return [`is_boolean(${v})`];
    case 'list':
      return [`is_array(${v})`];
    case 'object':
      return [`is_object(${v})`];
    case 'int':
      return [`is_number(${v})`, `${v} >= ${INT64_MIN}`, `${v} <= ${INT64_MAX}`, `floor(${v}) == ${v}`];
  }
}

/**
 * The Rego term for a boolean expression: `true` when the expression holds for the object at `settings.input`,
 * `false` otherwise (a policy reports a violation when it is false). Options the expression reads become
 * literal lists. Usable in a rule body, e.g. in a ConstraintTemplate:
 *
 * ```rego
 * violation contains {"msg": "…"} if {
 *   <term> == false
 * }
 * ```
 */
export function toRego<O extends string = never>(expr: Expr<'bool', O>, ...[settings]: SettingsArg<RegoSettings, O>): string {
  if (expr?.type !== 'bool') throw new Error('toRego: the expression must be a boolean expression');
  const options = optionLists(expr, settings?.options);
  return regoTerm(expr, { input: settings?.input ?? 'input.review.object', option: (name) => regoStrings(options.get(name)!) });
}

/**
 * `toRego` with each option read by a Rego term `option(name)` instead of a literal list (a custom control
 * reads its options from the Constraint's parameters). The term must be an array of strings.
 */
export function regoTerm(expr: Expr<'bool', string>, settings: { readonly input: string; readonly option: (name: string) => string }): string {
  if (expr?.type !== 'bool') throw new Error('toRego: the expression must be a boolean expression');
  const input = settings.input;
  if (!REFERENCE.test(input) || /(^|\.)kh_[te]\d/.test(input)) throw new Error(`toRego: input ${JSON.stringify(input)} is not a plain Rego reference (or uses a kh_t/kh_e name)`);
  const elements = elementNames(expr.node, (i) => `kh_e${i}`);
  let temps = 0;
  const temp = (): string => `kh_t${temps++}`;
  const base = (b: Base): string => (b.kind === 'root' ? input : elements.get(b.id)!);
  const get = (b: Base, path: readonly string[]): string => `object.get(${base(b)}, ${regoStrings(path)}, null)`;
  const literal = (v: string | number | boolean): string => (typeof v === 'string' ? regoString(v) : String(v));

  const term = (n: Node): string => {
    switch (n.k) {
      case 'const':
        return literal(n.value);
      case 'field': {
        const t = temp();
        return `object.get({0: ${t} | ${t} := ${get(n.base, n.path)}; ${typeConditions(t, n.as).join('; ')}}, 0, ${literal(n.fallback)})`;
      }
      case 'present': {
        const t = temp();
        return `object.get({0: true | ${t} := ${get(n.base, n.path)}; ${typeConditions(t, n.as).join('; ')}}, 0, false)`;
      }
      case 'list': {
        const l = temp();
        const t = temp();
        return `[${t} | ${l} := ${get(n.base, n.path)}; is_array(${l}); some ${t} in ${l}; ${n.of === 'string' ? 'is_string' : 'is_object'}(${t})]`;
      }
      case 'element':
        return elements.get(n.id)!;
      case 'compare':
        return `(${term(n.left)} ${n.op} ${term(n.right)})`;
      case 'text':
        return `${{ startsWith: 'startswith', endsWith: 'endswith', contains: 'contains' }[n.op]}(${term(n.subject)}, ${term(n.part)})`;
      case 'matches':
        return `regex.match(${regoString(n.pattern)}, ${term(n.subject)})`;
      case 'oneOf':
        return `(${term(n.subject)} in ${Array.isArray(n.values) ? regoStrings(n.values) : settings.option((n.values as { option: string }).option)})`;
      case 'includes':
        return `(${term(n.value)} in ${term(n.list)})`;
      case 'size':
        return `count(${term(n.of)})`;
      case 'quantifier': {
        const values = `[${term(n.body)} | some ${elements.get(n.id)!} in ${term(n.list)}]`;
        return n.q === 'exists' ? `(true in ${values})` : `((false in ${values}) == false)`;
      }
      case 'and':
      case 'or': {
        if (n.args.length === 0) return n.k === 'and' ? 'true' : 'false';
        if (n.args.length === 1) return term(n.args[0]!);
        return `({${n.args.map(term).join(', ')}} ${n.k === 'and' ? '== {true}' : '!= {false}'})`;
      }
      case 'not':
        return `(${term(n.arg)} == false)`;
    }
  };
  return term(expr.node);
}
