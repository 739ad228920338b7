// Installs (or finds) what the tests run before any test starts: the pinned engines, the control plane
// (kube-apiserver + etcd), and Debian's
// Chromium for the report.html test. Something missing is a failure, not a skip: this throws when it
// cannot be installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureControlPlane } from '../../src/engines/control-plane.js';
import { ensureEngine } from '../../src/engines/index.js';
import { ensureVapChecker } from '../../src/engines/vap.js';
import { GATEKEEPER_MANAGER, KYVERNO_ADMISSION, ensureWebhookEngine } from '../../src/engines/webhooks.js';

export default async function setup(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  for (const engine of ['opa', 'gator', 'kyverno'] as const) await ensureEngine(engine, log);
  // The ValidatingAdmissionPolicy oracle for test/vap-oracle.test.ts and test/vap.test.ts (about 40 s cold with modules downloaded).
  await ensureVapChecker(log);
  // kube-apiserver and etcd for test/apiserver.test.ts (about 6 minutes cold, cached after).
  await ensureControlPlane(log);
  await ensureWebhookEngine(GATEKEEPER_MANAGER, log);
  await ensureWebhookEngine(KYVERNO_ADMISSION, log);
  ensureChromium(log);
}

/** /usr/bin/chromium (or $KUBEHARDEN_CHROMIUM); installed with apt-get when missing and running as root. */
function ensureChromium(log: (line: string) => void): void {
  const path = process.env['KUBEHARDEN_CHROMIUM'] ?? '/usr/bin/chromium';
  if (existsSync(path)) return;
  const root = process.getuid?.() === 0;
  if (process.env['KUBEHARDEN_CHROMIUM'] || !root || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`${path} is missing: the report.html test needs headless Chromium. Install Debian's chromium package (apt-get install -y chromium) or set KUBEHARDEN_CHROMIUM to a Chromium binary.`);
  }
  log('kubeharden tests: installing Debian chromium for the report.html test (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); install chromium yourself or set KUBEHARDEN_CHROMIUM`);
  }
  if (!existsSync(path)) throw new Error(`apt-get installed chromium but ${path} is still missing`);
}
