/** Cluster-wide control settings: profile defaults, then the base config's `controls`, then the cluster entry's. */
import { controlIds, getControl, isControlId, type ControlId } from '../../controls/index.js';
import { isRefusedControl } from './custom.js';
import type { Diagnostics, KeyPath } from '../../diagnostics.js';
import type { KubernetesVersion } from '../../pss/versions.js';
import type { Mode, ProfileName } from '../types.js';
import { inProfile } from './profiles.js';
import { applySetting, controlDefaultMode, exampleSetting, missingOptions, requiredHint } from './settings.js';
import type { ControlSettings, OptionValues } from './types.js';
import { hintFor, isObject, objectLayers, type Layer } from './util.js';

export function resolveClusterControls(
  d: Diagnostics,
  layers: readonly Layer[],
  profile: { name: ProfileName } & Layer,
  defaultMode: Mode,
  version: KubernetesVersion,
): Map<ControlId, ControlSettings> {
  const clusterSettings = new Map<ControlId, ControlSettings>();
  for (const id of controlIds()) {
    const c = getControl(id);
    const onByProfile = inProfile(profile.name, id);
    let s: ControlSettings = { enabled: onByProfile, mode: controlDefaultMode(c, defaultMode), options: c.defaults(version) as OptionValues, exemptImages: [], exemptNames: [], allowances: [] };
    let setAt: KeyPath | undefined;
    for (const layer of layers) {
      if (!isObject(layer.value)) continue;
      const setting = layer.value[id];
      if (setting !== undefined) {
        s = applySetting(d, c, s, setting, [...layer.path, id]);
        setAt = [...layer.path, id];
      }
    }
    // Required options (no sane default): a profile leaves the control off until they are given; an
    // explicit setting without them is an error.
    const missing = missingOptions(c, s);
    if (missing.length) {
      if (setAt) d.error('missing_option', setAt, `${id} needs options.${missing.join(', options.')}: ${requiredHint(c, missing)}`, `e.g. ${exampleSetting(c, missing)}`);
      else
        d.warn(
          'missing_option',
          profile.value !== undefined ? profile.path : [...layers[layers.length - 1]!.path],
          `profile ${profile.name} includes ${id}, which stays off until options.${missing.join(', options.')} is set`,
          `add controls: { ${exampleSetting(c, missing)} }`,
        );
      s = { ...s, enabled: false };
    }
    clusterSettings.set(id, s);
  }
  for (const layer of objectLayers(d, layers, 'an object keyed by control id')) {
    for (const key of Object.keys(layer.value)) {
      if (!isControlId(key) && !isRefusedControl(key)) d.error('unknown_control', [...layer.path, key], `unknown control "${key}"`, hintFor(key, controlIds(), 'run `kubeharden list` for all control ids'));
    }
  }
  return clusterSettings;
}
