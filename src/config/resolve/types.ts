import type { AnyControl } from '../../controls/types.js';
/** What resolve returns: the clusters' settings (types of the IR's cluster part, ir/cluster.ts) and diagnostics. */
import type { Diagnostic } from '../../diagnostics.js';
import type { ResolvedCluster } from '../../ir/cluster.js';

export type * from '../../ir/cluster.js';

export interface ResolvedConfig {
  readonly clusters: readonly ResolvedCluster[];
  /** True when the config declares `clusters` (otherwise a single cluster named by `name`). */
  readonly multiCluster: boolean;
  /**
   * The config's custom controls (`customControls`), in config order: in the registry only inside
   * `withControls(customControls, …)` (compile does that; so must every later use of the clusters' controls).
   */
  readonly customControls: readonly AnyControl[];
}

export interface ResolveResult {
  readonly config?: ResolvedConfig;
  readonly diagnostics: readonly Diagnostic[];
}
