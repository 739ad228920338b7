/**
 * CEL text helpers for the Kyverno backend. User values (parameters, image exemptions) enter CEL only
 * through `celLiteral`, which serializes JSON values into CEL literals; nothing else is spliced into
 * expressions.
 */

export type CelLiteralValue = null | boolean | number | string | readonly CelLiteralValue[] | { readonly [key: string]: CelLiteralValue };

/**
 * A JSON value as a CEL literal: strings (double-quoted, ASCII-only output), integers, booleans, null,
 * lists and maps with string keys. Lists and maps whose members have different CEL types get each member
 * wrapped in `dyn(...)`, because the Kubernetes CEL environment rejects heterogeneous aggregate literals.
 * Throws on values CEL cannot represent exactly here (non-integer or unsafe numbers, lone surrogates,
 * undefined, functions, …).
 */
export function celLiteral(value: CelLiteralValue): string {
  return render(value as unknown, '$');
}

function render(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Error(`celLiteral: ${where} is not a safe integer (${String(value)})`);
      return String(value === 0 ? 0 : value);
    case 'string':
      return celString(value);
    case 'object': {
      if (Array.isArray(value)) {
        const items = value.map((v, i) => render(v, `${where}[${i}]`));
        const kinds = new Set(value.map(signature));
        return `[${(kinds.size > 1 ? items.map((s) => `dyn(${s})`) : items).join(', ')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Error(`celLiteral: ${where} is not a plain object`);
      const entries = Object.entries(value as Record<string, unknown>);
      const kinds = new Set(entries.map(([, v]) => signature(v)));
      const parts = entries.map(([k, v]) => {
        const s = render(v, `${where}.${k}`);
        return `${celString(k)}: ${kinds.size > 1 ? `dyn(${s})` : s}`;
      });
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new Error(`celLiteral: ${where} has unsupported type ${typeof value}`);
  }
}

/** The CEL type a literal gets, deep enough to decide whether an aggregate is homogeneous. */
function signature(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const kinds = new Set(value.map(signature));
    return kinds.size === 1 ? `list(${[...kinds][0]!})` : kinds.size === 0 ? 'list()' : 'list(dyn)';
  }
  if (typeof value === 'object') {
    const kinds = new Set(Object.values(value as Record<string, unknown>).map(signature));
    return kinds.size === 1 ? `map(${[...kinds][0]!})` : kinds.size === 0 ? 'map()' : 'map(dyn)';
  }
  return typeof value === 'number' ? 'int' : typeof value;
}

/**
 * A CEL string literal. Output is printable ASCII: quotes and backslashes are escaped, control and
 * non-ASCII characters become \u / \U escapes. The dot in `object.spec` / `object.metadata` (and the
 * `oldObject` forms) is escaped too, so that Kyverno's autogen, which rewrites those paths textually in
 * the whole rule, can never alter a user-supplied string. Every `{` becomes `\u007b`: Kyverno scans the
 * whole rule for `{{…}}` variables and skips a policy with one it does not know, and it has no escape that
 * CEL reads (`\{{` is no CEL escape), so a user value such as `registry.example.com/{{x}}` must not
 * reach the rule text as `{{`. CEL reads `\u007b` as `{`.
 */
export function celString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Error('celLiteral: string contains a lone surrogate');
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '{') out += '\\u007b';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out.replace(/([oO]bject)\.(spec|metadata)/g, '$1\\u002e$2')}"`;
}

/** `e` when it is a list, else the empty list (absent, null and mistyped values read as empty). */
export function listOr(e: string): string {
  return `(type(${e}) == list ? ${e} : [])`;
}

/** `e` when it is a map, else the empty map. */
export function mapOr(e: string): string {
  return `(type(${e}) == map ? ${e} : {})`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set([
  'as', 'break', 'const', 'continue', 'else', 'false', 'for', 'function', 'if', 'import', 'in', 'let', 'loop',
  'package', 'namespace', 'null', 'return', 'true', 'var', 'void', 'while',
]);

/** True for names usable as CEL variable names (`variables.<name>`). */
export function isCelIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name);
}

/** Names of `variables.<name>` references in a CEL expression. */
export function variableRefs(expression: string): string[] {
  return [...expression.matchAll(/\bvariables\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/**
 * True on an UPDATE that carries the object before it (lib.rego.hbs `old_obj`): non-pod rules then count only
 * what the update introduces. Kyverno passes a null oldObject on CREATE.
 */
export const IS_UPDATE = "(request.operation == 'UPDATE' && oldObject != null && type(oldObject) == map)";

/**
 * The value at optional chain `chain` (e.g. `?spec.?ports`) reads the same in oldObject and object, absent
 * and null alike (lib.rego.hbs `unchanged`); false on CREATE.
 */
export function unchanged(chain: string): string {
  return `(${IS_UPDATE} && oldObject.${chain}.orValue(dyn(null)) == object.${chain}.orValue(dyn(null)))`;
}

/**
 * The list at optional chain `chain` in oldObject (CREATE, absent or mistyped: empty; lib.rego.hbs `old_list`).
 * Read through `dyn(oldObject)`: a policy over several kinds (Role and ClusterRole) reads fields one of them
 * lacks, which a typed oldObject (a ValidatingAdmissionPolicy's type check) would refuse.
 */
export function oldList(chain: string): string {
  return `(${IS_UPDATE} ? ${listOr(`dyn(oldObject).${chain}.orValue([])`)} : [])`;
}
