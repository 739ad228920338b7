/**
 * The engine-neutral IR: what is checked (control, parameters, mode, scope, image exemptions), never how an
 * engine spells it. One ControlIR per control; one ControlInstance per distinct scope of that control.
 */
import type { ControlId } from '../controls/index.js';
import type { Mode } from '../config/types.js';
import type { KubernetesVersion } from '../pss/versions.js';
import type { Allowance, ResolvedCluster, ScopeExceptions } from './cluster.js';
import type { PsaIR } from './psa.js';
import type { NamespaceObjectSettings, ResolvedNamespaceObjects } from '../config/namespace-objects.js';

export type { Allowance };

export type ParamValue = boolean | readonly string[] | readonly { readonly min: number; readonly max: number }[];
export type Params = Readonly<Record<string, ParamValue>>;

/** Where an instance applies. `include` absent = every namespace except `exclude`. */
export interface Scope {
  readonly include?: readonly string[];
  readonly exclude: readonly string[];
}

export interface ControlInstance extends ScopeExceptions {
  /** DNS-1123 name, unique in the bundle: the control id, or control id + scope suffix. */
  readonly name: string;
  readonly mode: Mode;
  readonly params: Params;
  readonly scope: Scope;
}

export interface ControlIR {
  readonly control: ControlId;
  readonly instances: readonly ControlInstance[];
}

export interface BundleIR {
  /** The cluster's resolved settings (ir/cluster.ts). */
  readonly cluster: ResolvedCluster;
  /** Pod Security Admission levels of every scope (ir/psa.ts), computed once for every backend. */
  readonly psa: PsaIR;
  /** The objects generated per namespace: their settings, and the namespaces that get them. */
  readonly namespaceObjects: NamespaceObjectsIR;
  readonly version: KubernetesVersion;
  /** Enabled controls in registry order. */
  readonly controls: readonly ControlIR[];
}

export interface NamespaceObjectsIR extends ResolvedNamespaceObjects {
  /**
   * Every namespace that gets objects, with its effective settings, sorted by name: the non-exempt
   * namespaces the config names, not the infrastructure namespaces of `psa.infraNamespaces`. No other
   * namespace gets objects, except, through Kyverno, those carrying the opt-in label.
   */
  readonly scopes: readonly { readonly namespace: string; readonly settings: NamespaceObjectSettings }[];
}
