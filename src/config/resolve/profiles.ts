/** Profiles: which controls a profile turns on. */
import { CONTROL_IDS, getControl, type ControlId } from '../../controls/index.js';
import type { PssLevel } from '../../controls/types.js';
import type { ProfileName } from '../types.js';
import { LEVEL_RANK } from './util.js';

export interface Profile {
  /** The Pod Security Standards level whose checks the profile turns on. */
  readonly level: PssLevel;
  readonly description: string;
  /** Controls beyond PSS the profile turns on. */
  readonly controls: readonly ControlId[];
}

/**
 * The controls beyond PSS a profile turns on, from their metadata: every control with NSA/CISA ids that is
 * no PSS check and not opt-in (`optIn`), in registry order.
 */
const NSA_CISA_CONTROLS: readonly ControlId[] = CONTROL_IDS.filter((id) => {
  const c = getControl(id);
  return c.pss === undefined && c.nsa.length > 0 && c.optIn === undefined;
});

/**
 * Controls with NSA/CISA ids and no PSS check that no profile turns on (`optIn`), in registry order: the
 * nsa-cisa profile's description names them.
 */
const OPT_IN_NSA_CONTROLS: readonly ControlId[] = CONTROL_IDS.filter((id) => {
  const c = getControl(id);
  return c.pss === undefined && c.nsa.length > 0 && c.optIn !== undefined;
});

/** The nsa-cisa profile's description, naming the opt-in controls it leaves out. */
export function nsaCisaDescription(optIn: readonly string[]): string {
  const left = optIn.length ? `all but the opt-in ${optIn.join(', ')}; ` : '';
  return `pss-restricted plus the NSA/CISA controls beyond PSS: pods, Services, Ingresses, RBAC, ServiceAccounts (${left}allowed-registries and verify-image-signatures once their registries and signers are listed).`;
}

export const PROFILES: Record<ProfileName, Profile> = {
  'pss-baseline': { level: 'baseline', description: 'Every Pod Security Standards baseline check.', controls: [] },
  'pss-restricted': { level: 'restricted', description: 'Every Pod Security Standards baseline and restricted check.', controls: [] },
  'nsa-cisa': {
    level: 'restricted',
    description: nsaCisaDescription(OPT_IN_NSA_CONTROLS),
    controls: NSA_CISA_CONTROLS,
  },
};

/** Does a profile turn this control on? */
export function inProfile(profile: ProfileName, id: ControlId): boolean {
  const c = getControl(id);
  // A custom control names its profiles (src/custom/control.ts).
  if (c.custom) return c.custom.profiles.includes(profile);
  const p = PROFILES[profile];
  return c.pss !== undefined ? LEVEL_RANK[c.pss.level] <= LEVEL_RANK[p.level] : p.controls.includes(id);
}
