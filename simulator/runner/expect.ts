// `expect:` checks: what a step was expected to do against what it did.
import { isErrnoResult } from '../core/errno';
import { hex, sizeLabel } from '../core/format';
import type { ExpectSpec } from '../scenario/types';
import { DMA_MAPPING_ERROR } from './ops';

export interface StepOutcome {
  result: unknown;
  faults: number;
  exposed: number;
  findings: string[];
}

/** A result is "ok" when it is not an error: not an errno, null, DMA_MAPPING_ERROR, a fault, an oops, or nents 0. */
export function isOk(result: unknown): boolean {
  if (result === null || result === undefined || result === DMA_MAPPING_ERROR || isErrnoResult(result)) return false;
  if (typeof result === 'object') {
    const r = result as Record<string, unknown>;
    if ('oops' in r || 'fault' in r) return false;
    if ('nents' in r && r.nents === 0) return false;
  }
  return true;
}

/** Results as a kernel developer reads them: errnos and addresses bare, handles by name. */
export function showResult(r: unknown): string {
  if (typeof r === 'number') return r >= 4096 ? hex(r) : String(r);
  if (typeof r === 'string') return r;
  if (r === undefined || r === null) return 'NULL';
  if (typeof r === 'object') {
    const o = r as Record<string, unknown>;
    if ('oops' in o) return `oops: ${o.oops}`;
    if ('fault' in o) return `${o.fault} fault at ${o.iova}`;
    if ('type' in o && 'id' in o) return `${o.id} (${o.type})`;
    if ('paddr' in o && 'size' in o && 'id' in o && Object.keys(o).length === 3) return `${o.id} ${typeof o.paddr === 'number' ? hex(o.paddr) : o.paddr} ${sizeLabel(o.size as number)}`;
    return Object.entries(o).map(([k, v]) => {
      if (k === 'sg') return '';
      if (Array.isArray(v) && v.every(e => e && typeof e === 'object' && 'dma' in e && 'len' in e)) {
        const shown = v.slice(0, 4).map(e => `${typeof e.dma === 'number' ? hex(e.dma) : e.dma}+${sizeLabel(e.len)}`);
        return `${k}=[${shown.join(', ')}${v.length > 4 ? `, … ${v.length - 4} more` : ''}]`;
      }
      if (Array.isArray(v)) return `${k}[${v.length}]`;
      if (typeof v === 'number') return `${k}=${k === 'size' || k === 'len' ? sizeLabel(v) : /^(cpu|dma|paddr|iova|addr)$/.test(k) ? hex(v) : v}`;
      if (v && typeof v === 'object') return `${k}={…}`;
      return `${k}=${v}`;
    }).filter(Boolean).join(' ');
  }
  return JSON.stringify(r);
}

function resultMatches(expected: ExpectSpec['result'], actual: unknown): boolean {
  if (expected === 'ok') return isOk(actual);
  if (expected === 'oops') return typeof actual === 'object' && actual !== null && 'oops' in actual;
  if (expected === null) return actual === null;
  if (typeof expected === 'number') {
    if (typeof actual === 'number') return actual === expected;
    if (typeof actual === 'object' && actual !== null && 'nents' in actual) return (actual as { nents: number }).nents === expected;
    return false;
  }
  return actual === expected;
}

/** Human-readable failures, empty when every expectation held. */
export function checkExpect(e: ExpectSpec, o: StepOutcome): string[] {
  const out: string[] = [];
  if ('result' in e && e.result !== undefined && !resultMatches(e.result, o.result)) {
    out.push(`expected result ${showResult(e.result)}, got ${showResult(o.result)}`);
  }
  if (e.faults !== undefined && e.faults !== o.faults) out.push(`expected ${e.faults} fault(s), got ${o.faults}`);
  if (e.exposed !== undefined && e.exposed !== o.exposed) {
    out.push(`expected ${sizeLabel(e.exposed)} exposed, got ${sizeLabel(o.exposed)} (${o.exposed} bytes)`);
  }
  if (e.finding !== undefined) {
    const want = Array.isArray(e.finding) ? e.finding : [e.finding];
    for (const code of want) {
      if (code === 'none') { if (o.findings.length) out.push(`expected no finding, got ${o.findings.join(', ')}`); }
      else if (!o.findings.includes(code)) out.push(`expected finding '${code}', got ${o.findings.length ? o.findings.join(', ') : 'none'}`);
    }
  }
  return out;
}
