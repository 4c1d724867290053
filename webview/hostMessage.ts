// Checks every message the webview receives from the panel (HostToWebview, protocol.ts) before acting on it:
// the page trusts no shape it was not shown to be, so a stale or broken host gives a named error, not a blank
// or wrong map. The snapshot's model is checked column by column in modelCheck.ts.
import { Invalid, addr, count, fail, id, isObj, list, obj, opt, str, text } from './check';
import { checkMapModel } from './modelCheck';
import type { HostToWebview, MapFocusRange, WalkLevel } from './protocol';

const OUTCOMES = ['table', 'leaf', 'invalid'] as const;

function walkLevel(v: unknown, p: string): WalkLevel {
  const o = obj(v, p, ['level', 'index', 'table', 'raw', 'outcome']);
  if (!Number.isSafeInteger(o.level)) fail(`${p}.level`, o.level, 'an integer');
  const outcome = OUTCOMES.find(k => k === o.outcome) ?? fail(`${p}.outcome`, o.outcome, OUTCOMES.join(' | '));
  return { level: o.level as number, index: addr(o.index, `${p}.index`), table: addr(o.table, `${p}.table`), raw: str(o.raw, `${p}.raw`), outcome };
}

function focus(v: unknown, p: string): MapFocusRange {
  const o = obj(v, p, ['iova', 'paddr', 'size']);
  const f: MapFocusRange = {};
  const iova = opt(addr)(o.iova, `${p}.iova`);
  const paddr = opt(addr)(o.paddr, `${p}.paddr`);
  const size = opt(count)(o.size, `${p}.size`);
  if (iova !== undefined) f.iova = iova;
  if (paddr !== undefined) f.paddr = paddr;
  if (size !== undefined) f.size = size;
  return f;
}

/** Checks a message from the panel. Returns it typed, or an error naming the bad field and value. */
export function validateHostMessage(x: unknown): HostToWebview | { error: string } {
  try {
    if (!isObj(x)) fail('message', x, 'an object');
    switch (x.type) {
      case 'snapshot': {
        const o = obj(x, 'snapshot', ['type', 'model']);
        return { type: 'snapshot', model: checkMapModel(o.model, 'snapshot.model') };
      }
      case 'selectDomain': {
        const o = obj(x, 'selectDomain', ['type', 'domainId', 'focus']);
        const m: HostToWebview = { type: 'selectDomain', domainId: id(o.domainId, 'selectDomain.domainId') };
        const f = opt(focus)(o.focus, 'selectDomain.focus');
        if (f !== undefined) m.focus = f;
        return m;
      }
      case 'walk': {
        const o = obj(x, 'walk', ['type', 'domainId', 'iova', 'levels', 'error']);
        const domainId = id(o.domainId, 'walk.domainId');
        const iova = addr(o.iova, 'walk.iova');
        if (o.error !== undefined) {
          if (o.levels !== undefined) fail('walk.levels', o.levels, 'no levels beside an error');
          return { type: 'walk', domainId, iova, error: text(o.error, 'walk.error') };
        }
        return { type: 'walk', domainId, iova, levels: list(o.levels, 'walk.levels', walkLevel) };
      }
      default:
        return fail('message.type', x.type, 'snapshot | selectDomain | walk');
    }
  } catch (e) {
    if (e instanceof Invalid) return { error: e.message };
    throw e;
  }
}
