// The IOVA allocator of drivers/iommu/iova.c (mainline): a tree of allocated pfn ranges searched top-down
// from the limit, with the kernel's cached-node shortcuts and 32-bit fast-fail, plus the per-CPU range caches
// behind alloc_iova_fast / free_iova_fast. No events here: callers (dma-iommu, the runner) emit them from the
// rich results. Sizes are in granule-sized pages ("pfns" are IOVA page numbers).
//
// Departures from the kernel (also marked "departure:" where they happen):
// - failure is `null` where the kernel returns NULL or pfn 0 (so pfn 0 stays usable with start_pfn 0);
// - init_iova_domain's BUG_ON and bad arguments come back as a refusal object instead of a crash;
// - misuse the kernel does not notice is reported as findings; the allocator still does what the kernel does;
// - magazine allocation never fails, so free_iova_fast only falls back to free_iova for uncached sizes;
// - the depot-trimming delayed work runs when the caller says simulated time has passed (runDepotWork);
// - put() leaves an empty, reusable domain where the kernel frees it.

import { hex } from '../core/format';
import * as tree from './iova-tree';
import { IovaTree } from './iova-tree';
import * as rcache from './iova-rcache';
import { IovaRcaches, orderBase2, type SizeClassView } from './iova-rcache';
import * as findings from './iova-findings';
import { iovaFindings as F, type IovaFinding } from './iova-findings';
import { IovaArgumentError, type IovaCursorState, type IovaDomainOptions, type IovaFastAlloc, type IovaFastFree,
  type IovaFreeResult, type IovaRange, type IovaRangeInfo, type IovaRefusal } from './iova-types';

// Module-local copies: imported bindings can cost a getter call per use under some loaders (tsx), and
// these sit on the map/unmap hot path.
const NIL = tree.NIL;
const RANGE_ANCHOR = tree.RANGE_ANCHOR;
const RANGE_CACHED = tree.RANGE_CACHED;
const RANGE_FAST = tree.RANGE_FAST;
const RANGE_RESERVED = tree.RANGE_RESERVED;
const IOVA_RANGE_CACHE_MAX_SIZE = rcache.IOVA_RANGE_CACHE_MAX_SIZE;
/** sizes below this many pages are rounded up to a power of two by alloc_iova_fast */
const CACHE_ROUNDING_LIMIT = 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1);
const NO_FINDINGS = findings.NO_FINDINGS;

export * from './iova-types';

export function isIovaRefusal(x: IovaDomain | IovaRefusal): x is IovaRefusal {
  return (x as IovaRefusal).refused === true;
}

const refusal = (message: string, bug: boolean): IovaRefusal => ({ refused: true, bug, message });
const isWhole = (v: number) => Number.isSafeInteger(v) && v >= 0;
const isPowerOfTwo = (v: number) => Number.isSafeInteger(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v;

/** init_iova_domain(granule, start_pfn); a refusal instead of the kernel's BUG_ON. */
export function initIovaDomain(granule: number, startPfn: number, opts: IovaDomainOptions): IovaDomain | IovaRefusal {
  if (!isPowerOfTwo(opts.pageSize)) return refusal(`init_iova_domain: PAGE_SIZE ${opts.pageSize} is not a power of two`, false);
  if (!isWhole(startPfn)) return refusal(`init_iova_domain: start_pfn ${startPfn} is not a whole pfn`, false);
  const cpus = opts.cpus ?? 1;
  if (!Number.isSafeInteger(cpus) || cpus < 1 || cpus > 4096) return refusal(`init_iova_domain: CPU count ${cpus} is not in 1..4096`, false);
  if (!isPowerOfTwo(granule)) {
    return refusal(`kernel BUG at drivers/iommu/iova.c: init_iova_domain: granule ${Number.isFinite(granule) ? hex(granule) : granule} ` +
      'is not a power of two', true);
  }
  if (granule > opts.pageSize && !opts.largePages) {
    return refusal(`kernel BUG at drivers/iommu/iova.c: init_iova_domain: granule ${hex(granule)} > PAGE_SIZE ${hex(opts.pageSize)} ` +
      '(IOVA pages must be able to represent individual CPU pages)', true);
  }
  if (granule > 2 ** 32) return refusal(`init_iova_domain: granule ${hex(granule)} leaves no 32-bit IOVA space (above 4 GiB)`, false);
  return new IovaDomain(granule, startPfn, opts.pageSize, cpus);
}

const FREE_HISTORY_MAX = 1 << 16;

export class IovaDomain {
  readonly shift: number;
  /** first pfn above the 32-bit space: 1 << (32 - iova_shift) */
  readonly dma32bitPfn: number;
  private readonly tree = new IovaTree();
  private readonly anchor: number;
  private cached: number;
  private cached32: number;
  private max32: number;
  private rcaches: IovaRcaches | null = null;
  private cpu = 0;
  /** pfn_lo -> pfn_hi of recently removed ranges, to tell a double free from a free of something never allocated */
  private readonly freedHistory = new Map<number, number>();
  /** where findings raised inside rcache flushes go */
  private sink: IovaFinding[] | null = null;

  constructor(readonly granule: number, readonly startPfn: number, readonly pageSize: number, readonly cpuCount: number) {
    this.shift = Math.round(Math.log2(granule));
    this.dma32bitPfn = 2 ** (32 - this.shift);
    this.max32 = this.dma32bitPfn;
    this.anchor = this.tree.insert(Infinity, Infinity, RANGE_ANCHOR);
    this.cached = this.anchor;
    this.cached32 = this.anchor;
  }

  // ---- include/linux/iova.h helpers (addresses in bytes) ----
  iovaOffset(addr: number): number { return addr % this.granule; }
  iovaAlign(size: number): number { const r = size % this.granule; return r === 0 ? size : size + this.granule - r; }
  iovaAlignDown(size: number): number { return size - (size % this.granule); }
  iovaDmaAddr(pfn: number): number { return pfn * this.granule; }
  iovaPfn(addr: number): number { return Math.floor(addr / this.granule); }

  /** the CPU whose magazines alloc_iova_fast / free_iova_fast use */
  get currentCpu(): number { return this.cpu; }
  setCpu(cpu: number): void {
    if (!Number.isSafeInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) {
      throw new IovaArgumentError(`IOVA domain: CPU ${cpu} does not exist (CPUs 0..${this.cpuCount - 1})`);
    }
    this.cpu = cpu;
  }

  get max32AllocSize(): number { return this.max32; }
  get hasRcaches(): boolean { return this.rcaches !== null; }
  /** live ranges in the tree (cached ones included, anchor excluded) */
  get rangeCount(): number { return this.tree.count - 1; }
  /** bytes of node storage, for memory reports */
  get treeBytes(): number { return this.tree.byteLength; }

  /** iova_domain_init_rcaches: returns 0 (the kernel's -ENOMEM cannot happen here). Calling it twice is a no-op. */
  initRcaches(): 0 {
    this.rcaches ??= new IovaRcaches(this.cpuCount, pfn => this.freeCachedPfn(pfn));
    return 0;
  }

  // ---- the tree allocator ----

  /** alloc_iova: `size` pages at or below limitPfn, searching down from the cached node; null on failure. */
  allocIova(size: number, limitPfn: number, sizeAligned: boolean): IovaRange | null {
    checkPages('alloc_iova', size);
    checkPfn('alloc_iova', 'limit_pfn', limitPfn);
    const node = this.allocAndInsert(size, limitPfn + 1, sizeAligned, 0);
    return node === NIL ? null : { pfnLo: this.tree.lo[node], pfnHi: this.tree.hi[node] };
  }

  /** __alloc_and_insert_iova_range; limitExcl is limit_pfn + 1 as the kernel passes it. Returns the node or NIL. */
  private allocAndInsert(size: number, limitExcl: number, sizeAligned: boolean, flags: number): number {
    const t = this.tree;
    // align_mask = ~0UL << fls_long(size - 1): alignment 2^fls(size - 1), i.e. roundup_pow_of_two(size)
    let align = 1;
    if (sizeAligned) while (align < size) align *= 2;
    if (limitExcl <= this.dma32bitPfn && size >= this.max32) return NIL;   // 32-bit space known to be full

    let curr = limitExcl <= this.dma32bitPfn ? this.cached32 : this.cached;
    const retryPfn = t.hi[curr];
    let high = limitExcl;
    let low = this.startPfn;
    let newPfn = 0;
    let retried = false;
    for (;;) {
      do {
        high = Math.min(high, t.lo[curr]);
        newPfn = high - size;
        if (align > 1) newPfn = Math.floor(newPfn / align) * align;
        curr = t.prev(curr);
      } while (curr !== NIL && newPfn <= t.hi[curr] && newPfn >= low);
      if (high >= size && newPfn >= low) break;
      // Second pass over the space between the cached node and the limit. The kernel starts it from
      // iova_find_limit() (or the anchor when the limit is above 32 bits); starting from the lowest node
      // reaching the limit visits the same gaps with the same result. departure: `retried` stops a second
      // retry, which the kernel would only attempt (forever) if the cached node ended at start_pfn - 1.
      if (!retried && low === this.startPfn && retryPfn < limitExcl) {
        retried = true;
        high = limitExcl;
        low = retryPfn + 1;
        curr = t.lowerBoundHi(limitExcl);
        continue;
      }
      this.max32 = size;   // the kernel records every failed size, whatever the limit
      return NIL;
    }
    const node = t.insert(newPfn, newPfn + size - 1, flags);
    if (node === NIL) return NIL;   // cannot happen: the slot lies in a gap (the kernel WARNs here)
    if (t.hi[node] < this.dma32bitPfn) this.cached32 = node;
    else this.cached = node;
    return node;
  }

  /** find_iova: the range containing pfn. */
  findIova(pfn: number): IovaRangeInfo | null {
    checkPfn('find_iova', 'pfn', pfn);
    const node = this.tree.find(pfn);
    return node === NIL ? null : this.info(node);
  }

  /**
   * reserve_iova: keeps [pfnLo, pfnHi] away from the allocator. Like the kernel it merges with what is
   * already there: overlapped ranges are stretched down to cover the gaps below them and only the part above
   * the last overlapped range becomes a new node. Returns the range that ends the reservation.
   */
  reserveIova(pfnLo: number, pfnHi: number): IovaRange | null {
    checkPfn('reserve_iova', 'pfn_lo', pfnLo);
    checkPfn('reserve_iova', 'pfn_hi', pfnHi);
    if (pfnHi < pfnLo) throw new IovaArgumentError(`reserve_iova: pfn_hi ${hex(pfnHi)} is below pfn_lo ${hex(pfnLo)}`);
    const t = this.tree;
    let lo = pfnLo;
    // The kernel scans from the first node; nodes ending below pfn_lo cannot overlap, and once a node
    // starts above the range nothing later can, so scanning [lowerBound, first miss] is the same.
    for (let x = t.lowerBoundHi(lo); x !== NIL && t.lo[x] <= pfnHi; x = t.next(x)) {
      if (lo < t.lo[x]) t.lo[x] = lo;
      if (pfnHi <= t.hi[x]) return { pfnLo: t.lo[x], pfnHi: t.hi[x] };
      lo = t.hi[x] + 1;
    }
    const node = t.insert(lo, pfnHi, RANGE_RESERVED);
    return { pfnLo: t.lo[node], pfnHi: t.hi[node] };
  }

  /** free_iova: removes the range containing pfn. Misuse is reported; the kernel ignores an unknown pfn. */
  freeIova(pfn: number): IovaFreeResult {
    checkPfn('free_iova', 'pfn', pfn);
    const node = this.tree.find(pfn);
    if (node === NIL) return { freed: null, findings: [this.unknownPfnFinding('free_iova', pfn, false)] };
    const flags = this.tree.flags[node];
    let findings = NO_FINDINGS;
    if (flags & RANGE_CACHED) findings = [F.freeIovaOnCachedRange('free_iova', this.tree.lo[node], this.tree.hi[node])];
    else if (flags & RANGE_FAST) findings = [F.freeIovaOnFastRange(this.tree.lo[node], this.tree.hi[node])];
    return { freed: this.removeNode(node), findings };
  }

  /** __free_iova: removes the range a caller holds (as alloc_iova or reserve_iova returned it). */
  __freeIova(range: IovaRange): IovaFreeResult {
    checkPfn('__free_iova', 'pfn_lo', range.pfnLo);
    const node = this.tree.find(range.pfnLo);
    if (node === NIL || this.tree.lo[node] !== range.pfnLo || this.tree.hi[node] !== range.pfnHi) {
      return { freed: null, findings: [this.unknownPfnFinding('__free_iova', range.pfnLo, false)] };
    }
    return this.freeIova(range.pfnLo);
  }

  /** remove_iova with __cached_rbnode_delete_update; returns the removed range. */
  private removeNode(node: number): IovaRange {
    const t = this.tree;
    const lo = t.lo[node];
    const hi = t.hi[node];
    if (node === this.cached32 || (hi < this.dma32bitPfn && lo >= t.lo[this.cached32])) this.cached32 = t.next(node);
    if (lo < this.dma32bitPfn) this.max32 = this.dma32bitPfn;
    if (lo >= t.lo[this.cached]) this.cached = t.next(node);
    t.remove(node);
    this.freedHistory.delete(lo);
    this.freedHistory.set(lo, hi);
    if (this.freedHistory.size > FREE_HISTORY_MAX) this.freedHistory.delete(this.freedHistory.keys().next().value!);
    return { pfnLo: lo, pfnHi: hi };
  }

  private unknownPfnFinding(fn: string, pfn: number, cachedAnyway: boolean): IovaFinding {
    const hi = this.freedHistory.get(pfn);
    return hi === undefined ? F.freeUnknownPfn(fn, pfn, cachedAnyway) : F.freeAlreadyFreed(fn, pfn, pfn, hi, cachedAnyway);
  }

  // ---- the range caches ----

  /**
   * alloc_iova_fast: sizes below 32 pages are rounded up to a power of two, so every size up to 32 pages maps
   * to one cache; the current CPU's cache is tried, then alloc_iova(size_aligned); if that fails and
   * flushRcache is set, every cached range goes back to the tree and the allocation is retried once.
   */
  allocIovaFast(size: number, limitPfn: number, flushRcache: boolean): IovaFastAlloc {
    checkPages('alloc_iova_fast', size);
    checkPfn('alloc_iova_fast', 'limit_pfn', limitPfn);
    let pages = size;
    if (size < CACHE_ROUNDING_LIMIT) { pages = 1; while (pages < size) pages *= 2; }
    const order = orderBase2(pages);
    const cacheable = order < IOVA_RANGE_CACHE_MAX_SIZE;
    if (cacheable && this.rcaches === null) return { pfn: null, pages, fromCache: false, flushed: false, findings: NO_FINDINGS, oops: noRcachesOops('iova_rcache_get') };

    if (cacheable) {
      // iova_rcache_get gets limit_pfn + 1 - size as an unsigned long: a limit below the size wraps round
      // and then accepts any cached pfn.
      const maxPfn = limitPfn + 1 - pages;
      const pfn = this.rcaches!.get(this.cpu, order, maxPfn < 0 ? Infinity : maxPfn);
      if (pfn >= 0) return { pfn, pages, fromCache: true, flushed: false, findings: this.takeFromCache(pfn, pages), oops: undefined };
    }
    let node = this.allocAndInsert(pages, limitPfn + 1, true, RANGE_FAST);
    let flushed = false;
    let findings = NO_FINDINGS;
    if (node === NIL && flushRcache) {
      // free_cpu_cached_iovas dereferences the rcaches even for uncached sizes
      if (this.rcaches === null) return { pfn: null, pages, fromCache: false, flushed: false, findings: NO_FINDINGS, oops: noRcachesOops('free_cpu_cached_iovas') };
      flushed = true;
      findings = this.collect(() => {
        for (let c = 0; c < this.cpuCount; c++) this.rcaches!.freeCpu(c);
        this.rcaches!.freeGlobal();
      });
      node = this.allocAndInsert(pages, limitPfn + 1, true, RANGE_FAST);
    }
    return { pfn: node === NIL ? null : this.tree.lo[node], pages, fromCache: false, flushed, findings, oops: undefined };
  }

  /** The cache handed out pfn: mark its range live again, or report what the cache got wrong. */
  private takeFromCache(pfn: number, pages: number): readonly IovaFinding[] {
    const t = this.tree;
    const node = t.find(pfn);
    if (node === NIL) return [F.popStale(pfn, pages)];
    if (t.lo[node] !== pfn || !(t.flags[node] & RANGE_CACHED)) return [F.popLive(pfn, pages, t.lo[node], t.hi[node])];
    t.flags[node] = (t.flags[node] & ~RANGE_CACHED) | RANGE_FAST;
    if (t.hi[node] - t.lo[node] + 1 !== pages) return [F.popWrongSize(pfn, pages, t.lo[node], t.hi[node])];
    return NO_FINDINGS;
  }

  /** free_iova_fast: into the current CPU's cache when the size is cached, else free_iova. */
  freeIovaFast(pfn: number, size: number): IovaFastFree {
    checkPfn('free_iova_fast', 'pfn', pfn);
    checkPages('free_iova_fast', size);
    const order = orderBase2(size);
    const cacheable = order < IOVA_RANGE_CACHE_MAX_SIZE;
    if (cacheable && this.rcaches === null) return { cached: false, freed: null, findings: NO_FINDINGS, oops: noRcachesOops('iova_rcache_insert') };
    const node = this.tree.find(pfn);
    const findings = this.checkFastFree(node, pfn, size, cacheable);
    if (cacheable) {
      this.rcaches!.insert(this.cpu, pfn, order);
      if (node !== NIL && this.tree.lo[node] === pfn) this.tree.flags[node] |= RANGE_CACHED;
      return { cached: true, freed: null, findings, oops: undefined };
    }
    return { cached: false, freed: node === NIL ? null : this.removeNode(node), findings, oops: undefined };
  }

  private checkFastFree(node: number, pfn: number, size: number, cacheable: boolean): readonly IovaFinding[] {
    const t = this.tree;
    if (node === NIL) return [this.unknownPfnFinding('free_iova_fast', pfn, cacheable)];
    const lo = t.lo[node];
    const hi = t.hi[node];
    const flags = t.flags[node];
    if (lo !== pfn) return [F.freeInteriorPfn(pfn, lo, hi)];
    if (flags & RANGE_CACHED) return [F.freeIovaOnCachedRange('free_iova_fast', lo, hi)];
    if (!(flags & RANGE_FAST)) return [F.freeFastOnSlowRange(lo, hi, (flags & RANGE_RESERVED) !== 0)];
    const pages = hi - lo + 1;
    let rounded = size;
    if (size < CACHE_ROUNDING_LIMIT) { rounded = 1; while (rounded < size) rounded *= 2; }
    if (rounded === pages) return NO_FINDINGS;
    return [F.wrongSizeFree(pfn, size, rounded, pages, cacheable && orderBase2(size) !== orderBase2(pages))];
  }

  /** A pfn leaving the caches for the tree (iova_magazine_free_pfns). */
  private freeCachedPfn(pfn: number): void {
    const node = this.tree.find(pfn);
    if (node === NIL) { this.sink?.push(F.flushMissing(pfn)); return; }
    if (!(this.tree.flags[node] & RANGE_CACHED)) this.sink?.push(F.flushLive(pfn, this.tree.lo[node], this.tree.hi[node]));
    this.removeNode(node);
  }

  private collect(work: () => void): readonly IovaFinding[] {
    const sink: IovaFinding[] = [];
    this.sink = sink;
    try { work(); } finally { this.sink = null; }
    return sink.length ? sink : NO_FINDINGS;
  }

  /** iova_cpuhp_dead: a CPU went offline; its magazines are emptied back into the tree. */
  cpuDead(cpu: number): readonly IovaFinding[] {
    if (!Number.isSafeInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) throw new IovaArgumentError(`iova_cpuhp_dead: CPU ${cpu} does not exist`);
    return this.rcaches ? this.collect(() => this.rcaches!.freeCpu(cpu)) : NO_FINDINGS;
  }

  /** True when depot-trimming work is scheduled (a full magazine went to a depot). */
  get depotWorkPending(): boolean { return this.rcaches?.depotWorkPending ?? false; }

  /** One run of the delayed depot work (call once per IOVA_DEPOT_DELAY_MS of simulated time). */
  runDepotWork(): readonly IovaFinding[] {
    return this.rcaches ? this.collect(() => this.rcaches!.runDepotWork(this.cpuCount)) : NO_FINDINGS;
  }

  /** put_iova_domain: frees the caches and every range; the domain is empty (anchor only) afterwards. */
  put(): void {
    this.rcaches = null;
    for (let x = this.tree.first(); x !== NIL;) {
      const next = this.tree.next(x);
      if (x !== this.anchor) this.tree.remove(x);
      x = next;
    }
    this.cached = this.cached32 = this.anchor;
    this.max32 = this.dma32bitPfn;
    this.freedHistory.clear();
  }

  // ---- views ----

  private info(node: number): IovaRangeInfo {
    const f = this.tree.flags[node];
    return {
      pfnLo: this.tree.lo[node], pfnHi: this.tree.hi[node],
      fast: (f & RANGE_FAST) !== 0, cached: (f & RANGE_CACHED) !== 0, reserved: (f & RANGE_RESERVED) !== 0,
    };
  }

  /** Every range in the tree, lowest first (cached ranges included: they are still allocated). */
  ranges(): IovaRangeInfo[] {
    const out: IovaRangeInfo[] = [];
    for (let x = this.tree.first(); x !== NIL; x = this.tree.next(x)) if (x !== this.anchor) out.push(this.info(x));
    return out;
  }

  /** Ranges overlapping [pfnLo, pfnHi], lowest first, at most `max` of them (for views of large domains). */
  rangesIn(pfnLo: number, pfnHi: number, max = 10_000): IovaRangeInfo[] {
    const out: IovaRangeInfo[] = [];
    const t = this.tree;
    for (let x = t.lowerBoundHi(pfnLo); x !== NIL && x !== this.anchor && t.lo[x] <= pfnHi && out.length < max; x = t.next(x)) {
      out.push(this.info(x));
    }
    return out;
  }

  /** Per size class: each CPU's loaded and prev magazines and the depot; null before initRcaches. */
  rcacheState(): SizeClassView[] | null {
    return this.rcaches ? this.rcaches.state() : null;
  }

  /** The allocator's search state: where the next top-down walks start. */
  cursorState(): IovaCursorState {
    const at = (n: number): IovaRange | null => n === this.anchor ? null : { pfnLo: this.tree.lo[n], pfnHi: this.tree.hi[n] };
    return { cachedNode: at(this.cached), cached32Node: at(this.cached32), max32AllocSize: this.max32, dma32bitPfn: this.dma32bitPfn };
  }

  /** Tree invariants (red-black shape, order, no overlap); null when sound. For tests. */
  verifyTree(): string | null {
    return this.tree.verify();
  }
}

function noRcachesOops(fn: string): string {
  return `Unable to handle kernel NULL pointer dereference in ${fn}: alloc_iova_fast/free_iova_fast on an IOVA domain ` +
    'whose rcaches were never set up (iova_domain_init_rcaches not called)';
}

function checkPages(fn: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 1) throw new IovaArgumentError(`${fn}: size ${size} is not a positive whole number of pages`);
}

function checkPfn(fn: string, what: string, pfn: number): void {
  if (!isWhole(pfn)) throw new IovaArgumentError(`${fn}: ${what} ${pfn} is not a whole pfn below 2^53`);
}
