/**
 * CEL checks of enforce-psa-namespace-labels and require-current-psa-version (same semantics as their Rego
 * templates). The rules match Namespace objects themselves, so fields are read with `object.?…`.
 */
import type { Emitter } from './emitters.js';
import type { CelVariable } from './types.js';
import { unchanged } from './cel.js';

type Ids = 'enforce-psa-namespace-labels' | 'require-current-psa-version';

const LABELS: CelVariable = { name: 'nsLabels', expression: "object.?metadata.?labels.orValue({})" };
const RANK: CelVariable = { name: 'levelRank', expression: "{'privileged': 0, 'baseline': 1, 'restricted': 2}" };
const ENFORCE = "'pod-security.kubernetes.io/enforce'";
const VERSION = "'pod-security.kubernetes.io/enforce-version'";

export const namespaceEmitters: { [K in Ids]: Emitter<K> } = {
  'enforce-psa-namespace-labels': () => ({
    message: "A Namespace's pod-security.kubernetes.io/enforce label must not be weaker than the configured level.",
    variables: [
      LABELS,
      RANK,
      { name: 'nsRequired', expression: 'variables.level[0]' },
      { name: 'nsChecked', expression: "variables.nsRequired != 'privileged'" },
      { name: 'nsEnforce', expression: `type(variables.nsLabels) == map && ${ENFORCE} in variables.nsLabels ? variables.nsLabels[${ENFORCE}] : null` },
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
  }),
  'require-current-psa-version': () => ({
    message: 'pod-security.kubernetes.io/enforce-version must be "latest" or not older than the target version.',
    variables: [
      LABELS,
      // A namespace whose level is privileged runs no checks, at any version.
      { name: 'nsChecked', expression: "variables.level[0] != 'privileged'" },
      { name: 'nsVersion', expression: `type(variables.nsLabels) == map && ${VERSION} in variables.nsLabels ? variables.nsLabels[${VERSION}] : null` },
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
  }),
};
