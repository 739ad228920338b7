/**
 * Pod Security Admission: namespace labels, and the AdmissionConfiguration (written by the control-plane
 * backend). PSA's `enforce` level is the highest level the policies fully enforce in that scope, so PSA
 * never rejects what the config allows (relaxed controls, image exceptions, audit mode); `audit` and `warn`
 * carry the configured level. The levels come from the IR (ir/psa.ts, computed once per cluster).
 */
import type { BundleIR } from '../../ir/types.js';
import { psaLabeled, type PsaLevels } from '../../ir/psa.js';
import { pssVersionLabel } from '../../pss/versions.js';
import type { BackendFile } from '../types.js';

export const PSA_LABEL_PREFIX = 'pod-security.kubernetes.io/';

/**
 * Keeps GitOps tools from pruning or deleting a Namespace they did not create: Argo CD (sync options) and
 * Flux (kustomize-controller) skip objects annotated so.
 */
export const KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/**
 * `psa/namespaces.yaml`: the PSA labels of each namespace the config names, as label-only Namespace objects
 * for server-side apply (`kubectl apply --server-side --field-manager=kubeharden-psa`), which then owns the
 * six labels and nothing else of the Namespace. Never the exempt namespaces (the AdmissionConfiguration
 * exempts them) nor any `kube-*` namespace, and no kustomization: `kubectl delete -k` has nothing to
 * delete, and the annotations keep Argo CD and Flux from pruning or deleting the namespaces.
 */
export function psaBackend(ir: BundleIR): BackendFile[] {
  const version = pssVersionLabel(ir.version);
  const namespaces = [...ir.psa.namespaces]
    .filter(([name]) => psaLabeled(name))
    .map(([name, scope]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: psaLabels(scope.levels, version), annotations: { ...KEEP_ANNOTATIONS } } }));
  return namespaces.length ? [{ path: PSA_NAMESPACES_FILE, objects: namespaces }] : [];
}

export const PSA_NAMESPACES_FILE = 'psa/namespaces.yaml';
/** The field manager that owns the PSA labels (README, rollback). */
export const PSA_FIELD_MANAGER = 'kubeharden-psa';

/**
 * The kube-apiserver `--admission-control-config-file`: PSA defaults for namespaces without labels and the
 * exempt namespaces. Written once, by the control-plane backend (`control-plane/admission-configuration.yaml`).
 */
export function psaAdmissionConfiguration(ir: BundleIR): object {
  const version = pssVersionLabel(ir.version);
  const defaults = ir.psa.defaults.levels;
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: {
            enforce: defaults.enforce,
            'enforce-version': version,
            audit: defaults.audit,
            'audit-version': version,
            warn: defaults.warn,
            'warn-version': version,
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: [...ir.cluster.exemptNamespaces] },
        },
      },
    ],
  };
}

export function psaLabels(levels: PsaLevels, version: string): Record<string, string> {
  return {
    [`${PSA_LABEL_PREFIX}enforce`]: levels.enforce,
    [`${PSA_LABEL_PREFIX}enforce-version`]: version,
    [`${PSA_LABEL_PREFIX}audit`]: levels.audit,
    [`${PSA_LABEL_PREFIX}audit-version`]: version,
    [`${PSA_LABEL_PREFIX}warn`]: levels.warn,
    [`${PSA_LABEL_PREFIX}warn-version`]: version,
  };
}
