/** Type-level tests: the DSL rejects wrong control ids, option types and unknown keys at compile time. */
import { describe, expectTypeOf, it } from 'vitest';
import { defineConfig, type ControlId, type UserConfig } from '../src/index.js';

describe('policies.config.ts types', () => {
  it('accepts a full config', () => {
    const c = defineConfig({
      profile: 'pss-restricted',
      kubernetesVersion: '1.37',
      defaultMode: 'audit',
      exemptNamespaces: ['kube-system'],
      controls: {
        'restrict-host-ports': { mode: 'enforce', options: { allowedRanges: [{ min: 80, max: 80 }] } },
        'restrict-seccomp': { options: { allowedTypes: ['RuntimeDefault'] } },
        'disallow-host-path': false,
        'restrict-sysctls': 'warn',
      },
      namespaces: { legacy: { pss: 'baseline', controls: { 'require-run-as-non-root': false } } },
      exceptions: [{ control: ['restrict-selinux'], images: ['x*'], reason: 'r', expires: '2027-01-01' }],
      fixtures: [{ file: 'f.yaml', expect: { 'restrict-selinux': 'deny' } }],
      clusters: { prod: { kubernetesVersion: '1.36' } },
    });
    expectTypeOf(c).toEqualTypeOf<UserConfig>();
    expectTypeOf<'restrict-host-ports'>().toMatchTypeOf<ControlId>();
  });

  it('types the control-plane settings', () => {
    defineConfig({ controlPlane: { encryption: { provider: 'aescbc', resources: ['secrets', 'configmaps'] } } });
    defineConfig({ controlPlane: { encryption: { provider: 'kms', kmsEndpoint: 'unix:///run/kms.sock' } } });
    // @ts-expect-error not a provider
    defineConfig({ controlPlane: { encryption: { provider: 'secretbox' } } });
    // @ts-expect-error the KMS endpoint is a unix socket address
    defineConfig({ controlPlane: { encryption: { kmsEndpoint: '/run/kms.sock' } } });
    // @ts-expect-error only secrets and configmaps
    defineConfig({ controlPlane: { encryption: { resources: ['pods'] } } });
  });

  it('types the namespace network and resources settings', () => {
    defineConfig({
      network: { defaultDeny: true, allowDns: false, blockCloudMetadata: true },
      resources: { quota: true, limitRange: { max: { cpu: '2', memory: '4Gi' }, defaultRequest: { 'ephemeral-storage': '1Gi' } } },
      namespaces: { batch: { network: { defaultDeny: false }, resources: { quota: { hard: { 'requests.cpu': '16', pods: '200' } }, limitRange: false } } },
      clusters: { prod: { network: { defaultDeny: true }, resources: { quota: false } } },
    });
    // @ts-expect-error defaultDeny is a boolean
    defineConfig({ network: { defaultDeny: 'yes' } });
    // @ts-expect-error misspelt network option
    defineConfig({ network: { allowDNS: true } });
    // @ts-expect-error not a quota resource
    defineConfig({ resources: { quota: { hard: { 'request.cpu': '1' } } } });
    // @ts-expect-error quantities are strings
    defineConfig({ resources: { quota: { hard: { pods: 10 } } } });
    // @ts-expect-error LimitRange amounts are cpu, memory or ephemeral-storage
    defineConfig({ resources: { limitRange: { max: { gpu: '1' } } } });
    // @ts-expect-error unknown key in a namespace's resources
    defineConfig({ namespaces: { a: { resources: { quotas: true } } } });
  });

  it('types the nsa-cisa profile and the options of the controls beyond PSS', () => {
    defineConfig({
      profile: 'nsa-cisa',
      controls: {
        'allowed-registries': { options: { registries: ['registry.example.com/'] } },
        'require-resource-limits-requests': { options: { required: ['requests.memory', 'limits.memory'] } },
        'require-non-root-groups': { options: { requireSet: true } },
        'block-ephemeral-containers': 'audit',
      },
    });
    // @ts-expect-error 'limits.gpu' is not a resource the control knows
    defineConfig({ controls: { 'require-resource-limits-requests': { options: { required: ['limits.gpu'] } } } });
    // @ts-expect-error requireSet is a boolean
    defineConfig({ controls: { 'require-non-root-groups': { options: { requireSet: 'yes' } } } });
    // @ts-expect-error not a profile
    defineConfig({ profile: 'nsa' });
  });

  it('rejects an unknown control id', () => {
    // @ts-expect-error 'restrict-host-port' is not a control id
    defineConfig({ controls: { 'restrict-host-port': true } });
    // @ts-expect-error not a control id in an exception
    defineConfig({ exceptions: [{ control: 'no-such-control', namespaces: ['a'], reason: 'r', expires: '2027-01-01' }] });
  });

  it('rejects wrong option names and types', () => {
    // @ts-expect-error allowedRanges takes {min, max} objects
    defineConfig({ controls: { 'restrict-host-ports': { options: { allowedRanges: [8080] } } } });
    // @ts-expect-error misspelt option
    defineConfig({ controls: { 'restrict-host-ports': { options: { allowedRange: [] } } } });
    // @ts-expect-error 'Unconfined' is not allowed for the restricted seccomp control
    defineConfig({ controls: { 'require-seccomp-profile': { options: { allowedTypes: ['Unconfined'] } } } });
    // @ts-expect-error controls without options take none
    defineConfig({ controls: { 'disallow-host-path': { options: { paths: [] } } } });
  });

  it('rejects unknown keys, modes, versions and profiles', () => {
    // @ts-expect-error unknown top-level key
    defineConfig({ profil: 'pss-baseline' });
    // @ts-expect-error unknown mode
    defineConfig({ defaultMode: 'block' });
    // @ts-expect-error unsupported version
    defineConfig({ kubernetesVersion: '1.24' });
    // @ts-expect-error unknown profile
    defineConfig({ profile: 'nsa' });
    // @ts-expect-error unknown key in a namespace rule
    defineConfig({ namespaces: { a: { level: 'baseline' } } });
    // @ts-expect-error exceptions need an expiry date
    defineConfig({ exceptions: [{ control: 'restrict-selinux', namespaces: ['a'], reason: 'r' }] });
  });
  it('types exception allow per control', () => {
    const base = { namespaces: ['apps'], images: ['registry.example.com/mesh/*'], reason: 'r', expires: '2027-01-01' } as const;
    defineConfig({ exceptions: [{ ...base, control: ['require-drop-all-capabilities', 'restrict-capabilities-baseline'], allow: { capabilities: ['NET_ADMIN'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'disallow-host-namespaces', allow: { hostNamespaces: ['hostPID'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'restrict-volume-types', allow: { volumeTypes: ['nfs'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'restrict-sysctls', allow: { sysctls: ['net.core.somaxconn'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'restrict-host-ports', allow: { hostPorts: [9100, { min: 9200, max: 9201 }] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'disallow-host-path', allow: { hostPaths: ['/var/log', '/var/lib/docker/containers/*'] } }] });
    defineConfig({ exceptions: [{ ...base, control: ['restrict-seccomp', 'require-seccomp-profile'], allow: { seccompTypes: ['Unconfined'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'restrict-apparmor', allow: { appArmorTypes: ['Unconfined'] } }] });
    defineConfig({ exceptions: [{ ...base, control: 'restrict-selinux', allow: { seLinuxTypes: ['spc_t'] } }] });
    defineConfig({ exceptions: [{ ...base, control: ['require-drop-net-raw', 'require-drop-all-capabilities'], allow: { capabilities: ['NET_RAW'] } }] });
    // @ts-expect-error not a seccomp profile type
    defineConfig({ exceptions: [{ ...base, control: 'restrict-seccomp', allow: { seccompTypes: ['unconfined'] } }] });
    // @ts-expect-error host ports are numbers or ranges
    defineConfig({ exceptions: [{ ...base, control: 'restrict-host-ports', allow: { hostPorts: ['9100'] } }] });
    // @ts-expect-error restrict-proc-mount has no sub-checks an exception can allow
    defineConfig({ exceptions: [{ ...base, control: 'restrict-proc-mount', allow: { hostPorts: [9100] } }] });
    // @ts-expect-error restrict-selinux allows SELinux types, not seccomp types
    defineConfig({ exceptions: [{ ...base, control: 'restrict-selinux', allow: { seccompTypes: ['Unconfined'] } }] });
    // @ts-expect-error require-run-as-non-root has no sub-checks an exception can allow
    defineConfig({ exceptions: [{ ...base, control: ['require-drop-all-capabilities', 'require-run-as-non-root'], allow: { capabilities: ['NET_ADMIN'] } }] });
    // @ts-expect-error disallow-host-namespaces allows host namespaces, not capabilities
    defineConfig({ exceptions: [{ ...base, control: 'disallow-host-namespaces', allow: { capabilities: ['NET_ADMIN'] } }] });
    // @ts-expect-error not a host namespace
    defineConfig({ exceptions: [{ ...base, control: 'disallow-host-namespaces', allow: { hostNamespaces: ['hostUsers'] } }] });
  });
});
