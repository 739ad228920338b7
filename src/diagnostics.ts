/** Diagnostics are data: collected by each pass, sorted, capped, and rendered once by the CLI. */

export type Severity = 'error' | 'warning' | 'info';
export type KeyPath = readonly (string | number)[];

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** A few lines of source with a caret under the column. */
  readonly frame?: string;
}

export interface Diagnostic {
  /** Stable snake_case code, e.g. `unknown_control`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** Key path inside the config object, e.g. `['controls', 'restrict-host-ports', 'options']`. */
  readonly path: KeyPath;
  readonly hint?: string;
  /** A string literal the problem is about (a field path of a custom check): located inside the node at `path`. */
  readonly literal?: string;
  readonly loc?: SourceLocation;
}

export const MAX_DIAGNOSTICS = 50;

/** Errors carry a snake_case code and the diagnostics that caused them. */
export class KubehardenError extends Error {
  readonly code: string;
  readonly diagnostics: readonly Diagnostic[];
  constructor(code: string, message: string, diagnostics: readonly Diagnostic[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubehardenError';
    this.code = code;
    this.diagnostics = diagnostics;
  }
}

export class ConfigError extends KubehardenError {
  constructor(diagnostics: readonly Diagnostic[], options?: { cause?: unknown }) {
    super('invalid_config', `${diagnostics.filter((d) => d.severity === 'error').length} problem(s) in the config`, diagnostics, options);
    this.name = 'ConfigError';
  }
}

export class Diagnostics {
  private readonly items: Diagnostic[] = [];
  add(d: Diagnostic): void {
    this.items.push(d);
  }
  error(code: string, path: KeyPath, message: string, hint?: string): void {
    this.items.push(hint ? { code, severity: 'error', message, path, hint } : { code, severity: 'error', message, path });
  }
  warn(code: string, path: KeyPath, message: string, hint?: string): void {
    this.items.push(hint ? { code, severity: 'warning', message, path, hint } : { code, severity: 'warning', message, path });
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
  list(): Diagnostic[] {
    return sortDiagnostics(this.items);
  }
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Sorted by source position when known, then by key path; errors before warnings at the same place. */
export function sortDiagnostics(items: readonly Diagnostic[]): Diagnostic[] {
  return [...items].sort((a, b) => {
    if (a.loc && b.loc) {
      if (a.loc.line !== b.loc.line) return a.loc.line - b.loc.line;
      if (a.loc.column !== b.loc.column) return a.loc.column - b.loc.column;
    }
    const pa = a.path.join('\u0000');
    const pb = b.path.join('\u0000');
    if (pa !== pb) return pa < pb ? -1 : 1;
    if (a.severity !== b.severity) return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity];
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}

/** Edit distance for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = levenshtein(input.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  if (best === undefined) return undefined;
  return bestScore <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

export function formatPath(path: KeyPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}
