// Joins a domain's mappings with the CPU buffers, DMA handles, faults and steps of a Report: which buffer a
// mapping was made for, which bytes of it the caller asked for (the rest is exposure), the device, the step
// that created it. Writes the model's typed-array columns directly. Pure: used by buildMapModel in the host.
import type { Report, ReportBuffer, ReportDomain, ReportMapping } from '../simulator/report/types';
import {
  BUF_BOUNCE, BUF_FREED, FLAG_BOUNCE, FLAG_EXPOSED, FLAG_FAULTED, FLAG_STALE,
  type MapBuffers, type MapFault, type MapMappings, type MapSteps, type StringTable,
} from './modelTypes';
import { lowerBound, prefixMaxEnd, rangesContaining, upperBound } from './search';

export interface JoinedDomain {
  strings: StringTable;
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

/** A byte count the model can hold exactly: a safe integer >= min. */
const isCount = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** start + size stays exact (at most 2^53): both are safe integers, so the subtraction is exact. */
export const endIsExact = (start: number, size: number): boolean => start <= 2 ** 53 - size;

/**
 * Region ends in the report follow the kernel's inclusive convention (aperture_end = 0xffffffff); an end
 * that is one below a 4 KiB boundary is taken as inclusive, any other as already exclusive.
 */
export function exclusiveEnd(end: number): number {
  return (end + 1) % 4096 === 0 ? end + 1 : end;
}

/** The N of the first "step N" word in s (as /\bstep (\d+)\b/ finds it), -1 when none or not exact. */
export function stepFromText(s: string | undefined | null): number {
  if (!s) return -1;
  for (let at = s.indexOf('step '); at >= 0; at = s.indexOf('step ', at + 1)) {
    if (at > 0 && isWordChar(s.charCodeAt(at - 1))) continue;
    let k = at + 5;
    while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
    if (k === at + 5 || (k < s.length && isWordChar(s.charCodeAt(k)))) continue;
    const n = Number(s.slice(at + 5, k));
    return Number.isSafeInteger(n) ? n : -1;
  }
  return -1;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Interns strings; packs them into the model's one-text table at the end. */
class Strings {
  private readonly list: string[] = [];
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
  /** Appends s without looking for an equal one: for names that are unique anyway (buffer ids, buffer owners). */
  add(s: string | null | undefined): number {
    if (s === null || s === undefined || s === '') return -1;
    this.list.push(s);
    return this.list.length - 1;
  }
  pack(): StringTable {
    const end = new Uint32Array(this.list.length);
    let at = 0;
    for (let i = 0; i < this.list.length; i++) end[i] = at += this.list[i].length;
    return { text: this.list.join(''), end };
  }
}

interface ParsedBuffer { paddr: number; size: number; bounce: boolean; freed: boolean; src: ReportBuffer; at: number }

function parseBuffers(report: Report, problems: string[]): ParsedBuffer[] {
  const out: ParsedBuffer[] = [];
  const all = report.buffers ?? [];
  for (let at = 0; at < all.length; at++) {
    const b = all[at];
    const paddr = parseHexField(b.paddr, `buffer ${b.id} paddr`, problems);
    if (paddr === null) continue;
    if (!(isCount(b.size, 1) && endIsExact(paddr, b.size))) {
      problems.push(`buffer ${b.id} size: ${JSON.stringify(b.size)} is not a positive byte count`);
      continue;
    }
    out.push({ paddr, size: b.size, bounce: b.kind.startsWith('swiotlb'), freed: b.freed === true, src: b, at });
  }
  return out.sort((a, b) => a.paddr - b.paddr || a.size - b.size);
}

/** Buffers sorted by paddr as columns, with their running end maximum for overlap searches. */
interface BufferRanges { start: Float64Array; size: Float64Array; maxEnd: Float64Array; penalty: Float64Array }

function bufferRanges(list: ParsedBuffer[]): BufferRanges {
  const n = list.length;
  const r: BufferRanges = { start: new Float64Array(n), size: new Float64Array(n), maxEnd: new Float64Array(0), penalty: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    r.start[i] = list[i].paddr;
    r.size[i] = list[i].size;
    // a freed buffer is the worse guess for whose bytes a mapping covers
    r.penalty[i] = list[i].freed ? 2 ** 53 / 8 : 0;
  }
  r.maxEnd = prefixMaxEnd(r.start, r.size);
  return r;
}

/** The CPU buffer whose bytes [paddr, paddr+size) cover best; prefers one exactly `requested` bytes long. */
function bufferByPhysical(r: BufferRanges, paddr: number, size: number, requested: number | undefined): number {
  const end = paddr + size;
  const stop = lowerBound(r.start, end);
  const first = upperBound(r.maxEnd, paddr);
  let best = -1;
  let bestScore = 0;
  for (let i = first; i < stop && i < first + 64; i++) {
    const overlap = Math.min(end, r.start[i] + r.size[i]) - Math.max(paddr, r.start[i]);
    if (overlap <= 0) continue;
    const score = overlap + (requested !== undefined && r.size[i] === requested ? 2 ** 53 / 4 : 0) - r.penalty[i];
    if (best < 0 || score > bestScore) { best = i; bestScore = score; }
  }
  return best;
}

/** DMA handles of the domain's devices, as columns sorted by device address. */
interface Handles { dma: Float64Array; size: Float64Array; buffer: Int32Array; dev: string[] }

function dmaHandles(report: Report, buffers: ParsedBuffer[], devices: Set<string>, problems: string[]): Handles {
  // in report order, so handles at one address keep the order the report lists them in
  const sortedIndex = new Int32Array(report.buffers?.length ?? 0).fill(-1);
  buffers.forEach((b, i) => { sortedIndex[b.at] = i; });
  const list: Array<{ dma: number; size: number; buffer: number; dev: string }> = [];
  (report.buffers ?? []).forEach((b, at) => {
    const bi = sortedIndex[at];
    if (bi < 0) return;
    for (const h of b.dma ?? []) {
      if (!devices.has(h.dev)) continue;
      const dma = parseHexField(h.dma, `buffer ${b.id} dma handle`, problems);
      if (dma !== null && isCount(h.size, 1) && endIsExact(dma, h.size)) list.push({ dma, size: h.size, buffer: bi, dev: h.dev });
    }
  });
  list.sort((a, b) => a.dma - b.dma);
  const n = list.length;
  const out: Handles = { dma: new Float64Array(n), size: new Float64Array(n), buffer: new Int32Array(n), dev: new Array<string>(n) };
  for (let i = 0; i < n; i++) {
    out.dma[i] = list[i].dma;
    out.size[i] = list[i].size;
    out.buffer[i] = list[i].buffer;
    out.dev[i] = list[i].dev;
  }
  return out;
}

/** The domain's well-formed mappings: their addresses and report entries, in IOVA (then size) order. */
function parseMappings(d: ReportDomain, problems: string[]): { iova: Float64Array; size: Float64Array; paddr: Float64Array; src: ReportMapping[] } {
  const ok: Array<{ iova: number; size: number; paddr: number; src: ReportMapping }> = [];
  d.mappings.forEach((m, i) => {
    const iova = parseHexField(m.iova, `domain ${d.id} mapping ${i} iova`, problems);
    const paddr = parseHexField(m.paddr, `domain ${d.id} mapping ${i} paddr`, problems);
    if (iova === null || paddr === null) return;
    if (!(isCount(m.size, 1) && endIsExact(iova, m.size) && endIsExact(paddr, m.size))) {
      problems.push(`domain ${d.id} mapping ${i} size: ${JSON.stringify(m.size)} is not a positive byte count`);
      return;
    }
    ok.push({ iova, size: m.size, paddr, src: m });
  });
  ok.sort((a, b) => a.iova - b.iova || a.size - b.size);
  const n = ok.length;
  const out = { iova: new Float64Array(n), size: new Float64Array(n), paddr: new Float64Array(n), src: new Array<ReportMapping>(n) };
  for (let i = 0; i < n; i++) {
    out.iova[i] = ok[i].iova;
    out.size[i] = ok[i].size;
    out.paddr[i] = ok[i].paddr;
    out.src[i] = ok[i].src;
  }
  return out;
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

/** A report byte count the mapping claims (requested, exposed), or undefined with a problem when it is not one. */
function optionalCount(v: number | undefined, d: ReportDomain, iova: number, field: string, problems: string[]): number | undefined {
  if (v === undefined || isCount(v, 0)) return v;
  problems.push(`domain ${d.id} mapping at 0x${iova.toString(16)} ${field}: ${JSON.stringify(v)} is not a byte count`);
  return undefined;
}

/** The string id of a mapping's prot list ("read, write"); consecutive mappings mostly share one, so the last is kept. */
class ProtIds {
  private last: string[] = [];
  private lastId = -1;
  constructor(private readonly strings: Strings) {}
  id(prot: string[]): number {
    const l = this.last;
    if (prot.length === l.length && prot.every((p, k) => p === l[k]) && this.lastId >= 0) return this.lastId;
    this.last = prot;
    this.lastId = this.strings.id(prot.join(', ') || 'none');
    return this.lastId;
  }
}

export function joinMappings(report: Report, d: ReportDomain, problems: string[]): JoinedDomain {
  const strings = new Strings();
  const devices = new Set(d.devices);
  const bufList = parseBuffers(report, problems);
  const bufs = bufferRanges(bufList);
  const slots = bufferRanges(bufList.filter(b => b.bounce));
  const handles = dmaHandles(report, bufList, devices, problems);
  const bufStep = bufList.map(b => stepFromText(b.src.owner));
  const raws = parseMappings(d, problems);
  const ptes = pteSteps(report, d.id);
  const n = raws.iova.length;
  const out: MapMappings = { iova: raws.iova, size: raws.size, paddr: raws.paddr, reqOff: new Float64Array(n),
    reqLen: new Float64Array(n), exposed: new Float64Array(n), flags: new Int32Array(n), prot: new Int32Array(n),
    owner: new Int32Array(n), device: new Int32Array(n), buffer: new Int32Array(n), step: new Float64Array(n),
    byPaddr: new Int32Array(0) };
  const soleDevice = d.devices.length === 1 ? strings.id(d.devices[0]) : -1;
  const protIds = new ProtIds(strings);

  for (let i = 0; i < n; i++) {
    const m = raws.src[i];
    const iova = raws.iova[i];
    const size = raws.size[i];
    const paddr = raws.paddr[i];
    const end = iova + size;
    const requested = optionalCount(m.requested, d, iova, 'requested', problems);
    let buffer = -1;
    let device = soleDevice;
    let reqOff = 0;
    let reqLen = size;
    // 1. A DMA handle inside the mapping says exactly which bytes the caller asked for (iova + iova_off).
    let h = lowerBound(handles.dma, iova);
    if (h < handles.dma.length && handles.dma[h] < end) {
      let lo = Infinity;
      let hi = -Infinity;
      buffer = handles.buffer[h];
      device = strings.id(handles.dev[h]);
      for (; h < handles.dma.length && handles.dma[h] < end; h++) {
        lo = Math.min(lo, handles.dma[h]);
        hi = Math.max(hi, Math.min(end, handles.dma[h] + handles.size[h]));
      }
      reqOff = lo - iova;
      reqLen = hi - lo;
    } else {
      // 2. Otherwise the CPU buffer the physical range overlaps most.
      buffer = bufferByPhysical(bufs, paddr, size, requested);
      if (buffer >= 0) {
        const lo = Math.max(paddr, bufs.start[buffer]);
        reqOff = lo - paddr;
        reqLen = Math.min(size, bufs.start[buffer] + bufs.size[buffer] - paddr) - reqOff;
      }
    }
    if (requested !== undefined && requested > 0) reqLen = Math.min(reqLen, requested, size - reqOff);
    const exposed = optionalCount(m.exposed, d, iova, 'exposed', problems) ?? (requested !== undefined ? Math.max(0, size - requested) : 0);
    if (exposed > 0 && reqLen >= size) reqLen = Math.max(0, size - exposed);
    let flags = 0;
    if (m.stale) flags |= FLAG_STALE;
    if (exposed > 0) flags |= FLAG_EXPOSED;
    if (buffer >= 0 && bufList[buffer].bounce) flags |= FLAG_BOUNCE;
    else if (slots.start.length && bufferByPhysical(slots, paddr, size, undefined) >= 0) {
      // dma-iommu bounced the buffer: the handle names the original, the PTE points into a swiotlb slot.
      flags |= FLAG_BOUNCE;
    }
    let step = stepFromText(m.owner);
    if (step < 0) step = ptes.get(iova) ?? (buffer >= 0 ? bufStep[buffer] : -1);

    out.reqOff[i] = reqOff;
    out.reqLen[i] = reqLen;
    out.exposed[i] = exposed;
    out.flags[i] = flags;
    out.prot[i] = protIds.id(m.prot);
    out.owner[i] = strings.id(m.owner);
    out.device[i] = device;
    out.buffer[i] = buffer;
    out.step[i] = step;
  }
  out.byPaddr = physicalOrder(out.paddr, out.size);

  const faults = joinFaults(report, d, out, problems);
  const buffers = bufferColumns(bufList, bufs, bufStep, strings);
  const steps = joinSteps(report, [out.step, buffers.step, faults.map(f => f.step)], strings);
  return { strings: strings.pack(), mappings: out, buffers, faults, steps };
}

function bufferColumns(list: ParsedBuffer[], r: BufferRanges, step: number[], strings: Strings): MapBuffers {
  const n = list.length;
  const b: MapBuffers = { id: new Int32Array(n), kind: new Int32Array(n), paddr: r.start, size: r.size, owner: new Int32Array(n),
    flags: new Int32Array(n), step: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const src = list[i].src;
    b.id[i] = strings.add(src.id);
    b.kind[i] = strings.id(src.kind);
    b.owner[i] = strings.add(src.owner);
    b.flags[i] = (list[i].freed ? BUF_FREED : 0) | (list[i].bounce ? BUF_BOUNCE : 0);
    b.step[i] = step[i];
  }
  return b;
}

/** Indexes of the ranges by start, then size, then index: what the physical band draws in order. */
export function physicalOrder(start: Float64Array, size: Float64Array): Int32Array {
  const n = start.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = start[i - 1] < start[i] || (start[i - 1] === start[i] && size[i - 1] <= size[i]);
  if (!sorted) order.sort((a, b) => start[a] - start[b] || size[a] - size[b] || a - b);
  return order;
}

/** Op and source site of every step that `refs` name, sorted by step index. */
function joinSteps(report: Report, refs: ArrayLike<number>[], strings: Strings): MapSteps {
  const want = new Set<number>();
  for (const r of refs) for (let i = 0; i < r.length; i++) if (r[i] >= 0) want.add(r[i]);
  const picked = report.steps.filter(s => want.has(s.index));
  if (picked.some((s, i) => i > 0 && picked[i - 1].index > s.index)) picked.sort((a, b) => a.index - b.index);
  const steps: MapSteps = { index: new Float64Array(picked.length), op: new Int32Array(picked.length), site: new Int32Array(picked.length) };
  picked.forEach((s, k) => {
    // A driver-model op (apu.gem_iommu_map) names the driver function in the API events it made.
    const api = s.site ? undefined : s.events.find(e => e.kind === 'api' && typeof e.site === 'string');
    steps.index[k] = s.index;
    steps.op[k] = strings.id(s.op);
    steps.site[k] = strings.id(s.site ?? (api ? String(api.site) : null));
  });
  return steps;
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
    let step = f.step;
    if (!isCount(step, 0)) {
      problems.push(`fault at iova ${'0x' + iova.toString(16)} step: ${JSON.stringify(step)} is not a step number`);
      step = -1;
    }
    const hit = rangesContaining(mappings.iova, mappings.size, maxEnd, iova, 4);
    const mapping = hit.length ? hit[hit.length - 1] : -1;
    if (mapping >= 0) mappings.flags[mapping] |= FLAG_FAULTED;
    out.push({ iova, step, dev: f.dev, kind: f.kind, access: f.access ?? null, message: f.message, mapping });
  }
  return out.sort((a, b) => a.iova - b.iova);
}
