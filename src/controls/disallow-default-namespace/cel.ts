/** The CEL check of disallow-default-namespace (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { podCheck } from '../../lang/cel/pod.js';
import type { CelCheck, CelVariable } from '../../lang/cel/types.js';

/**
 * The namespace of the object under review: its own, for workloads too (not the pod template's, which has
 * none); none counts as default. Like POD_METADATA, the text avoids `object.metadata` so autogen leaves it.
 */
const OBJECT_NAMESPACE: CelVariable = {
  name: 'objectNamespace',
  expression: `object.?metadata.?namespace.orValue('') == '' ? 'default' : object.?metadata.?namespace.orValue('')`,
};

export const check: CelCheck = {
  message: 'Pods and workloads must not be created in the default namespace.',
  variables: [OBJECT_NAMESPACE],
  expressions: [podCheck('!(variables.objectNamespace in variables.namespaces)', 'Pods and workloads must not be created in a disallowed namespace.')],
};
