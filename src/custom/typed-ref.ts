/**
 * The types of typed field access (src/custom/paths.ts `fieldsOf`): the paths a kind's schema has, by the
 * accessor that reads them. Types only, so that the builder (src/custom/expr.ts) can name them.
 */
import type { Expr } from './ast.js';

/** The paths of an object schema, by the accessor that reads them (the shape of src/custom/k8s-types.ts). */
export interface Fields {
  /** Strings (and int-or-string fields). */
  readonly string: string;
  /** Integers (and int-or-string fields). */
  readonly int: string;
  readonly bool: string;
  /** Lists of strings. */
  readonly strings: string;
  /** Lists of anything else than strings or objects (for `present(path, 'list')`). */
  readonly list: string;
  /** Objects and maps (for `present(path, 'object')`). */
  readonly object: string;
  /** Maps of strings: `${map}.${key}` reads a string. */
  readonly map: string;
  /** The maps of strings as lists of names, for keys with dots. */
  readonly mapTuple: readonly string[];
  /** Lists of objects, with the fields of their elements. */
  readonly objects: object;
}

declare const elementFields: unique symbol;

/** A list of objects read through typed paths: `exists` and `all` give its elements the fields `F`. */
export type Elements<F extends Fields> = Expr<'objects'> & { readonly [elementFields]: F };

/** A path reading a string: a string field, or a key of a map of strings (dotted, or as a list of names). */
export type StringPath<F extends Fields> = F['string'] | `${F['map']}.${string}` | readonly [...F['mapTuple'], string];

/** Every path `present` takes. */
export type AnyPath<F extends Fields> = StringPath<F> | F['int'] | F['bool'] | F['strings'] | F['list'] | F['object'] | (keyof F['objects'] & string);

/** The types `present(path, as)` can ask of `P`: those of its field. */
export type PresentAs<F extends Fields, P> =
  | (P extends StringPath<F> ? 'string' : never)
  | (P extends F['int'] ? 'int' : never)
  | (P extends F['bool'] ? 'bool' : never)
  | (P extends F['strings'] | F['list'] | keyof F['objects'] ? 'list' : never)
  | (P extends F['object'] ? 'object' : never);

type ElementsOf<E> = E extends Fields ? Elements<E> : never;

/**
 * The object under review (or a list element in `exists` / `all`) with the paths of `F`: the methods of
 * `ObjectRef`, each taking only the paths of its type.
 */
export interface TypedRef<F extends Fields> {
  /** The string at `path`, or `fallback` when it is absent, null or not a string. */
  str(path: StringPath<F>, fallback: string): Expr<'string'>;
  /** The integer at `path`, or `fallback` when it is absent, null or not an int64 integer. */
  int(path: F['int'], fallback: number): Expr<'int'>;
  /** The boolean at `path`, or `fallback` when it is absent, null or not a boolean. */
  bool(path: F['bool'], fallback: boolean): Expr<'bool'>;
  /** The strings of the list at `path` (other elements skipped; empty when absent or not a list). */
  strings(path: F['strings']): Expr<'strings'>;
  /** The objects of the list at `path` (other elements skipped; empty when absent or not a list), with typed elements. */
  list<P extends keyof F['objects'] & string>(path: P): ElementsOf<F['objects'][P]>;
  /** Whether the field at `path` holds a value of type `as` (one its schema allows). */
  present<P extends AnyPath<F>>(path: P, as: PresentAs<F, P>): Expr<'bool'>;
}
