/**
 * Audit report writers. Each takes results one at a time, in input order, and writes as it goes, so the
 * table and JSON-lines outputs hold nothing per resource in memory; JSON and SARIF stream their arrays;
 * JUnit holds one source file's test cases at a time. Summaries per control and per namespace are counted
 * on the way.
 */
import type { Action } from '../eval/review.js';
import type { EngineName } from '../eval/engines.js';
import { table } from '../table.js';

export interface Violation {
  readonly control: string;
  readonly action: Action;
  readonly message: string;
  /**
   * `psa`: what Pod Security Admission would do given the namespace's labels; `input`: a finding that needs
   * other objects of the input (a service-account token Secret a Pod mounts), which no admission engine makes.
   */
  readonly engine: EngineName | 'psa' | 'input';
}

export interface ResourceResult {
  readonly source: string;
  readonly index: number;
  /** 1-based line of the document in its source. */
  readonly line: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly verdict: 'deny' | 'allow';
  readonly violations: readonly Violation[];
  /** Findings that an exception or an exempt namespace let through, and which one (absent when none). */
  readonly suppressed?: readonly SuppressedFinding[];
}

export interface SuppressedFinding {
  readonly control: string;
  /** What the control would have done. */
  readonly action: Action;
  readonly message: string;
  /** Which exception (`exceptions[i] (…)`, its place among the cluster's exceptions and its scope) or `exemptNamespaces (NS)`. */
  readonly exception: string;
  readonly reason: string;
  /** The exception's last day; null for an exempt namespace. */
  readonly expires: string | null;
}

export interface InputError {
  readonly source: string;
  readonly index: number;
  readonly line: number;
  readonly message: string;
}

export interface Counts {
  resources: number;
  denied: number;
  warned: number;
  audited: number;
}

export interface Summary extends Counts {
  errors: number;
  /** Per control: resources with a finding of each action. */
  controls: Record<string, { deny: number; warn: number; audit: number }>;
  /** Per namespace (`(cluster)` for cluster-scoped objects): resources and their verdicts. */
  namespaces: Record<string, Counts>;
}

export interface RuleInfo {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly details: string;
  readonly severity: 'low' | 'medium' | 'high';
  readonly nsa: readonly string[];
}

export interface ReportContext {
  /** Enabled controls of the bundle, in display order. */
  readonly rules: readonly RuleInfo[];
  readonly profile: string;
  readonly kubernetesVersion: string;
  readonly cluster: string;
  readonly engines: readonly EngineName[];
  readonly toolVersion: string;
}

export interface Reporter {
  resource(r: ResourceResult): void;
  error(e: InputError): void;
  /** Writes what remains; `summary` is final. */
  finish(summary: Summary): void;
}

export const CLUSTER_SCOPE = '(cluster)';

export class SummaryCounter {
  readonly summary: Summary = { resources: 0, denied: 0, warned: 0, audited: 0, errors: 0, controls: {}, namespaces: {} };

  constructor(rules: readonly RuleInfo[]) {
    for (const r of rules) this.summary.controls[r.id] = { deny: 0, warn: 0, audit: 0 };
  }

  resource(r: ResourceResult): void {
    const s = this.summary;
    const ns = (s.namespaces[r.namespace ?? CLUSTER_SCOPE] ??= { resources: 0, denied: 0, warned: 0, audited: 0 });
    const has = (a: Action): boolean => r.violations.some((v) => v.action === a);
    for (const c of [s, ns]) {
      c.resources++;
      if (r.verdict === 'deny') c.denied++;
      if (has('warn')) c.warned++;
      if (has('audit')) c.audited++;
    }
    const seen = new Set<string>();
    for (const v of r.violations) {
      const key = `${v.control} ${v.action}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (s.controls[v.control] ??= { deny: 0, warn: 0, audit: 0 })[v.action]++;
    }
  }

  error(): void {
    this.summary.errors++;
  }

  /** The summary with namespaces sorted by name. */
  final(): Summary {
    const s = this.summary;
    return { ...s, namespaces: Object.fromEntries(Object.entries(s.namespaces).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  }
}

type Write = (s: string) => void;

/** Writes the items of a JSON array one per line, holding one back to know whether a comma follows. */
function jsonArray(write: Write, indent: string): { push(value: unknown): void; end(): void } {
  let held: string | undefined;
  return {
    push(value) {
      if (held !== undefined) write(`${held},`);
      held = `${indent}${JSON.stringify(value)}`;
    },
    end() {
      if (held !== undefined) write(held);
      held = undefined;
    },
  };
}

function what(r: ResourceResult): string {
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/**
 * The human table: one row per finding as results arrive (columns padded to the widest value seen so
 * far), input errors on stderr, then the per-control and per-namespace summaries.
 */
export function tableReporter(write: Write, writeErr: Write, ctx: ReportContext): Reporter {
  // Columns start wide enough for typical values (every control id of the bundle) and grow when a longer one
  // comes (rows are never held back).
  const widths = [8, 32, Math.max(7, ...ctx.rules.map((r) => r.id.length))];
  let header = false;
  const row = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        if (i < widths.length) widths[i] = Math.max(widths[i]!, c.length);
        return i < widths.length ? c.padEnd(widths[i]!) : c;
      })
      .join('  ')
      .trimEnd();
  return {
    resource(r) {
      if (!r.violations.length && !r.suppressed?.length) return;
      if (!header) {
        write(row(['VERDICT', 'RESOURCE', 'CONTROL', 'MESSAGE (SOURCE)']));
        header = true;
      }
      for (const v of r.violations) {
        // Each row carries its own finding's action (a warn finding stays WARN on a resource denied elsewhere).
        write(row([v.action.toUpperCase(), what(r), v.control, `${ctx.engines.length > 1 ? `[${v.engine}] ` : ''}${v.message} (${r.source}:${r.line})`]));
      }
      // What an exception let through, and which one: reviewed like findings, so they are not forgotten.
      // An exempt namespace lets everything through: one row per resource, not one per finding.
      const byNamespace = (r.suppressed ?? []).filter((x) => x.expires === null);
      if (byNamespace.length) {
        const controls = [...new Set(byNamespace.map((x) => x.control))];
        write(row(['EXCEPTED', what(r), controls.length === 1 ? controls[0]! : `${controls.length} controls`, `${byNamespace[0]!.reason}: ${controls.join(', ')} (${r.source}:${r.line})`]));
      }
      for (const x of r.suppressed ?? []) {
        if (x.expires === null) continue;
        write(row(['EXCEPTED', what(r), x.control, `${x.message} (${r.source}:${r.line}) by ${x.exception}: ${x.reason}, expires ${x.expires}`]));
      }
    },
    error(e) {
      writeErr(`${e.source}${e.line ? `:${e.line}` : ''}: ${e.message}`);
    },
    finish(s) {
      const controls = Object.entries(s.controls).filter(([, c]) => c.deny + c.warn + c.audit > 0);
      if (controls.length) {
        write('');
        write(table(['CONTROL', 'DENY', 'WARN', 'AUDIT'], controls.map(([id, c]) => [id, String(c.deny), String(c.warn), String(c.audit)])));
      }
      const namespaces = Object.entries(s.namespaces);
      if (namespaces.length) {
        write('');
        write(table(['NAMESPACE', 'RESOURCES', 'DENIED', 'WARNED', 'AUDITED'], namespaces.map(([ns, c]) => [ns, String(c.resources), String(c.denied), String(c.warned), String(c.audited)])));
        write('');
      }
      write(`${s.resources} resources: ${s.denied} denied, ${s.warned} warned, ${s.audited} audited, ${s.errors} errors (${ctx.profile}, Kubernetes ${ctx.kubernetesVersion})`);
    },
  };
}

/** One JSON document: `{"resources": [...], "errors": [...], "summary": {...}}`, the arrays streamed. */
export function jsonReporter(write: Write): Reporter {
  const errors: InputError[] = [];
  const items = jsonArray(write, '    ');
  write('{\n  "resources": [');
  return {
    resource(r) {
      items.push(r);
    },
    error(e) {
      errors.push(e);
    },
    finish(s) {
      items.end();
      write(`  ],\n  "errors": ${JSON.stringify(errors)},\n  "summary": ${JSON.stringify(s, null, 2).replace(/\n/g, '\n  ')}\n}`);
    },
  };
}

/** One JSON object per line: `{"resource":…}`, `{"error":…}`, then `{"summary":…}`. */
export function jsonlReporter(write: Write): Reporter {
  return {
    resource: (r) => write(JSON.stringify({ resource: r })),
    error: (e) => write(JSON.stringify({ error: e })),
    finish: (s) => write(JSON.stringify({ summary: s })),
  };
}

const SARIF_LEVEL: Record<Action, 'error' | 'warning' | 'note'> = { deny: 'error', warn: 'warning', audit: 'note' };
const SEVERITY_SCORE: Record<RuleInfo['severity'], string> = { high: '8.0', medium: '5.5', low: '3.0' };

/**
 * SARIF 2.1.0: one run, the bundle's controls as rules, one result per finding located at the file and
 * line of the offending document; input errors are tool execution notifications.
 */
export function sarifReporter(write: Write, ctx: ReportContext): Reporter {
  const ruleIndex = new Map(ctx.rules.map((r, i) => [r.id, i]));
  const rules = ctx.rules.map((r) => ({
    id: r.id,
    name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: r.title },
    fullDescription: { text: r.description },
    help: { text: r.details, markdown: r.details },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['security', 'kubernetes', ...r.nsa], 'security-severity': SEVERITY_SCORE[r.severity] },
  }));
  const errors: InputError[] = [];
  const uri = (source: string): string => (source === '-' ? 'stdin' : source.split('/').map(encodeURIComponent).join('/'));
  const head = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
  };
  write(`{\n  "$schema": ${JSON.stringify(head.$schema)},\n  "version": "2.1.0",\n  "runs": [\n    {\n      "tool": ${JSON.stringify({ driver: { name: 'kubeharden', version: ctx.toolVersion, semanticVersion: ctx.toolVersion, rules } })},\n      "results": [`);
  const results = jsonArray(write, '        ');
  return {
    resource(r) {
      for (const v of r.violations) {
        const idx = ruleIndex.get(v.control);
        const result = {
          ruleId: v.control,
          ...(idx !== undefined ? { ruleIndex: idx } : {}),
          level: SARIF_LEVEL[v.action],
          message: { text: v.message },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: uri(r.source), uriBaseId: 'SRCROOT' }, region: { startLine: Math.max(1, r.line) } },
              logicalLocations: [{ name: r.name, fullyQualifiedName: what(r), kind: 'resource' }],
            },
          ],
          partialFingerprints: { resource: `${what(r)}|${v.control}` },
          properties: { action: v.action, engine: v.engine, kind: r.kind, namespace: r.namespace, index: r.index },
        };
        results.push(result);
      }
      // Findings an exception let through: results with an external suppression, its reason the justification.
      for (const x of r.suppressed ?? []) {
        const idx = ruleIndex.get(x.control);
        results.push({
          ruleId: x.control,
          ...(idx !== undefined ? { ruleIndex: idx } : {}),
          level: SARIF_LEVEL[x.action],
          message: { text: x.message },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: uri(r.source), uriBaseId: 'SRCROOT' }, region: { startLine: Math.max(1, r.line) } },
              logicalLocations: [{ name: r.name, fullyQualifiedName: what(r), kind: 'resource' }],
            },
          ],
          partialFingerprints: { resource: `${what(r)}|${x.control}` },
          suppressions: [{ kind: 'external', status: 'accepted', justification: x.reason, properties: { exception: x.exception, expires: x.expires } }],
          properties: { action: x.action, engine: 'wasm', kind: r.kind, namespace: r.namespace, index: r.index },
        });
      }
    },
    error(e) {
      errors.push(e);
    },
    finish(s) {
      const notifications = errors.map((e) => ({
        level: 'error',
        message: { text: e.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: uri(e.source), uriBaseId: 'SRCROOT' }, ...(e.line > 0 ? { region: { startLine: e.line } } : {}) } }],
      }));
      const invocation = { executionSuccessful: errors.length === 0, toolExecutionNotifications: notifications };
      const props = { profile: ctx.profile, kubernetesVersion: ctx.kubernetesVersion, cluster: ctx.cluster, summary: s };
      results.end();
      write(`      ],\n      "invocations": [${JSON.stringify(invocation)}],\n      "properties": ${JSON.stringify(props)}\n    }\n  ]\n}`);
    },
  };
}

/**
 * JUnit XML, readable by common CI servers: one testsuite per source file, one testcase per resource ×
 * enabled control. A deny is a failure; warn/audit findings pass and are listed in system-out; input errors
 * are error testcases. The totals head the document, so it is written at the end.
 */
export function junitReporter(write: Write, ctx: ReportContext): Reporter {
  const controls = ctx.rules.map((r) => r.id);
  const suites = new Map<string, { cases: string[]; failures: number; errors: number }>();
  const suite = (s: string): { cases: string[]; failures: number; errors: number } => {
    let x = suites.get(s);
    if (!x) suites.set(s, (x = { cases: [], failures: 0, errors: 0 }));
    return x;
  };
  return {
    resource(r) {
      const s = suite(r.source);
      for (const control of controls) {
        const vs = r.violations.filter((v) => v.control === control);
        const denied = vs.filter((v) => v.action === 'deny');
        const head = `    <testcase classname="${esc(`${r.source}#${r.index}`)}" name="${esc(`${what(r)} ${control}`)}">`;
        if (denied.length) {
          s.failures++;
          s.cases.push(`${head}\n      <failure message="${esc(denied[0]!.message)}" type="deny">${esc(denied.map((v) => v.message).join('\n'))}</failure>\n    </testcase>`);
        } else if (vs.length) s.cases.push(`${head}\n      <system-out>${esc(vs.map((v) => `${v.action}: ${v.message}`).join('\n'))}</system-out>\n    </testcase>`);
        else s.cases.push(`${head}</testcase>`);
      }
    },
    error(e) {
      const s = suite(e.source);
      s.errors++;
      s.cases.push(`    <testcase classname="${esc(`${e.source}#${e.index}`)}" name="${esc(`document at line ${e.line}`)}">\n      <error message="${esc(e.message)}" type="input"/>\n    </testcase>`);
    },
    finish() {
      const all = [...suites.values()];
      const sum = (f: (x: { cases: string[]; failures: number; errors: number }) => number): number => all.reduce((n, x) => n + f(x), 0);
      write(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubeharden audit" tests="${sum((x) => x.cases.length)}" failures="${sum((x) => x.failures)}" errors="${sum((x) => x.errors)}">`);
      for (const [name, x] of suites) write(`  <testsuite name="${esc(name)}" tests="${x.cases.length}" failures="${x.failures}" errors="${x.errors}">\n${x.cases.join('\n')}\n  </testsuite>`);
      write('</testsuites>');
    },
  };
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export const FORMATS = ['table', 'json', 'jsonl', 'sarif', 'junit'] as const;
export type Format = (typeof FORMATS)[number];

/** The reporter of a format; the table format writes input errors to `writeErr`. */
export function reporterFor(format: Format, write: Write, writeErr: Write, ctx: ReportContext): Reporter {
  switch (format) {
    case 'json':
      return jsonReporter(write);
    case 'jsonl':
      return jsonlReporter(write);
    case 'sarif':
      return sarifReporter(write, ctx);
    case 'junit':
      return junitReporter(write, ctx);
    default:
      return tableReporter(write, writeErr, ctx);
  }
}

/** Thresholds in order: failing on one fails on every action before it (`never` never fails). */
export const FAIL_ON = ['deny', 'warn', 'audit', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The actions that fail an audit at a threshold. */
export function failingActions(failOn: FailOn): readonly Action[] {
  return failOn === 'never' ? [] : (FAIL_ON.slice(0, FAIL_ON.indexOf(failOn) + 1) as readonly Action[]);
}
