/**
 * Type-level tests: a control definition must say, per engine, what implements it or why nothing can.
 * Leaving an engine out, or declaring for one engine what belongs to the other, is a type error.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { cel, defineControl, imageVerification, NO_OPTIONS, rego, unsupported, type EngineImplementations, type ParamSpecs } from '../src/controls/types.js';
import type { ImageVerificationCheck } from '../src/lang/kyverno.js';

const base = { id: 'x', title: 't', description: 'd.', details: 'd', category: 'c', severity: 'low', nsa: [], ...NO_OPTIONS, samples: [] } as const;
const template = rego(new URL('../src/controls/restrict-sysctls/gatekeeper.rego.hbs', import.meta.url));
const check = cel({ message: 'm.', expressions: [] });

describe('control definition types', () => {
  it('require an implementation or a reason for every engine', () => {
    defineControl({ ...base, engines: { gatekeeper: template, kyverno: check } });
    defineControl({ ...base, engines: { gatekeeper: unsupported('why'), kyverno: unsupported('why') } });
    // @ts-expect-error engines is required
    defineControl({ ...base });
    // @ts-expect-error the Kyverno implementation is missing
    defineControl({ ...base, engines: { gatekeeper: template } });
    // @ts-expect-error the Gatekeeper implementation is missing
    defineControl({ ...base, engines: { kyverno: check } });
    // @ts-expect-error a CEL check is no Gatekeeper implementation
    defineControl({ ...base, engines: { gatekeeper: check, kyverno: check } });
    // @ts-expect-error a Rego template is no Kyverno implementation
    defineControl({ ...base, engines: { gatekeeper: template, kyverno: template } });
  });

  it('type an image-verification check by the control parameters', () => {
    const params = { images: 'strings', failOpen: 'boolean' } as const;
    const verify = imageVerification<typeof params>((p) => {
      expectTypeOf(p.images).toEqualTypeOf<readonly string[]>();
      expectTypeOf(p.failOpen).toEqualTypeOf<boolean>();
      return {} as ImageVerificationCheck;
    });
    expectTypeOf(verify).toMatchTypeOf<EngineImplementations<typeof params>['kyverno']>();
    expectTypeOf(unsupported('x')).toMatchTypeOf<EngineImplementations<ParamSpecs>['gatekeeper']>();
  });
});
