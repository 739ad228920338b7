/** The annotations every Kyverno policy of the bundle carries (ClusterPolicy and the policies.kyverno.io/v1 types). */

export interface PolicyDescription {
  readonly title: string;
  readonly category: string;
  readonly severity: string;
  readonly description: string;
}

export function policyAnnotations(d: PolicyDescription, subject: string, control: string, minVersion: string, kubernetesVersion: string): Record<string, string> {
  return {
    'policies.kyverno.io/title': d.title,
    'policies.kyverno.io/category': d.category,
    'policies.kyverno.io/severity': d.severity,
    'policies.kyverno.io/subject': subject,
    'policies.kyverno.io/description': d.description,
    'policies.kyverno.io/minversion': minVersion,
    'kyverno.io/kubernetes-version': kubernetesVersion,
    'kubeharden.io/control': control,
  };
}
