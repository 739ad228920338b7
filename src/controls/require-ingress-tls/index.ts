import { cel, defineControl, NO_OPTIONS, rego } from '../types.js';
import { INGRESS, object } from '../kinds.js';
import { check } from './cel.js';

type Obj = Record<string, unknown>;

const backend = { service: { name: 'web', port: { number: 80 } } };
const rule = (host?: string): Obj => ({
  ...(host === undefined ? {} : { host }),
  http: { paths: [{ path: '/', pathType: 'Prefix', backend }] },
});
/** An Ingress with a rule per host (undefined: a rule without host) and these tls entries (undefined: none). */
const ingress = (name: string, hosts: readonly (string | undefined)[], tls?: readonly Obj[], extra: Obj = {}) =>
  object(INGRESS, name, { spec: { ingressClassName: 'nginx', rules: hosts.map(rule), ...(tls === undefined ? {} : { tls }), ...extra } });
const tls = (...hosts: string[]): Obj => ({ hosts, secretName: 'web-tls' });

export default defineControl({
  id: 'require-ingress-tls',
  title: 'Require TLS on Ingresses',
  description: 'Ingresses must configure TLS (spec.tls) for every host they route.',
  details: `NSA/CISA "encryption": traffic entering the cluster through an Ingress must be encrypted. An Ingress fails
when spec.tls is absent or empty. Otherwise every host of spec.rules[*].host must be covered by a spec.tls
entry: an entry without hosts (hosts absent or empty) covers every host; an entry covers a host it lists
exactly, and a wildcard entry "*.example.com" covers a host with exactly one more leftmost label
("a.example.com", not "a.b.example.com" or "example.com"), as a wildcard certificate does. A rule without a
host (it matches every host) is covered only by an entry without hosts. The message lists the uncovered
hosts. An Ingress with only spec.defaultBackend passes as soon as spec.tls has an entry. Known gaps: the
check is about configuration, not the certificate: the Secret named by secretName is not read (it may be
missing, expired or for other names); hosts are compared exactly (the API accepts only lowercase DNS names
in both places).
spec.tls does not switch plain HTTP off: most controllers then redirect HTTP to HTTPS by default
(ingress-nginx), others need an annotation such as kubernetes.io/ingress.allow-http: "false" (GCE), which
this control does not check. Gateway API routes are not covered. Checked on CREATE and UPDATE; an UPDATE
that leaves spec.rules and spec.tls as they were (annotations, labels, the controller's status write)
passes.`,
  category: 'Services and ingress (NSA/CISA)',
  severity: 'medium',
  nsa: ['NSA-NET-9'],
  engines: { gatekeeper: rego(new URL('./gatekeeper.rego.hbs', import.meta.url)), kyverno: cel(check) },
  target: { kinds: [INGRESS] },
  ...NO_OPTIONS,
  samples: [
    { name: 'no-tls', expect: 'deny', object: ingress('no-tls', ['app.example.com']) },
    { name: 'empty-tls', expect: 'deny', object: ingress('empty-tls', ['app.example.com'], []) },
    { name: 'covered', expect: 'allow', object: ingress('covered', ['app.example.com'], [tls('app.example.com')]) },
    {
      name: 'covered-by-second-entry',
      expect: 'allow',
      object: ingress('covered-by-second-entry', ['app.example.com', 'api.example.com'], [tls('app.example.com'), tls('api.example.com')]),
    },
    { name: 'uncovered-host', expect: 'deny', object: ingress('uncovered-host', ['app.example.com', 'api.example.com'], [tls('app.example.com')]) },
    { name: 'entry-without-hosts', expect: 'allow', object: ingress('entry-without-hosts', ['app.example.com', 'api.example.com'], [{ secretName: 'web-tls' }]) },
    { name: 'entry-with-empty-hosts', expect: 'allow', object: ingress('entry-with-empty-hosts', ['app.example.com'], [{ hosts: [], secretName: 'web-tls' }]) },
    { name: 'wildcard-one-label', expect: 'allow', object: ingress('wildcard-one-label', ['app.example.com', 'api.example.com'], [tls('*.example.com')]) },
    { name: 'wildcard-two-labels', expect: 'deny', object: ingress('wildcard-two-labels', ['a.app.example.com'], [tls('*.example.com')]) },
    { name: 'wildcard-apex', expect: 'deny', object: ingress('wildcard-apex', ['example.com'], [tls('*.example.com')]) },
    { name: 'wildcard-other-domain', expect: 'deny', object: ingress('wildcard-other-domain', ['app.example.org'], [tls('*.example.com')]) },
    { name: 'wildcard-host-rule', expect: 'allow', object: ingress('wildcard-host-rule', ['*.example.com'], [tls('*.example.com')]) },
    { name: 'wildcard-host-rule-uncovered', expect: 'deny', object: ingress('wildcard-host-rule-uncovered', ['*.example.com'], [tls('app.example.com')]) },
    { name: 'catch-all-rule-covered', expect: 'allow', object: ingress('catch-all-rule-covered', [undefined], [{ secretName: 'web-tls' }]) },
    { name: 'catch-all-rule-host-entry', expect: 'deny', object: ingress('catch-all-rule-host-entry', [undefined, 'app.example.com'], [tls('app.example.com')]) },
    {
      name: 'catch-all-rule-wildcard-entry',
      expect: 'deny',
      object: ingress('catch-all-rule-wildcard-entry', [undefined], [tls('*.example.com')]),
    },
    { name: 'default-backend-without-tls', expect: 'deny', object: object(INGRESS, 'default-backend-without-tls', { spec: { defaultBackend: backend } }) },
    {
      name: 'default-backend-with-tls',
      expect: 'allow',
      object: object(INGRESS, 'default-backend-with-tls', { spec: { defaultBackend: backend, tls: [tls('app.example.com')] } }),
    },
    {
      // Created before the policy: an UPDATE of its annotations (or its status) introduces nothing.
      name: 'update-keeps-rules-and-tls',
      expect: 'allow',
      expectWithoutOldObject: 'deny',
      operation: 'UPDATE',
      oldObject: ingress('update-keeps-rules-and-tls', ['app.example.com']),
      object: { ...ingress('update-keeps-rules-and-tls', ['app.example.com']), metadata: { name: 'update-keeps-rules-and-tls', namespace: 'apps', annotations: { 'example.com/owner': 'web' } } },
    },
    {
      name: 'update-adds-uncovered-host',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: ingress('update-adds-uncovered-host', ['app.example.com']),
      object: ingress('update-adds-uncovered-host', ['app.example.com', 'api.example.com']),
    },
    {
      name: 'update-removing-tls',
      expect: 'deny',
      operation: 'UPDATE',
      oldObject: ingress('update-removing-tls', ['app.example.com'], [tls('app.example.com')]),
      object: ingress('update-removing-tls', ['app.example.com']),
    },
  ],
});
