import { cel, defineControl, rego } from '../types.js';
import { opt } from '../options.js';
import { SERVICE_ACCOUNT, object } from '../kinds.js';
import { check } from './cel.js';

const sa = (name: string, fields: Record<string, unknown> = {}) => object(SERVICE_ACCOUNT, name, fields);
const OFF = { automountServiceAccountToken: false };

export default defineControl({
  id: 'disallow-serviceaccount-token-automount',
  title: 'Disallow token automounting on ServiceAccounts',
  description: 'ServiceAccounts must set automountServiceAccountToken to false.',
  details: `NSA/CISA "protecting Pod service account tokens", the ServiceAccount part. A ServiceAccount must set the
top-level automountServiceAccountToken to exactly false; unset (Kubernetes then mounts the token into every
Pod using the account) or true fails. A Pod's own spec.automountServiceAccountToken wins over its
ServiceAccount's setting, so a Pod can still ask for the token: the Pod control disallow-automount-sa-token
checks that side. Option exemptDefault (default true): ServiceAccounts named "default" are not checked,
because the service account controller creates one in every namespace without the field and re-creates it
when deleted, so denying it would break namespace setup; Pods that use it are covered by
disallow-automount-sa-token. Set exemptDefault to false only where the default accounts get the field at
creation (e.g. from a mutating admission policy); otherwise the controller's CREATE is denied in every new
namespace and Pods without spec.serviceAccountName cannot be created there. Accounts whose workloads
call the Kubernetes API (operators, controllers) need an exception by name or namespace. Checked on CREATE
and UPDATE; an UPDATE of an account that already mounted its token (a label, an image pull secret) passes.`,
  category: 'Pod hardening (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-POD-9'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [SERVICE_ACCOUNT] },
  options: {
    exemptDefault: opt.boolean('Do not check ServiceAccounts named "default" (created by Kubernetes in every namespace). Default: true.'),
  },
  defaults: () => ({ exemptDefault: true }),
  params: { exemptDefault: 'boolean' },
  lower: (o) => ({ exemptDefault: o.exemptDefault }),
  samples: [
    { name: 'disabled', expect: 'allow', object: sa('disabled', OFF) },
    { name: 'unset', expect: 'deny', object: sa('unset') },
    { name: 'enabled', expect: 'deny', object: sa('enabled', { automountServiceAccountToken: true }) },
    { name: 'with-secrets-unset', expect: 'deny', object: sa('with-secrets-unset', { imagePullSecrets: [{ name: 'registry' }] }) },
    // The sample suites rename every object, so the exemption of "default" cannot be a sample here.
    {
      name: 'update-enabling',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: sa('update-enabling', OFF),
      object: sa('update-enabling', { automountServiceAccountToken: true }),
    },
    {
      // Created before the policy: an UPDATE that adds an image pull secret introduces nothing.
      name: 'update-keeps-automount',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: sa('update-keeps-automount'),
      object: sa('update-keeps-automount', { imagePullSecrets: [{ name: 'registry' }] }),
    },
    {
      name: 'update-disabling',
      expect: 'allow',
      operation: 'UPDATE',
      oldObject: sa('update-disabling'),
      object: sa('update-disabling', OFF),
    },
  ],
});
