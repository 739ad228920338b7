/** Fixtures: manifests the bundle's engine suites check, with the verdict expected per control. */
import { controlIds, getControl, isControlId, type ControlId } from '../../controls/index.js';
import { isRefusedControl } from './custom.js';
import { describe } from '../../controls/options.js';
import { checkableOffline } from '../../controls/types.js';
import type { Diagnostics } from '../../diagnostics.js';
import type { ResolvedFixture } from './types.js';
import { checkKeys, hintFor, isObject, listLayers, type Layer } from './util.js';

/** Fixtures add up across base and cluster entry. */
export function resolveFixtures(d: Diagnostics, layers: readonly Layer[]): ResolvedFixture[] {
  const fixtures: ResolvedFixture[] = [];
  for (const layer of listLayers(d, layers, 'a list')) {
    layer.value.forEach((fx: unknown, i: number) => {
      const path = [...layer.path, i];
      if (!isObject(fx)) return d.error('invalid_value', path, `a fixture must be {file, expect}, got ${describe(fx)}`);
      checkKeys(d, fx, path, ['file', 'expect']);
      if (typeof fx['file'] !== 'string' || fx['file'] === '') return d.error('invalid_value', [...path, 'file'], 'file must be a path relative to the config file');
      const expect = fx['expect'];
      if (expect === 'allow') return void fixtures.push({ file: fx['file'], expect });
      if (!isObject(expect)) return d.error('invalid_value', [...path, 'expect'], `expect must be 'allow' or an object of control id → 'allow' | 'deny', got ${describe(expect)}`);
      const out: Partial<Record<ControlId, 'allow' | 'deny'>> = {};
      for (const [k, val] of Object.entries(expect)) {
        if (isRefusedControl(k)) continue;
        if (!isControlId(k)) d.error('unknown_control', [...path, 'expect', k], `unknown control "${k}"`, hintFor(k, controlIds()));
        else if (val !== 'allow' && val !== 'deny') d.error('invalid_value', [...path, 'expect', k], `expected 'allow' or 'deny', got ${describe(val)}`);
        else if (!checkableOffline(getControl(k))) d.error('not_checkable_offline', [...path, 'expect', k], `${k} needs an image registry to decide, so fixtures cannot test it offline`, 'test it against a cluster (or a registry) instead');
        else out[k] = val;
      }
      fixtures.push({ file: fx['file'], expect: out });
    });
  }
  return fixtures;
}
