/** Profiles: which controls a profile turns on. */
import { getControl, type ControlId } from '../../controls/index.js';
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

/** The NSA/CISA controls beyond PSS (block-ephemeral-containers stays opt-in). */
const NSA_CISA_CONTROLS: readonly ControlId[] = [
  'require-non-root-groups',
  'require-readonly-root-fs',
  'disallow-automount-sa-token',
  'require-drop-net-raw',
  'allowed-registries',
  'disallow-latest-tag',
  'require-image-digest',
  'verify-image-signatures',
  'require-resource-limits-requests',
  'disallow-secrets-in-env-vars',
  'disallow-default-namespace',
  'enforce-psa-namespace-labels',
  'require-current-psa-version',
  'disallow-nodeport-services',
  'disallow-loadbalancer-services',
  'restrict-service-external-ips',
  'require-ingress-tls',
  'disallow-serviceaccount-token-automount',
  'restrict-rbac-wildcards',
  'restrict-rbac-escalation-verbs',
  'restrict-secret-read-roles',
  'disallow-cluster-admin-binding',
  'disallow-anonymous-bindings',
];

export const PROFILES: Record<ProfileName, Profile> = {
  'pss-baseline': { level: 'baseline', description: 'Every Pod Security Standards baseline check.', controls: [] },
  'pss-restricted': { level: 'restricted', description: 'Every Pod Security Standards baseline and restricted check.', controls: [] },
  'nsa-cisa': {
    level: 'restricted',
    description:
      'pss-restricted plus the NSA/CISA controls beyond PSS: pods, Services, Ingresses, RBAC, ServiceAccounts (all but the opt-in block-ephemeral-containers; allowed-registries and verify-image-signatures once their registries and signers are listed).',
    controls: NSA_CISA_CONTROLS,
  },
};

/** Does a profile turn this control on? */
export function inProfile(profile: ProfileName, id: ControlId): boolean {
  const c = getControl(id);
  const p = PROFILES[profile];
  return c.pss !== undefined ? LEVEL_RANK[c.pss.level] <= LEVEL_RANK[p.level] : p.controls.includes(id);
}
