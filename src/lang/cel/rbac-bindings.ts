/**
 * What the CEL checks of the RoleBinding and ClusterRoleBinding controls share (same semantics as their Rego
 * templates).
 * These rules match the bindings themselves (no auto-gen), so fields are read with `object.?…` throughout;
 * values that are not strings read as '' (Rego: `str`), so no concatenation can fail.
 */
import { listOr, oldList, unchanged } from './cel.js';
import type { CelVariable } from './types.js';

/** `v` when it is a string, else ''. */
export const str = (v: string): string => `(type(${v}) == string ? ${v} : '')`;

export const ROLE_KIND = str("object.?roleRef.?kind.orValue('')");
export const ROLE_NAME = str("object.?roleRef.?name.orValue('')");
export const OBJECT_KIND = str("object.?kind.orValue('')");

/**
 * The binding's subjects that are maps and count: on an UPDATE, those it did not list before with the same
 * roleRef (lib.rego.hbs `new_subjects`).
 */
export const SUBJECTS: CelVariable = {
  name: 'subjects',
  expression: `${listOr("object.?subjects.orValue([])")}.filter(s, type(s) == map && !(${unchanged('?roleRef')} && s in ${oldList('?subjects')}))`,
};

export const kindOf = (s: string): string => str(`${s}.?kind.orValue('')`);
export const nameOf = (s: string): string => str(`${s}.?name.orValue('')`);
