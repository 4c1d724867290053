// Run-time resolution of `$name`, `$name.field`, `$sg.entries[1].dma` and `+`/`-` arithmetic. This runs for
// every step of a run (a million in a long one): the common shapes take no detours, and the texts that only
// an error message needs are built when the error is thrown.
import { MAX_EXACT, hex } from '../core/format';
import type { ArgValue, RefExpr, StepSpec } from '../scenario/types';
import { ScenarioError } from '../scenario/types';
import { DMA_MAPPING_ERROR, argsObject } from './ops';
import { checkResolvedArgs, fieldChecks, fitsQuickly } from './arg-types';
import { TemplateStep } from '../scenario/step-templates';

function isExpr(v: unknown): v is RefExpr {
  return typeof v === 'object' && v !== null && (v as RefExpr).kind === 'expr' && Array.isArray((v as RefExpr).terms);
}

/** `$name` followed by the first `upTo` steps of `path`, as messages show it. */
function where(name: string, path: ReadonlyArray<string | number>, upTo: number): string {
  let s = `$${name}`;
  for (let k = 0; k < upTo; k++) s += typeof path[k] === 'number' ? `[${path[k]}]` : `.${path[k]}`;
  return s;
}

function follow(expr: RefExpr, name: string, path: ReadonlyArray<string | number>, bindings: Map<string, unknown>): unknown {
  let v = bindings.get(name);
  if (v === undefined && !bindings.has(name)) throw new ScenarioError(expr.pos, `'$${name}' has no value yet: no earlier step bound it with 'as: ${name}'`);
  for (let k = 0; k < path.length; k++) {
    const p = path[k];
    if (v === null || v === undefined) {
      const w = where(name, path, k);
      throw new ScenarioError(expr.pos, `${w} is ${v === null ? 'null (the step failed)' : 'undefined'}, so ${w}${typeof p === 'number' ? `[${p}]` : `.${p}`} does not exist`);
    }
    if (typeof p === 'number') {
      if (!Array.isArray(v)) throw new ScenarioError(expr.pos, `${where(name, path, k)} is not a list`);
      if (p >= v.length) {
        const w = where(name, path, k);
        throw new ScenarioError(expr.pos, `${w}[${p}] is out of range: ${w} has ${v.length} entries`);
      }
      v = v[p];
    } else {
      const field = typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      if (field === undefined && (typeof v !== 'object' || !(p in (v as object)))) {
        const fields = typeof v === 'object' ? Object.keys(v as object).join(', ') : `a ${typeof v}`;
        throw new ScenarioError(expr.pos, `${where(name, path, k)} has no field '${p}' (it has: ${fields || 'nothing'})`);
      }
      v = field;
    }
  }
  return v;
}

const HEX_TEXT = /^0x[0-9a-f]+$/i;

/** A bare `$name[.path]` yields the value itself (an object for handles); arithmetic needs numbers. */
export function resolveExprValue(expr: RefExpr, bindings: Map<string, unknown>): unknown {
  const terms = expr.terms;
  if (terms.length === 1) {
    const t = terms[0];
    if (t.sign === 1 && t.ref) {
      const v = follow(expr, t.ref.name, t.ref.path, bindings);
      return typeof v === 'string' && v.startsWith('0x') ? parseInt(v, 16) : v;
    }
  }
  let sum = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    let v: unknown = t.value;
    if (t.ref) {
      v = follow(expr, t.ref.name, t.ref.path, bindings);
      if (typeof v !== 'number') v = termNumber(expr, t.ref, v);
    }
    sum += t.sign * (v as number);
  }
  if (sum < 0) throw new ScenarioError(expr.pos, `'${expr.text}' is negative (${sum})`);
  if (sum > MAX_EXACT) throw new ScenarioError(expr.pos, `'${expr.text}' = ${hex(sum)} cannot be represented exactly (limit 2^53-1)`);
  return sum;
}

/** A term of a sum that did not resolve to a number: a hex string is read, anything else is an error. */
function termNumber(expr: RefExpr, ref: { name: string; path: ReadonlyArray<string | number> }, v: unknown): number {
  if (v === DMA_MAPPING_ERROR) throw new ScenarioError(expr.pos, `'${expr.text}': $${ref.name} is DMA_MAPPING_ERROR; check dma_mapping_error() before using it`);
  if (typeof v === 'string' && HEX_TEXT.test(v)) return parseInt(v, 16);
  throw new ScenarioError(expr.pos, `'${expr.text}': ${where(ref.name, ref.path, ref.path.length)} is ${v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v)}, not a number`);
}

export function resolveArgs(v: ArgValue, bindings: Map<string, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (isExpr(v)) return resolveExprValue(v, bindings);
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = resolveArgs(v[i], bindings);
    return out;
  }
  const out: Record<string, unknown> = {};
  // Argument objects are plain objects built by the loader: for-in sees exactly their own keys, in order.
  for (const key in v) {
    const x = (v as Record<string, ArgValue>)[key];
    out[key] = typeof x !== 'object' || x === null ? x : resolveArgs(x, bindings);
  }
  return out;
}

/**
 * The handler's arguments for a step: references resolved, then checked against the op's schema, as
 * checkResolvedArgs(spec, argsObject(resolveArgs(spec.args))) does. An argument map is resolved and checked in
 * one pass over its keys; when a value is not plainly right, the full check decides (and names the error).
 */
export function stepArgs(spec: StepSpec, bindings: Map<string, unknown>): Record<string, unknown> {
  // A step made from a template resolves the template's arguments (no copy to make); resolving reads only, so
  // on an error it runs again on the step's own arguments, whose references carry this step's positions.
  if (spec instanceof TemplateStep) {
    try {
      return argsOf(spec, spec.argsForValues, bindings);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
    }
  }
  return argsOf(spec, spec.args, bindings);
}

function argsOf(spec: StepSpec, src: ArgValue, bindings: Map<string, unknown>): Record<string, unknown> {
  if (src !== null && typeof src === 'object' && !Array.isArray(src) && !isExpr(src)) {
    const checks = fieldChecks(spec.op);
    let fits = checks !== null;
    const out: Record<string, unknown> = {};
    for (const key in src) {
      const x = (src as Record<string, ArgValue>)[key];
      const v = typeof x !== 'object' || x === null ? x : resolveArgs(x, bindings);
      out[key] = v;
      if (fits) {
        const check = checks!.get(key);
        fits = check !== undefined && fitsQuickly(check, v);
      }
    }
    const args = argsObject(out as never) as Record<string, unknown>;
    if (!fits || args !== out) checkResolvedArgs(spec, args);
    return args;
  }
  const args = argsObject(resolveArgs(src, bindings) as never) as Record<string, unknown>;
  checkResolvedArgs(spec, args);
  return args;
}
