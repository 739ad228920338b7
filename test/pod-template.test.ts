/**
 * lang/cel/pod-template.ts: the rewrite that moves a pod check's paths into a workload's pod template (the
 * ReplicationController ValidatingPolicy; native ValidatingAdmissionPolicies). Cases from Kyverno 1.19's
 * autogen rules (pkg/cel/autogen): pod paths move, `object.metadata.namespace` and optional steps stay.
 */
import { describe, expect, it } from 'vitest';
import { podTemplateKindOf, rewritePodPaths } from '../src/lang/cel/pod-template.js';
import { celString } from '../src/lang/cel/cel.js';

describe('rewritePodPaths', () => {
  it('moves object.spec and object.metadata into the template (CronJob: the job template)', () => {
    expect(rewritePodPaths('object.spec.?containers.orValue([])', 'template')).toBe('object.spec.template.spec.?containers.orValue([])');
    expect(rewritePodPaths('object.metadata.annotations', 'template')).toBe('object.spec.template.metadata.annotations');
    expect(rewritePodPaths('object.spec.hostPID == true', 'cronjob')).toBe('object.spec.jobTemplate.spec.template.spec.hostPID == true');
    expect(rewritePodPaths('object.metadata.labels', 'cronjob')).toBe('object.spec.jobTemplate.spec.template.metadata.labels');
  });

  it('moves oldObject paths the same way', () => {
    expect(rewritePodPaths('size(oldObject.spec.?containers.orValue([])) != size(object.spec.?containers.orValue([]))', 'template')).toBe(
      'size(oldObject.spec.template.spec.?containers.orValue([])) != size(object.spec.template.spec.?containers.orValue([]))',
    );
    expect(rewritePodPaths('oldObject.metadata.name', 'cronjob')).toBe('oldObject.spec.jobTemplate.spec.template.metadata.name');
  });

  it('leaves object.metadata.namespace (the request namespace; a template has none), but not a longer field', () => {
    expect(rewritePodPaths("object.metadata.namespace == 'apps'", 'template')).toBe("object.metadata.namespace == 'apps'");
    expect(rewritePodPaths('oldObject.metadata.namespace', 'template')).toBe('oldObject.metadata.namespace');
    expect(rewritePodPaths('object.metadata.namespaceX', 'template')).toBe('object.spec.template.metadata.namespaceX');
  });

  it('leaves optional steps (the reviewed object itself: a workload’s own name and kind)', () => {
    const own = "object.?metadata.?name.orValue('') + object.?spec.?replicas.orValue(0) + oldObject.?metadata.?name.orValue('')";
    expect(rewritePodPaths(own, 'template')).toBe(own);
    expect(rewritePodPaths("object.kind == 'Pod'", 'cronjob')).toBe("object.kind == 'Pod'");
  });

  it('touches neither string literals nor look-alike identifiers', () => {
    for (const e of [
      "'object.spec' + \"object.metadata\"",
      "'it''s' == 'x' || \"a \\\" object.spec\" == ''",
      "r'object.spec\\' == ''",
      "'''object.spec\nobject.metadata''' == ''",
      'myobject.spec.x',
      'variables.object.spec',
      'object.specs',
      'object.metadatas',
      'xoldObject.spec',
      celString('registry.example.com/object.spec/app'),
    ]) {
      expect(rewritePodPaths(e, 'template'), e).toBe(e);
    }
    // A path after a string literal is still rewritten.
    expect(rewritePodPaths("'x' + string(object.spec.a)", 'template')).toBe("'x' + string(object.spec.template.spec.a)");
  });

  it('is deterministic; an unterminated literal is an error', () => {
    const e = 'object.spec.a && oldObject.metadata.b';
    expect(rewritePodPaths(e, 'template')).toBe(rewritePodPaths(e, 'template'));
    expect(() => rewritePodPaths("'unterminated", 'template')).toThrow(/unterminated/);
  });

  it('knows which controllers keep their template under the job template', () => {
    expect(podTemplateKindOf('CronJob')).toBe('cronjob');
    for (const k of ['Deployment', 'ReplicationController', 'Job', 'DaemonSet', 'StatefulSet', 'ReplicaSet']) expect(podTemplateKindOf(k)).toBe('template');
  });
});
