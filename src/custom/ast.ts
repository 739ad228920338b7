/**
 * The tree behind a custom check expression (src/custom/expr.ts builds it, src/custom/rego.ts and
 * src/custom/cel.ts compile it). Every node is total: it has a value of its type on every input object,
 * whatever that object holds, so the two compilers can give every node the same meaning.
 */

/** The types an expression can have: `strings` is a list of strings, `objects` a list of objects. */
export type ValueType = 'bool' | 'string' | 'int' | 'strings' | 'objects';

/** The scalar types a field is read as. */
export type ScalarType = 'string' | 'int' | 'bool';

/** What `present` asks a field to be. */
export type PresentType = 'string' | 'int' | 'bool' | 'list' | 'object';

/** The object a field is read from: the object under review, or the element a quantifier is at. */
export type Base = { readonly kind: 'root' } | { readonly kind: 'element'; readonly id: number };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type TextOp = 'startsWith' | 'endsWith' | 'contains';

/** A node of the expression tree. */
export type Node =
  | { readonly k: 'const'; readonly value: string | number | boolean }
  /** The field at `path` when it has type `as`, else `fallback`. */
  | { readonly k: 'field'; readonly base: Base; readonly path: readonly string[]; readonly as: ScalarType; readonly fallback: string | number | boolean }
  /** The list at `path` (empty when absent or not a list), keeping only its strings or only its objects. */
  | { readonly k: 'list'; readonly base: Base; readonly path: readonly string[]; readonly of: 'string' | 'object' }
  /** Whether the field at `path` has type `as`. */
  | { readonly k: 'present'; readonly base: Base; readonly path: readonly string[]; readonly as: PresentType }
  /** The string a quantifier over a list of strings is at. */
  | { readonly k: 'element'; readonly id: number }
  | { readonly k: 'compare'; readonly op: CompareOp; readonly left: Node; readonly right: Node }
  | { readonly k: 'text'; readonly op: TextOp; readonly subject: Node; readonly part: Node }
  | { readonly k: 'matches'; readonly subject: Node; readonly pattern: string }
  /** Membership in a list of strings given now (`values`) or when the policy is built (`option`). */
  | { readonly k: 'oneOf'; readonly subject: Node; readonly values: readonly string[] | { readonly option: string } }
  | { readonly k: 'includes'; readonly list: Node; readonly value: Node }
  /** The number of elements of a list, or of characters (code points) of a string. */
  | { readonly k: 'size'; readonly of: Node }
  /** `exists` / `all` over a list; `id` names the element inside `body`. */
  | { readonly k: 'quantifier'; readonly q: 'exists' | 'all'; readonly list: Node; readonly of: 'string' | 'object'; readonly id: number; readonly body: Node }
  | { readonly k: 'and' | 'or'; readonly args: readonly Node[] }
  | { readonly k: 'not'; readonly arg: Node };

/**
 * A typed check expression. `T` is its type; `O` the names of the options it reads: lists of strings given
 * when the policy is built (see `option` in src/custom/expr.ts), which the compilers then require.
 */
export interface Expr<T extends ValueType, O extends string = never> {
  readonly type: T;
  readonly node: Node;
  /** The names of the options the expression reads. */
  readonly options: readonly O[];
}

/** A named list of strings, given when the policy is built. */
export interface Option<N extends string> {
  readonly option: N;
}

/** The lists of the options an expression reads, by name. */
export type OptionLists<O extends string> = { readonly [K in O]: readonly string[] };

/**
 * The settings argument of a compiler for an expression reading options `O`: optional when it reads none,
 * required with every option's list otherwise.
 */
export type SettingsArg<S, O extends string> = [O] extends [never]
  ? [settings?: S & { readonly options?: Readonly<Record<string, readonly string[]>> }]
  : [settings: S & { readonly options: OptionLists<O> }];

/** Throws unless `s` is a string without lone surrogates (which neither engine can hold). */
export function checkText(s: unknown, what: string): string {
  if (typeof s !== 'string') throw new Error(`custom expression: ${what} must be a string`);
  if (/\p{Surrogate}/u.test(s)) throw new Error(`custom expression: ${what} contains a lone surrogate`);
  return s;
}

/** The list of every option `expr` reads, checked: each given, each a list of strings. */
export function optionLists(expr: Expr<ValueType, string>, given: Readonly<Record<string, readonly string[]>> | undefined): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const name of expr.options) {
    const list = given && Object.hasOwn(given, name) ? given[name] : undefined;
    if (!Array.isArray(list)) throw new Error(`custom expression: option ${JSON.stringify(name)} needs a list of strings`);
    out.set(name, list.map((v, i) => checkText(v, `option ${JSON.stringify(name)}[${i}]`)));
  }
  return out;
}

/** The smallest and largest integer a field read as `int` can hold: the range of Kubernetes' int64 (CEL's int). */
export const INT64_MIN = '-9223372036854775808';
export const INT64_MAX = '9223372036854775807';

/**
 * Assigns the compiled names of the quantifier elements in order of appearance (so the output does not depend
 * on how many expressions were built before) and rejects an element used outside its quantifier: an element
 * captured by the callback and read elsewhere has no value there. Names of nested quantifiers differ.
 */
export function elementNames(root: Node, name: (index: number) => string): Map<number, string> {
  const names = new Map<number, string>();
  const visit = (n: Node, scope: ReadonlySet<number>): void => {
    const inScope = (id: number): void => {
      if (!scope.has(id)) throw new Error('custom expression: a list element is used outside the exists/all that gives it');
    };
    switch (n.k) {
      case 'const':
        return;
      case 'field':
      case 'list':
      case 'present':
        if (n.base.kind === 'element') inScope(n.base.id);
        return;
      case 'element':
        return inScope(n.id);
      case 'compare':
        visit(n.left, scope);
        return visit(n.right, scope);
      case 'text':
        visit(n.subject, scope);
        return visit(n.part, scope);
      case 'matches':
      case 'oneOf':
        return visit(n.subject, scope);
      case 'includes':
        visit(n.list, scope);
        return visit(n.value, scope);
      case 'size':
        return visit(n.of, scope);
      case 'quantifier': {
        visit(n.list, scope);
        // A quantifier used twice (a shared sub-expression) keeps its name: each use is its own comprehension.
        if (!names.has(n.id)) names.set(n.id, name(names.size));
        return visit(n.body, new Set([...scope, n.id]));
      }
      case 'and':
      case 'or':
        for (const a of n.args) visit(a, scope);
        return;
      case 'not':
        return visit(n.arg, scope);
    }
  };
  visit(root, new Set());
  return names;
}

/** `node` with every field, list and presence test of the object under review read below `prefix` instead. */
export function rebaseNode(node: Node, prefix: readonly string[]): Node {
  const go = (n: Node): Node => {
    switch (n.k) {
      case 'field':
      case 'list':
      case 'present':
        return n.base.kind === 'root' ? { ...n, path: [...prefix, ...n.path] } : n;
      case 'const':
      case 'element':
        return n;
      case 'compare':
        return { ...n, left: go(n.left), right: go(n.right) };
      case 'text':
        return { ...n, subject: go(n.subject), part: go(n.part) };
      case 'matches':
      case 'oneOf':
        return { ...n, subject: go(n.subject) };
      case 'includes':
        return { ...n, list: go(n.list), value: go(n.value) };
      case 'size':
        return { ...n, of: go(n.of) };
      case 'quantifier':
        return { ...n, list: go(n.list), body: go(n.body) };
      case 'and':
      case 'or':
        return { ...n, args: n.args.map(go) };
      case 'not':
        return { ...n, arg: go(n.arg) };
    }
  };
  return go(node);
}

/** An expression reading the object under review below `prefix` (a workload's pod template: `['spec', 'template']`). */
export function rebase<T extends ValueType, O extends string>(expr: Expr<T, O>, prefix: readonly string[]): Expr<T, O> {
  return Object.freeze({ type: expr.type, node: rebaseNode(expr.node, prefix), options: expr.options });
}

/** Every path the expression reads from the object under review (not from list elements), in order of appearance. */
export function rootPaths(node: Node): (readonly string[])[] {
  const out: (readonly string[])[] = [];
  const visit = (n: Node): void => {
    switch (n.k) {
      case 'field':
      case 'list':
      case 'present':
        if (n.base.kind === 'root') out.push(n.path);
        return;
      case 'const':
      case 'element':
        return;
      case 'compare':
        visit(n.left);
        return visit(n.right);
      case 'text':
        visit(n.subject);
        return visit(n.part);
      case 'matches':
      case 'oneOf':
        return visit(n.subject);
      case 'includes':
        visit(n.list);
        return visit(n.value);
      case 'size':
        return visit(n.of);
      case 'quantifier':
        visit(n.list);
        return visit(n.body);
      case 'and':
      case 'or':
        return n.args.forEach(visit);
      case 'not':
        return visit(n.arg);
    }
  };
  visit(node);
  return out;
}
