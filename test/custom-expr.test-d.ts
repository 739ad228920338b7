/**
 * Type-level tests: custom check expressions reject ill-typed combinations at compile time (a string
 * operation on an int, a comparison across types, a field without a default, a non-boolean check), and the
 * compilers require exactly the options an expression reads.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  all, and, bool, contains, endsWith, eq, exists, ge, gt, hasLabel, includes, int, label, le, list, lt, matches, ne, not, oneOf, option, or,
  present, size, startsWith, str, strings, toCel, toRego, type Expr, type ObjectRef,
} from '../src/custom/expr.js';

describe('custom expression types', () => {
  it('types fields, comparisons and string operations', () => {
    expectTypeOf(str('spec.ingressClassName', '')).toEqualTypeOf<Expr<'string'>>();
    expectTypeOf(int('spec.replicas', 1)).toEqualTypeOf<Expr<'int'>>();
    expectTypeOf(bool('spec.hostNetwork', false)).toEqualTypeOf<Expr<'bool'>>();
    expectTypeOf(strings('spec.hosts')).toEqualTypeOf<Expr<'strings'>>();
    expectTypeOf(list('spec.containers')).toEqualTypeOf<Expr<'objects'>>();
    expectTypeOf(eq(str('a', ''), 'x')).toEqualTypeOf<Expr<'bool'>>();
    expectTypeOf(size(str('a', ''))).toEqualTypeOf<Expr<'int'>>();
    eq(int('a', 0), int('b', 1));
    eq(bool('a', false), true);
    ne(label('team'), str('spec.team', ''));
    lt(size(list('spec.containers')), 3);
    startsWith(str('a', ''), str('b', ''));

    // @ts-expect-error startsWith needs a string, not an int
    startsWith(int('spec.replicas', 1), 'x');
    // @ts-expect-error endsWith needs a string, not a list
    endsWith(strings('spec.hosts'), 'x');
    // @ts-expect-error contains takes a string part
    contains(str('a', ''), 1);
    // @ts-expect-error matches needs a string
    matches(bool('a', false), 'x');
    // @ts-expect-error a string compared with a number
    eq(str('a', ''), 1);
    // @ts-expect-error an int compared with a string expression
    eq(int('a', 0), str('b', ''));
    // @ts-expect-error a bool compared with a string
    ne(bool('a', false), 'true');
    // @ts-expect-error ordering is for ints only
    lt(str('a', ''), 'b');
    // @ts-expect-error ordering is for ints only
    ge(bool('a', false), true);
    // @ts-expect-error le takes an int
    le(int('a', 0), '1');
    // @ts-expect-error a field needs an explicit default
    str('spec.ingressClassName');
    // @ts-expect-error the default of a string field is a string
    str('spec.ingressClassName', 0);
    // @ts-expect-error the default of an int field is a number
    int('spec.replicas', '1');
    // @ts-expect-error the default of a bool field is a boolean
    bool('spec.hostNetwork', 'false');
    // @ts-expect-error size of an int
    size(int('a', 0));
    // @ts-expect-error no such present type
    present('spec', 'map');
    // @ts-expect-error oneOf needs a string subject
    oneOf(int('a', 0), ['1']);
    // @ts-expect-error includes needs a list of strings
    includes(list('spec.containers'), 'x');
  });

  it('types boolean combinators and quantifiers', () => {
    and(hasLabel('a'), not(eq(label('a'), '')));
    or();
    exists(list('spec.containers'), (c) => {
      expectTypeOf(c).toEqualTypeOf<ObjectRef>();
      return all(c.list('ports'), (p) => gt(p.int('containerPort', 0), 0));
    });
    all(strings('spec.hosts'), (h) => {
      expectTypeOf(h).toEqualTypeOf<Expr<'string'>>();
      return endsWith(h, '.example.com');
    });

    // @ts-expect-error and takes booleans
    and(hasLabel('a'), str('a', ''));
    // @ts-expect-error or takes booleans
    or(int('a', 0));
    // @ts-expect-error not takes a boolean
    not(label('a'));
    // @ts-expect-error the condition of exists is a boolean
    exists(list('spec.containers'), (c) => c.str('name', ''));
    // @ts-expect-error a quantifier ranges over a list
    all(str('a', ''), () => hasLabel('a'));
    // @ts-expect-error an object element has no string operations
    exists(list('spec.containers'), (c) => startsWith(c, 'x'));
    // @ts-expect-error a string element has no fields
    exists(strings('spec.hosts'), (h) => eq(h.str('name', ''), 'x'));
  });

  it('tracks the options an expression reads and requires them when compiling', () => {
    const e = and(oneOf(str('spec.ingressClassName', ''), option('classes')), exists(strings('spec.hosts'), (h) => oneOf(h, option('hosts'))));
    expectTypeOf(e).toEqualTypeOf<Expr<'bool', 'classes' | 'hosts'>>();
    toCel(e, { options: { classes: ['nginx'], hosts: [] } });
    toRego(e, { input: 'obj', options: { classes: ['nginx'], hosts: ['a'] } });
    toCel(hasLabel('a'));
    toRego(hasLabel('a'), { input: 'obj' });

    // @ts-expect-error the options are required
    toCel(e);
    // @ts-expect-error option hosts is missing
    toRego(e, { options: { classes: ['nginx'] } });
    // @ts-expect-error an option is a list of strings
    toCel(e, { options: { classes: 'nginx', hosts: [] } });
    // @ts-expect-error only boolean expressions compile
    toCel(str('a', ''));
    // @ts-expect-error only boolean expressions compile
    toRego(size(list('spec.containers')));
  });
});
