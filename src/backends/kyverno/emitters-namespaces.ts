/**
 * CEL check of enforce-psa-namespace-labels (same semantics as its Rego template). The rule matches
 * Namespace objects themselves, so fields are read with `object.?…`.
 */
import type { Emitter } from './emitters.js';
import type { CelVariable } from './types.js';
import { mapOr } from './cel.js';

type Ids = 'enforce-psa-namespace-labels';

const LABELS: CelVariable = { name: 'nsLabels', expression: "object.?metadata.?labels.orValue({})" };
const RANK: CelVariable = { name: 'levelRank', expression: "{'privileged': 0, 'baseline': 1, 'restricted': 2}" };
const ENFORCE = "'pod-security.kubernetes.io/enforce'";
const OLD_LABELS = "oldObject.?metadata.?labels.orValue({})";
/** The pod-security.kubernetes.io/ label keys of labels `l` (not a map: none). */
const psaLabels = (l: string): string => `${mapOr(l)}.filter(k, type(k) == string && k.startsWith('pod-security.kubernetes.io/'))`;
const VERSION = "'pod-security.kubernetes.io/enforce-version'";

export const namespaceEmitters: { [K in Ids]: Emitter<K> } = {
  'enforce-psa-namespace-labels': () => ({
    message: "A Namespace's pod-security.kubernetes.io/enforce label must not be weaker than the configured level.",
    variables: [
      LABELS,
      RANK,
      { name: 'nsRequired', expression: 'variables.level[0]' },
      // A write through a subresource (namespaces/status, namespaces/finalize) counts only when it changes a
      // pod-security.kubernetes.io/ label: the namespace controller finalizes namespaces whatever their labels.
      {
        name: 'nsUnchangedSubresourceWrite',
        expression:
          `request.subResource != '' && oldObject != null && type(oldObject) == map && ` +
          `${psaLabels('variables.nsLabels')}.all(k, k in ${mapOr(OLD_LABELS)} && ${mapOr(OLD_LABELS)}[k] == variables.nsLabels[k]) && ` +
          `size(${psaLabels(OLD_LABELS)}) == size(${psaLabels('variables.nsLabels')})`,
      },
      { name: 'nsChecked', expression: "variables.nsRequired != 'privileged' && !variables.nsUnchangedSubresourceWrite" },
      { name: 'nsEnforce', expression: `type(variables.nsLabels) == map && ${ENFORCE} in variables.nsLabels ? variables.nsLabels[${ENFORCE}] : null` },
      { name: 'nsVersion', expression: `type(variables.nsLabels) == map && ${VERSION} in variables.nsLabels ? variables.nsLabels[${VERSION}] : null` },
    ],
    expressions: [
      {
        expression: '!variables.nsChecked || variables.nsEnforce == null || (type(variables.nsEnforce) == string && variables.nsEnforce in variables.levelRank)',
        message: 'pod-security.kubernetes.io/enforce must be privileged, baseline or restricted.',
      },
      {
        expression:
          '!variables.nsChecked || variables.nsEnforce == null || !(type(variables.nsEnforce) == string && variables.nsEnforce in variables.levelRank) || variables.levelRank[variables.nsEnforce] >= variables.levelRank[variables.nsRequired]',
        message: 'pod-security.kubernetes.io/enforce must not be below the configured level.',
        messageExpression: "'pod-security.kubernetes.io/enforce is ' + string(variables.nsEnforce) + ', below the configured level ' + variables.nsRequired",
      },
      {
        expression: '!variables.nsChecked || variables.requireLabel != true || variables.nsEnforce != null',
        message: 'The Namespace must carry pod-security.kubernetes.io/enforce.',
      },
      {
        expression:
          "!variables.nsChecked || variables.nsVersion == null || variables.nsVersion == 'latest' || (type(variables.nsVersion) == string && variables.nsVersion.matches('^v1\\\\.(0|[1-9][0-9]*)$') && int(variables.nsVersion.substring(3)) >= int(variables.minVersion[0].substring(3)))",
        message: 'pod-security.kubernetes.io/enforce-version must be "latest" or not older than the target version.',
      },
    ],
  }),
};
