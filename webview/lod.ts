// Level of detail: turns the ranges visible in a viewport into at most a few thousand blocks to draw.
// Ranges at least `minItemPx` wide are drawn one by one; narrower ones are summed per pixel column
// (count, bytes, flags, the physical span they reach), so 100,000 mappings cost one pass over the
// visible ones and one rectangle per column. Pure: unit-tested against brute force.
import type { Viewport } from './layout';
import { lowerBound, upperBound } from './search';
import { CHUNK, type RangeIndex } from './rangeIndex';

export { buildRangeIndex, itemAt, rangeIndexInOrder, sortedRangeIndex, type OtherSpace, type RangeIndex } from './rangeIndex';

/** Sorted positions [lo, hi) of the ranges that may intersect [a, b) (a superset: check each end). */
export function candidates(idx: RangeIndex, a: number, b: number): { lo: number; hi: number } {
  return { lo: upperBound(idx.maxEnd, a), hi: lowerBound(idx.start, b) };
}

export interface Block {
  /** pixel extent, clipped to the viewport (x1 - x0 may be below one pixel) */
  x0: number;
  x1: number;
  /** ranges summed in this block and their bytes inside the viewport */
  count: number;
  bytes: number;
  /** item id drawn for the block: the only one, or the one with the most visible bytes */
  item: number;
  /** sorted positions of the first and last member */
  first: number;
  last: number;
  /** OR of the members' flags */
  flags: number;
  /** span the members reach in the other address space (physical for IOVA blocks), or NaN */
  otherLo: number;
  otherHi: number;
}

export interface LodOptions {
  /** ranges at least this many pixels wide are drawn individually */
  minItemPx: number;
  /** width of an aggregation column */
  columnPx: number;
}

export interface LodResult {
  blocks: Block[];
  /** ranges intersecting the viewport and their clipped bytes */
  visible: number;
  visibleBytes: number;
}

/**
 * The blocks of the ranges that intersect the viewport: wide ones one by one, narrow ones summed per column. The
 * pass (sweep) sees the same argument types whatever the band, so the three bands of a cold first paint share
 * its optimized code; sorted positions become item ids afterwards, and a band without another address space
 * gets NaN there.
 */
export function aggregate(idx: RangeIndex, v: Viewport, opt: LodOptions): LodResult {
  const r = sweep(idx, v, opt.minItemPx, opt.columnPx);
  if (!idx.hasOther) for (const b of r.blocks) { b.otherLo = NaN; b.otherHi = NaN; }
  const order = idx.order;
  if (order !== null) for (const b of r.blocks) b.item = order[b.item];
  return r;
}

/** Below this many pixels a range is certainly narrower than minItemPx, whatever the rounding of its ends. */
const NARROW_MARGIN_PX = 1e-6;

/**
 * One pass over the candidates; the open column's sums live in locals until the column closes. A whole chunk
 * (rangeIndex.ts) inside the viewport, narrow throughout and inside one column, is added from its sums: the same
 * blocks as range by range (the byte sums are integers, exact below 2^53, so the order of adding does not matter).
 * Blocks name sorted positions.
 */
function sweep(idx: RangeIndex, v: Viewport, minItemPx: number, columnPx: number): LodResult {
  const vStart = v.start;
  const end = v.start + v.span;
  const scale = v.width / v.span;
  const narrow = minItemPx - NARROW_MARGIN_PX;
  const { lo, hi } = candidates(idx, vStart, end);
  const { start, size, flags, otherStart, otherSize, chunks } = idx;
  const blocks: Block[] = [];
  let visible = 0;
  let visibleBytes = 0;
  // the open column (col < 0: none)
  let col = -1;
  let cX0 = 0, cX1 = 0, cCount = 0, cBytes = 0, cItem = 0, cFirst = 0, cLast = 0, cFlags = 0, cLo = 0, cHi = 0, cBest = 0;
  for (let p = lo; p < hi; p++) {
    const s = start[p];
    if ((p & (CHUNK - 1)) === 0 && p + CHUNK <= hi && s > vStart) {
      const k = (p / CHUNK) | 0;
      const last = p + CHUNK - 1;
      if (chunks.maxEnd[k] <= end && chunks.maxSize[k] * scale < narrow) {
        const x0 = (s - vStart) * scale;
        const c = Math.floor(x0 / columnPx);
        if (Math.floor(((start[last] - vStart) * scale) / columnPx) === c) {
          const x1 = (chunks.maxEnd[k] - vStart) * scale;
          const bytes = chunks.bytes[k];
          visible += CHUNK;
          visibleBytes += bytes;
          if (c === col) {
            cCount += CHUNK;
            cBytes += bytes;
            cLast = last;
            cFlags |= chunks.flags[k];
            if (x1 > cX1) cX1 = x1;
            if (chunks.otherLo[k] < cLo) cLo = chunks.otherLo[k];
            if (chunks.otherHi[k] > cHi) cHi = chunks.otherHi[k];
            if (chunks.maxSize[k] > cBest) { cBest = chunks.maxSize[k]; cItem = chunks.best[k]; }
          } else {
            if (col >= 0) {
              blocks.push({ x0: cX0, x1: cX1, count: cCount, bytes: cBytes, item: cItem, first: cFirst, last: cLast, flags: cFlags, otherLo: cLo, otherHi: cHi });
            }
            col = c;
            cX0 = x0; cX1 = x1; cCount = CHUNK; cBytes = bytes; cItem = chunks.best[k]; cFirst = p; cLast = last; cFlags = chunks.flags[k];
            cLo = chunks.otherLo[k]; cHi = chunks.otherHi[k]; cBest = chunks.maxSize[k];
          }
          p = last;
          continue;
        }
      }
    }
    const e = s + size[p];
    if (e <= vStart) continue;
    const cs = s < vStart ? vStart : s;
    const ce = e > end ? end : e;
    const bytes = ce - cs;
    const x0 = (cs - vStart) * scale;
    const x1 = (ce - vStart) * scale;
    const f = flags[p];
    const oLo = otherStart[p];
    const oHi = oLo + otherSize[p];
    visible++;
    visibleBytes += bytes;
    if (x1 - x0 >= minItemPx) {
      blocks.push({ x0, x1, count: 1, bytes, item: p, first: p, last: p, flags: f, otherLo: oLo, otherHi: oHi });
      continue;
    }
    const c = Math.floor(x0 / columnPx);
    if (c === col) {
      cCount++;
      cBytes += bytes;
      cLast = p;
      cFlags |= f;
      if (x1 > cX1) cX1 = x1;
      if (oLo < cLo) cLo = oLo;
      if (oHi > cHi) cHi = oHi;
      if (bytes > cBest) { cBest = bytes; cItem = p; }
      continue;
    }
    if (col >= 0) {
      blocks.push({ x0: cX0, x1: cX1, count: cCount, bytes: cBytes, item: cItem, first: cFirst, last: cLast, flags: cFlags, otherLo: cLo, otherHi: cHi });
    }
    col = c;
    cX0 = x0; cX1 = x1; cCount = 1; cBytes = bytes; cItem = p; cFirst = p; cLast = p; cFlags = f; cLo = oLo; cHi = oHi; cBest = bytes;
  }
  if (col >= 0) {
    blocks.push({ x0: cX0, x1: cX1, count: cCount, bytes: cBytes, item: cItem, first: cFirst, last: cLast, flags: cFlags, otherLo: cLo, otherHi: cHi });
  }
  return { blocks, visible, visibleBytes };
}

/** Points (sorted addresses) inside the viewport, one group per aggregation column. */
export interface PointGroup {
  x: number;
  /** positions in the sorted address array */
  first: number;
  count: number;
}

export function groupPoints(addrs: ArrayLike<number>, v: Viewport, columnPx: number): PointGroup[] {
  const out: PointGroup[] = [];
  const end = v.start + v.span;
  const scale = v.width / v.span;
  let lastCol = NaN;
  for (let i = lowerBound(addrs, v.start); i < addrs.length && addrs[i] < end; i++) {
    const x = (addrs[i] - v.start) * scale;
    const col = Math.floor(x / columnPx);
    const g = out[out.length - 1];
    if (g && col === lastCol) g.count++;
    else out.push({ x, first: i, count: 1 });
    lastCol = col;
  }
  return out;
}
