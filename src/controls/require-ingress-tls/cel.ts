/** The CEL check of require-ingress-tls (Kyverno validate.cel), with the semantics of gatekeeper.rego.hbs beside it. */
import { listOr, unchanged } from '../../lang/cel/cel.js';
import { NAME } from '../../lang/cel/object.js';
import type { CelCheck } from '../../lang/cel/types.js';

// "*.example.com" covers a host with exactly one more leftmost label ("a.example.com").
const wildcard = (p: string, h: string): string =>
  `(${p}.startsWith('*.') && ${h}.endsWith(${p}.substring(1)) && size(${h}) > size(${p}) - 1 && ` +
  `!${h}.substring(0, size(${h}) - size(${p}) + 1).contains('.'))`;
const covered = (h: string): string =>
  `(variables.catchAll || (${h} != '' && variables.tls.exists(t, ${listOr("t.?hosts.orValue([])")}.exists(p, type(p) == string && (p == ${h} || ${wildcard('p', h)})))))`;

export const check: CelCheck = {
  message: 'Ingresses must configure TLS (spec.tls) for every host they route.',
  variables: [
    { name: 'tls', expression: `${listOr('object.?spec.?tls.orValue([])')}.filter(t, type(t) == map)` },
    // An entry without hosts covers every host, and rules without a host.
    { name: 'catchAll', expression: `variables.tls.exists(t, size(${listOr('t.?hosts.orValue([])')}) == 0)` },
    {
      name: 'ruleHosts',
      expression: `${listOr('object.?spec.?rules.orValue([])')}.filter(r, type(r) == map).map(r, type(r.?host.orValue('')) == string ? r.?host.orValue('') : '')`,
    },
    { name: 'uncovered', expression: `variables.ruleHosts.filter(h, !${covered('h')})` },
    // An UPDATE that leaves spec.rules and spec.tls as they were does not introduce what they lack.
    { name: 'ingressExisting', expression: `${unchanged('?spec.?rules')} && ${unchanged('?spec.?tls')}` },
  ],
  expressions: [
    {
      expression: 'variables.ingressExisting || size(variables.tls) > 0',
      message: 'Ingresses must configure TLS (spec.tls is absent or empty).',
      messageExpression: `'Ingress ' + ${NAME} + ' must configure TLS (spec.tls is absent or empty).'`,
    },
    {
      expression: 'variables.ingressExisting || size(variables.tls) == 0 || size(variables.uncovered) == 0',
      message: 'Ingresses must cover every host with spec.tls.',
      messageExpression:
        `'Ingress ' + ${NAME} + ' must cover every host with spec.tls; not covered: ' + ` +
        `variables.uncovered.map(h, h == '' ? '(rule without host)' : '"' + h + '"').join(', ') + '.'`,
    },
  ],
};
