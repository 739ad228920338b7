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
