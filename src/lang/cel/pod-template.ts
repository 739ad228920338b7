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

const PREFIX: Record<PodTemplateKind, string> = { template: 'spec.template', cronjob: 'spec.jobTemplate.spec.template' };

/** The template kind of a workload controller's pod template path. */
export function podTemplateKindOf(kind: string): PodTemplateKind {
  return kind === 'CronJob' ? 'cronjob' : 'template';
}

const IDENT = /[A-Za-z0-9_]/;
const PATH = /^(object|oldObject)\.(spec|metadata)(?![A-Za-z0-9_])/;

/** `expression` with its pod paths moved into the pod template of `kind` (see the module comment). */
export function rewritePodPaths(expression: string, kind: PodTemplateKind): string {
  const prefix = PREFIX[kind];
  let out = '';
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i]!;
    // String literals ('…', "…", triple-quoted, raw r'…'): copied as they are.
    if (ch === '"' || ch === "'") {
      const end = literalEnd(expression, i);
      out += expression.slice(i, end);
      i = end;
      continue;
    }
    const prev = i > 0 ? expression[i - 1]! : '';
    const m = IDENT.test(prev) || prev === '.' ? null : PATH.exec(expression.slice(i));
    if (m) {
      const [whole, root, field] = m;
      const rest = expression.slice(i + whole.length);
      const protectedNamespace = field === 'metadata' && /^\.namespace(?![A-Za-z0-9_])/.test(rest);
      out += protectedNamespace ? whole : `${root}.${prefix}.${field}`;
      i += whole.length;
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
