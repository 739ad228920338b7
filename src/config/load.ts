/**
 * Load: find and import policies.config.ts with jiti (TypeScript without a build step). The config's
 * `import … from 'kubeharden'` is aliased to the running package so that both share one module.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubehardenError } from '../diagnostics.js';

export const CONFIG_FILE_NAMES = ['policies.config.ts', 'policies.config.mts', 'policies.config.js', 'policies.config.mjs'] as const;

const PACKAGE_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));

export class ConfigLoadError extends KubehardenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, [], options);
    this.name = 'ConfigLoadError';
  }
}

/** The config path: `--config` if given, else the first policies.config.* in `cwd`. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigLoadError('config_not_found', `config file not found: ${explicit}`);
    return p;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  throw new ConfigLoadError('config_not_found', `no ${CONFIG_FILE_NAMES[0]} in ${cwd}; pass --config <file>, or use \`kubeharden audit --profile <name>\` without a config`);
}

/** Imports the config module and returns its default export. */
export async function loadConfig(file: string): Promise<unknown> {
  const { createJiti } = await import('jiti');
  // Under vitest the sources run as TypeScript; point the alias at whichever entry exists.
  const entry = existsSync(PACKAGE_ENTRY) ? PACKAGE_ENTRY : PACKAGE_ENTRY.replace(/\.js$/, '.ts');
  const jiti = createJiti(import.meta.url, { alias: { kubeharden: entry }, moduleCache: false, interopDefault: true });
  let mod: unknown;
  try {
    mod = await jiti.import(file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigLoadError('config_load_failed', `${file}: could not load the config: ${message}`, { cause: err });
  }
  const value = (mod as { default?: unknown } | undefined)?.default ?? mod;
  if (value === undefined) throw new ConfigLoadError('config_no_default_export', `${file}: the config must \`export default defineConfig({...})\``);
  return value;
}

export function configDir(file: string): string {
  return dirname(file);
}
