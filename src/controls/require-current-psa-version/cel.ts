/** The CEL check of require-current-psa-version (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { unchanged } from '../../lang/cel/cel.js';
import { LABELS } from '../../lang/cel/object.js';
import type { CelCheck } from '../../lang/cel/types.js';

const VERSION = "'pod-security.kubernetes.io/enforce-version'";

export const check: CelCheck = {
  message: 'pod-security.kubernetes.io/enforce-version must be "latest" or not older than the target version.',
  variables: [
    LABELS,
    // A namespace whose level is privileged runs no checks, at any version.
    { name: 'nsChecked', expression: "variables.level[0] != 'privileged'" },
    { name: 'nsVersion', expression: `type(variables.nsLabels) == map && ${VERSION} in variables.nsLabels ? variables.nsLabels[${VERSION}] : dyn(null)` },
    // On an UPDATE a finding counts only when the update changes the label (lib.rego.hbs `unchanged`).
    { name: 'nsVersionChanged', expression: `!${unchanged(`?metadata.?labels[?${VERSION}]`)}` },
  ],
  expressions: [
    {
      // v1.N as Pod Security Admission reads it (no leading zeros), N at least the target minor.
      expression:
        "!variables.nsChecked || !variables.nsVersionChanged || variables.nsVersion == null || variables.nsVersion == 'latest' || (type(variables.nsVersion) == string && variables.nsVersion.matches('^v1\\\\.(0|[1-9][0-9]*)$') && int(variables.nsVersion.substring(3)) >= int(variables.minVersion[0].substring(3)))",
      message: 'pod-security.kubernetes.io/enforce-version must be "latest" or not older than the target version.',
      messageExpression: "'pod-security.kubernetes.io/enforce-version must be \"latest\" or at least ' + variables.minVersion[0] + ', not ' + string(variables.nsVersion)",
    },
  ],
};
