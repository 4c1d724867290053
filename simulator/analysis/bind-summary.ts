// What one bound invocation did (result, device address, bytes mapped vs asked, exposure, errno, faults),
// read from the api event and the events the call produced, and the text shown after the call site.
import { hex, sizeLabel } from '../core/format';
import type { ReportEvent } from '../report/types';
import type { BoundInvocation, CallOutcome, InvocationSummary } from './bind-types';
import type { ApiCall, Severity } from './types';

const ERRNO_RE = /^-E[A-Z0-9]+$/;

/** Numbers in a report: plain numbers or lowercase hex strings. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return Number(BigInt(v));
  return undefined;
}

function addr(v: unknown): string | undefined {
  const n = num(v);
  return n === undefined ? undefined : hex(n);
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;

function sgBytes(sg: unknown): number | undefined {
  if (!Array.isArray(sg)) return undefined;
  let total = 0;
  for (const e of sg) {
    const len = num(obj(e)?.len);
    if (len === undefined) return undefined;
    total += len;
  }
  return total;
}

/** `size=N` (map) or `unmapped_size=N` (unmap) of the IOMMU tracepoints the call produced. */
function tracepointBytes(events: ReportEvent[], name: 'map' | 'unmap'): number | undefined {
  let total: number | undefined;
  const re = name === 'map' ? /\bsize=(\d+)/ : /\bunmapped_size=(\d+)/;
  for (const e of events) {
    if (e.kind !== 'tracepoint' || e.name !== name || typeof e.text !== 'string') continue;
    const m = re.exec(e.text);
    if (m) total = (total ?? 0) + Number(m[1]);
  }
  return total;
}

/** The granule of an IOVA domain argument ({ id, granule, ... }), for pfn ⇄ address. */
function iovadGranule(args: Record<string, unknown>): number | undefined {
  return num(obj(args.iovad)?.granule);
}

function resultText(name: string, result: unknown): string {
  if (result === null || result === undefined) return /^(alloc_iova|dma_alloc)/.test(name) ? 'NULL' : 'void';
  if (typeof result === 'number') {
    if (/^(alloc_iova|free_iova|find_iova)/.test(name)) return result === 0 ? '0 (no space)' : `pfn ${hex(result)}`;
    return /^iommu_(map_sg|unmap)/.test(name) && result > 0 ? hex(result) : String(result);
  }
  if (typeof result === 'string') return result;
  const o = obj(result);
  if (o) {
    if ('oops' in o) return 'oops';
    if ('fault' in o) return `${String(o.fault)} fault`;
    if ('nents' in o) return `nents ${String(o.nents)}`;
    if ('dma' in o) return addr(o.dma) ?? 'ok';
    if ('id' in o && typeof o.id === 'string') return o.id;
  }
  return 'ok';
}

function isFailure(name: string, result: unknown): boolean {
  if (typeof result === 'string') return ERRNO_RE.test(result) || result === 'DMA_MAPPING_ERROR';
  if (result === null) return /^(alloc_iova|dma_alloc)/.test(name);
  if (typeof result === 'number') return result === 0 && /^alloc_iova/.test(name);
  const o = obj(result);
  if (o) return 'oops' in o || 'fault' in o || (('nents' in o) && o.nents === 0);
  return false;
}

/** The device address of the call: the IOVA it mapped or unmapped, or the DMA address it returned. */
function deviceAddress(name: string, args: Record<string, unknown>, result: unknown): string | undefined {
  if (/^iommu_(map|unmap|iova_to_phys)/.test(name)) return addr(args.iova);
  if (/^dma_map_(single|page|resource|phys)/.test(name)) return typeof result === 'string' && result.startsWith('0x') ? result : undefined;
  if (/^dma_alloc_/.test(name) || name === 'dma_map_sg' || name === 'dma_map_sgtable') {
    const o = obj(result);
    const entries = Array.isArray(o?.entries) ? o!.entries as unknown[] : [];
    return addr(o?.dma) ?? addr(obj(entries[0])?.dma);
  }
  if (/^(dma_unmap_|dma_free_|dma_sync_)/.test(name)) return addr(args.dma ?? args.addr);
  if (/^alloc_iova/.test(name) || /^free_iova/.test(name)) {
    const pfn = num(/^alloc/.test(name) ? result : args.pfn);
    const granule = iovadGranule(args);
    return pfn && granule ? hex(pfn * granule) : undefined;
  }
  return undefined;
}

function askedBytes(name: string, args: Record<string, unknown>): number | undefined {
  if (name === 'iommu_map_sg' || name === 'dma_map_sg') return sgBytes(args.sg);
  if (/^alloc_iova/.test(name)) {
    const pages = num(args.size);
    const granule = iovadGranule(args);
    return pages !== undefined && granule !== undefined ? pages * granule : undefined;
  }
  return num(args.size);
}

function mappedBytes(name: string, result: unknown, events: ReportEvent[], failed: boolean): number | undefined {
  if (/^iommu_unmap/.test(name)) return typeof result === 'number' ? result : tracepointBytes(events, 'unmap');
  if (/^(dma_unmap_|dma_free_)/.test(name)) return tracepointBytes(events, 'unmap');
  const mapped = tracepointBytes(events, 'map');
  if (mapped !== undefined) return mapped;
  if (name === 'iommu_map_sg' && typeof result === 'number') return result;
  return failed && /^(iommu_map|dma_map_)/.test(name) ? 0 : undefined;
}

export function summarize(name: string, args: Record<string, unknown>, result: unknown, events: ReportEvent[]): InvocationSummary {
  const failed = isFailure(name, result);
  const findings: string[] = [];
  let exposed: number | undefined;
  let faults = 0;
  for (const e of events) {
    if (e.kind === 'fault') faults++;
    if (e.kind !== 'finding') continue;
    const f = obj(e.finding);
    if (typeof f?.code === 'string') findings.push(f.code);
    if (f?.code === 'exposure') exposed = (exposed ?? 0) + (num(obj(f.data)?.exposed) ?? 0);
  }
  const s: InvocationSummary = { result: resultText(name, result), failed, faults, findings };
  if (typeof result === 'string' && ERRNO_RE.test(result)) s.errno = result;
  const address = deviceAddress(name, args, result);
  if (address) s.address = address;
  const asked = askedBytes(name, args);
  if (asked !== undefined) s.asked = asked;
  const mapped = mappedBytes(name, result, events, failed);
  if (mapped !== undefined) s.mapped = mapped;
  if (exposed) s.exposed = exposed;
  return s;
}

/** Summary of a trace-import step from its tracepoint body (map / unmap / dma_* formats of linux-facts.md). */
export function summarizeTracepoint(name: string, text: string, events: ReportEvent[]): InvocationSummary {
  const field = (key: string) => new RegExp(`\\b${key}=(0x[0-9a-f]+|[0-9a-f]+)\\b`, 'i').exec(text)?.[1];
  const s: InvocationSummary = { result: name, failed: false, faults: events.filter(e => e.kind === 'fault').length, findings: [] };
  const iova = field('iova');
  const dma = field('dma_addr');
  if (iova) s.address = hex(Number(BigInt(iova)));
  else if (dma) s.address = hex(Number(BigInt('0x' + dma.replace(/^0x/i, ''))));
  const size = /\bsize=(\d+)/.exec(text)?.[1];
  if (size) s.asked = Number(size);
  const unmapped = /\bunmapped_size=(\d+)/.exec(text)?.[1];
  if (name === 'map' && size) s.mapped = Number(size);
  if (unmapped) s.mapped = Number(unmapped);
  // a map: line is printed only when iommu_map succeeded; unmap: prints what iommu_unmap returns
  s.result = name === 'map' ? '0' : name === 'unmap' && unmapped ? hex(Number(unmapped))
    : s.address && /^dma_(map|alloc)/.test(name) ? s.address : name === 'io_page_fault' ? 'fault' : 'traced';
  s.failed = name === 'io_page_fault';
  return s;
}

const bytes = (n: number) => sizeLabel(n);

/** "mapped 16K of 4K asked" ("mapped 16K of 4K" inline), "unmapped 16K", "12K asked" ... */
function sizePart(name: string, s: InvocationSummary, short: boolean): string | null {
  const verb = /unmap|free/.test(name) ? 'unmapped' : /^alloc_iova/.test(name) ? 'reserved' : 'mapped';
  // iommu_unmap returns the bytes it unmapped: the result already says it unless it differs from the ask
  if (/^iommu_unmap/.test(name) && s.mapped === s.asked) return null;
  if (s.mapped !== undefined && s.asked !== undefined && s.mapped !== s.asked) {
    return `${verb} ${bytes(s.mapped)} of ${bytes(s.asked)}${short ? '' : ' asked'}`;
  }
  if (s.mapped !== undefined) return `${verb} ${bytes(s.mapped)}`;
  if (s.asked !== undefined && verb === 'reserved') return `${bytes(s.asked)} asked`;
  return null;
}

function countResults(invocations: BoundInvocation[]): string {
  const counts = new Map<string, number>();
  for (const i of invocations) counts.set(i.summary.result, (counts.get(i.summary.result) ?? 0) + 1);
  if (counts.size === 1) return [...counts.keys()][0];
  return [...counts].map(([r, n]) => (n > 1 ? `${r} ×${n}` : r)).join(', ');
}

/** Decoration text, CLI message and severity of a call site from its invocations. */
export function describeCall(call: ApiCall, invocations: BoundInvocation[]): Pick<CallOutcome, 'text' | 'message' | 'severity'> {
  const n = invocations.length;
  const first = invocations[0].summary;
  const sum = (f: (s: InvocationSummary) => number | undefined) => {
    let total: number | undefined;
    for (const i of invocations) { const v = f(i.summary); if (v !== undefined) total = (total ?? 0) + v; }
    return total;
  };
  const merged: InvocationSummary = {
    ...first, asked: sum(s => s.asked), mapped: sum(s => s.mapped), exposed: sum(s => s.exposed),
    faults: invocations.reduce((a, i) => a + i.summary.faults, 0),
    findings: [...new Set(invocations.flatMap(i => i.summary.findings))],
  };
  const parts: string[] = [];
  const addresses = invocations.map(i => i.summary.address).filter((a): a is string => a !== undefined);
  const where = invocations[0].name.startsWith('dma_') && !/unmap|free|sync/.test(invocations[0].name) ? 'dma' : 'iova';
  const range = (sep: string) => (addresses.length === 1 || new Set(addresses).size === 1 ? `${where} ${addresses[0]}`
    : `${where} ${addresses[0]}${sep}${addresses[addresses.length - 1]}`);
  const tail: string[] = [];
  if (merged.exposed) tail.push(`${bytes(merged.exposed)} exposed`);
  if (merged.faults) tail.push(`${merged.faults} fault${merged.faults === 1 ? '' : 's'}`);
  const codes = merged.findings.filter(c => c !== 'exposure');
  if (codes.length) tail.push(codes.join(', '));
  // the inline text trails a source line: shorter words; the CLI line spells them out
  const build = (short: boolean) => {
    const out: string[] = [];
    const size = sizePart(invocations[0].name, merged, short);
    if (size) out.push(size);
    if (addresses.length) out.push(range(short ? '–' : ' … '));
    return [...out, ...tail];
  };
  parts.push(...build(false));
  const shortParts = build(true);
  const results = countResults(invocations);
  const times = n > 1 ? `×${n} ` : '';
  const failed = invocations.some(i => i.summary.failed) || merged.faults > 0;
  const severity: Severity = failed ? 'error' : merged.exposed || codes.length ? 'warning' : 'info';
  // void functions (free_iova, dma_unmap_single) have no result worth an arrow
  const head = results === 'void' ? (n > 1 ? `×${n}` : '') : `${times}→ ${results}`;
  const text = [head, ...shortParts].filter(Boolean).join(' · ');
  const message = [`${call.api}${results === 'void' ? (n > 1 ? ` ×${n}` : '') : ` ${times}→ ${results}`}`, ...parts].join(', ');
  return {
    text: text || 'called',
    message,
    severity,
  };
}
