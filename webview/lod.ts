// Level of detail: turns the ranges visible in a viewport into at most a few thousand blocks to draw.
// Ranges at least `minItemPx` wide are drawn one by one; narrower ones are summed per pixel column
// (count, bytes, flags, the physical span they reach), so 100,000 mappings cost one pass over the
// visible ones and one rectangle per column. Pure: unit-tested against brute force.
import type { Viewport } from './layout';
import { lowerBound, prefixMaxEnd, upperBound } from './search';

/** Ranges sorted by start, with the running maximum of their ends (they may overlap). */
export interface RangeIndex {
  start: Float64Array;
  size: Float64Array;
  maxEnd: Float64Array;
  /** item id (index in the caller's arrays) of each sorted position */
  order: Int32Array;
}

export function buildRangeIndex(starts: ArrayLike<number>, sizes: ArrayLike<number>): RangeIndex {
  const n = starts.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = starts[i - 1] < starts[i] || (starts[i - 1] === starts[i] && sizes[i - 1] <= sizes[i]);
  if (!sorted) order.sort((a, b) => starts[a] - starts[b] || sizes[a] - sizes[b]);
  const start = new Float64Array(n);
  const size = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    start[p] = starts[order[p]];
    size[p] = sizes[order[p]];
  }
  return { start, size, maxEnd: prefixMaxEnd(start, size), order };
}

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
  flags?: ArrayLike<number>;
  /** start and size of each item in the other address space (by item id) */
  other?: { start: ArrayLike<number>; size: ArrayLike<number> };
}

export interface LodResult {
  blocks: Block[];
  /** ranges intersecting the viewport and their clipped bytes */
  visible: number;
  visibleBytes: number;
}

export function aggregate(idx: RangeIndex, v: Viewport, opt: LodOptions): LodResult {
  const end = v.start + v.span;
  const scale = v.width / v.span;
  const { lo, hi } = candidates(idx, v.start, end);
  const blocks: Block[] = [];
  let cur: Block | null = null;
  let curCol = -1;
  let curBest = -1;
  let visible = 0;
  let visibleBytes = 0;
  const flags = opt.flags;
  const other = opt.other;
  const flush = () => {
    if (cur) blocks.push(cur);
    cur = null;
  };
  for (let p = lo; p < hi; p++) {
    const s = idx.start[p];
    const e = s + idx.size[p];
    if (e <= v.start) continue;
    const cs = s < v.start ? v.start : s;
    const ce = e > end ? end : e;
    const bytes = ce - cs;
    const x0 = (cs - v.start) * scale;
    const x1 = (ce - v.start) * scale;
    const item = idx.order[p];
    const f = flags ? flags[item] : 0;
    const oLo = other ? other.start[item] : NaN;
    const oHi = other ? oLo + other.size[item] : NaN;
    visible++;
    visibleBytes += bytes;
    if (x1 - x0 >= opt.minItemPx) {
      blocks.push({ x0, x1, count: 1, bytes, item, first: p, last: p, flags: f, otherLo: oLo, otherHi: oHi });
      continue;
    }
    const col = Math.floor(x0 / opt.columnPx);
    if (cur !== null && col === curCol) {
      const b: Block = cur;
      b.count++;
      b.bytes += bytes;
      b.last = p;
      b.flags |= f;
      if (x1 > b.x1) b.x1 = x1;
      if (oLo < b.otherLo) b.otherLo = oLo;
      if (oHi > b.otherHi) b.otherHi = oHi;
      if (bytes > curBest) { curBest = bytes; b.item = item; }
    } else {
      flush();
      cur = { x0, x1, count: 1, bytes, item, first: p, last: p, flags: f, otherLo: oLo, otherHi: oHi };
      curCol = col;
      curBest = bytes;
    }
  }
  flush();
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
