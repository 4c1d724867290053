// Sorted ranges for level of detail (lod.ts): starts, sizes, the running maximum of the ends (ranges may overlap),
// flags, the range each one reaches in the other address space, and sums per chunk of CHUNK consecutive ranges.
// The chunk sums let a zoomed-out paint take a whole chunk at once when it falls inside one pixel column, so the
// first paint of 100,000 mappings does not visit each of them again: they are built in the one pass that computes
// the running maximum anyway. Pure: unit-tested against the range-by-range sweep.

/** Ranges per chunk (a power of two). */
export const CHUNK = 32;
const CHUNK_SHIFT = 5;

/** Sums of each chunk of CHUNK ranges (the last one may be shorter). */
export interface ChunkSums {
  /** the largest end and the largest size in the chunk */
  maxEnd: Float64Array;
  maxSize: Float64Array;
  /** the sum of the sizes (exact while it stays below 2^53) */
  bytes: Float64Array;
  flags: Int32Array;
  /** the span the chunk reaches in the other address space */
  otherLo: Float64Array;
  otherHi: Float64Array;
  /** sorted position of the chunk's first largest range */
  best: Int32Array;
}

export interface RangeIndex {
  start: Float64Array;
  size: Float64Array;
  maxEnd: Float64Array;
  /** flag bits of each sorted position (ORed into the blocks) */
  flags: Int32Array;
  /** item id (index in the caller's arrays) of each sorted position; null when position p is item p */
  order: Int32Array | null;
  /** each position's range in the other address space (physical for IOVA ranges); its own range when none */
  otherStart: Float64Array;
  otherSize: Float64Array;
  hasOther: boolean;
  chunks: ChunkSums;
}

/** Start and size of each item in the other address space, by item id. */
export interface OtherSpace { start: Float64Array; size: Float64Array }

/** Item id at sorted position p. */
export const itemAt = (idx: RangeIndex, p: number): number => (idx.order === null ? p : idx.order[p]);

/** Indexes ranges given in any order; `flags` (none: 0) and `other` by item id. */
export function buildRangeIndex(starts: ArrayLike<number>, sizes: ArrayLike<number>, flags?: ArrayLike<number>, other?: OtherSpace): RangeIndex {
  const n = starts.length;
  const f = flags instanceof Int32Array ? flags : Int32Array.from(flags ?? new Int32Array(n));
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = starts[i - 1] < starts[i] || (starts[i - 1] === starts[i] && sizes[i - 1] <= sizes[i]);
  if (sorted && starts instanceof Float64Array && sizes instanceof Float64Array) return sortedRangeIndex(starts, sizes, f, other);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!sorted) order.sort((a, b) => starts[a] - starts[b] || sizes[a] - sizes[b]);
  return rangeIndexInOrder(starts, sizes, f, order, other);
}

/** The range index of ranges already sorted by start (then size), over the caller's own arrays. */
export function sortedRangeIndex(starts: Float64Array, sizes: Float64Array, flags: Int32Array, other?: OtherSpace): RangeIndex {
  return finish(starts, sizes, flags, null, other ? other.start : starts, other ? other.size : sizes, other !== undefined);
}

/** The range index of ranges taken in `order` (a permutation that sorts them by start, e.g. MapMappings.byPaddr). */
export function rangeIndexInOrder(starts: ArrayLike<number>, sizes: ArrayLike<number>, flags: Int32Array, order: Int32Array,
                                  other?: OtherSpace): RangeIndex {
  const n = order.length;
  const start = new Float64Array(n);
  const size = new Float64Array(n);
  const f = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const i = order[p];
    start[p] = starts[i];
    size[p] = sizes[i];
    f[p] = flags[i];
  }
  if (!other) return finish(start, size, f, order, start, size, false);
  const oStart = new Float64Array(n);
  const oSize = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    oStart[p] = other.start[order[p]];
    oSize[p] = other.size[order[p]];
  }
  return finish(start, size, f, order, oStart, oSize, true);
}

/** The running maximum of the ends and the chunk sums, in one pass. */
function finish(start: Float64Array, size: Float64Array, flags: Int32Array, order: Int32Array | null, oStart: Float64Array,
                oSize: Float64Array, hasOther: boolean): RangeIndex {
  const n = start.length;
  const k = (n + CHUNK - 1) >> CHUNK_SHIFT;
  const c: ChunkSums = { maxEnd: new Float64Array(k), maxSize: new Float64Array(k), bytes: new Float64Array(k), flags: new Int32Array(k),
    otherLo: new Float64Array(k), otherHi: new Float64Array(k), best: new Int32Array(k) };
  const maxEnd = new Float64Array(n);
  let run = -Infinity;
  for (let j = 0; j < k; j++) {
    const first = j << CHUNK_SHIFT;
    const stop = Math.min(n, first + CHUNK);
    let cEnd = -Infinity, cSize = -Infinity, cBytes = 0, cFlags = 0, cLo = Infinity, cHi = -Infinity, cBest = first;
    for (let p = first; p < stop; p++) {
      const z = size[p];
      const e = start[p] + z;
      if (e > run) run = e;
      maxEnd[p] = run;
      if (e > cEnd) cEnd = e;
      if (z > cSize) { cSize = z; cBest = p; }
      cBytes += z;
      cFlags |= flags[p];
      const lo = oStart[p];
      const hi = lo + oSize[p];
      if (lo < cLo) cLo = lo;
      if (hi > cHi) cHi = hi;
    }
    c.maxEnd[j] = cEnd; c.maxSize[j] = cSize; c.bytes[j] = cBytes; c.flags[j] = cFlags; c.otherLo[j] = cLo; c.otherHi[j] = cHi;
    c.best[j] = cBest;
  }
  return { start, size, maxEnd, flags, order, otherStart: oStart, otherSize: oSize, hasOther, chunks: c };
}
