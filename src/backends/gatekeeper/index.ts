/** The Gatekeeper backend: IR → ConstraintTemplates, Constraints, ExpansionTemplates, kustomization. */
import type { BundleIR } from '../../ir/types.js';
import type { BackendFile } from '../types.js';
import { constraint, constraintTemplate, expansionTemplates, type TemplateEngines } from './emitters.js';
import { PACKAGE_VERSION } from '../../version.js';
import { getControl } from '../../controls/index.js';
import { implementedBy } from '../../controls/types.js';

export function gatekeeperBackend(ir: BundleIR): BackendFile[] {
  const files: BackendFile[] = [];
  for (const c of ir.controls) {
    // A control Gatekeeper cannot express gets no files (the README and the report state why).
    if (!implementedBy(getControl(c.control), 'gatekeeper')) continue;
    files.push({ path: `gatekeeper/templates/${c.control}.yaml`, objects: [constraintTemplate(c.control, ir.cluster.regoVersion, PACKAGE_VERSION, templateEngines(ir))] });
    files.push({ path: `gatekeeper/constraints/${c.control}.yaml`, objects: c.instances.map((i) => constraint(c.control, i)) });
  }
  files.push({ path: 'gatekeeper/expansion.yaml', objects: expansionTemplates() });
  files.push(kustomization(files.map((f) => f.path.slice('gatekeeper/'.length))));
  return files;
}

/** Templates must exist before their constraints; kustomize keeps list order for custom resources. */
function kustomization(paths: string[]): BackendFile {
  const templates = paths.filter((p) => p.startsWith('templates/')).sort();
  const rest = paths.filter((p) => !p.startsWith('templates/')).sort();
  return {
    path: 'gatekeeper/kustomization.yaml',
    objects: [{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...templates, ...rest] }],
  };
}

/** The engines the cluster's templates carry (config `gatekeeper.engines`, `gatekeeper.generateVAP`). */
export function templateEngines(ir: Pick<BundleIR, 'cluster'>): TemplateEngines {
  return { cel: ir.cluster.gatekeeperEngines.includes('CEL'), generateVAP: ir.cluster.gatekeeperGenerateVAP };
}
