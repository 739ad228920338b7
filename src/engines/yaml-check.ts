/**
 * The Kubernetes YAML oracle: a small Go program (`src/engines/yaml/`) that reads YAML streams exactly as
 * kubectl does (k8s.io/apimachinery's YAMLOrJSONDecoder, sigs.k8s.io/yaml, go-yaml v2) and prints the
 * JSON of every document. The tests compare kubeharden's manifest reader and its YAML writer against it.
 */
import { EngineError, capture, type Logger } from './index.js';
import { ensureGoHelper, type GoHelper } from './go-helper.js';

export const YAML_CHECK: GoHelper = {
  name: 'yaml-check',
  dir: 'yaml',
  envVar: 'KUBEHARDEN_YAML_CHECK',
  describe: (goMod) => {
    const v = (m: string): string => new RegExp(`${m.replace(/[.]/g, '\\.')}\\s+(v\\S+)`).exec(goMod)?.[1] ?? 'unknown';
    return `sigs.k8s.io/yaml ${v('sigs.k8s.io/yaml')}, go-yaml ${v('go.yaml.in/yaml/v2')}, k8s.io/apimachinery ${v('k8s.io/apimachinery')}`;
  },
};

/** One document as kubectl reads it: its JSON text, or the error that stops the stream. */
export type KubectlDocument = { readonly json: unknown } | { readonly error: string };

export function ensureYamlChecker(log?: Logger): Promise<string> {
  return ensureGoHelper(YAML_CHECK, log);
}

/** Decodes every stream (id → text) with kubectl's reader, in one process run. */
export async function kubectlDecode(streams: ReadonlyMap<string, string>, options: { log?: Logger; checker?: string } = {}): Promise<Map<string, KubectlDocument[]>> {
  const out = new Map<string, KubectlDocument[]>();
  if (streams.size === 0) return out;
  const bin = options.checker ?? (await ensureYamlChecker(options.log));
  const input = [...streams].map(([id, text]) => JSON.stringify({ id, text })).join('\n') + '\n';
  const { stdout, stderr, code } = await capture(bin, [], { input });
  if (code !== 0) throw new EngineError('yaml_check_failed', `${bin} exited with code ${code}:\n${stderr.trim()}`);
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { id: string; docs: { json?: unknown; error?: string }[] };
    out.set(
      r.id,
      r.docs.map((d) => (typeof d.error === 'string' ? { error: d.error } : { json: d.json ?? null })),
    );
  }
  for (const id of streams.keys()) if (!out.has(id)) throw new EngineError('yaml_check_failed', `${bin} gave no result for ${id}`);
  return out;
}
