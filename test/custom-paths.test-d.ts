/**
 * Type-level tests of typed field paths (src/custom/paths.ts): `fieldsOf` takes only the paths of its kind,
 * each through the accessor of its type, and types the elements of its lists in `exists` / `all`; the
 * untyped functions keep taking any path.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { all, eq, exists, gt, includes, oneOf, option, size, str, strings, type Expr, type ObjectRef } from '../src/custom/expr.js';
import { defineControl, type CustomKind } from '../src/custom/control.js';
import { fieldsOf, type Elements, type TypedRef } from '../src/custom/paths.js';
import type { ContainerFields, IngressRuleFields, KindFields, WorkloadFields } from '../src/custom/k8s-types.js';

describe('typed field paths', () => {
  it('covers every kind match.kinds takes', () => {
    expectTypeOf<keyof KindFields>().toEqualTypeOf<CustomKind>();
  });

  it('takes the paths of the kind, each through the accessor of its type', () => {
    const ingress = fieldsOf('Ingress');
    expectTypeOf(ingress.str('spec.ingressClassName', '')).toEqualTypeOf<Expr<'string'>>();
    ingress.str('metadata.name', '');
    ingress.str('metadata.labels.team', '');
    ingress.str(['metadata', 'annotations', 'kubernetes.io/ingress.class'], '');
    ingress.present('spec.tls', 'list');
    ingress.present('spec.defaultBackend', 'object');
    ingress.present('metadata.labels.team', 'string');
    expectTypeOf(ingress.list('spec.rules')).toEqualTypeOf<Elements<IngressRuleFields>>();

    // @ts-expect-error a misspelt path
    ingress.str('spec.ingresClassName', '');
    // @ts-expect-error a string field read as an int
    ingress.int('spec.ingressClassName', 0);
    // @ts-expect-error a string field read as a boolean
    ingress.bool('spec.ingressClassName', false);
    // @ts-expect-error a list of objects read as a list of strings
    ingress.strings('spec.rules');
    // @ts-expect-error a string field read as a list
    ingress.list('spec.ingressClassName');
    // @ts-expect-error a Pod's path on an Ingress
    ingress.list('spec.containers');
    // @ts-expect-error present asks for the type of the field
    ingress.present('spec.ingressClassName', 'int');
    // @ts-expect-error status is left out
    ingress.str('status.loadBalancer.ingress', '');
    // @ts-expect-error a map's key is a string, not a map
    ingress.present('metadata.labels.team', 'object');
  });

  it('reads int-or-string fields both ways and keeps numbers out', () => {
    const deployment = fieldsOf('Deployment');
    deployment.int('spec.strategy.rollingUpdate.maxSurge', 0);
    deployment.str('spec.strategy.rollingUpdate.maxSurge', '');
    deployment.present('spec.strategy.rollingUpdate.maxSurge', 'int');
    deployment.int('spec.template.spec.securityContext.runAsUser', 0);
    deployment.bool('spec.template.spec.hostNetwork', false);
    fieldsOf('CronJob').bool('spec.jobTemplate.spec.template.spec.hostNetwork', false);
    exists(fieldsOf('CronJob').list('spec.jobTemplate.spec.template.spec.containers'), (c) => eq(c.str('image', ''), 'x'));
    // @ts-expect-error a Deployment's pod template is under spec.template
    deployment.bool('spec.hostNetwork', false);
  });

  it('types the elements of lists in exists and all', () => {
    const pod = fieldsOf({ workloads: true });
    expectTypeOf(pod).toEqualTypeOf<TypedRef<WorkloadFields>>();
    pod.bool('spec.hostNetwork', false);
    pod.str('metadata.labels.team', '');
    exists(pod.list('spec.containers'), (c) => {
      expectTypeOf(c).toEqualTypeOf<TypedRef<ContainerFields>>();
      return all(c.list('ports'), (p) => gt(p.int('containerPort', 0), 0));
    });
    all(pod.list('spec.containers'), (c) => eq(c.bool('securityContext.privileged', false), false));
    all(pod.list('spec.containers'), (c) => oneOf(c.str('image', ''), option('images')));
    all(pod.list('spec.initContainers'), (c) => includes(c.strings('securityContext.capabilities.drop'), 'ALL'));
    expectTypeOf(size(pod.list('spec.volumes'))).toEqualTypeOf<Expr<'int'>>();
    // Untyped lists keep untyped elements.
    exists(strings('spec.anything'), (h) => eq(h, 'x'));

    // @ts-expect-error a workloads control reads the template's labels and annotations only
    pod.str('metadata.name', '');
    // @ts-expect-error a misspelt element path
    exists(pod.list('spec.containers'), (c) => eq(c.str('imag', ''), 'x'));
    // @ts-expect-error an element's string field read as an int
    all(pod.list('spec.containers'), (c) => gt(c.int('image', 0), 0));
    // @ts-expect-error a Pod's path inside a container
    all(pod.list('spec.containers'), (c) => eq(c.bool('hostNetwork', false), false));
    // @ts-expect-error a nested element's path
    all(pod.list('spec.containers'), (c) => all(c.list('ports'), (p) => gt(p.int('port', 0), 0)));
  });

  it('takes a control match, and several kinds', () => {
    const match = { kinds: ['Ingress'] } as const;
    const ingress = fieldsOf(match);
    defineControl({
      id: 'x', title: 'x', description: 'x', severity: 'low', message: 'x', samples: [],
      match,
      options: { classes: { description: 'x', default: [] } },
      check: oneOf(ingress.str('spec.ingressClassName', ''), option('classes')),
    });
    const roles = fieldsOf('Role', 'ClusterRole');
    exists(roles.list('rules'), (r) => includes(r.strings('verbs'), '*'));
    roles.present('aggregationRule', 'object');
    const either = fieldsOf('Service', 'Ingress');
    either.str('spec.type', '');
    either.str('spec.ingressClassName', '');
    exists(either.list('spec.rules'), (r) => eq(r.str('host', ''), 'x'));
    // @ts-expect-error a path of neither kind
    either.str('spec.containers', '');
    // @ts-expect-error not a kind custom controls match
    fieldsOf('Node');
    // @ts-expect-error at least one kind
    fieldsOf();
  });

  it('keeps untyped paths compiling', () => {
    str('spec.anything', '');
    exists(fieldsOf('Pod').list('spec.containers') as Expr<'objects'>, (c) => {
      expectTypeOf(c).toEqualTypeOf<ObjectRef>();
      return eq(c.str('whatever', ''), '');
    });
  });
});
