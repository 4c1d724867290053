// Run-time resolution of `$name`, `$name.field`, `$sg.entries[1].dma` and `+`/`-` arithmetic.
import { MAX_EXACT, hex } from '../core/format';
import type { ArgValue, RefExpr } from '../scenario/types';
import { ScenarioError } from '../scenario/types';
import { DMA_MAPPING_ERROR } from './ops';

function isExpr(v: unknown): v is RefExpr {
  return typeof v === 'object' && v !== null && (v as RefExpr).kind === 'expr' && Array.isArray((v as RefExpr).terms);
}

function follow(expr: RefExpr, name: string, path: Array<string | number>, bindings: Map<string, unknown>): unknown {
  if (!bindings.has(name)) throw new ScenarioError(expr.pos, `'$${name}' has no value yet: no earlier step bound it with 'as: ${name}'`);
  let v = bindings.get(name);
  let where = `$${name}`;
  for (const p of path) {
    if (v === null || v === undefined) throw new ScenarioError(expr.pos, `${where} is ${v === null ? 'null (the step failed)' : 'undefined'}, so ${where}${typeof p === 'number' ? `[${p}]` : `.${p}`} does not exist`);
    if (typeof p === 'number') {
      if (!Array.isArray(v)) throw new ScenarioError(expr.pos, `${where} is not a list`);
      if (p >= v.length) throw new ScenarioError(expr.pos, `${where}[${p}] is out of range: ${where} has ${v.length} entries`);
      v = v[p];
      where += `[${p}]`;
    } else {
      if (typeof v !== 'object' || !(p in (v as object))) {
        const fields = typeof v === 'object' ? Object.keys(v as object).join(', ') : `a ${typeof v}`;
        throw new ScenarioError(expr.pos, `${where} has no field '${p}' (it has: ${fields || 'nothing'})`);
      }
      v = (v as Record<string, unknown>)[p];
      where += `.${p}`;
    }
  }
  return v;
}

/** A bare `$name[.path]` yields the value itself (an object for handles); arithmetic needs numbers. */
export function resolveExprValue(expr: RefExpr, bindings: Map<string, unknown>): unknown {
  if (expr.terms.length === 1 && expr.terms[0].sign === 1 && expr.terms[0].ref) {
    const v = follow(expr, expr.terms[0].ref.name, expr.terms[0].ref.path, bindings);
    return typeof v === 'string' && v.startsWith('0x') ? parseInt(v, 16) : v;
  }
  let sum = 0;
  for (const t of expr.terms) {
    let v: unknown = t.value;
    if (t.ref) {
      v = follow(expr, t.ref.name, t.ref.path, bindings);
      if (v === DMA_MAPPING_ERROR) throw new ScenarioError(expr.pos, `'${expr.text}': $${t.ref.name} is DMA_MAPPING_ERROR; check dma_mapping_error() before using it`);
      if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) v = parseInt(v, 16);
      if (typeof v !== 'number') throw new ScenarioError(expr.pos, `'${expr.text}': $${t.ref.name}${t.ref.path.map(p => typeof p === 'number' ? `[${p}]` : `.${p}`).join('')} is ${v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v)}, not a number`);
    }
    sum += t.sign * (v as number);
  }
  if (sum < 0) throw new ScenarioError(expr.pos, `'${expr.text}' is negative (${sum})`);
  if (sum > MAX_EXACT) throw new ScenarioError(expr.pos, `'${expr.text}' = ${hex(sum)} cannot be represented exactly (limit 2^53-1)`);
  return sum;
}

export function resolveArgs(v: ArgValue, bindings: Map<string, unknown>): unknown {
  if (isExpr(v)) return resolveExprValue(v, bindings);
  if (Array.isArray(v)) return v.map(x => resolveArgs(x, bindings));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(v)) out[key] = resolveArgs(x, bindings);
    return out;
  }
  return v;
}
