/**
 * The streaming audit: document splitting, the worker-thread pipeline against the one-resource-at-a-time
 * evaluator, SARIF validated against the SARIF 2.1.0 schema, per-control and per-namespace summaries,
 * and the progress line (only for people).
 */
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { splitDocuments, DocumentSplitter } from '../src/eval/split.js';
import { auditInputs, type AuditedItem } from '../src/audit/pipeline.js';
import { collectInputs, fileInput } from '../src/audit/input.js';
import { auditCluster, reportContext } from '../src/audit/run.js';
import { reporterFor, SummaryCounter, type Format, type ResourceResult } from '../src/audit/report.js';
import { corpusDocuments, writeCorpus } from '../src/bench/corpus.js';
import { compile } from '../src/compile.js';
import { evaluatorSpec, loadEvaluator } from '../src/eval/bundle.js';
import { parseManifests } from '../src/eval/manifests.js';
import { main, type Io } from '../src/cli/main.js';
import { ROOT, runCli, tempProject, TODAY } from './helpers.js';

describe('document splitting', () => {
  it('splits on --- lines only, as kubectl does, with the line each document starts on', () => {
    const text = ['a: 1', '---', 'b: |', '  --- not a marker', '  x', '--- # comment', 'c: 3', '...', '---', '# only a comment', '---', '--- {d: 4}', 'e: "---"'].join('\n');
    const docs = splitDocuments(text);
    expect(docs.map((d) => [d.line, d.text, d.error])).toEqual([
      [1, 'a: 1', undefined],
      [3, 'b: |\n  --- not a marker\n  x', undefined],
      [7, 'c: 3\n...', undefined],
      // kubectl rejects content after the separator.
      [12, '', 'invalid document separator: {d: 4} (kubectl accepts only a comment after ---)'],
      [13, 'e: "---"', undefined],
    ]);
  });

  it('gives the same documents whatever the chunking, with CRLF and a BOM', () => {
    const text = '\uFEFF# c\r\n---\r\napiVersion: v1\r\nkind: A\r\n---\r\napiVersion: v1\r\nkind: B\r\n';
    const whole = splitDocuments(text);
    const s = new DocumentSplitter();
    const pieces = [];
    for (let i = 0; i < text.length; i += 3) pieces.push(...s.push(text.slice(i, i + 3)));
    pieces.push(...s.end());
    expect(pieces.map((d) => [d.line, d.text])).toEqual(whole.map((d) => [d.line, d.text]));
    expect(whole.map((d) => d.line)).toEqual([3, 6]);
    expect(parseManifests(text, 'x').resources.map((r) => [r.line, r.object['kind']])).toEqual([
      [3, 'A'],
      [6, 'B'],
    ]);
  });

  it('reports a directive as kubectl does: an error, since kubectl splits the stream at its ---', () => {
    const r = parseManifests('%YAML 1.1\n---\napiVersion: v1\nkind: A\n', 'f.yaml');
    expect(r.errors).toEqual([expect.objectContaining({ line: 1, message: expect.stringMatching(/^malformed YAML/) })]);
  });

  it('reports the line of a malformed document in a stream', () => {
    const r = parseManifests('kind: Pod\napiVersion: v1\n---\nkind: Pod\nmetadata: {name: x\n', 'f.yaml');
    expect(r.resources).toHaveLength(1);
    expect(r.errors).toEqual([expect.objectContaining({ source: 'f.yaml', index: 1, line: 4, message: expect.stringMatching(/^malformed YAML/) })]);
  });
});

describe('the audit pipeline', () => {
  const reference = compile({ profile: 'pss-restricted', kubernetesVersion: '1.37', namespaces: { 'legacy-apps': { pss: 'baseline' }, batch: { controls: { 'require-seccomp-profile': { mode: 'warn' } } } } }, { today: '2026-11-26' }).clusters[0]!;

  it('gives, in input order and for any number of workers, what the one-resource evaluator gives', async () => {
    const dir = tempProject({});
    writeCorpus(join(dir, 'corpus'), { resources: 1500, seed: 7, perFile: 250 });
    const files = Array.from({ length: 6 }, (_, i) => join(dir, 'corpus', `corpus-000${i}.yaml`));
    const inputs = files.map((f, i) => fileInput(f, `corpus-${i}.yaml`));
    const spec = evaluatorSpec(reference);
    const runs: AuditedItem[][] = [];
    for (const workers of [0, 1, 2]) {
      const items: AuditedItem[] = [];
      await auditInputs(inputs, spec, (i) => items.push(i), { workers, batchDocs: 37 });
      runs.push(items);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);

    const ev = await loadEvaluator(reference);
    const expected = files.flatMap((f, i) =>
      parseManifests(readFileSync(f, 'utf8'), `corpus-${i}.yaml`).resources.map((r) => ({ source: r.source, index: r.index, line: r.line, findings: ev.evaluate(r.object).map((x) => ({ control: x.control, action: x.action, message: x.message })) })),
    );
    expect(runs[0]!.map((i) => ({ source: i.source, index: i.index, line: i.line, findings: 'findings' in i ? i.findings : null }))).toEqual(expected);
    expect(expected).toHaveLength(1500);
    // The corpus exercises every action and many controls.
    const found = expected.flatMap((e) => e.findings);
    expect(new Set(found.map((f) => f.action))).toEqual(new Set(['deny', 'warn']));
    expect(new Set(found.map((f) => f.control)).size).toBeGreaterThan(15);
  });

  it('reads stdin as a stream and files in the order given; unreadable inputs are errors in place', () => {
    const docs = [...corpusDocuments({ resources: 300, seed: 3 })].map((d) => stringify(d)).join('---\n');
    const dir = tempProject({ 'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--format', 'jsonl', '--workers', '2', 'a.yaml', '-', 'missing.yaml'], dir, docs);
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const resources = lines.filter((l) => l.resource).map((l) => l.resource);
    expect(resources).toHaveLength(301);
    expect(resources[0]).toMatchObject({ source: 'a.yaml', kind: 'Namespace' });
    expect(resources.slice(1).every((x: { source: string }, i: number) => x.source === '-' && (x as unknown as { index: number }).index === i)).toBe(true);
    // Missing inputs are reported up front, with the path as given.
    expect(lines.filter((l) => l.error).map((l) => l.error)).toEqual([{ source: 'missing.yaml', index: 0, line: 0, message: 'no such file or directory' }]);
  });

  it('a cluster dump (kind: List, YAML or JSON as kubectl prints it) is audited item by item, like the same objects as documents', async () => {
    const pod = (i: number) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'legacy-apps' }, spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: i % 2 === 0 } }] } });
    const pods = Array.from({ length: 25 }, (_, i) => pod(i));
    // kubectl sorts keys: items come before kind.
    const dump = { apiVersion: 'v1', items: pods, kind: 'List', metadata: { resourceVersion: '' } };
    const dir = tempProject({
      'docs.yaml': pods.map((p) => stringify(p)).join('---\n'),
      'dump.yaml': stringify(dump),
      'dump.json': JSON.stringify(dump, null, 4),
      // After another document; item 2 is not an object, item 3 has a key written twice.
      'mixed.json': `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}\n${JSON.stringify({ apiVersion: 'v1', items: [pods[0], pods[1], 5], kind: 'List' }, null, 2).replace(/\n  \]/, ',\n    {"kind": "Pod",\n     "kind": "Pod"}\n  ]')}`,
      'mixed.yaml': 'apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- just text\n-   apiVersion: v1\n    kind: Pod\n    metadata: {name: b}\n',
    });
    const spec = evaluatorSpec(reference);
    const run = async (file: string): Promise<AuditedItem[]> => {
      const items: AuditedItem[] = [];
      await auditInputs([fileInput(join(dir, file), file)], spec, (i) => items.push(i), { workers: 0, batchDocs: 4 });
      return items;
    };
    const docs = await run('docs.yaml');
    const lines = (items: AuditedItem[]) => items.map((i) => i.line);
    const lineOf = (text: string, pattern: RegExp) => text.split('\n').flatMap((l, k) => (pattern.test(l) ? [k + 1] : []));
    for (const file of ['dump.yaml', 'dump.json']) {
      const items = await run(file);
      // Every item, with its findings, in order; each at the line where it starts.
      expect(items.map(({ line: _, source: __, ...rest }) => rest)).toEqual(docs.map(({ line: _, source: __, ...rest }) => rest));
      const text = readFileSync(join(dir, file), 'utf8');
      expect(lines(items)).toEqual(file.endsWith('.json') ? lineOf(text, /^ {8}\{$/) : lineOf(text, /^ {2}- apiVersion: v1$/));
      expect(items.filter((i) => 'findings' in i && i.findings.some((f) => f.control === 'disallow-privileged-containers'))).toHaveLength(13);
    }
    expect((await run('mixed.json')).map((i) => ('error' in i ? `${i.line} ${i.error}` : `${i.line} ${i.kind}/${i.name}`))).toEqual([
      '1 ConfigMap/x',
      '5 Pod/p0',
      '24 Pod/p1',
      '43 List item is not an object',
      '44 malformed JSON: duplicate key "kind": the API server rejects it (strict field validation), kubectl would apply only the last value (at line 45)',
    ]);
    expect((await run('mixed.yaml')).map((i) => ('error' in i ? `${i.line} ${i.error}` : `${i.line} ${i.kind}/${i.name}`))).toEqual(['4 Pod/a', '7 List item is not an object', '8 Pod/b']);
  });

  it('YAML aliases: normal reuse is read, an alias bomb is a located input error and the rest is audited', async () => {
    const row = (ref: string): string => `[${Array(9).fill(ref).join(', ')}]`;
    const bomb = ['a: &a [lol]', ...'bcdefghij'.split('').map((n, i) => `${n}: &${n} ${row(`*${'abcdefghij'[i]}`)}`)].map((l) => `  ${l}`).join('\n');
    const text = [
      // 150 aliases of one anchor (labels shared by many objects): fine.
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: a, labels: &l {team: x}}\ndata:\n${Array.from({ length: 150 }, (_, i) => `  k${i}: *v`).join('\n').replace('*v', '&v value')}\n`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: a}\ndata:\n${bomb}\n`,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: after, namespace: a}\nspec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}\n',
    ].join('---\n');
    const dir = tempProject({ 'aliases.yaml': text });
    const items: AuditedItem[] = [];
    await auditInputs([fileInput(join(dir, 'aliases.yaml'), 'aliases.yaml')], evaluatorSpec(reference), (i) => items.push(i), { workers: 0 });
    expect(items.map((i) => ('error' in i ? `${i.line} ${i.error}` : `${i.line} ${i.kind}/${i.name} ${i.findings.map((f) => f.control).join(',')}`))).toEqual([
      '1 ConfigMap/shared ',
      '156 malformed YAML: document contains excessive aliasing (at line 161)',
      '171 Pod/after disallow-privilege-escalation,disallow-privileged-containers,require-drop-all-capabilities,require-run-as-non-root,require-seccomp-profile',
    ]);
    const shared = parseManifests(text, 'aliases.yaml').resources[0]!.object as { data: Record<string, string> };
    expect(Object.values(shared.data)).toEqual(Array(150).fill('value'));
  });

  it('directories with symbolic link loops and dangling links: each real file is read once, what cannot be read is reported', async () => {
    const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: apps}\nspec: {containers: [{name: c, image: x}]}\n`;
    const dir = tempProject({ 'm/a.yaml': pod('a'), 'm/sub/b.yaml': pod('b'), 'm/notes.txt': 'x' });
    const m = join(dir, 'm');
    symlinkSync('.', join(m, 'loop')); // the directory itself
    symlinkSync('..', join(m, 'sub', 'up')); // its parent
    symlinkSync('a.yaml', join(m, 'same.yaml')); // a second name for a.yaml
    symlinkSync('self.yaml', join(m, 'self.yaml')); // resolves to itself
    symlinkSync('nowhere.yaml', join(m, 'gone.yaml'));
    symlinkSync('no-such-dir', join(m, 'gonedir'));
    symlinkSync('nowhere.md', join(m, 'README.md')); // not a manifest: no input
    symlinkSync('nowhere.yaml', join(dir, 'top.yaml'));
    const out: string[] = [];
    const io: Io = { cwd: dir, out: (s) => out.push(s), err: () => {}, readStdin: async () => '' };
    expect(await main(['audit', '--profile', 'pss-baseline', '--format', 'jsonl', '--workers', '0', 'm', 'top.yaml'], io)).toBe(2);
    const lines = out.map((l) => JSON.parse(l) as { resource?: { source: string; name: string }; error?: { source: string; message: string } });
    expect(lines.flatMap((l) => (l.resource ? [`${l.resource.source} ${l.resource.name}`] : []))).toEqual(['m/a.yaml a', 'm/sub/b.yaml b']);
    expect(lines.flatMap((l) => (l.error ? [`${l.error.source}: ${l.error.message}`] : []))).toEqual([
      'm/gone.yaml: dangling symbolic link (to nowhere.yaml, which does not exist)',
      'm/gonedir: dangling symbolic link (to no-such-dir, which does not exist)',
      'm/self.yaml: symbolic link loop (the link resolves to itself)',
      'top.yaml: dangling symbolic link (to nowhere.yaml, which does not exist)',
    ]);
  });

  it('a Pod with hundreds of containers (evaluated in parts) gets the findings of the one-resource evaluator', async () => {
    const ev = await loadEvaluator(reference, () => {});
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: i % 3 ? 'nginx:1' : 'nginx', securityContext: { privileged: i % 2 === 0, ...(i % 5 ? {} : { capabilities: { drop: ['ALL'] } }) } }));
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', namespace: 'apps' }, spec: { hostPID: true, initContainers: [{ name: 'init', image: 'busybox' }], containers } };
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big', namespace: 'apps' }, spec: { selector: {}, template: { metadata: {}, spec: pod.spec } } };
    const small = { ...pod, metadata: { name: 'small', namespace: 'apps' }, spec: { containers: containers.slice(0, 3) } };
    const key = (f: { control: string; message: string }) => `${f.control} ${f.message}`;
    const many = ev.evaluateMany([small, pod, deployment]);
    [small, pod, deployment].forEach((o, i) => expect(many[i]!.map(key).sort()).toEqual(ev.evaluate(o).map(key).sort()));
    expect(many[1]!.length).toBeGreaterThan(600);
  });

  it('runs as a library, without the CLI: inputs collected from paths and stdin, results and errors in input order', async () => {
    const dir = tempProject({
      'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy-apps, labels: {pod-security.kubernetes.io/enforce: privileged}}\n',
      'pods.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: legacy-apps}\nspec: {containers: [{name: c, image: nginx, securityContext: {privileged: true}}]}\n---\nkind: Pod\nmetadata: {name: broken\n',
    });
    const stdin = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n';
    const collected = await collectInputs(['ns.yaml', 'pods.yaml', '-', 'none.yaml'], dir, () => (async function* () {
      yield stdin;
    })());
    expect(collected.missing).toEqual(['none.yaml']);
    expect(collected.inputs.map((i) => i.source)).toEqual(['ns.yaml', 'pods.yaml', '-']);
    const seen: string[] = [];
    try {
      await auditCluster(reference, collected.inputs, {
        resource: (r) => seen.push(`${r.source}#${r.index} ${r.kind}/${r.name} ${r.verdict} ${[...new Set(r.violations.map((v) => `${v.control}:${v.action}:${v.engine}`))].join(',')}`),
        error: (e) => seen.push(`${e.source}:${e.line} error`),
      }, { engines: ['wasm'], workers: 0, log: () => {} });
    } finally {
      collected.cleanup();
    }
    expect(seen).toEqual([
      // Labelled below the bundle's baseline for legacy-apps: reported as label drift.
      'ns.yaml#0 Namespace/legacy-apps allow psa-namespace-labels:warn:psa',
      // The policies deny; PSA, enforcing nothing there now, still warns at the defaults' restricted level.
      'pods.yaml#0 Pod/p deny disallow-privilege-escalation:warn:psa,disallow-privileged-containers:deny:wasm,require-drop-all-capabilities:warn:psa,require-run-as-non-root:warn:psa,require-seccomp-profile:warn:psa',
      'pods.yaml:6 error',
      '-#0 ConfigMap/cm allow ',
    ]);
  });
});

describe('audit reports', () => {
  const BAD = `apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: apps}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: registry.example.com/app:1.0
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {type: ClusterIP}
---
kind: Broken
`;

  it('names the exception or exempt namespace that let each finding through: JSON, SARIF suppressions, the table', async () => {
    const cc = compile(
      {
        name: 'demo',
        profile: 'pss-restricted',
        kubernetesVersion: '1.37',
        exceptions: [
          { control: 'disallow-privileged-containers', namespaces: ['apps'], names: ['web', 'web-*'], reason: 'legacy web (PLAT-7)', expires: '2027-01-31' },
          { control: 'restrict-host-ports', namespaces: ['monitoring'], images: ['quay.io/prom/*'], allow: { hostPorts: [9100] }, reason: 'node exporter', expires: '2027-02-28' },
        ],
      },
      { today: TODAY },
    ).clusters[0]!;
    const hardened = '{runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}';
    const sc = 'allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}';
    const input = [
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      securityContext: ${hardened}\n      containers: [{name: app, image: nginx, securityContext: {privileged: true, ${sc}}}]\n`,
      // Same name elsewhere: the exception is for apps only.
      `apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  securityContext: ${hardened}\n  containers: [{name: app, image: nginx, securityContext: {privileged: true, ${sc}}}]\n`,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: exporter, namespace: monitoring}\nspec:\n  securityContext: ${hardened}\n  containers:\n  - {name: e, image: quay.io/prom/node-exporter:v1, ports: [{containerPort: 9100, hostPort: 9100}, {containerPort: 9200, hostPort: 9200}], securityContext: {${sc}}}\n`,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: sys, namespace: kube-system}\nspec: {hostNetwork: true, containers: [{name: s, image: k8s/thing}]}\n',
    ].join('---\n');
    const dir = tempProject({ 'in.yaml': input });
    // One audit, written by each report format.
    const audited: ResourceResult[] = [];
    await auditCluster(cc, [fileInput(join(dir, 'in.yaml'), 'in.yaml')], { resource: (r) => audited.push(r), error: () => {} }, { engines: ['wasm'], workers: 0, log: () => {} });
    const ctx = reportContext(cc, ['wasm']);
    const run = async (format: Format): Promise<string> => {
      const out: string[] = [];
      const reporter = reporterFor(format, (x) => out.push(x), (x) => out.push(x), ctx);
      const counter = new SummaryCounter(ctx.rules);
      for (const r of audited) {
        counter.resource(r);
        reporter.resource(r);
      }
      reporter.finish(counter.final());
      return out.join('\n');
    };
    type R = { name: string; violations: { control: string; message: string }[]; suppressed?: { control: string; action: string; message: string; exception: string; reason: string; expires: string | null }[] };
    const resources = (await run('jsonl')).split('\n').flatMap((l) => (l.startsWith('{"resource"') ? [(JSON.parse(l) as { resource: R }).resource] : []));
    const [web, other, exporter, sys] = resources;
    expect(web!.suppressed).toEqual([
      { control: 'disallow-privileged-containers', action: 'deny', message: 'container "app" must not set securityContext.privileged to true', exception: 'exceptions[0] (disallow-privileged-containers; namespaces apps; names web, web-*)', reason: 'legacy web (PLAT-7)', expires: '2027-01-31' },
    ]);
    expect(other!.violations.map((v) => v.control)).toContain('disallow-privileged-containers');
    expect(other!).not.toHaveProperty('suppressed');
    // A value-scoped exception: the allowed port is suppressed, the other one still denied.
    expect(exporter!.violations.map((v) => v.message)).toEqual(['container "e" must not use hostPort 9200']);
    expect(exporter!.suppressed).toEqual([
      { control: 'restrict-host-ports', action: 'deny', message: 'container "e" must not use hostPort 9100', exception: 'exceptions[1] (restrict-host-ports; namespaces monitoring; images quay.io/prom/*; allow hostPorts 9100)', reason: 'node exporter', expires: '2027-02-28' },
    ]);
    expect(sys!.violations).toEqual([]);
    expect(sys!.suppressed!.map((x) => [x.control, x.exception, x.expires])).toContainEqual(['disallow-host-namespaces', 'exemptNamespaces (kube-system)', null]);

    const sarif = JSON.parse(await run('sarif'));
    const results = sarif.runs[0].results as { ruleId: string; message: { text: string }; suppressions?: { kind: string; justification: string }[] }[];
    expect(results.filter((x) => x.suppressions).map((x) => [x.ruleId, x.message.text, x.suppressions])).toContainEqual([
      'restrict-host-ports',
      'container "e" must not use hostPort 9100',
      [{ kind: 'external', status: 'accepted', justification: 'node exporter', properties: { exception: 'exceptions[1] (restrict-host-ports; namespaces monitoring; images quay.io/prom/*; allow hostPorts 9100)', expires: '2027-02-28' } }],
    ]);
    expect(results.filter((x) => x.ruleId === 'restrict-host-ports' && !x.suppressions).map((x) => x.message.text)).toEqual(['container "e" must not use hostPort 9200']);
    const schema = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'schemas', 'sarif-schema-2.1.0.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    ajv.addFormat('uri', (x: string) => URL.canParse(x));
    ajv.addFormat('uri-reference', (x: string) => URL.canParse(x, 'file:///base/'));
    ajv.addFormat('date-time', (x: string) => !Number.isNaN(Date.parse(x)));
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);

    const table = await run('table');
    expect(table).toMatch(/^EXCEPTED +Deployment\/apps\/web +disallow-privileged-containers +container "app" must not set securityContext.privileged to true \(in.yaml:1\) by exceptions\[0\] \(disallow-privileged-containers; namespaces apps; names web, web-\*\): legacy web \(PLAT-7\), expires 2027-01-31$/m);
    expect(table).toMatch(/^EXCEPTED +Pod\/kube-system\/sys +\d+ controls +namespace kube-system is exempt from every control: .*disallow-host-namespaces/m);
  });

  it('SARIF validates against the SARIF 2.1.0 schema and points at the file and line of each offending document', () => {
    const dir = tempProject({ 'deploy/all.yaml': BAD });
    const r = runCli(['audit', '--profile', 'pss-restricted', '--format', 'sarif', '--output', 'out.sarif', 'deploy'], dir);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const sarif = JSON.parse(readFileSync(join(dir, 'out.sarif'), 'utf8'));
    // The OASIS SARIF 2.1.0 schema (copied into test/fixtures/schemas, source in SOURCES.md).
    const schema = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'schemas', 'sarif-schema-2.1.0.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    ajv.addFormat('uri', (s: string) => URL.canParse(s));
    ajv.addFormat('uri-reference', (s: string) => URL.canParse(s, 'file:///base/'));
    ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);

    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe('kubeharden');
    expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toContain('disallow-host-namespaces');
    const results = run.results as { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[];
    expect(results.length).toBeGreaterThan(3);
    for (const x of results) {
      expect(run.tool.driver.rules[x.ruleIndex].id).toBe(x.ruleId);
      expect(x.level).toBe('error');
      expect(x.locations[0]!.physicalLocation.artifactLocation.uri).toBe('deploy/all.yaml');
      // Every finding is on the Deployment, which starts on line 11.
      expect(x.locations[0]!.physicalLocation.region.startLine).toBe(11);
    }
    expect(results.find((x) => x.ruleId === 'disallow-host-namespaces')!.message.text).toContain('hostNetwork');
    // The malformed document is an execution notification at its line.
    expect(run.invocations[0].executionSuccessful).toBe(false);
    expect(run.invocations[0].toolExecutionNotifications[0].locations[0].physicalLocation.region.startLine).toBe(29);
  });

  it('the table streams findings with their source line, then summaries per control and per namespace', () => {
    const dir = tempProject({ 'all.yaml': BAD });
    const r = runCli(['audit', '--profile', 'pss-restricted', 'all.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('all.yaml:29: document has no apiVersion/kind');
    expect(r.stdout).toMatch(/^DENY +Deployment\/team-a\/web +disallow-host-namespaces +pod must not set spec\.hostNetwork.* \(all\.yaml:11\)$/m);
    expect(r.stdout).not.toContain('Pod/apps/ok');
    expect(r.stdout).toMatch(/^CONTROL +DENY +WARN +AUDIT\n/m);
    expect(r.stdout).toMatch(/^disallow-host-namespaces +1 +0 +0$/m);
    expect(r.stdout).toMatch(/^NAMESPACE +RESOURCES +DENIED +WARNED +AUDITED\n\(cluster\) +1 +0 +0 +0\napps +1 +0 +0 +0\nteam-a +1 +1 +0 +0$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('3 resources: 1 denied, 0 warned, 0 audited, 1 errors (pss-restricted, Kubernetes 1.37)');
    // Not a terminal: no progress line.
    expect(r.stderr).not.toContain('auditing:');
  });

  it('shows progress only on a terminal and only for the table', async () => {
    const dir = tempProject({ 'all.yaml': BAD.replace('---\nkind: Broken\n', '') });
    const run = async (format: string): Promise<string[]> => {
      const progress: string[] = [];
      const out: string[] = [];
      const io: Io = { cwd: dir, out: (s) => out.push(s), err: () => {}, readStdin: async () => '', progress: (l) => progress.push(l) };
      expect(await main(['audit', '--profile', 'pss-restricted', '--format', format, 'all.yaml'], io)).toBe(1);
      return progress;
    };
    const table = await run('table');
    expect(table[0]).toMatch(/^auditing: \d+ resources, [\d.]+\/[\d.]+ MB \(\d+%\), \d+\/s$/);
    expect(table.at(-1)).toBe('');
    for (const format of ['json', 'jsonl', 'sarif', 'junit']) expect(await run(format)).toEqual([]);

    // Rows arrive while the status line shows (several batches): it is cleared before each row is printed.
    writeCorpus(join(dir, 'corpus'), { resources: 600, seed: 5, perFile: 600 });
    const events: string[] = [];
    const io: Io = { cwd: dir, out: (s) => events.push(`out ${s}`), err: (s) => events.push(`err ${s}`), readStdin: async () => '', progress: (l) => events.push(`progress ${l}`) };
    expect(await main(['audit', '--profile', 'pss-restricted', '--workers', '0', 'corpus'], io)).toBe(1);
    const shown = events.map((e, i) => ({ e, status: events.slice(0, i).reverse().find((x) => x.startsWith('progress')) }));
    expect(shown.filter((x) => x.status?.startsWith('progress auditing')).length).toBeGreaterThan(0);
    expect(shown.filter((x) => !x.e.startsWith('progress') && x.status !== undefined && x.status !== 'progress ').map((x) => x.e)).toEqual([]);
  });

  it('a failed run leaves no partial report behind', () => {
    const dir = tempProject({ 'in.yaml': BAD });
    writeFileSync(join(dir, 'report.json'), 'previous');
    const r = runCli(['audit', '--config', 'nope.config.ts', '--format', 'json', '--output', 'report.json', 'in.yaml'], dir);
    expect(r.status).toBe(2);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe('previous');
    expect(runCli(['audit', '--profile', 'pss-baseline', '--workers', 'many', 'in.yaml'], dir).stderr).toContain('--workers must be a whole number');
  });

  it('a key written twice in a manifest is an input error at its file and line; the rest is audited', () => {
    const pod = (name: string, sc: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: apps}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext:\n${sc}`;
    const dir = tempProject({
      'in.yaml': `${pod('twice', '      privileged: true\n      privileged: false\n')}---\n${pod('flow', '      {privileged: true, privileged: false}\n')}---\n${pod('merged', '      <<: {privileged: true}\n      privileged: false\n')}`,
      // JSON (kubectl get -o json), also with an escaped spelling of the same key.
      'in.json': '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j1", "namespace": "apps"},\n "spec": {"containers": [{"name": "c", "image": "i",\n  "securityContext": {"privileged": true, "privileged": false}}]}}\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j2", "namespace": "apps"},\n "spec": {"containers": [{"name": "c", "image": "i",\n  "securityContext": {"privileged": true,\n   "\\u0070rivileged": false}}]}}\n',
    });
    const r = runCli(['audit', '--profile', 'pss-baseline', '--format', 'jsonl', 'in.yaml', 'in.json'], dir);
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { resource?: { name: string; verdict: string }; error?: { source: string; line: number; message: string } });
    expect(lines.flatMap((l) => (l.error ? [[l.error.source, l.error.line, l.error.message]] : []))).toEqual([
      ['in.yaml', 1, 'malformed YAML: duplicate key "privileged": the API server rejects it (strict field validation), kubectl would apply only the last value (at line 10)'],
      ['in.yaml', 12, 'malformed YAML: duplicate key "privileged": the API server rejects it (strict field validation), kubectl would apply only the last value (at line 20)'],
      ['in.json', 1, 'malformed JSON: duplicate key "privileged": the API server rejects it (strict field validation), kubectl would apply only the last value (at line 3)'],
      ['in.json', 4, 'malformed JSON: duplicate key "privileged": the API server rejects it (strict field validation), kubectl would apply only the last value (at line 7)'],
    ]);
    // A key after a `<<` merge overrides the merged one: that is not a duplicate.
    expect(lines.flatMap((l) => (l.resource ? [[l.resource.name, l.resource.verdict]] : []))).toEqual([['merged', 'allow']]);
  });

  it('an input with no resources warns, and fails under --fail-on unless --allow-empty', () => {
    // What a failed `helm template ./chart | kubeharden audit -` leaves: nothing, or only separators and comments.
    const dir = tempProject({ 'empty.yaml': '# nothing rendered\n---\n', 'ok.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: apps}\n' });
    for (const input of ['', '---\n# just a comment\n']) {
      const r = runCli(['audit', '--profile', 'pss-baseline', '-'], dir, input);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('warning: no resources in the input (exit 1 under --fail-on deny; --allow-empty accepts it)');
    }
    expect(runCli(['audit', '--profile', 'pss-baseline', '--fail-on', 'warn', '--format', 'json', 'empty.yaml'], dir).status).toBe(1);
    const allowed = runCli(['audit', '--profile', 'pss-baseline', '--allow-empty', 'empty.yaml'], dir);
    expect(allowed.status).toBe(0);
    expect(allowed.stderr).toContain('warning: no resources in the input\n');
    const never = runCli(['audit', '--profile', 'pss-baseline', '--fail-on', 'never', 'empty.yaml'], dir);
    expect(never.status).toBe(0);
    expect(never.stderr).toContain('warning: no resources in the input\n');
    // One resource is not empty, and an input error stays exit 2.
    const one = runCli(['audit', '--profile', 'pss-baseline', 'empty.yaml', 'ok.yaml'], dir);
    expect([one.status, one.stderr]).toEqual([0, '']);
    expect(runCli(['audit', '--profile', 'pss-baseline', 'missing.yaml'], dir).status).toBe(2);
  });
});

describe('Pod Security Admission in the audit', () => {
  const CONFIG = `import { defineConfig } from 'kubeharden';
export default defineConfig({
  profile: 'pss-baseline',
  kubernetesVersion: '1.35',
  namespaces: { apps: { pss: 'restricted' } },
});
`;
  const POD = (name: string, namespace: string): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
`;
  const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: strict}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
`;
  const NS = (name: string, labels: Record<string, string>): string => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\n`;
  const audit = (files: Record<string, string>, args: string[], input?: string) => {
    const dir = tempProject({ 'policies.config.ts': CONFIG, ...files });
    const r = runCli(['audit', '--format', 'jsonl', ...args], dir, input);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    return { status: r.status, stderr: r.stderr, resources: lines.filter((l) => l.resource).map((l) => l.resource) };
  };
  const controlsOf = (r: { violations: { control: string; engine: string; action: string }[] }) => r.violations.map((v) => `${v.engine} ${v.action} ${v.control}`).sort();

  it('a Namespace of the input labels its Pods and workloads for PSA, wherever it appears in the input', () => {
    const strict = NS('strict', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.30' });
    const { status, resources } = audit({ 'a.yaml': `${POD('p', 'strict')}---\n${DEPLOYMENT}---\n${POD('q', 'other')}`, 'z.yaml': strict }, ['a.yaml', 'z.yaml']);
    expect(status).toBe(1);
    const restricted = ['psa deny disallow-privilege-escalation', 'psa deny require-drop-all-capabilities', 'psa deny require-run-as-non-root', 'psa deny require-seccomp-profile'];
    expect(controlsOf(resources[0])).toEqual(restricted);
    expect(resources[0].violations[0].message).toMatch(/^Pod Security Admission enforce=restricted:v1\.30 \(labels from the Namespace in z\.yaml:1\): /);
    expect(controlsOf(resources[1])).toEqual(restricted);
    expect(resources[1].violations[0].message).toContain(', for the Pods it creates: ');
    // A namespace without labels in the input gets the bundle's defaults (baseline here): nothing to add.
    expect(resources[2]).toMatchObject({ name: 'q', verdict: 'allow', violations: [] });
  });

  it('adds nothing where the policies already act, skips exempt namespaces, and reads labels from stdin', () => {
    const input = `${NS('apps', { 'pod-security.kubernetes.io/enforce': 'restricted' })}---\n${NS('kube-system', { 'pod-security.kubernetes.io/enforce': 'restricted' })}---\n${POD('p', 'apps')}---\n${POD('s', 'kube-system')}`;
    const { resources } = audit({}, ['-'], input);
    expect(resources.map((r: { name: string }) => r.name)).toEqual(['apps', 'kube-system', 'p', 's']);
    // The bundle's restricted policies already deny p: PSA findings would only repeat them.
    expect(resources[2].violations.length).toBeGreaterThan(0);
    expect(resources[2].violations.every((v: { engine: string }) => v.engine === 'wasm')).toBe(true);
    expect(resources[3].violations).toEqual([]);
  });

  it('a warn label gives warnings, and a Namespace labelled below the bundle is reported', () => {
    const input = `${NS('apps', { 'pod-security.kubernetes.io/enforce': 'baseline' })}---\n${NS('team', { 'pod-security.kubernetes.io/warn': 'restricted' })}---\n${POD('t', 'team')}`;
    const { status, resources } = audit({}, ['-'], input);
    expect(status).toBe(0);
    expect(resources[0].violations).toEqual([
      { control: 'psa-namespace-labels', action: 'warn', engine: 'psa', message: expect.stringMatching(/^namespace apps sets pod-security\.kubernetes\.io\/enforce=baseline, below the restricted the bundle gives it/) },
    ]);
    expect(resources[1].violations).toEqual([]);
    expect(resources[2].verdict).toBe('allow');
    expect(controlsOf(resources[2])).toEqual(['psa warn disallow-privilege-escalation', 'psa warn require-drop-all-capabilities', 'psa warn require-run-as-non-root', 'psa warn require-seccomp-profile']);
    // --fail-on warn fails on them; the default (deny) does not.
    const dir = tempProject({ 'policies.config.ts': CONFIG, 'in.yaml': input.split('---\n').slice(1).join('---\n') });
    expect(runCli(['audit', 'in.yaml'], dir).status).toBe(0);
    expect(runCli(['audit', '--fail-on', 'warn', 'in.yaml'], dir).status).toBe(1);
  });
});

describe('legacy service-account token Secrets in the audit', () => {
  const CONFIG = `import { defineConfig } from 'kubeharden';
export default defineConfig({
  profile: 'pss-baseline',
  kubernetesVersion: '1.37',
  controls: { 'disallow-automount-sa-token': true },
  namespaces: { ops: { controls: { 'disallow-automount-sa-token': 'warn' } } },
  exceptions: [{ control: 'disallow-automount-sa-token', namespaces: ['apps'], names: ['agent'], reason: 'calls the API', expires: '2027-06-01' }],
});
`;
  const secret = (name: string, ns: string, type: string): string =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${ns}, annotations: {kubernetes.io/service-account.name: app}}\ntype: ${type}\n`;
  const pod = (name: string, ns: string, spec: string): string =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  automountServiceAccountToken: false\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n${spec}`;
  const volume = (secretName: string): string => `  volumes:\n  - name: creds\n    secret: {secretName: ${secretName}}\n`;
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: app
        image: registry.example.com/app:1.0
        env:
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: legacy-token, key: token}}
`;
  const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  schedule: '0 1 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          automountServiceAccountToken: false
          restartPolicy: Never
          containers:
          - name: app
            image: registry.example.com/app:1.0
          volumes:
          - name: all
            projected:
              sources:
              - secret: {name: ops-token}
`;

  it('flags pods and workloads that use a token Secret of the input, with the action and exceptions of disallow-automount-sa-token', () => {
    const files = {
      'secrets.yaml': [secret('legacy-token', 'apps', 'kubernetes.io/service-account-token'), secret('plain', 'apps', 'Opaque'), secret('ops-token', 'ops', 'kubernetes.io/service-account-token')].join('---\n'),
      'pods.yaml': [
        pod('p', 'apps', volume('legacy-token')),
        pod('q', 'apps', volume('plain')),
        pod('agent', 'apps', volume('legacy-token')),
        pod('elsewhere', 'other', volume('legacy-token')),
        deployment,
        cronJob,
      ].join('---\n'),
    };
    const dir = tempProject({ 'policies.config.ts': CONFIG, ...files });
    const r = runCli(['audit', '--format', 'jsonl', 'pods.yaml', 'secrets.yaml'], dir);
    const resources = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.resource).map((l) => l.resource);
    const token = (name: string) =>
      resources.find((x: { name: string }) => x.name === name).violations.filter((v: { control: string }) => v.control === 'disallow-automount-sa-token').map((v: { engine: string; action: string; message: string }) => `${v.engine} ${v.action} ${v.message}`);
    expect(token('p')).toEqual([
      'input deny pod uses Secret "legacy-token" (type kubernetes.io/service-account-token, a long-lived API token) in volume "creds"; admission cannot see a Secret\'s type, this finding comes from the audit input',
    ]);
    expect(token('web')).toEqual([expect.stringMatching(/^input deny pod template uses Secret "legacy-token" .* in container "app" env "TOKEN"; /)]);
    // ops warns about the control: so about the token Secret too.
    expect(token('nightly')).toEqual([expect.stringMatching(/^input warn pod template uses Secret "ops-token" .* in projected volume "all"; /)]);
    // An ordinary Secret, a pod excepted by name, a Secret of the same name in another namespace: nothing.
    expect(token('q')).toEqual([]);
    expect(token('agent')).toEqual([]);
    expect(token('elsewhere')).toEqual([]);
    expect(r.status).toBe(1);
  });
});
