// Findings the IOVA allocator raises when a caller misuses it. The kernel itself notices almost none of
// these (free_iova of an unknown pfn returns silently, the rcache takes any pfn it is given); the
// simulator reports them where the mistake is made and, where the kernel does react later (the WARN in
// iova_magazine_free_pfns), where the kernel would. The caller stamps step and site.

import type { Finding } from '../core/events';
import { hex } from '../core/format';

export type IovaFinding = Omit<Finding, 'step' | 'site'> & { data: Record<string, unknown> };

export const IOVA_FINDING_CODES = [
  'wrong-free-function', // free_iova on an alloc_iova_fast range, free_iova_fast on an alloc_iova/reserve_iova range
  'double-free',         // a range freed twice (directly, or once into the rcache and once more)
  'free-unmapped',       // a pfn that is in no range, or not the first pfn of its range
  'wrong-size-free',     // free_iova_fast with a size that rounds differently from the allocation
  'rcache-corruption',   // the rcache hands out or flushes a pfn whose range is gone, live, or a different size
] as const;
export type IovaFindingCode = typeof IOVA_FINDING_CODES[number];

/** Shared empty result so the hot path allocates nothing when all is well. */
export const NO_FINDINGS: readonly IovaFinding[] = Object.freeze([]);

const range = (lo: number, hi: number) => `[${hex(lo)}-${hex(hi)}]`;

function finding(code: IovaFindingCode, severity: IovaFinding['severity'], message: string,
  data: Record<string, unknown>): IovaFinding {
  return { code, severity, message, data };
}

export const iovaFindings = {
  freeIovaOnFastRange: (lo: number, hi: number) => finding('wrong-free-function', 'warning',
    `free_iova: IOVA range ${range(lo, hi)} was allocated with alloc_iova_fast; free it with free_iova_fast ` +
    '(free_iova bypasses the per-CPU IOVA caches)', { pfnLo: lo, pfnHi: hi, allocatedBy: 'alloc_iova_fast', freedBy: 'free_iova' }),

  freeIovaOnCachedRange: (fn: string, lo: number, hi: number) => finding('double-free', 'error',
    `${fn}: IOVA range ${range(lo, hi)} was already freed with free_iova_fast and is sitting in the rcache; ` +
    (fn === 'free_iova'
      ? 'its tree node is removed now, but the cache will still hand the pfn out and WARN when it is flushed'
      : 'the cache now holds it twice and will hand it out twice'),
    { pfnLo: lo, pfnHi: hi, freedBy: fn }),

  freeUnknownPfn: (fn: string, pfn: number, cachedAnyway: boolean) => finding('free-unmapped', 'error',
    `${fn}: pfn ${hex(pfn)} is not in any IOVA range` +
    (cachedAnyway ? '; the rcache takes it anyway and will hand it out as if it were free' : ' (the kernel silently ignores it)'),
    { pfn, freedBy: fn }),

  freeAlreadyFreed: (fn: string, pfn: number, lo: number, hi: number, cachedAnyway: boolean) => finding('double-free', 'error',
    `${fn}: pfn ${hex(pfn)} was already freed (range ${range(lo, hi)})` +
    (cachedAnyway ? '; the rcache takes it again and will hand it out as if it were free' : ' (the kernel silently ignores it)'),
    { pfn, pfnLo: lo, pfnHi: hi, freedBy: fn }),

  freeInteriorPfn: (pfn: number, lo: number, hi: number) => finding('free-unmapped', 'error',
    `free_iova_fast: pfn ${hex(pfn)} is inside IOVA range ${range(lo, hi)} but is not its first pfn; ` +
    'the rcache will hand it out as the start of a free range', { pfn, pfnLo: lo, pfnHi: hi }),

  freeFastOnSlowRange: (lo: number, hi: number, reserved: boolean) => finding('wrong-free-function',
    reserved ? 'error' : 'warning',
    `free_iova_fast: IOVA range ${range(lo, hi)} was ${reserved ? 'reserved with reserve_iova' : 'allocated with alloc_iova'}; ` +
    (reserved ? 'freeing it hands the reserved window out to later allocations' : 'free it with free_iova (the rcache ' +
      'will hand it out as a size-aligned power-of-two range)'),
    { pfnLo: lo, pfnHi: hi, allocatedBy: reserved ? 'reserve_iova' : 'alloc_iova', freedBy: 'free_iova_fast' }),

  wrongSizeFree: (pfn: number, size: number, rounded: number, pages: number, corruptsCache: boolean) =>
    finding('wrong-size-free', corruptsCache ? 'error' : 'warning',
      `free_iova_fast: frees pfn ${hex(pfn)} with size ${size} pages` + (rounded !== size ? ` (rounded to ${rounded})` : '') +
      ` but alloc_iova_fast reserved ${pages} pages ${range(pfn, pfn + pages - 1)}` +
      (corruptsCache ? `; the range goes into the ${roundPow2(size)}-page cache and will be handed out with the wrong size` : ''),
      { pfn, size, roundedSize: rounded, allocatedPages: pages }),

  popStale: (pfn: number, pages: number) => finding('rcache-corruption', 'error',
    `alloc_iova_fast: the rcache handed out pfn ${hex(pfn)} (${pages} pages) but no IOVA range is reserved there ` +
    '(it was freed while cached, or never allocated): later allocations can overlap it', { pfn, pages }),

  popLive: (pfn: number, pages: number, lo: number, hi: number) => finding('rcache-corruption', 'error',
    `alloc_iova_fast: the rcache handed out pfn ${hex(pfn)} (${pages} pages), which lies in live IOVA range ${range(lo, hi)}: ` +
    'two users now own the same IOVA space', { pfn, pages, pfnLo: lo, pfnHi: hi }),

  popWrongSize: (pfn: number, pages: number, lo: number, hi: number) => finding('rcache-corruption', 'error',
    `alloc_iova_fast: the rcache handed out pfn ${hex(pfn)} as ${pages} pages but its IOVA range ${range(lo, hi)} ` +
    `is ${hi - lo + 1} pages (it was freed with the wrong size)`, { pfn, pages, pfnLo: lo, pfnHi: hi }),

  flushMissing: (pfn: number) => finding('double-free', 'error',
    `WARNING: drivers/iommu/iova.c: iova_magazine_free_pfns: cached pfn ${hex(pfn)} has no IOVA range ` +
    '(WARN_ON(!iova): it was freed with free_iova while it sat in the rcache)', { pfn }),

  flushLive: (pfn: number, lo: number, hi: number) => finding('rcache-corruption', 'error',
    `iova_magazine_free_pfns: cached pfn ${hex(pfn)} belongs to live IOVA range ${range(lo, hi)}, ` +
    'which is freed under its user', { pfn, pfnLo: lo, pfnHi: hi }),
};

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
