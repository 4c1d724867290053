// Joins a domain's mappings with the CPU buffers, DMA handles, faults and steps of a Report: which buffer a
// mapping was made for, which bytes of it the caller asked for (the rest is exposure), the device, the step
// that created it. Pure: used by buildMapModel in the extension host.
import type { Report, ReportDomain, ReportMapping } from '../simulator/report/types';
import {
  BUF_BOUNCE, BUF_FREED, FLAG_BOUNCE, FLAG_EXPOSED, FLAG_FAULTED, FLAG_STALE, emptyBuffers, emptyMappings,
  type MapBuffer, type MapBuffers, type MapFault, type MapMappings, type MapSteps,
} from './modelTypes';
import { lowerBound, prefixMaxEnd, rangesContaining, upperBound } from './search';

export interface RawMapping {
  iova: number;
  size: number;
  paddr: number;
  src: ReportMapping;
}

export interface JoinedDomain {
  raws: RawMapping[];
  strings: string[];
  mappings: MapMappings;
  buffers: MapBuffers;
  faults: MapFault[];
  steps: MapSteps;
}

/** Parses a report address ("0xffffc000", or a plain number); records a problem naming the value otherwise. */
export function parseHexField(v: unknown, what: string, problems: string[]): number | null {
  let n: number | null = null;
  if (typeof v === 'number') n = v;
  // Number() reads "0x..." as hex and gives NaN for anything malformed ("0x", "0xzz", "0x1 ").
  else if (typeof v === 'string' && v.length > 2 && v[0] === '0' && (v[1] === 'x' || v[1] === 'X')) n = Number(v);
  if (n === null || !Number.isSafeInteger(n) || n < 0) {
    problems.push(`${what}: ${JSON.stringify(v)} is not an exact address`);
    return null;
  }
  return n;
}

/**
 * Region ends in the report follow the kernel's inclusive convention (aperture_end = 0xffffffff); an end
 * that is one below a 4 KiB boundary is taken as inclusive, any other as already exclusive.
 */
export function exclusiveEnd(end: number): number {
  return (end + 1) % 4096 === 0 ? end + 1 : end;
}

const STEP_IN_TEXT = /\bstep (\d+)\b/;

function stepFromText(s: string | undefined | null): number {
  const m = s ? STEP_IN_TEXT.exec(s) : null;
  return m ? Number(m[1]) : -1;
}

class StringTable {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  id(s: string | null | undefined): number {
    if (s === null || s === undefined || s === '') return -1;
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

interface DmaHandle { dma: number; size: number; buffer: number; dev: string }

function parseBuffers(report: Report, problems: string[]): MapBuffer[] {
  const out: MapBuffer[] = [];
  for (const b of report.buffers ?? []) {
    const paddr = parseHexField(b.paddr, `buffer ${b.id} paddr`, problems);
    if (paddr === null) continue;
    if (!(Number.isSafeInteger(b.size) && b.size > 0)) {
      problems.push(`buffer ${b.id} size: ${JSON.stringify(b.size)} is not a positive byte count`);
      continue;
    }
    out.push({ id: b.id, kind: b.kind, paddr, size: b.size, owner: b.owner ?? null, freed: b.freed === true,
      bounce: b.kind.startsWith('swiotlb'), step: stepFromText(b.owner) });
  }
  return out.sort((a, b) => a.paddr - b.paddr || a.size - b.size);
}

/** DMA handles of the domain's devices, sorted by device address. */
function dmaHandles(report: Report, buffers: MapBuffer[], devices: Set<string>, problems: string[]): DmaHandle[] {
  const byId = new Map(buffers.map((b, i) => [b.id, i]));
  const out: DmaHandle[] = [];
  for (const b of report.buffers ?? []) {
    const bi = byId.get(b.id);
    if (bi === undefined) continue;
    for (const h of b.dma ?? []) {
      if (!devices.has(h.dev)) continue;
      const dma = parseHexField(h.dma, `buffer ${b.id} dma handle`, problems);
      if (dma !== null && h.size > 0) out.push({ dma, size: h.size, buffer: bi, dev: h.dev });
    }
  }
  return out.sort((a, b) => a.dma - b.dma);
}

function parseMappings(d: ReportDomain, problems: string[]): RawMapping[] {
  const out: RawMapping[] = [];
  d.mappings.forEach((m, i) => {
    const iova = parseHexField(m.iova, `domain ${d.id} mapping ${i} iova`, problems);
    const paddr = parseHexField(m.paddr, `domain ${d.id} mapping ${i} paddr`, problems);
    if (iova === null || paddr === null) return;
    if (!(Number.isSafeInteger(m.size) && m.size > 0)) {
      problems.push(`domain ${d.id} mapping ${i} size: ${JSON.stringify(m.size)} is not a positive byte count`);
      return;
    }
    out.push({ iova, size: m.size, paddr, src: m });
  });
  return out.sort((a, b) => a.iova - b.iova || a.size - b.size);
}

/** First step that wrote a leaf PTE at each IOVA of the domain (when the mapping's owner names no step). */
function pteSteps(report: Report, domainId: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of report.steps) {
    for (const e of s.events) {
      if (e.kind !== 'pte' || e.op !== 'set' || e.domain !== domainId) continue;
      const iova = typeof e.iova === 'string' ? parseInt(e.iova, 16) : typeof e.iova === 'number' ? e.iova : NaN;
      if (Number.isSafeInteger(iova) && !out.has(iova)) out.set(iova, s.index);
    }
  }
  return out;
}

/** The CPU buffer whose bytes the mapping covers best; prefers one exactly `requested` bytes long. */
function bufferByPhysical(buffers: MapBuffer[], bufMaxEnd: Float64Array, paddr: number, size: number,
                          requested: number | undefined): number {
  const end = paddr + size;
  const stop = lowerBound(bufStarts(buffers), end);
  const first = upperBound(bufMaxEnd, paddr);
  let best = -1;
  let bestScore = 0;
  for (let i = first; i < stop && i < first + 64; i++) {
    const b = buffers[i];
    const overlap = Math.min(end, b.paddr + b.size) - Math.max(paddr, b.paddr);
    if (overlap <= 0) continue;
    const score = overlap + (requested !== undefined && b.size === requested ? 2 ** 53 / 4 : 0) - (b.freed ? 2 ** 53 / 8 : 0);
    if (best < 0 || score > bestScore) { best = i; bestScore = score; }
  }
  return best;
}

const startsCache = new WeakMap<MapBuffer[], number[]>();
function bufStarts(buffers: MapBuffer[]): number[] {
  let s = startsCache.get(buffers);
  if (!s) { s = buffers.map(b => b.paddr); startsCache.set(buffers, s); }
  return s;
}

export function joinMappings(report: Report, d: ReportDomain, problems: string[]): JoinedDomain {
  const strings = new StringTable();
  const devices = new Set(d.devices);
  const buffers = parseBuffers(report, problems);
  const bufMaxEnd = prefixMaxEnd(bufStarts(buffers), buffers.map(b => b.size));
  const slots = buffers.filter(b => b.bounce);
  const slotMaxEnd = prefixMaxEnd(bufStarts(slots), slots.map(b => b.size));
  const handles = dmaHandles(report, buffers, devices, problems);
  const handleStarts = handles.map(h => h.dma);
  const raws = parseMappings(d, problems);
  const ptes = pteSteps(report, d.id);
  const out = emptyMappings();
  const soleDevice = d.devices.length === 1 ? strings.id(d.devices[0]) : -1;

  for (const r of raws) {
    const m = r.src;
    const end = r.iova + r.size;
    let buffer = -1;
    let device = soleDevice;
    let reqOff = 0;
    let reqLen = r.size;
    // 1. A DMA handle inside the mapping says exactly which bytes the caller asked for (iova + iova_off).
    let h = lowerBound(handleStarts, r.iova);
    if (h < handles.length && handles[h].dma < end) {
      let lo = Infinity;
      let hi = -Infinity;
      buffer = handles[h].buffer;
      device = strings.id(handles[h].dev);
      for (; h < handles.length && handles[h].dma < end; h++) {
        lo = Math.min(lo, handles[h].dma);
        hi = Math.max(hi, Math.min(end, handles[h].dma + handles[h].size));
      }
      reqOff = lo - r.iova;
      reqLen = hi - lo;
    } else {
      // 2. Otherwise the CPU buffer the physical range overlaps most.
      buffer = bufferByPhysical(buffers, bufMaxEnd, r.paddr, r.size, m.requested);
      if (buffer >= 0) {
        const b = buffers[buffer];
        const lo = Math.max(r.paddr, b.paddr);
        reqOff = lo - r.paddr;
        reqLen = Math.min(end - r.iova, b.paddr + b.size - r.paddr) - reqOff;
      }
    }
    if (m.requested !== undefined && m.requested > 0) reqLen = Math.min(reqLen, m.requested, r.size - reqOff);
    const exposed = m.exposed ?? (m.requested !== undefined ? Math.max(0, r.size - m.requested) : 0);
    if (exposed > 0 && reqLen >= r.size) reqLen = Math.max(0, r.size - exposed);
    let flags = 0;
    if (m.stale) flags |= FLAG_STALE;
    if (exposed > 0) flags |= FLAG_EXPOSED;
    if (buffer >= 0 && buffers[buffer].bounce) flags |= FLAG_BOUNCE;
    else if (slots.length && bufferByPhysical(slots, slotMaxEnd, r.paddr, r.size, undefined) >= 0) {
      // dma-iommu bounced the buffer: the handle names the original, the PTE points into a swiotlb slot.
      flags |= FLAG_BOUNCE;
    }
    let step = stepFromText(m.owner);
    if (step < 0) step = ptes.get(r.iova) ?? (buffer >= 0 ? buffers[buffer].step : -1);

    out.iova.push(r.iova);
    out.size.push(r.size);
    out.paddr.push(r.paddr);
    out.reqOff.push(reqOff);
    out.reqLen.push(reqLen);
    out.exposed.push(exposed);
    out.flags.push(flags);
    out.prot.push(strings.id(m.prot.join(', ') || 'none'));
    out.owner.push(strings.id(m.owner));
    out.device.push(device);
    out.buffer.push(buffer);
    out.step.push(step);
  }

  const faults = joinFaults(report, d, out, problems);
  const steps: MapSteps = { index: [], op: [], site: [] };
  const want = new Set<number>(out.step);
  for (const b of buffers) want.add(b.step);
  for (const f of faults) want.add(f.step);
  for (const s of report.steps) {
    if (!want.has(s.index)) continue;
    // A driver-model op (apu.gem_iommu_map) names the driver function in the API events it made.
    const api = s.site ? undefined : s.events.find(e => e.kind === 'api' && typeof e.site === 'string');
    steps.index.push(s.index);
    steps.op.push(strings.id(s.op));
    steps.site.push(strings.id(s.site ?? (api ? String(api.site) : null)));
  }
  const order = steps.index.map((_, i) => i).sort((a, b) => steps.index[a] - steps.index[b]);
  if (order.some((o, i) => o !== i)) {
    for (const k of ['index', 'op', 'site'] as const) steps[k] = order.map(o => steps[k][o]);
  }
  const cols = emptyBuffers();
  for (const b of buffers) {
    cols.id.push(b.id);
    cols.kind.push(strings.id(b.kind));
    cols.paddr.push(b.paddr);
    cols.size.push(b.size);
    cols.owner.push(strings.id(b.owner));
    cols.flags.push((b.freed ? BUF_FREED : 0) | (b.bounce ? BUF_BOUNCE : 0));
    cols.step.push(b.step);
  }
  return { raws, strings: strings.list, mappings: out, buffers: cols, faults, steps };
}

/** Faults raised by the domain's devices, each tied to the mapping it hit (if any). */
function joinFaults(report: Report, d: ReportDomain, mappings: MapMappings, problems: string[]): MapFault[] {
  const devices = new Set(d.devices);
  const maxEnd = prefixMaxEnd(mappings.iova, mappings.size);
  const out: MapFault[] = [];
  for (const f of report.faults) {
    if (!devices.has(f.dev) || (f.iommu !== undefined && f.iommu !== d.iommu)) continue;
    const iova = parseHexField(f.iova, `fault at step ${f.step} iova`, problems);
    if (iova === null) continue;
    const hit = rangesContaining(mappings.iova, mappings.size, maxEnd, iova, 4);
    const mapping = hit.length ? hit[hit.length - 1] : -1;
    if (mapping >= 0) mappings.flags[mapping] |= FLAG_FAULTED;
    out.push({ iova, step: f.step, dev: f.dev, kind: f.kind, access: f.access ?? null, message: f.message, mapping });
  }
  return out.sort((a, b) => a.iova - b.iova);
}
