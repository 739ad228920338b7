/**
 * CEL helpers of the controls on objects other than Pods (Services, Ingresses, ServiceAccounts, Namespaces).
 * Their rules match the objects themselves (no auto-gen), so fields are read with `object.?…` throughout. On an
 * UPDATE they count only what the update introduces, comparing with `oldObject` (lib.rego.hbs `old_obj`; see
 * IS_UPDATE, unchanged and oldList in cel.ts).
 */
import type { CelVariable } from './types.js';

/** The object's name as a quoted string, for messages. */
export const NAME = `'"' + string(object.?metadata.?name.orValue('')) + '"'`;

/** A Namespace's labels (the namespace controls). */
export const LABELS: CelVariable = { name: 'nsLabels', expression: "object.?metadata.?labels.orValue({})" };
