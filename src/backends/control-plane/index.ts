/**
 * Control-plane files: what admission cannot enforce (NSA/CISA CFG recommendations). Written to
 * `control-plane/`, paths as named in the NSA catalogue (`ARTIFACT_FILES`).
 */
import type { BundleIR } from '../../ir/types.js';
import { ARTIFACT_FILES } from '../../nsa/catalogue.js';
import { psaAdmissionConfiguration } from '../psa/index.js';
import type { BackendFile } from '../types.js';
import { auditPolicy } from './audit-policy.js';
import { encryptionConfiguration } from './encryption.js';
import { flagsMarkdown } from './flags.js';

export function controlPlaneBackend(ir: BundleIR): BackendFile[] {
  const cluster = ir.cluster;
  return [
    { path: ARTIFACT_FILES['admission-config'], objects: [psaAdmissionConfiguration(ir)] },
    { path: ARTIFACT_FILES['audit-policy'], objects: [auditPolicy()] },
    { path: ARTIFACT_FILES['encryption-config'], objects: [encryptionConfiguration(cluster.controlPlane)] },
    { path: ARTIFACT_FILES.flags, text: flagsMarkdown(cluster) },
  ];
}
