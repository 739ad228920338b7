/** What every backend returns: files in memory, relative to the cluster's output folder. */

/** Kubernetes objects, serialized by emit/yaml.ts into one YAML stream. */
export interface ObjectsFile {
  readonly path: string;
  readonly objects: readonly object[];
}

/** Text (Markdown), written as is. */
export interface TextFile {
  readonly path: string;
  readonly text: string;
}

export type BackendFile = ObjectsFile | TextFile;

/**
 * A control an engine cannot express, with the reason. No emitter returns one yet; the control would get no
 * policy file, and the bundle README would list the engine's generic gap (compile.ts engineSupport), not
 * this reason.
 */
export interface Unsupported {
  readonly unsupported: string;
}

export function unsupported(why: string): Unsupported {
  return { unsupported: why };
}

export function isUnsupported(x: unknown): x is Unsupported {
  return typeof x === 'object' && x !== null && 'unsupported' in x;
}
