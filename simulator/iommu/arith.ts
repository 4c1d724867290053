// Address arithmetic of the map/unmap hot paths. Addresses are numbers (exact below 2^53) and routinely
// pass 2^31, where `%` compiles to a call of C's fmod: several times dearer than the division below, and
// there are a dozen such remainders in one dma_map_single + dma_unmap_single.

/** 2^53: sums below it are exact */
const EXACT = 9007199254740992;

/**
 * x % m, exactly as `%` gives it. For 0 < x and a positive integer m with x + m < 2^53 the division cannot
 * round across an integer, so floor(x / m) is the true quotient and every step is exact; anything else
 * (zero, whose sign `%` keeps, negative or unsafe values, NaN, fractions) takes `%` itself.
 */
export function modulo(x: number, m: number): number {
  if (x > 0 && m > 0 && x + m < EXACT && Math.floor(m) === m) return x - Math.floor(x / m) * m;
  return x % m;
}

/** x - x % m: the start of the m-sized block holding x (for the x and m modulo() takes on its fast path). */
export function alignDown(x: number, m: number): number {
  return x - modulo(x, m);
}
