// CPU caches against non-coherent DMA. A device that does not snoop CPU caches (`coherent: false`) reads
// memory, not the CPU's dirty lines, and the CPU may read its own stale lines over what a device wrote. So:
// - CPU writes (`cpu_write`) leave dirty lines until something cleans them: the DMA API's maintenance on
//   map / dma_sync_*_for_device (arm64's arch_sync_dma_for_device; none on x86, where every device is assumed
//   coherent), a driver's own clflush (`clflush_cache_range`), or DMA ops that flush (the IPU3's own ops);
// - a non-coherent device reading dirty lines reads stale memory: `stale-cpu-cache`;
// - a non-coherent device's writes must be invalidated from the CPU caches (dma_sync_*_for_cpu, unmap) before
//   the CPU reads them (`cpu_read`); reading without that is `stale-cpu-cache` too.
// Uncached CPU mappings (coherent allocations remapped write-combined) never hold dirty lines.
import { hex } from '../../core/format';
import type { Kernel } from '../../kernel';
import type { Device } from '../../iommu/device';
import { IOMMU_DOMAIN_IDENTITY } from '../../iommu/domain';
import { ScenarioError } from '../../scenario/types';

export const CACHE_LINE = 64;
const SPAN_LIMIT = 4096;

export interface Span { start: number; end: number; step: number; who: string; reported: boolean }

/** A set of byte ranges; adding does not merge (each keeps who made it and when), removing splits. */
export class SpanSet {
  spans: Span[] = [];
  add(start: number, end: number, step: number, who: string): void {
    this.remove(start, end);
    this.spans.push({ start, end, step, who, reported: false });
    if (this.spans.length > SPAN_LIMIT) this.spans.shift();      // a long run forgets its oldest ranges
  }
  remove(start: number, end: number): void {
    if (!this.spans.length) return;
    const out: Span[] = [];
    for (const s of this.spans) {
      if (s.end <= start || s.start >= end) { out.push(s); continue; }
      if (s.start < start) out.push({ ...s, end: start });
      if (s.end > end) out.push({ ...s, start: end });
    }
    this.spans = out;
  }
  overlapping(start: number, end: number): Span[] {
    return this.spans.filter(s => s.start < end && s.end > start);
  }
  covers(start: number, end: number): boolean {
    let at = start;
    for (const s of [...this.spans].sort((a, b) => a.start - b.start)) {
      if (s.start > at) break;
      if (s.end > at) at = s.end;
      if (at >= end) return true;
    }
    return at >= end;
  }
}

export class CacheState {
  readonly dirty = new SpanSet();
  readonly deviceWritten = new SpanSet();
  readonly uncached = new SpanSet();
  /** coherent allocations remapped uncached, by device and DMA address, to drop on free */
  readonly uncachedAllocs = new Map<string, Array<{ start: number; end: number }>>();
  constructor(readonly arch: 'arm64' | 'x86') {}
}

export function cacheState(k: Kernel): CacheState {
  let s = k.ext.get('cpu-cache') as CacheState | undefined;
  if (!s) {
    const a = k.cfg.options.arch ?? 'arm64';
    if (a !== 'arm64' && a !== 'x86') {
      throw new ScenarioError({ file: k.platform.pos.file, line: 1, col: 1 }, `kernel options arch: expected arm64 or x86, got ${JSON.stringify(a)}`);
    }
    s = new CacheState(a);
    k.ext.set('cpu-cache', s);
  }
  return s;
}

/** Who keeps a device's buffers clean: the architecture's DMA maintenance, the driver's own DMA ops, or nobody. */
export function maintenance(k: Kernel, dev: Device): 'arch' | 'driver' | 'none' {
  if (dev.spec.coherent) return 'none';
  if (dev.ext.cacheOps === 'clflush') return 'driver';
  return cacheState(k).arch === 'arm64' ? 'arch' : 'none';
}

const lineDown = (n: number) => n - (n % CACHE_LINE);
const lineUp = (n: number) => (n % CACHE_LINE ? n + CACHE_LINE - (n % CACHE_LINE) : n);

export function cpuWrite(k: Kernel, paddr: number, size: number): void {
  const c = cacheState(k);
  if (c.uncached.covers(paddr, paddr + size)) return;
  c.dirty.add(lineDown(paddr), lineUp(paddr + size), k.step, 'cpu');
}

/** Clean (write back) lines: the device can read what the CPU wrote. */
export function cleanRange(k: Kernel, paddr: number, size: number): void {
  cacheState(k).dirty.remove(lineDown(paddr), lineUp(paddr + size));
}

/** Invalidate lines: the CPU reads what a device wrote. */
export function invalidateRange(k: Kernel, paddr: number, size: number): void {
  cacheState(k).deviceWritten.remove(lineDown(paddr), lineUp(paddr + size));
}

export function cpuRead(k: Kernel, paddr: number, size: number): void {
  const c = cacheState(k);
  for (const s of c.deviceWritten.overlapping(paddr, paddr + size)) {
    if (s.reported) continue;
    s.reported = true;
    k.finding('stale-cpu-cache', 'error', `the CPU reads ${hex(Math.max(s.start, paddr))}-${hex(Math.min(s.end, paddr + size) - 1)}, which ` +
      `${s.who} (not cache-coherent) wrote at step ${s.step}, without dma_sync_*_for_cpu, an unmap or a cache invalidate since: it may read ` +
      'stale cache lines instead of the device\'s data', { paddr, size, dev: s.who, written: s.step });
  }
}

/** A non-coherent device's access to physical ranges (after every translation stage). */
export function deviceTouches(k: Kernel, dev: Device, ranges: ReadonlyArray<{ paddr: number; len: number }>, access: 'read' | 'write'): void {
  if (dev.spec.coherent) return;
  const c = cacheState(k);
  for (const r of ranges) {
    if (access === 'write') { c.deviceWritten.add(lineDown(r.paddr), lineUp(r.paddr + r.len), k.step, dev.name); continue; }
    for (const s of c.dirty.overlapping(r.paddr, r.paddr + r.len)) {
      if (s.reported) continue;
      s.reported = true;
      const how = c.arch === 'x86' ? 'x86 does no cache maintenance in the DMA API, so the driver must clflush' : 'no dma_sync_*_for_device or map since';
      k.finding('stale-cpu-cache', 'error', `${dev.name} (not cache-coherent) reads ${hex(Math.max(s.start, r.paddr))}-` +
        `${hex(Math.min(s.end, r.paddr + r.len) - 1)}, which the CPU wrote at step ${s.step} and which is still dirty in the CPU cache ` +
        `(${how}): the device reads stale memory`, { dev: dev.name, paddr: r.paddr, size: r.len, written: s.step });
    }
  }
}

/** Physical ranges behind [addr, addr + size) as the device's current domain translates them (quietly). */
export function physRanges(dev: Device, addr: number, size: number, viaDefault = false): Array<{ paddr: number; len: number }> {
  const d = dev.iommu && !dev.iommu.refusal ? (viaDefault ? dev.group?.defaultDomain : dev.group?.domain) ?? null : null;
  if (!d || d.type === IOMMU_DOMAIN_IDENTITY || !d.pgtable) return [{ paddr: addr, len: size }];
  const out: Array<{ paddr: number; len: number }> = [];
  const g = d.granule;
  for (let a = addr; a < addr + size;) {
    const next = Math.min(addr + size, a - (a % g) + g);
    const pa = d.pgtable.iovaToPhys(a);
    if (pa) {
      const last = out[out.length - 1];
      if (last && last.paddr + last.len === pa) last.len += next - a; else out.push({ paddr: pa, len: next - a });
    }
    a = next;
  }
  return out;
}
