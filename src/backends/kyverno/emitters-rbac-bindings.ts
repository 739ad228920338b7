/**
 * CEL checks of the RoleBinding and ClusterRoleBinding controls (same semantics as their Rego templates).
 * These rules match the bindings themselves (no auto-gen), so fields are read with `object.?…` throughout;
 * values that are not strings read as '' (Rego: `str`), so no concatenation can fail.
 */
import type { Emitter } from './emitters.js';
import { celString, listOr, oldList, unchanged } from './cel.js';
import type { CelVariable } from './types.js';

type Ids = 'disallow-cluster-admin-binding' | 'disallow-anonymous-bindings';

/** `v` when it is a string, else ''. */
const str = (v: string): string => `(type(${v}) == string ? ${v} : '')`;

const ROLE_KIND = str("object.?roleRef.?kind.orValue('')");
const ROLE_NAME = str("object.?roleRef.?name.orValue('')");
const OBJECT_KIND = str("object.?kind.orValue('')");

/**
 * The binding's subjects that are maps and count: on an UPDATE, those it did not list before with the same
 * roleRef (lib.rego.hbs `new_subjects`).
 */
const SUBJECTS: CelVariable = {
  name: 'subjects',
  expression: `${listOr("object.?subjects.orValue([])")}.filter(s, type(s) == map && !(${unchanged('?roleRef')} && s in ${oldList('?subjects')}))`,
};

/**
 * The namespace a ServiceAccount subject without one refers to: the RoleBinding's own (none counts as
 * default, as for disallow-default-namespace); '' in a ClusterRoleBinding, which has none to lend.
 */
const DEFAULT_SA_NAMESPACE: CelVariable = {
  name: 'defaultSaNamespace',
  expression:
    `${OBJECT_KIND} != 'RoleBinding' ? '' : ` +
    `(${str("object.?metadata.?namespace.orValue('')")} == '' ? 'default' : object.metadata.namespace)`,
};

const kindOf = (s: string): string => str(`${s}.?kind.orValue('')`);
const nameOf = (s: string): string => str(`${s}.?name.orValue('')`);
/** A ServiceAccount subject's namespace: its own, else variables.defaultSaNamespace (possibly ''). */
const saNamespace = (s: string): string =>
  `(${str(`${s}.?namespace.orValue('')`)} != '' ? ${s}.namespace : variables.defaultSaNamespace)`;

/** Each subject as [kind, namespace (ServiceAccounts only; '' when it has none), name]. */
const SUBJECT_PARTS: CelVariable = {
  name: 'subjectParts',
  expression: `variables.subjects.map(s, [${kindOf('s')}, ${kindOf('s')} == 'ServiceAccount' ? ${saNamespace('s')} : '', ${nameOf('s')}])`,
};
/** The subject (parts `x`) as an allowedSubjects entry (disallow-cluster-admin-binding.rego.hbs `ref`). */
const ref = (x: string): string =>
  `(${x}[0] == 'ServiceAccount' ? 'ServiceAccount:' + (${x}[1] != '' ? ${x}[1] : '<no namespace>') + ':' + ${x}[2] : ${x}[0] + ':' + ${x}[2])`;
/** A ServiceAccount without a namespace is never allowed. */
const allowed = (x: string): string => `((${x}[0] != 'ServiceAccount' || ${x}[1] != '') && ${ref(x)} in variables.allowedSubjects)`;
/** The subjects that are not allowed, as entries. */
const BAD_SUBJECTS: CelVariable = { name: 'badSubjects', expression: `variables.subjectParts.filter(x, !${allowed('x')}).map(x, ${ref('x')})` };

/** A User or Group subject with one of the anonymous names. */
const anonymous = (s: string): string => `(${kindOf(s)} in ['User', 'Group'] && ${nameOf(s)} in variables.names)`;

export const rbacBindingEmitters: { [K in Ids]: Emitter<K> } = {
  'disallow-cluster-admin-binding': () => ({
    message: 'Bindings must not grant cluster-admin to subjects that are not allowed.',
    variables: [SUBJECTS, DEFAULT_SA_NAMESPACE, SUBJECT_PARTS, BAD_SUBJECTS],
    expressions: [
      {
        expression: `!(${ROLE_KIND} == 'ClusterRole' && ${ROLE_NAME} in variables.roles) || size(variables.badSubjects) == 0`,
        message: 'Bindings must not grant cluster-admin to subjects that are not allowed.',
        messageExpression:
          `${OBJECT_KIND} + ' "' + ${str("object.?metadata.?name.orValue('')")} + '"' + ${celString(' binds ClusterRole "')} + ${ROLE_NAME} + ` +
          `${celString('" to subjects that are not allowed: ')} + variables.badSubjects.map(r, '"' + r + '"').join(', ')`,
      },
    ],
  }),

  'disallow-anonymous-bindings': () => ({
    message: 'Bindings must not grant roles to anonymous or unauthenticated users.',
    variables: [SUBJECTS],
    expressions: [
      {
        expression: `(${ROLE_KIND} == 'ClusterRole' && ${ROLE_NAME} in variables.allowedRoles) || !variables.subjects.exists(s, ${anonymous('s')})`,
        message: 'Bindings must not grant roles to anonymous or unauthenticated users.',
        messageExpression:
          `${OBJECT_KIND} + ' "' + ${str("object.?metadata.?name.orValue('')")} + '" binds ' + ${ROLE_KIND} + ' "' + ${ROLE_NAME} + '" to ' + ` +
          `variables.subjects.filter(s, ${anonymous('s')}).map(s, '"' + ${kindOf('s')} + ':' + ${nameOf('s')} + '"').join(', ')`,
      },
    ],
  }),
};
