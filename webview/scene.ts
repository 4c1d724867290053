// What one paint of the map shows, computed without a canvas: the blocks of each band after level of
// detail, the markers, and the counts the test hook publishes. The renderer draws a Scene; hit testing
// reads the same Scene, so what the pointer finds is what is on screen.
import { aggregate, groupPoints, rangeIndexInOrder, sortedRangeIndex, type Block, type PointGroup, type RangeIndex } from './lod';
import { fitRange, type Limits, type Viewport } from './layout';
import { BUF_BOUNCE, FLAG_BOUNCE, FLAG_EXPOSED, FLAG_STALE, type MapModel } from './modelTypes';
import { lowerBound } from './search';

/** Ranges narrower than this are summed per column. */
export const MIN_ITEM_PX = 3;
export const COLUMN_PX = 2;
/** Deepest zoom: 256 bytes across the plot, so sub-page exposure inside one granule is visible. */
export const MIN_SPAN = 256;

/** Sorted indexes of one model, built once per snapshot. */
export interface ModelIndex {
  byIova: RangeIndex;
  byPaddr: RangeIndex;
  buffers: RangeIndex;
  /** fault IOVAs, sorted (the model keeps faults sorted by iova) */
  faultIova: Float64Array;
  iovaLimits: Limits;
  physLimits: Limits;
  reservedStart: Float64Array;
}

export function indexModel(m: MapModel): ModelIndex {
  const mp = m.mappings;
  // The host sends mappings sorted by IOVA, buffers by paddr, and the mappings' physical order (modelCheck.ts
  // checked all three on arrival), so nothing is sorted or copied here.
  const byIova = sortedRangeIndex(mp.iova, mp.size, mp.flags, { start: mp.paddr, size: mp.size });
  const byPaddr = rangeIndexInOrder(mp.paddr, mp.size, mp.flags, mp.byPaddr);
  const buffers = sortedRangeIndex(m.buffers.paddr, m.buffers.size, bounceFlags(m.buffers.flags));
  let iMin = m.domain ? m.domain.aperture.start : 0;
  let iMax = m.domain ? m.domain.aperture.end : 2 ** 32;
  const n = mp.iova.length;
  if (n) {
    iMin = Math.min(iMin, byIova.start[0]);
    iMax = Math.max(iMax, byIova.maxEnd[n - 1]);
  }
  for (const f of m.faults) { iMin = Math.min(iMin, f.iova); iMax = Math.max(iMax, f.iova + 1); }
  let pMin = m.memory ? m.memory.base : Infinity;
  let pMax = m.memory ? m.memory.base + m.memory.size : -Infinity;
  for (const r of [byPaddr, buffers]) {
    if (r.start.length) {
      pMin = Math.min(pMin, r.start[0]);
      pMax = Math.max(pMax, r.maxEnd[r.maxEnd.length - 1]);
    }
  }
  if (!(pMax > pMin)) { pMin = 0; pMax = 2 ** 32; }
  return {
    byIova, byPaddr, buffers,
    faultIova: Float64Array.from(m.faults.map(f => f.iova)),
    iovaLimits: { min: iMin, max: iMax, minSpan: MIN_SPAN },
    physLimits: { min: pMin, max: pMax, minSpan: MIN_SPAN },
    reservedStart: Float64Array.from(m.reserved.map(r => r.start)),
  };
}

/** FLAG_BOUNCE where a buffer is a swiotlb slot (a plain loop: TypedArray.from with a mapper is slow when cold). */
function bounceFlags(bufFlags: Int32Array): Int32Array {
  const out = new Int32Array(bufFlags.length);
  for (let i = 0; i < bufFlags.length; i++) out[i] = bufFlags[i] & BUF_BOUNCE ? FLAG_BOUNCE : 0;
  return out;
}

export interface SceneStats {
  /** drawn IOVA blocks (a summed column counts once) */
  blocks: number;
  physBlocks: number;
  exposureMarkers: number;
  faultMarkers: number;
  staleMarkers: number;
  bounceMarkers: number;
  visibleMappings: number;
  visibleBytes: number;
}

export interface Scene {
  iovaView: Viewport;
  physView: Viewport;
  iova: Block[];
  phys: Block[];
  buffers: Block[];
  faults: PointGroup[];
  /** x of each stale-IOTLB marker drawn (stale blocks closer than STALE_GAP_PX share one) */
  stale: Array<{ x: number; item: number }>;
  stats: SceneStats;
}

export const STALE_GAP_PX = 6;

/** Share of the visible bytes whose physical targets may fall outside the followed range, on each side. */
export const FOLLOW_TRIM = 0.03;

/**
 * Physical range the visible IOVA blocks reach, trimmed of outliers: a few bounce slots or a lone page far
 * away in DRAM would otherwise shrink everything else to a sliver. Blocks are weighted by their visible
 * bytes; at most FOLLOW_TRIM of them is left out at either end, and only when they lie farther from the rest
 * than the rest is wide (their links then run off the edge).
 */
export function followRange(iovaBlocks: readonly Block[]): { lo: number; hi: number } | null {
  const items = iovaBlocks.filter(b => b.otherHi > b.otherLo);
  if (!items.length) return null;
  items.sort((a, b) => a.otherLo + a.otherHi - (b.otherLo + b.otherHi));
  const total = items.reduce((s, b) => s + b.bytes, 0);
  let acc = 0;
  let first = 0;
  while (first < items.length - 1 && acc + items[first].bytes <= total * FOLLOW_TRIM) acc += items[first++].bytes;
  acc = 0;
  let last = items.length - 1;
  while (last > first && acc + items[last].bytes <= total * FOLLOW_TRIM) acc += items[last--].bytes;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = first; i <= last; i++) {
    lo = Math.min(lo, items[i].otherLo);
    hi = Math.max(hi, items[i].otherHi);
  }
  // Trimmed items close to the kept range are not outliers: take them back, nearest first.
  for (let i = first - 1; i >= 0 && items[i].otherLo >= lo - (hi - lo); i--) lo = Math.min(lo, items[i].otherLo);
  for (let i = last + 1; i < items.length && items[i].otherHi <= hi + (hi - lo); i++) hi = Math.max(hi, items[i].otherHi);
  return { lo, hi };
}

/** Physical viewport that follows the visible IOVA blocks (keeps `prev` when nothing is visible). */
export function followPhys(iovaBlocks: readonly Block[], prev: Viewport, lim: Limits): Viewport {
  const r = followRange(iovaBlocks);
  return r ? fitRange(r.lo, r.hi, prev.width, lim, 0.08) : prev;
}

export function computeScene(m: MapModel, idx: ModelIndex, iovaView: Viewport, physIn: Viewport, follow: boolean): Scene {
  const mp = m.mappings;
  const iovaLod = aggregate(idx.byIova, iovaView, { minItemPx: MIN_ITEM_PX, columnPx: COLUMN_PX });
  const physView = follow ? followPhys(iovaLod.blocks, physIn, idx.physLimits) : physIn;
  const physLod = aggregate(idx.byPaddr, physView, { minItemPx: MIN_ITEM_PX, columnPx: COLUMN_PX });
  const bufLod = aggregate(idx.buffers, physView, { minItemPx: MIN_ITEM_PX, columnPx: COLUMN_PX });
  const faults = groupPoints(idx.faultIova, iovaView, 4);
  let exposure = 0;
  let bounce = 0;
  const stale: Array<{ x: number; item: number }> = [];
  for (const b of iovaLod.blocks) {
    if (b.flags & FLAG_EXPOSED) exposure++;
    if (b.flags & FLAG_BOUNCE) bounce++;
    if (b.flags & FLAG_STALE) {
      const x = (b.x0 + Math.max(b.x1, b.x0 + 1)) / 2;
      const prev = stale[stale.length - 1];
      if (!prev || x - prev.x >= STALE_GAP_PX) stale.push({ x, item: b.item });
    }
  }
  return {
    iovaView, physView,
    iova: iovaLod.blocks, phys: physLod.blocks, buffers: bufLod.blocks, faults, stale,
    stats: { blocks: iovaLod.blocks.length, physBlocks: physLod.blocks.length, exposureMarkers: exposure,
      faultMarkers: faults.length, staleMarkers: stale.length, bounceMarkers: bounce, visibleMappings: iovaLod.visible,
      visibleBytes: iovaLod.visibleBytes },
  };
}

/** Reserved regions intersecting the viewport, as model indexes. */
export function visibleReserved(m: MapModel, idx: ModelIndex, v: Viewport): number[] {
  const out: number[] = [];
  const end = v.start + v.span;
  for (let i = 0; i < m.reserved.length && idx.reservedStart[i] < end; i++) if (m.reserved[i].end > v.start) out.push(i);
  return out;
}

/** Unmapped gap of the IOVA space around `addr` (within the aperture), or null when addr is mapped. */
export function holeAt(m: MapModel, idx: ModelIndex, addr: number): { start: number; end: number } | null {
  const r = idx.byIova;
  const ap = m.domain ? m.domain.aperture : { start: idx.iovaLimits.min, end: idx.iovaLimits.max };
  if (addr < ap.start || addr >= ap.end) return null;
  const after = lowerBound(r.start, addr + 1);          // first mapping starting beyond addr
  const prevEnd = after > 0 ? r.maxEnd[after - 1] : -Infinity;
  if (prevEnd > addr) return null;
  return { start: Math.max(ap.start, prevEnd), end: Math.min(ap.end, after < r.start.length ? r.start[after] : Infinity) };
}
