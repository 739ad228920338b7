/** kubeharden's public API: the config DSL and the compiler. */
export { defineConfig } from './config/types.js';
export type {
  UserConfig,
  ClusterSettings,
  ControlsConfig,
  ControlSetting,
  NamespaceConfig,
  ExceptionConfig,
  FixtureConfig,
  GatekeeperSettings,
  ControlPlaneSettings,
  EncryptionSettings,
  EncryptedResource,
  Mode,
  ProfileName,
  PssLevelName,
  IsoDate,
} from './config/types.js';
export type {
  NetworkSettings,
  NamespaceResourceSettings,
  ResourceQuotaSettings,
  LimitRangeSettings,
  ContainerResources,
  QuotaResource,
  Quantity,
} from './config/types.js';
export type { ExceptionScope, AllowingException } from './config/types.js';
export type { AllowValues, AllowKey, HostNamespace } from './config/allow.js';
export type { ControlId } from './controls/index.js';
export type { PortRange } from './controls/options.js';
export type { KubernetesVersion } from './pss/versions.js';
export { SUPPORTED_VERSIONS } from './pss/versions.js';
export { DEFAULT_EXEMPT_NAMESPACES } from './config/resolve.js';
export { compile } from './compile.js';
// Custom controls: defineControl and the check expression builder.
export { defineControl, CUSTOM_KINDS, type CustomControl, type CustomControlDefinition, type CustomKind, type CustomMatch, type CustomOption, type CustomSample } from './custom/control.js';
export type { CustomControlRef, CustomControlSetting } from './config/types.js';
export {
  str, int, bool, strings, list, present, label, hasLabel, annotation, hasAnnotation,
  eq, ne, lt, le, gt, ge, startsWith, endsWith, contains, matches, option, oneOf, includes, size, exists, all, and, or, not,
  type Expr, type FieldPath, type ObjectRef, type Option, type PresentType, type ValueType,
} from './custom/expr.js';
export { fieldsOf, type Elements, type TypedRef } from './custom/paths.js';
export { NSA_RECOMMENDATIONS, NSA_SECTIONS, type NsaRecommendation } from './nsa/catalogue.js';
export type { CoverageReport, CoverageStatus } from './backends/report/index.js';
