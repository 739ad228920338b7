/**
 * Moves the pod paths of a CEL expression written for a Pod into a workload's pod template, for the targets
 * that have no autogen of their own: ReplicationController under Kyverno's ValidatingPolicy (its autogen
 * knows six controllers, not this one) and native ValidatingAdmissionPolicies (no autogen at all).
 *
 * The rewrite follows the convention of the pod checks (lang/cel/pod.ts): `object.spec` / `object.metadata`
 * (and the `oldObject` forms) mean the pod, `object.?spec` / `object.?metadata` mean the reviewed object
 * itself (a workload's own name, its kind). So, like Kyverno's autogen:
 * - `object.spec` → `object.spec.template.spec`, `object.metadata` → `object.spec.template.metadata`
 *   (CronJob: `object.spec.jobTemplate.spec.template.…`), the same for `oldObject`;
 * - `object.metadata.namespace` stays (a template carries no namespace; the request's is meant);
 * - `object.?spec`, `object.?metadata` and any other optional step stay.
 * Unlike Kyverno's textual rewrite, string literals are never touched and a match must be a whole
 * identifier path (`myobject.spec`, `object.specs` are left alone). Pure.
 */

/** Where the pod template sits: `spec.template` (Deployment, ReplicationController, …) or CronJob's `spec.jobTemplate.spec.template`. */
export type PodTemplateKind = 'template' | 'cronjob';

/** The path of the pod template in a workload controller, per template kind. */
export const POD_TEMPLATE_PATH: Readonly<Record<PodTemplateKind, readonly string[]>> = { template: ['spec', 'template'], cronjob: ['spec', 'jobTemplate', 'spec', 'template'] };

const PREFIX: Record<PodTemplateKind, string> = { template: POD_TEMPLATE_PATH.template.join('.'), cronjob: POD_TEMPLATE_PATH.cronjob.join('.') };

/** The template kind of a workload controller's pod template path. */
export function podTemplateKindOf(kind: string): PodTemplateKind {
  return kind === 'CronJob' ? 'cronjob' : 'template';
}

const IDENT = /[A-Za-z0-9_]/;
const PATH = /^(object|oldObject)\.(spec|metadata)(?![A-Za-z0-9_])/;

/** `expression` with its pod paths moved into the pod template of `kind` (see the module comment). */
export function rewritePodPaths(expression: string, kind: PodTemplateKind): string {
  const prefix = PREFIX[kind];
  return rewriteOutsideLiterals(expression, (rest, prev) => {
    const m = IDENT.test(prev) || prev === '.' ? null : PATH.exec(rest);
    if (!m) return undefined;
    const [whole, root, field] = m;
    const protectedNamespace = field === 'metadata' && /^\.namespace(?![A-Za-z0-9_])/.test(rest.slice(whole.length));
    return [whole.length, protectedNamespace ? whole : `${root}.${prefix}.${field}`];
  });
}

/**
 * `expression` rewritten outside its string literals ('…', "…", triple-quoted, raw r'…', copied as they are):
 * at each position, `at` gets the text from there on and the character before it, and returns how many
 * characters to replace and with what, or undefined to copy one character.
 */
export function rewriteOutsideLiterals(expression: string, at: (rest: string, prev: string) => readonly [number, string] | undefined): string {
  let out = '';
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i]!;
    if (ch === '"' || ch === "'") {
      const end = literalEnd(expression, i);
      out += expression.slice(i, end);
      i = end;
      continue;
    }
    const r = at(expression.slice(i), i > 0 ? expression[i - 1]! : '');
    if (r) {
      out += r[1];
      i += r[0];
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Index just past the string literal starting at `start` (a quote; a raw prefix `r`/`R` is copied as an identifier character). */
export function literalEnd(s: string, start: number): number {
  const q = s[start]!;
  const raw = start > 0 && /[rR]/.test(s[start - 1]!) && (start < 2 || !IDENT.test(s[start - 2]!));
  const triple = s.startsWith(q.repeat(3), start);
  const close = triple ? q.repeat(3) : q;
  let i = start + close.length;
  while (i < s.length) {
    if (!raw && s[i] === '\\') {
      i += 2;
      continue;
    }
    if (s.startsWith(close, i)) return i + close.length;
    if (!triple && s[i] === '\n') break;
    i++;
  }
  throw new Error(`rewritePodPaths: unterminated string literal at ${start}`);
}
