/** Exceptions' allowances as engine parameters, shared by the Gatekeeper (Constraint parameters) and Kyverno (CEL literals) backends. */
import { portRangeOf } from '../config/allow.js';
import type { ControlInstance } from '../ir/types.js';

/** Allowances as flat parameter objects: `{images?, names?, <key>: [values]}` (host ports as `{min, max}` ranges). */
export function allowanceParams(inst: Pick<ControlInstance, 'allowances'>): Record<string, string[] | { min: number; max: number }[]>[] {
  return inst.allowances.map((a) => ({
    ...(a.images ? { images: [...a.images] } : {}),
    ...(a.names ? { names: [...a.names] } : {}),
    ...Object.fromEntries(Object.entries(a.values).map(([k, v]) => [k, k === 'hostPorts' ? v!.map(portRangeOf) : [...v!]])),
  }));
}

