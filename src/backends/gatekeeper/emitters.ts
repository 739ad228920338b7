/** Gatekeeper objects for one control: its ConstraintTemplate and one Constraint per instance. */
import { getControl, type ControlId } from '../../controls/index.js';
import { takesImageExceptions, targetKinds, type ParamType } from '../../controls/types.js';
import type { Mode } from '../../config/types.js';
import type { ControlInstance } from '../../ir/types.js';
import { gatekeeperKind } from '../../names.js';
import { allowKeysOf } from '../../config/allow.js';
import { renderControlRego, renderLibRego } from './rego.js';
import { allowanceParams } from '../allowances.js';
import { celBlockWhy } from '../cel-support.js';
import { celSource } from './cel.js';
import type { Constraint, ConstraintTemplate, ExpansionTemplate, JsonSchema } from './types.js';

/** What a template carries besides Rego: a CEL block (config `gatekeeper.engines` with 'CEL'), and its `generateVAP`. */
export interface TemplateEngines {
  readonly cel: boolean;
  readonly generateVAP?: boolean;
}

export const ENFORCEMENT_ACTION: Record<Mode, Constraint['spec']['enforcementAction']> = {
  enforce: 'deny',
  audit: 'dryrun',
  warn: 'warn',
};

const PARAM_SCHEMA: Record<ParamType, JsonSchema> = {
  boolean: { type: 'boolean' },
  strings: { type: 'array', items: { type: 'string' } },
  ranges: {
    type: 'array',
    items: { type: 'object', properties: { min: { type: 'integer' }, max: { type: 'integer' } }, required: ['max', 'min'] },
  },
};

export function constraintTemplate(id: ControlId, regoVersion: 'v1' | 'v0', packageVersion: string, engines: TemplateEngines = { cel: false }): ConstraintTemplate {
  const c = getControl(id);
  if (c.engines.gatekeeper.kind === 'unsupported') throw new Error(`gatekeeper: ${id} has no template: ${c.engines.gatekeeper.why}`);
  const kind = gatekeeperKind(id);
  const kinds = targetKinds(c);
  const properties: Record<string, JsonSchema> = kinds
    ? { exemptNames: { type: 'array', description: `${kinds.map((k) => k.kind).join(' and ')} objects excepted by name: exact names or prefixes ending in "*".`, items: { type: 'string' } } }
    : {
        ...(takesImageExceptions(c) ? { exemptImages: { type: 'array', description: 'Images excepted from this control: exact references or prefixes ending in "*".', items: { type: 'string' } } } : {}),
        exemptNames: { type: 'array', description: 'Pods and workloads excepted by name: exact names or prefixes ending in "*".', items: { type: 'string' } },
      };
  const allowKeys = allowKeysOf(id);
  if (allowKeys.length) {
    const strings: JsonSchema = { type: 'array', items: { type: 'string' } };
    properties['allowances'] = {
      type: 'array',
      description: `What exceptions let through (${allowKeys.join(', ')}): for containers of images (exact or prefix ending in "*"), for Pods and workloads by name, or with neither for every object in scope.`,
      items: { type: 'object', properties: Object.fromEntries(['images', 'names', ...allowKeys].map((k) => [k, k === 'hostPorts' ? PARAM_SCHEMA.ranges : strings])) },
    };
  }
  for (const [name, type] of Object.entries(c.params)) properties[name] = PARAM_SCHEMA[type];
  const rego = renderControlRego(id, regoVersion);
  const lib = renderLibRego(regoVersion);
  const withCel = engines.cel && celBlockWhy(id) === undefined;
  if (withCel && regoVersion !== 'v1') throw new Error(`gatekeeper: ${id}: a CEL block needs Rego v1 (code[])`);
  const regoBlock = { engine: 'Rego' as const, source: { version: 'v1' as const, rego, libs: [lib] } };
  return {
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: {
      name: kind.toLowerCase(),
      annotations: {
        'description': c.description,
        'kubeharden.io/control': id,
        'metadata.gatekeeper.sh/title': c.title,
        'metadata.gatekeeper.sh/version': packageVersion,
      },
    },
    spec: {
      crd: { spec: { names: { kind }, validation: { openAPIV3Schema: { type: 'object', properties } } } },
      targets: [
        regoVersion === 'v1'
          ? { target: 'admission.k8s.gatekeeper.sh', code: withCel ? [{ engine: 'K8sNativeValidation', source: celSource(id, engines.generateVAP ?? false) }, regoBlock] : [regoBlock] }
          : { target: 'admission.k8s.gatekeeper.sh', rego, libs: [lib] },
      ],
    },
  };
}

export function constraint(id: ControlId, inst: ControlInstance): Constraint {
  const parameters: Record<string, unknown> = { ...inst.params };
  if (inst.exemptImages.length) parameters['exemptImages'] = [...inst.exemptImages];
  if (inst.exemptNames.length) parameters['exemptNames'] = [...inst.exemptNames];
  if (inst.allowances.length) parameters['allowances'] = allowanceParams(inst);
  const match: Constraint['spec']['match'] = { kinds: constraintKinds(id) };
  if (inst.scope.include) match.namespaces = [...inst.scope.include];
  if (inst.scope.exclude.length) match.excludedNamespaces = [...inst.scope.exclude];
  return {
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind: gatekeeperKind(id),
    metadata: { name: inst.name, annotations: { 'kubeharden.io/control': id } },
    spec: { enforcementAction: ENFORCEMENT_ACTION[inst.mode], match, parameters },
  };
}

/** The `match.kinds` of a control's constraints: Pods, or the control's target kinds grouped by API group. */
export function constraintKinds(id: ControlId): Constraint['spec']['match']['kinds'] {
  const kinds = targetKinds(getControl(id));
  if (!kinds) return [{ apiGroups: [''], kinds: ['Pod'] }];
  const byGroup = new Map<string, string[]>();
  for (const k of kinds) byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), k.kind]);
  return [...byGroup].map(([group, ks]) => ({ apiGroups: [group], kinds: [...new Set(ks)] }));
}

export { EXPAND_CRONJOBS, EXPAND_WORKLOADS } from '../../names.js';
import { EXPAND_CRONJOBS, EXPAND_WORKLOADS } from '../../names.js';

/**
 * Workloads expand into Pods, so every controller is checked. CronJobs expand straight into the Pod of their
 * job template (not into a Job that expands again): the Pod's owner reference then names the CronJob, which
 * is how name exceptions recognise it (lib.rego.hbs object_names).
 */
export function expansionTemplates(): ExpansionTemplate[] {
  return [
    {
      apiVersion: 'expansion.gatekeeper.sh/v1beta1',
      kind: 'ExpansionTemplate',
      metadata: { name: EXPAND_WORKLOADS },
      spec: {
        applyTo: [
          { groups: ['apps'], kinds: ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'], versions: ['v1'] },
          { groups: [''], kinds: ['ReplicationController'], versions: ['v1'] },
          { groups: ['batch'], kinds: ['Job'], versions: ['v1'] },
        ],
        templateSource: 'spec.template',
        generatedGVK: { group: '', version: 'v1', kind: 'Pod' },
      },
    },
    {
      apiVersion: 'expansion.gatekeeper.sh/v1beta1',
      kind: 'ExpansionTemplate',
      metadata: { name: EXPAND_CRONJOBS },
      spec: {
        applyTo: [{ groups: ['batch'], kinds: ['CronJob'], versions: ['v1'] }],
        templateSource: 'spec.jobTemplate.spec.template',
        generatedGVK: { group: '', version: 'v1', kind: 'Pod' },
      },
    },
  ];
}

