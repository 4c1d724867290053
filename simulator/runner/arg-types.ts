// Run-time type check of resolved arguments. The loader checks literals against the op schemas, but a bare
// reference (`paddr: $buf`) is only resolved when the step runs, and may then be a whole buffer object, a
// failed step's null or an errno string. Handlers must never see those where a number is due: the step
// stops with an error at the argument instead of computing with "[object Object]" or NaN.
import { getOpSchema, type ArgType } from '../scenario/opspec';
import { ScenarioError, type ArgValue, type RefExpr, type StepSpec } from '../scenario/types';
import { DMA_MAPPING_ERROR } from './ops';

function describe(v: unknown): string {
  if (v === null) return 'null (the step that made it failed)';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return `an object with ${Object.keys(v).join(', ') || 'no fields'}`;
  return JSON.stringify(v);
}

function refText(a: ArgValue | undefined): string | null {
  return a && typeof a === 'object' && !Array.isArray(a) && (a as RefExpr).kind === 'expr' ? (a as RefExpr).text : null;
}

/**
 * The first field of `v` whose value does not fit its schema type: [path, what it is, what was due].
 * `handleInts`: driver-model ops take a GEM object or buffer result where their schema says int (they read its
 * handle); the core ops' integers (order, bits, pasid) must be numbers.
 */
function mismatch(t: ArgType, v: unknown, path: string, handleInts: boolean): [string, unknown, string] | null {
  if (v === undefined) return null;                      // optional and absent (required ones are the loader's)
  if (t === 'u64' || t === 'int') {
    if (typeof v === 'number' && Number.isFinite(v)) return null;
    if (v === DMA_MAPPING_ERROR) return null;            // handlers report the unchecked mapping error
    if (t === 'int' && handleInts && v !== null && typeof v === 'object' && !Array.isArray(v)) return null;
    return [path, v, t === 'int' ? 'an integer' : /(addr|iova|dma|cpu|pfn|va)$/.test(path) ? 'an address' : /(size|len)$/.test(path) ? 'a size' : 'a number'];
  }
  if (t === 'bool') return typeof v === 'boolean' ? null : [path, v, 'true or false'];
  if (t === 'string' || t === 'name') return typeof v === 'string' ? null : [path, v, 'a name'];
  if (t === 'handle') return null;                       // handles are checked by the op (ctx.domain ...)
  if ('enum' in t) return typeof v === 'string' && t.enum.includes(v) ? null : [path, v, t.enum.join(' | ')];
  if ('list' in t) {
    if (!Array.isArray(v)) return [path, v, 'a list'];
    for (let i = 0; i < v.length; i++) {
      const m = mismatch(t.list, v[i], `${path}[${i}]`, handleInts);
      if (m) return m;
    }
    return null;
  }
  if ('object' in t) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [path, v, 'an object'];
    for (const [k, f] of Object.entries(t.object)) {
      const m = mismatch(f.type, (v as Record<string, unknown>)[k], `${path}.${k}`, handleInts);
      if (m) return m;
    }
    return null;
  }
  // oneOf: fits if any alternative fits
  let first: [string, unknown, string] | null = null;
  for (const alt of t.oneOf) {
    const m = mismatch(alt, v, path, handleInts);
    if (!m) return null;
    first ??= m;
  }
  return first;
}

/** Per op: its fields as a list (the check runs once per step, a million times in a long run). */
export interface FieldCheck {
  key: string;
  type: ArgType;
  /**
   * what passes at once, as mismatch() would judge it: a finite number (u64, int), a string (name, string),
   * anything (handle), one of the values (enum), a list of them (list of enum); null: ask mismatch()
   */
  quick: 'number' | 'string' | 'any' | 'enum' | 'enum-list' | null;
  values: readonly string[];
}
const fieldLists = new Map<string, FieldCheck[]>();
const fieldMaps = new Map<string, Map<string, FieldCheck>>();

function fieldsOf(op: string): FieldCheck[] | null {
  let list = fieldLists.get(op);
  if (!list) {
    const schema = getOpSchema(op);
    if (!schema) return null;
    const fields = 'scalar' in schema.args ? { '': schema.args.scalar } : schema.args.object;
    fieldLists.set(op, list = Object.entries(fields).map(([key, f]) => fieldCheck(key, f.type)));
  }
  return list;
}

/** The op's fields by name (null for an op without a schema). */
export function fieldChecks(op: string): Map<string, FieldCheck> | null {
  let map = fieldMaps.get(op);
  if (!map) {
    const list = fieldsOf(op);
    if (!list) return null;
    fieldMaps.set(op, map = new Map(list.map(f => [f.key, f])));
  }
  return map;
}

function fieldCheck(key: string, type: ArgType): FieldCheck {
  if (type === 'u64' || type === 'int') return { key, type, quick: 'number', values: [] };
  if (type === 'name' || type === 'string') return { key, type, quick: 'string', values: [] };
  if (type === 'handle') return { key, type, quick: 'any', values: [] };
  if (typeof type === 'object' && 'enum' in type) return { key, type, quick: 'enum', values: type.enum };
  if (typeof type === 'object' && 'list' in type && typeof type.list === 'object' && 'enum' in type.list) {
    return { key, type, quick: 'enum-list', values: type.list.enum };
  }
  return { key, type, quick: null, values: [] };
}

/** True when `v` certainly fits the field (mismatch() would find nothing); false: ask checkResolvedArgs(). */
export function fitsQuickly(c: FieldCheck, v: unknown): boolean {
  switch (c.quick) {
    case 'number': return typeof v === 'number' && v - v === 0;
    case 'string': return typeof v === 'string';
    case 'any': return true;
    case 'enum': return typeof v === 'string' && c.values.includes(v);
    case 'enum-list': {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string' || !c.values.includes(v[i])) return false;
      return true;
    }
    default: return false;
  }
}

/** Throws a ScenarioError at the argument when a resolved value does not fit the op's schema. */
export function checkResolvedArgs(spec: StepSpec, args: Record<string, unknown>): void {
  const fields = fieldsOf(spec.op);
  if (!fields) return;
  for (let i = 0; i < fields.length; i++) {
    const check = fields[i];
    const key = check.key;
    const v = args[key];
    if (v === undefined || fitsQuickly(check, v)) continue;      // absent optional fields, and the usual cases
    const type = check.type;
    const m = mismatch(type, v, key, spec.op.includes('.'));
    if (!m) continue;
    const given = spec.args && typeof spec.args === 'object' && !Array.isArray(spec.args) && (spec.args as RefExpr).kind !== 'expr'
      ? spec.args as Record<string, ArgValue> : { '': spec.args };
    const [path, value, want] = m;
    const ref = refText(given[key]);
    const name = key === '' ? `${spec.op}'s argument` : path;
    const hint = ref && value !== null && typeof value === 'object' && !Array.isArray(value) && 'paddr' in value ? `; did you mean '${ref}.paddr'?` : '';
    throw new ScenarioError(spec.argPos[key] ?? spec.pos, `${name} must be ${want}, got ${describe(value)}${ref ? ` ('${ref}'${hint})` : ''}`);
  }
}
