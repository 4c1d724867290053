// Argument schemas of scenario ops. The loader validates every step against these; the runner gets
// validated values. Models and driver models register their own ops (apu.gem_new, dcp.map_piodma ...).

export type ArgType =
  | 'u64'          // size or address: integer, "0x4000", "16K"; exact, < 2^53
  | 'int'          // plain integer (order, pasid, count); may be negative only if `signed`
  | 'bool'
  | 'string'
  | 'name'         // a device / iommu / mm name (checked when the step runs)
  | 'handle'       // a result of an earlier step: `$d`, or an id string such as "d1"
  | { enum: readonly string[] }
  | { list: ArgType; max?: number }
  | { object: Record<string, ArgField> }
  | { oneOf: ArgType[] };

export interface ArgField {
  type: ArgType;
  required?: boolean;
  doc?: string;
  signed?: boolean;
  min?: number;
  max?: number;
}

export interface OpSchema {
  name: string;
  doc: string;
  /** `scalar`: the op takes a bare value (probe: xhci); `object`: a map of named args */
  args: { scalar: ArgField } | { object: Record<string, ArgField> };
}

const registry = new Map<string, OpSchema>();

export function registerOpSchema(s: OpSchema): void {
  registry.set(s.name, s);
}

export function getOpSchema(name: string): OpSchema | undefined {
  return registry.get(name);
}

export function allOpNames(): string[] {
  return [...registry.keys()].sort();
}

/** Ops that stand for void kernel functions: their result is shown as "—", not NULL. */
const voidOps = new Set<string>();
export function markVoidOps(names: string[]): void { for (const n of names) voidOps.add(n); }
export function isVoidOp(name: string): boolean { return voidOps.has(name); }
