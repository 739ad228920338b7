/**
 * Typed field paths (src/custom/paths.ts): a check written through `fieldsOf` compiles to the same Rego and
 * CEL as the one written with the untyped functions, `fieldsOf` refuses what is not a kind custom controls
 * match, and src/custom/k8s-types.ts is what its generator writes from the Kubernetes schemas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  all, and, bool, eq, exists, gt, includes, int, list, not, oneOf, option, present, str, strings, toCel, toRego, type Expr,
} from '../src/custom/expr.js';
import { defineControl } from '../src/custom/control.js';
import { fieldsOf } from '../src/custom/paths.js';
import { goModDownload } from '../src/engines/go-helper.js';

const options = { classes: ['internal'], registries: ['registry.example.com/'] };

/** The same checks, typed and untyped. */
function checks(): [string, Expr<'bool', string>, Expr<'bool', string>][] {
  const ingress = fieldsOf('Ingress');
  const pod = fieldsOf({ workloads: true });
  const either = fieldsOf({ kinds: ['Service', 'Ingress'] });
  return [
    ['string field and option', oneOf(ingress.str('spec.ingressClassName', ''), option('classes')), oneOf(str('spec.ingressClassName', ''), option('classes'))],
    ['map key, dotted and as names', and(eq(ingress.str('metadata.labels.team', 'x'), 'a'), eq(ingress.str(['metadata', 'annotations', 'kubernetes.io/ingress.class'], ''), 'b')), and(eq(str('metadata.labels.team', 'x'), 'a'), eq(str(['metadata', 'annotations', 'kubernetes.io/ingress.class'], ''), 'b'))],
    ['nested quantifiers over typed elements', all(ingress.list('spec.rules'), (r) => exists(r.list('http.paths'), (p) => eq(p.str('backend.service.name', ''), 'web'))), all(list('spec.rules'), (r) => exists(r.list('http.paths'), (p) => eq(p.str('backend.service.name', ''), 'web')))],
    [
      'pod template fields',
      and(not(pod.bool('spec.hostNetwork', false)), all(pod.list('spec.containers'), (c) => and(oneOf(c.str('image', ''), option('registries')), gt(c.int('securityContext.runAsUser', 1), 0), includes(c.strings('securityContext.capabilities.drop'), 'ALL')))),
      and(not(bool('spec.hostNetwork', false)), all(list('spec.containers'), (c) => and(oneOf(c.str('image', ''), option('registries')), gt(c.int('securityContext.runAsUser', 1), 0), includes(c.strings('securityContext.capabilities.drop'), 'ALL')))),
    ],
    ['present and int-or-string', and(either.present('spec.ports', 'list'), exists(either.list('spec.ports'), (p) => eq(p.int('targetPort', 0), 80))), and(present('spec.ports', 'list'), exists(list('spec.ports'), (p) => eq(p.int('targetPort', 0), 80)))],
    ['strings', includes(fieldsOf('Deployment').strings('metadata.finalizers'), 'x'), includes(strings('metadata.finalizers'), 'x')],
    ['int', gt(fieldsOf('Deployment').int('spec.replicas', 1), 1), gt(int('spec.replicas', 1), 1)],
  ];
}

describe('typed field paths', () => {
  it.each(checks())('compile as the untyped check: %s', (_, typed, untyped) => {
    expect(toRego(typed, { input: 'obj', options })).toBe(toRego(untyped, { input: 'obj', options }));
    expect(toCel(typed, { options })).toBe(toCel(untyped, { options }));
  });

  it('builds the same expression tree', () => {
    const typed = fieldsOf('Ingress').str('spec.ingressClassName', '');
    expect(typed).toEqual(str('spec.ingressClassName', ''));
    expect(fieldsOf('Pod').present('spec.containers', 'list')).toEqual(present('spec.containers', 'list'));
  });

  it('gives a control the same policies', () => {
    const control = (check: Expr<'bool', 'classes'>) =>
      defineControl({
        id: 'restrict-ingress-class', title: 'Restrict Ingress classes', description: 'Ingress classes.', severity: 'medium',
        match: { kinds: ['Ingress'] },
        options: { classes: { description: 'Classes.', default: ['internal'] } },
        message: 'Ingresses must set an allowed class.',
        check,
        samples: [
          { name: 'ok', expect: 'allow', object: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ok' }, spec: { ingressClassName: 'internal' } } },
          { name: 'bad', expect: 'deny', object: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'bad' } } },
        ],
      });
    const typed = control(oneOf(fieldsOf({ kinds: ['Ingress'] }).str('spec.ingressClassName', ''), option('classes')));
    const untyped = control(oneOf(str('spec.ingressClassName', ''), option('classes')));
    expect(typed.problem).toBeUndefined();
    expect(typed.details).toBe(untyped.details);
    expect(JSON.stringify(typed.engines.kyverno)).toBe(JSON.stringify(untyped.engines.kyverno));
  });

  it('refuses what is not a kind custom controls match', () => {
    expect(() => (fieldsOf as (k: string) => unknown)('Node')).toThrow(/"Node" is not one of Pod, Service/);
    expect(() => (fieldsOf as () => unknown)()).toThrow(/fieldsOf takes kinds/);
    expect(() => (fieldsOf as (m: unknown) => unknown)({ kinds: [] })).toThrow(/fieldsOf takes kinds/);
    expect(() => fieldsOf({ workloads: true })).not.toThrow();
  });

  it('src/custom/k8s-types.ts is what its generator writes', async () => {
    const script = new URL('../src/custom/k8s-types.generate.mjs', import.meta.url).href;
    const { generate, RELEASE } = (await import(script)) as { generate: (specDir: string) => string; RELEASE: string };
    const specDir = join(goModDownload('k8s.io/kubernetes', RELEASE).dir, 'api', 'openapi-spec', 'v3');
    const committed = readFileSync(fileURLToPath(new URL('../src/custom/k8s-types.ts', import.meta.url)), 'utf8');
    expect(generate(specDir) === committed, 'src/custom/k8s-types.ts is stale: run node src/custom/k8s-types.generate.mjs').toBe(true);
  });
});
