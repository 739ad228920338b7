/** The CEL check of disallow-cluster-admin-binding (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { celString } from '../../lang/cel/cel.js';
import { OBJECT_KIND, ROLE_KIND, ROLE_NAME, SUBJECTS, kindOf, nameOf, str } from '../../lang/cel/rbac-bindings.js';
import type { CelCheck, CelVariable } from '../../lang/cel/types.js';

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
/** A ServiceAccount subject's namespace: its own, else variables.defaultSaNamespace (possibly ''). */
const saNamespace = (s: string): string =>
  `(${str(`${s}.?namespace.orValue('')`)} != '' ? ${s}.namespace : variables.defaultSaNamespace)`;

/** Each subject as [kind, namespace (ServiceAccounts only; '' when it has none), name]. */
const SUBJECT_PARTS: CelVariable = {
  name: 'subjectParts',
  expression: `variables.subjects.map(s, [${kindOf('s')}, ${kindOf('s')} == 'ServiceAccount' ? ${saNamespace('s')} : '', ${nameOf('s')}])`,
};
/** The subject (parts `x`) as an allowedSubjects entry (gatekeeper.rego.hbs `ref`). */
const ref = (x: string): string =>
  `(${x}[0] == 'ServiceAccount' ? 'ServiceAccount:' + (${x}[1] != '' ? ${x}[1] : '<no namespace>') + ':' + ${x}[2] : ${x}[0] + ':' + ${x}[2])`;
/** A ServiceAccount without a namespace is never allowed. */
const allowed = (x: string): string => `((${x}[0] != 'ServiceAccount' || ${x}[1] != '') && ${ref(x)} in variables.allowedSubjects)`;
/** The subjects that are not allowed, as entries. */
const BAD_SUBJECTS: CelVariable = { name: 'badSubjects', expression: `variables.subjectParts.filter(x, !${allowed('x')}).map(x, ${ref('x')})` };

export const check: CelCheck = {
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
};
