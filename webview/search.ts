// Binary searches over sorted numeric arrays, shared by the model builder, level of detail and hit testing.

type Numbers = ArrayLike<number>;

/** First index i with a[i] >= v (a sorted ascending); a.length when none. */
export function lowerBound(a: Numbers, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > v (a sorted ascending); a.length when none. */
export function upperBound(a: Numbers, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Running maximum of range ends, for ranges sorted by start that may overlap (a stale IOTLB entry and the
 * mapping that reused its IOVA). maxEnd is non-decreasing, so "first range that may reach past x" is a
 * binary search on it.
 */
export function prefixMaxEnd(starts: Numbers, sizes: Numbers): Float64Array {
  const out = new Float64Array(starts.length);
  let m = -Infinity;
  for (let i = 0; i < starts.length; i++) {
    m = Math.max(m, starts[i] + sizes[i]);
    out[i] = m;
  }
  return out;
}

/**
 * Indexes of the ranges (sorted by start, with their prefixMaxEnd) that contain address x, in start order.
 * `limit` caps the scan for pathological overlap.
 */
export function rangesContaining(starts: Numbers, sizes: Numbers, maxEnd: Numbers, x: number, limit = 64): number[] {
  const out: number[] = [];
  const stop = upperBound(starts, x);
  for (let i = upperBound(maxEnd, x); i < stop && out.length < limit; i++) {
    if (starts[i] + sizes[i] > x) out.push(i);
  }
  return out;
}
