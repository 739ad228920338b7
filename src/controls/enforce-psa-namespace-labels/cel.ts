/** The CEL check of enforce-psa-namespace-labels (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { unchanged } from '../../lang/cel/cel.js';
import { LABELS } from '../../lang/cel/object.js';
import type { CelCheck, CelVariable } from '../../lang/cel/types.js';

const RANK: CelVariable = { name: 'levelRank', expression: "{'privileged': 0, 'baseline': 1, 'restricted': 2}" };
const ENFORCE = "'pod-security.kubernetes.io/enforce'";

export const check: CelCheck = {
  message: "A Namespace's pod-security.kubernetes.io/enforce label must not be weaker than the configured level.",
  variables: [
    LABELS,
    RANK,
    { name: 'nsRequired', expression: 'variables.level[0]' },
    { name: 'nsChecked', expression: "variables.nsRequired != 'privileged'" },
    { name: 'nsEnforce', expression: `type(variables.nsLabels) == map && ${ENFORCE} in variables.nsLabels ? variables.nsLabels[${ENFORCE}] : dyn(null)` },
    // On an UPDATE a finding counts only when the update changes the label it is about (lib.rego.hbs
    // `unchanged`). Kyverno's CEL sees namespaces/status and namespaces/finalize writes with an empty
    // request.subResource, so they are told apart by what they change, as in every engine.
    { name: 'nsEnforceChanged', expression: `!${unchanged(`?metadata.?labels[?${ENFORCE}]`)}` },
  ],
  expressions: [
    {
      expression: '!variables.nsChecked || !variables.nsEnforceChanged || variables.nsEnforce == null || (type(variables.nsEnforce) == string && variables.nsEnforce in variables.levelRank)',
      message: 'pod-security.kubernetes.io/enforce must be privileged, baseline or restricted.',
    },
    {
      expression:
        '!variables.nsChecked || !variables.nsEnforceChanged || variables.nsEnforce == null || !(type(variables.nsEnforce) == string && variables.nsEnforce in variables.levelRank) || variables.levelRank[variables.nsEnforce] >= variables.levelRank[variables.nsRequired]',
      message: 'pod-security.kubernetes.io/enforce must not be below the configured level.',
      messageExpression: "'pod-security.kubernetes.io/enforce is ' + string(variables.nsEnforce) + ', below the configured level ' + variables.nsRequired",
    },
    {
      expression: '!variables.nsChecked || !variables.nsEnforceChanged || variables.requireLabel != true || variables.nsEnforce != null',
      message: 'The Namespace must carry pod-security.kubernetes.io/enforce.',
    },
  ],
};
