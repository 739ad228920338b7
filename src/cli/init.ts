/**
 * `kubeharden init`: a commented policies.config.ts that builds as written, a tsconfig.json that type-checks
 * it (when the project has none), and the policies:* scripts in an existing package.json. Nothing is
 * overwritten without --force.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_KUBERNETES_VERSION } from '../pss/versions.js';
import { today } from '../config/resolve.js';
import { parse, UsageError } from './args.js';
import type { Io } from './io.js';

export const INIT_USAGE = `Usage: kubeharden init [--force] [--name NAME]

Writes, in the working directory:
  policies.config.ts   a commented config (profile, Kubernetes version, exempt namespaces, and one example of
                       each customization: control mode and options, a namespace override, an exception
                       with reason and expiry, a value-scoped allow); it builds as written
  tsconfig.json        only when there is none: type-checks policies.config.ts (npx tsc --noEmit -p .)
and adds the scripts policies:build, policies:check and policies:test to package.json when one exists
(a package.json is never created). Existing files and scripts are kept unless --force is given.

Options:
  --name NAME   the cluster's name (the bundle goes to generated/NAME/); default: cluster
  --force       overwrite policies.config.ts and replace differing scripts (an existing tsconfig.json is
                always kept)
  -h, --help    this text`;

export const SCRIPTS: Readonly<Record<string, string>> = {
  'policies:build': 'kubeharden build',
  'policies:check': 'kubeharden build --check',
  'policies:test': 'kubeharden test',
};

/** The date `days` after `from` (YYYY-MM-DD, UTC). */
function addDays(from: string, days: number): string {
  const d = new Date(`${from}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function initConfigText(name: string, expires: string): string {
  return `/**
 * Kubernetes hardening policies (kubeharden). \`npx kubeharden build\` compiles this file into generated/${name}/
 * (Kyverno, Gatekeeper, Pod Security Admission labels, namespace objects, control-plane files and a README);
 * commit both. \`npx kubeharden explain <control-id>\` shows what a control checks and its options;
 * \`npx kubeharden list\` lists every control.
 */
import { defineConfig } from 'kubeharden';

export default defineConfig({
  name: ${JSON.stringify(name)},
  // The starting point: 'pss-baseline', 'pss-restricted', or 'nsa-cisa' (restricted plus the NSA/CISA pod
  // controls beyond the Pod Security Standards: read-only root filesystems, image tags and digests, resource
  // limits, no Secrets in environment variables, …).
  profile: 'pss-restricted',
  // The Kubernetes minor of the cluster: pins the Pod Security Standards version in every policy and label.
  kubernetesVersion: '${DEFAULT_KUBERNETES_VERSION}',
  // enforce (reject), warn (admit with a warning) or audit (record only); a control may default milder.
  defaultMode: 'enforce',
  // No control applies in these namespaces (Pod Security Admission exempts them too).
  exemptNamespaces: ['kube-node-lease', 'kube-public', 'kube-system'],
  controls: {
    // A control's mode: seccomp profiles are reported, not enforced, while they are rolled out.
    'restrict-seccomp': 'audit',
    // A control's options (kubeharden explain restrict-host-ports): host ports 8080-8089 stay allowed.
    'restrict-host-ports': { options: { allowedRanges: [{ min: 8080, max: 8089 }] } },
  },
  namespaces: {
    // A namespace override: applications still being migrated get the baseline level (restricted-only
    // controls are off there; Pod Security Admission audits and warns at restricted).
    'legacy-apps': { pss: 'baseline' },
  },
  // An exception's \`expires\` further ahead than this many days warns when the config is built (default 365).
  exceptionHorizonDays: 365,
  exceptions: [
    // An exception names what it lets through, why, and until when (after \`expires\` the build fails).
    // \`allow\` narrows it to values: the node exporter may bind host port 9100, and nothing else of
    // restrict-host-ports is relaxed for it. \`names\` lists the workload and the Pods its controller creates.
    {
      control: 'restrict-host-ports',
      namespaces: ['monitoring'],
      names: ['node-exporter', 'node-exporter-*'],
      allow: { hostPorts: [9100] },
      reason: 'The node exporter serves host metrics on the node address (example: replace or remove).',
      expires: '${expires}',
    },
  ],
});
`;
}

const TSCONFIG = `{
  // Type-checks policies.config.ts (npx tsc --noEmit -p .). kubeharden loads the config itself, so nothing
  // is emitted; "bundler" resolution reads the package's exports in CommonJS and ES module projects alike.
  "compilerOptions": {
    "target": "ES2022",
    "module": "preserve",
    "moduleResolution": "bundler",
    "strict": true,
    "noEmit": true,
    "types": []
  },
  "include": ["policies.config.ts"]
}
`;

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.kubeharden-${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function initCommand(args: readonly string[], io: Io): number {
  const { values, positionals } = parse({ args: [...args], allowPositionals: true, options: { force: { type: 'boolean' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out(INIT_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`init takes no arguments (it writes into the working directory), got "${positionals[0]}"`);
  const name = values.name ?? 'cluster';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw new UsageError(`--name must be a DNS label (lower-case letters, digits and '-'), got "${name}"`);
  const force = values.force === true;
  const show = (p: string): string => relative(io.cwd, p) || p;

  const configPath = join(io.cwd, 'policies.config.ts');
  const others = ['policies.config.mts', 'policies.config.js', 'policies.config.mjs'].filter((f) => existsSync(join(io.cwd, f)));
  if (!force && (existsSync(configPath) || others.length)) {
    io.err(`kubeharden init: ${existsSync(configPath) ? 'policies.config.ts' : others[0]} already exists; nothing was written (--force overwrites policies.config.ts)`);
    return 2;
  }
  // package.json is read before anything is written: a broken one stops init with nothing changed.
  const pkgPath = join(io.cwd, 'package.json');
  let pkg: { text: string; value: Record<string, unknown> } | undefined;
  if (existsSync(pkgPath)) {
    const text = readFileSync(pkgPath, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      io.err(`kubeharden init: package.json is not valid JSON (${(err as Error).message}); nothing was written`);
      return 2;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      io.err('kubeharden init: package.json is not a JSON object; nothing was written');
      return 2;
    }
    const scripts = (value as Record<string, unknown>)['scripts'];
    if (scripts !== undefined && (typeof scripts !== 'object' || scripts === null || Array.isArray(scripts))) {
      io.err('kubeharden init: package.json "scripts" is not an object; nothing was written');
      return 2;
    }
    pkg = { text, value: value as Record<string, unknown> };
  }

  const written: string[] = [];
  const notes: string[] = [];
  writeAtomic(configPath, initConfigText(name, addDays(today(), 90)));
  written.push(`${show(configPath)} (profile pss-restricted, Kubernetes ${DEFAULT_KUBERNETES_VERSION}, one example of each customization)`);

  const tsconfigPath = join(io.cwd, 'tsconfig.json');
  if (!existsSync(tsconfigPath)) {
    writeAtomic(tsconfigPath, TSCONFIG);
    written.push(`${show(tsconfigPath)} (type-checks policies.config.ts: npx tsc --noEmit -p .)`);
  } else {
    notes.push(`${show(tsconfigPath)} exists and was kept; it type-checks the config when it includes policies.config.ts and resolves "kubeharden" (moduleResolution bundler or nodenext)`);
  }

  if (pkg) {
    const scripts = { ...((pkg.value['scripts'] as Record<string, unknown> | undefined) ?? {}) };
    const added: string[] = [];
    for (const [k, v] of Object.entries(SCRIPTS)) {
      if (scripts[k] === v) continue;
      if (scripts[k] !== undefined && !force) {
        notes.push(`package.json script "${k}" exists ("${String(scripts[k])}") and was kept`);
        continue;
      }
      scripts[k] = v;
      added.push(k);
    }
    if (added.length) {
      const indent = /^[ \t]*(?=")/m.exec(pkg.text.split('\n')[1] ?? '')?.[0] || '  ';
      writeAtomic(pkgPath, `${JSON.stringify({ ...pkg.value, scripts }, null, indent)}\n`);
      written.push(`${show(pkgPath)}: scripts ${added.join(', ')}`);
    }
  } else {
    notes.push('no package.json here, so no scripts were added (npm init, then run kubeharden init --force to add them)');
  }

  const lines = ['kubeharden init: wrote', ...written.map((w) => `  ${w}`)];
  if (notes.length) lines.push('', ...notes.map((n) => `note: ${n}`));
  lines.push(
    '',
    'Next steps:',
    '  1. Edit policies.config.ts (npx kubeharden explain <control-id> shows a control and its options).',
    '  2. npx kubeharden build          writes generated/ (commit it with the config)',
    '  3. npx kubeharden audit <dir>    checks your manifests; for a live cluster:',
    '       kubectl get -A -o yaml pods,deployments,statefulsets,daemonsets,jobs,cronjobs | npx kubeharden exempt - --reason TEXT --expires YYYY-MM-DD',
    '     writes exceptions for what already runs, to fix before they expire',
    '  4. In CI: npx kubeharden build --check && npx kubeharden test',
  );
  io.out(lines.join('\n'));
  return 0;
}
