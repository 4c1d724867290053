// What every driver model shares: the `site` a driver function stands for (stamped on the findings it raises),
// the IOVA ranges a driver mapped itself (the report names their owner), page-backed driver objects (GEM
// buffers), once-per-device findings, and a section of the report per driver.
import type { Severity } from '../../core/events';
import { getOrder } from '../../core/format';
import type { Kernel } from '../../kernel';
import type { Domain } from '../../iommu/domain';
import type { CpuBuffer } from '../../platform/memory';

/** Runs `fn` as driver function `site` ("apu_gem.c:apu_gem_iommu_map"): findings raised inside carry it. */
export function withSite<T>(k: Kernel, site: string, fn: () => T): T {
  const outer = k.site;
  k.site = site;
  try {
    return fn();
  } finally {
    k.site = outer;
  }
}

/** An IOVA range a driver model mapped with the IOMMU API (not through the DMA API). */
export interface DriverMapping {
  domain: Domain;
  iova: number;
  size: number;
  /** "apu0 GEM 2 (apu_gem.c:apu_gem_iommu_map)" */
  owner: string;
  /** bytes the object holds (less than size when the mapping is padded) */
  requested: number;
  dev: string;
  /** the CPU buffers behind the range, for the report's buffers[].dma */
  buffers: CpuBuffer[];
  /** the device address the driver hands out for it (differs from iova when the driver truncates it) */
  dma: number;
}

export interface DriverSection {
  /** JSON-able state of one driver instance for the report's `drivers` section */
  view(): Record<string, unknown>;
}

interface DriverState {
  mappings: Set<DriverMapping>;
  sections: Map<string, DriverSection>;
  once: Set<string>;
}

const KEY = 'drivers';

export function driverState(k: Kernel): DriverState {
  let s = k.ext.get(KEY) as DriverState | undefined;
  if (!s) {
    s = { mappings: new Set(), sections: new Map(), once: new Set() };
    k.ext.set(KEY, s);
  }
  return s;
}

export function addMapping(k: Kernel, m: DriverMapping): DriverMapping {
  driverState(k).mappings.add(m);
  return m;
}

export function removeMapping(k: Kernel, m: DriverMapping): void {
  driverState(k).mappings.delete(m);
}

/** Registers (or replaces) the report section of a driver instance, keyed "apu0", "dcp" ... */
export function registerSection(k: Kernel, key: string, s: DriverSection): void {
  driverState(k).sections.set(key, s);
}

/**
 * A finding raised once per key (a driver-wide flaw such as PAGE_SHIFT arithmetic shows on every call; the
 * report names it at the first). Returns true when it was raised now.
 */
export function findingOnce(k: Kernel, key: string, code: string, severity: Severity, message: string, data?: Record<string, unknown>): boolean {
  const s = driverState(k);
  const id = `${key}:${code}`;
  if (s.once.has(id)) return false;
  s.once.add(id);
  k.finding(code, severity, message, data);
  return true;
}

export interface Segment { paddr: number; len: number; buf: CpuBuffer }

/**
 * Pages for a driver object, one physically contiguous run per segment length (each from alloc_pages of its
 * order, so segments are not contiguous with each other unless the buddy allocator happens to place them so).
 * The CPU buffers are registered as kind `gem`; null (everything given back) when memory runs out.
 */
export function allocSegments(k: Kernel, lengths: readonly number[], owner: (i: number) => string): Segment[] | null {
  const out: Segment[] = [];
  for (let i = 0; i < lengths.length; i++) {
    const order = getOrder(lengths[i], k.cfg.page_size);
    const buf = k.mem.allocPages(order, 'gem', owner(i));
    if (!buf) {
      for (const s of out) k.mem.freePages(s.paddr, s.buf.order!);
      return null;
    }
    buf.size = lengths[i];
    out.push({ paddr: buf.paddr, len: lengths[i], buf });
  }
  return out;
}

/** The physical address of byte `offset` of an object made of segments, or -1 past its end. */
export function segmentPhys(segs: readonly { paddr: number; len: number }[], offset: number): number {
  let at = offset;
  for (const s of segs) {
    if (at < s.len) return s.paddr + at;
    at -= s.len;
  }
  return -1;
}

export const U32 = 2 ** 32;
export const INT_MAX = 2 ** 31 - 1;
