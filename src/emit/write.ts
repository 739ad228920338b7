/**
 * The one module that writes the bundle: each file atomically (temp + rename), pruning only files that
 * carry kubeharden's generated header and are no longer produced, and the temp files of a writer that was
 * killed mid-write. `check` only compares (and reports such temp files).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, rmdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { HEADER } from './yaml.js';
import { MARKDOWN_HEADER } from '../backends/docs/index.js';
import { JSON_HEADER } from '../backends/report/index.js';

export interface BundleDiff {
  readonly added: readonly string[];
  readonly changed: readonly { path: string; line: number; expected: string; actual: string }[];
  readonly removed: readonly string[];
  /** Temporary files of a write that never finished (`<file>.kubeharden-<pid>.tmp`, the process gone). */
  readonly leftovers: readonly string[];
  readonly unchanged: number;
}

/** The temporary file the bundle writer renames over `path`. */
export function tempPath(path: string, pid = process.pid): string {
  return `${path}.kubeharden-${pid}.tmp`;
}

const TEMP = /\.kubeharden-(\d+)\.tmp$/;

/** Whether a process with this id is running (one we may not signal still counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Temporary files under `root` left by a writer that was killed between write and rename, as posix paths
 * relative to root. A temp file of a process still running (another build writing now) is not one.
 */
export function leftoverTempFiles(root: string): string[] {
  return filesUnder(root, (name) => {
    const m = TEMP.exec(name);
    return m !== null && !isRunning(Number(m[1]));
  });
}

/** Regular files under `root` (sorted, depth first) that `keep` accepts, as posix paths relative to root. */
function filesUnder(root: string, keep: (name: string, path: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && keep(name, p)) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

export function isGenerated(content: string): boolean {
  return content.startsWith(HEADER) || content.startsWith(MARKDOWN_HEADER) || content.startsWith(JSON_HEADER);
}

/** Files under `root` that kubeharden generated (by header), as posix paths relative to root. */
export function generatedFiles(root: string): string[] {
  return filesUnder(
    root,
    (name, p) => (name.endsWith('.yaml') || name.endsWith('.md') || name.endsWith('.json') || name.endsWith('.html')) && isGenerated(readFileSync(p, 'utf8').slice(0, 200)),
  );
}

export function diffBundle(root: string, files: ReadonlyMap<string, string>): BundleDiff {
  const added: string[] = [];
  const changed: { path: string; line: number; expected: string; actual: string }[] = [];
  let unchanged = 0;
  for (const [path, content] of files) {
    const p = join(root, path);
    if (!existsSync(p)) {
      added.push(path);
      continue;
    }
    const actual = readFileSync(p, 'utf8');
    if (actual === content) unchanged++;
    else {
      const a = actual.split('\n');
      const e = content.split('\n');
      let i = 0;
      while (i < Math.max(a.length, e.length) && a[i] === e[i]) i++;
      changed.push({ path, line: i + 1, expected: e[i] ?? '<end of file>', actual: a[i] ?? '<end of file>' });
    }
  }
  const removed = generatedFiles(root).filter((p) => !files.has(p));
  return { added, changed, removed, leftovers: leftoverTempFiles(root), unchanged };
}

export function isClean(d: BundleDiff): boolean {
  return d.added.length === 0 && d.changed.length === 0 && d.removed.length === 0 && d.leftovers.length === 0;
}

/** Writes the bundle; returns what changed. */
export function writeBundle(root: string, files: ReadonlyMap<string, string>): BundleDiff {
  const diff = diffBundle(root, files);
  const changedPaths = new Set([...diff.added, ...diff.changed.map((c) => c.path)]);
  for (const [path, content] of files) {
    if (!changedPaths.has(path)) continue;
    const p = join(root, path);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = tempPath(p);
    writeFileSync(tmp, content);
    renameSync(tmp, p);
  }
  for (const path of diff.leftovers) rmSync(join(root, path), { force: true });
  for (const path of diff.removed) {
    const p = join(root, path);
    rmSync(p, { force: true });
    removeEmptyDirs(dirname(p), root);
  }
  return diff;
}

function removeEmptyDirs(dir: string, root: string): void {
  let cur = dir;
  while (cur.startsWith(root) && cur !== root) {
    try {
      if (readdirSync(cur).length) return;
      rmdirSync(cur);
    } catch {
      return;
    }
    cur = dirname(cur);
  }
}

export function formatDiff(d: BundleDiff, root: string): string {
  const lines: string[] = [];
  for (const p of d.added) lines.push(`  missing   ${join(root, p)}`);
  for (const c of d.changed) {
    lines.push(`  stale     ${join(root, c.path)}:${c.line}`);
    lines.push(`              committed: ${truncate(c.actual)}`);
    lines.push(`              expected:  ${truncate(c.expected)}`);
  }
  for (const p of d.removed) lines.push(`  orphaned  ${join(root, p)} (no longer generated)`);
  for (const p of d.leftovers) lines.push(`  leftover  ${join(root, p)} (temporary file of an interrupted build; \`kubeharden build\` removes it)`);
  return lines.join('\n');
}

function truncate(s: string): string {
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}
