/**
 * CEL checks of the Service, Ingress and ServiceAccount controls (same semantics as their Rego templates).
 * These rules match the objects themselves (no auto-gen), so fields are read with `object.?…` throughout.
 * On an UPDATE they count only what the update introduces, comparing with `oldObject` (lib.rego.hbs `old_obj`).
 */
import type { Emitter } from './emitters.js';
import { IS_UPDATE, listOr, mapOr, oldList, unchanged } from './cel.js';

type Ids =
  | 'disallow-nodeport-services'
  | 'disallow-loadbalancer-services'
  | 'restrict-service-external-ips'
  | 'require-ingress-tls'
  | 'disallow-serviceaccount-token-automount';

/** The object's name as a quoted string, for messages. */
const NAME = `'"' + string(object.?metadata.?name.orValue('')) + '"'`;

export const serviceEmitters: { [K in Ids]: Emitter<K> } = {
  'disallow-nodeport-services': () => ({
    message: 'Services must not be of type NodePort.',
    expressions: [
      {
        // An UPDATE of a Service that was NodePort before with the same ports opens no node port.
        expression: `object.?spec.?type.orValue('') != 'NodePort' || (${IS_UPDATE} && oldObject.?spec.?type.orValue('') == 'NodePort' && ${unchanged('?spec.?ports')})`,
        message: 'Services must not be of type NodePort.',
      },
    ],
  }),

  'disallow-loadbalancer-services': () => ({
    message: 'Services must not be of type LoadBalancer unless they carry an allowed annotation.',
    variables: [
      { name: 'annotations', expression: mapOr('object.?metadata.?annotations.orValue({})') },
      // An UPDATE of a Service that failed before with the same ports (a label, a finalizer, the load
      // balancer's address written to status) does not introduce the load balancer.
      {
        name: 'lbExisting',
        expression:
          `${IS_UPDATE} && oldObject.?spec.?type.orValue('') == 'LoadBalancer' && ${unchanged('?spec.?ports')} && ` +
          `!${mapOr('oldObject.?metadata.?annotations.orValue({})')}.exists(k, type(oldObject.metadata.annotations[k]) == string && (k + "=" + oldObject.metadata.annotations[k]) in variables.allowedAnnotations)`,
      },
    ],
    expressions: [
      {
        // Annotation keys cannot contain "=": joining each pair with "=" matches an entry split at its first "=".
        expression:
          "object.?spec.?type.orValue('') != 'LoadBalancer' || variables.lbExisting || " +
          'variables.annotations.exists(k, type(variables.annotations[k]) == string && (k + "=" + variables.annotations[k]) in variables.allowedAnnotations)',
        message: 'Services must not be of type LoadBalancer unless they carry an allowed annotation.',
        messageExpression: `'Service ' + ${NAME} + ' must not be of type LoadBalancer' + (size(variables.allowedAnnotations) == 0 ? '' : ' without one of the annotations ' + variables.allowedAnnotations.join(', ')) + '.'`,
      },
    ],
  }),

  'restrict-service-external-ips': () => ({
    message: 'Services must not use external IPs that are not allowed.',
    variables: [
      {
        name: 'unlistedIPs',
        // On an UPDATE, only the addresses the Service did not list before.
        expression: `${listOr('object.?spec.?externalIPs.orValue([])')}.filter(ip, !(ip in variables.allowedIPs) && !(ip in ${oldList('?spec.?externalIPs')}))`,
      },
    ],
    expressions: [
      {
        expression: 'size(variables.unlistedIPs) == 0',
        message: 'Services must not use external IPs that are not allowed.',
        messageExpression: `'Service ' + ${NAME} + ' must not use external IPs that are not allowed: ' + variables.unlistedIPs.map(ip, string(ip)).join(', ') + '.'`,
      },
    ],
  }),

  'require-ingress-tls': () => {
    // "*.example.com" covers a host with exactly one more leftmost label ("a.example.com").
    const wildcard = (p: string, h: string): string =>
      `(${p}.startsWith('*.') && ${h}.endsWith(${p}.substring(1)) && size(${h}) > size(${p}) - 1 && ` +
      `!${h}.substring(0, size(${h}) - size(${p}) + 1).contains('.'))`;
    const covered = (h: string): string =>
      `(variables.catchAll || (${h} != '' && variables.tls.exists(t, ${listOr("t.?hosts.orValue([])")}.exists(p, type(p) == string && (p == ${h} || ${wildcard('p', h)})))))`;
    return {
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
  },

  'disallow-serviceaccount-token-automount': () => ({
    message: 'ServiceAccounts must set automountServiceAccountToken to false.',
    expressions: [
      {
        expression:
          "object.?automountServiceAccountToken.orValue(null) == false || (variables.exemptDefault && object.?metadata.?name.orValue('') == 'default') || " +
          // An UPDATE of a ServiceAccount that already mounted its token does not introduce it.
          `(${IS_UPDATE} && oldObject.?automountServiceAccountToken.orValue(null) != false)`,
        message: 'ServiceAccounts must set automountServiceAccountToken to false.',
        messageExpression: `'ServiceAccount ' + ${NAME} + ' must set automountServiceAccountToken to false.'`,
      },
    ],
  }),
};
