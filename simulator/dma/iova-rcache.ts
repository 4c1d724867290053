// The IOVA range caches (iova.c "magazines"): one cache per size class (order 0..5), each with a `loaded` and a
// `prev` magazine per CPU and a depot of full magazines. The caches hold bare pfns, as in the kernel; the
// ranges themselves stay allocated in the tree, and returning them to the tree is the domain's job
// (the `freePfn` callback, iova_magazine_free_pfns' per-pfn work).
//
// Mainline behaviour modelled (v6.7 onwards):
// - IOVA_MAG_SIZE is 127 since v6.0 (128 before) so a magazine with its size word fills a 1 KiB slab object.
// - The depot is an unbounded list of full magazines (v6.7, "Make the rcache depot scale better"); older
//   kernels had a fixed array of MAX_GLOBAL_MAGS = 32 and freed the loaded magazine when it was full.
// - Pushing to the depot schedules delayed work (IOVA_DEPOT_DELAY, 100 ms) that, while the depot holds more
//   magazines than there are online CPUs, frees one magazine and reschedules itself. The simulator has no
//   clock of its own: whoever advances simulated time calls runDepotWork() once per elapsed delay.
// - Magazine allocation (GFP_ATOMIC) never fails here, so insertion only fails for sizes the caches do not cover.

/** log2 of the largest cached range size plus one: ranges of up to 2^5 = 32 pages are cached. */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** pfns per magazine in mainline (v6.0+); kernels before v6.0 used 128. */
export const IOVA_MAG_SIZE = 127;
/** delay of the depot-trimming work, in milliseconds */
export const IOVA_DEPOT_DELAY_MS = 100;

/** iova_rcache_range(): bytes up to which dma-iommu mappings benefit from the caches (PAGE_SIZE << 5). */
export function iovaRcacheRange(pageSize: number): number {
  return pageSize * 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1);
}

const SMALL_ORDERS = Array.from({ length: 65 }, (_, n) => Math.ceil(Math.log2(Math.max(1, n))));

/** order_base_2(n): ceil(log2(n)) for n >= 1 (0 for n = 1). */
export function orderBase2(n: number): number {
  if (n <= 64) return SMALL_ORDERS[n];
  let order = 0;
  let p = 1;
  while (p < n) { p *= 2; order++; }
  return order;
}

class Magazine {
  size = 0;
  readonly pfns = new Float64Array(IOVA_MAG_SIZE);

  get full(): boolean { return this.size === IOVA_MAG_SIZE; }
  get empty(): boolean { return this.size === 0; }

  push(pfn: number): void {
    this.pfns[this.size++] = pfn;
  }

  /** Takes the topmost pfn that is <= limit, searching the whole magazine; -1 when none is. */
  pop(limit: number): number {
    if (this.size === 0) return -1;
    let i = this.size - 1;
    while (this.pfns[i] > limit) {
      if (i === 0) return -1;
      i--;
    }
    const pfn = this.pfns[i];
    this.pfns[i] = this.pfns[--this.size];   // the kernel swaps the last entry into the hole
    return pfn;
  }

  /** Hands every pfn to `free` in array order, leaving the magazine empty. */
  drain(free: (pfn: number) => void): void {
    const n = this.size;
    this.size = 0;
    for (let i = 0; i < n; i++) free(this.pfns[i]);
  }

  list(): number[] {
    return Array.from(this.pfns.subarray(0, this.size));
  }
}

interface CpuMagazines {
  loaded: Magazine;
  prev: Magazine;
}

/** struct iova_rcache: one size class. */
class SizeClassCache {
  readonly cpus: CpuMagazines[];
  /** full magazines; the end of the array is the head of the kernel's list */
  readonly depot: Magazine[] = [];
  depotWorkPending = false;

  constructor(cpuCount: number) {
    this.cpus = [];
    for (let c = 0; c < cpuCount; c++) this.cpus.push({ loaded: new Magazine(), prev: new Magazine() });
  }
}

export interface SizeClassView {
  order: number;
  /** range size in pages this class caches (2^order) */
  pages: number;
  /** per CPU, pfns in magazine order (the last one is popped first) */
  cpus: Array<{ loaded: number[]; prev: number[] }>;
  /** full magazines, head of the depot list first */
  depot: number[][];
  depotWorkPending: boolean;
}

export class IovaRcaches {
  private readonly classes: SizeClassCache[] = [];

  constructor(readonly cpuCount: number, private readonly freePfn: (pfn: number) => void) {
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) this.classes.push(new SizeClassCache(cpuCount));
  }

  /** iova_rcache_insert for order_base_2(size): false when that order is not cached (the caller then frees
   *  through the tree). */
  insert(cpu: number, pfn: number, order: number): boolean {
    if (order >= IOVA_RANGE_CACHE_MAX_SIZE) return false;
    const rc = this.classes[order];
    const mags = rc.cpus[cpu];
    if (mags.loaded.full) {
      if (!mags.prev.full) {
        const t = mags.loaded; mags.loaded = mags.prev; mags.prev = t;
      } else {
        rc.depot.push(mags.loaded);
        rc.depotWorkPending = true;
        mags.loaded = new Magazine();
      }
    }
    mags.loaded.push(pfn);
    return true;
  }

  /**
   * iova_rcache_get for order_base_2(size): a cached pfn no higher than `maxPfn` (the kernel passes
   * limit_pfn + 1 - size), or -1. Only the loaded magazine is searched once one is chosen.
   */
  get(cpu: number, order: number, maxPfn: number): number {
    if (order >= IOVA_RANGE_CACHE_MAX_SIZE) return -1;
    const rc = this.classes[order];
    const mags = rc.cpus[cpu];
    if (mags.loaded.empty) {
      if (!mags.prev.empty) {
        const t = mags.loaded; mags.loaded = mags.prev; mags.prev = t;
      } else if (rc.depot.length > 0) {
        mags.loaded = rc.depot.pop()!;
      } else {
        return -1;
      }
    }
    return mags.loaded.pop(maxPfn);
  }

  /** free_cpu_cached_iovas: every class, loaded then prev magazine of one CPU. */
  freeCpu(cpu: number): void {
    for (const rc of this.classes) {
      rc.cpus[cpu].loaded.drain(this.freePfn);
      rc.cpus[cpu].prev.drain(this.freePfn);
    }
  }

  /** free_global_cached_iovas: empties every depot, head first. */
  freeGlobal(): void {
    for (const rc of this.classes) {
      while (rc.depot.length > 0) rc.depot.pop()!.drain(this.freePfn);
    }
  }

  /** True when some class has depot-trimming work scheduled. */
  get depotWorkPending(): boolean {
    return this.classes.some(rc => rc.depotWorkPending);
  }

  /**
   * One run of iova_depot_work_func for every class with work pending: while the depot holds more
   * magazines than online CPUs, free the head magazine and stay scheduled. Returns the pfns freed.
   */
  runDepotWork(onlineCpus: number): number {
    let freed = 0;
    for (const rc of this.classes) {
      if (!rc.depotWorkPending) continue;
      if (rc.depot.length > onlineCpus) {
        const mag = rc.depot.pop()!;
        freed += mag.size;
        mag.drain(this.freePfn);
      } else {
        rc.depotWorkPending = false;
      }
    }
    return freed;
  }

  /** Number of pfns currently cached, all classes and CPUs. */
  get cachedCount(): number {
    let n = 0;
    for (const rc of this.classes) {
      for (const m of rc.cpus) n += m.loaded.size + m.prev.size;
      for (const d of rc.depot) n += d.size;
    }
    return n;
  }

  state(): SizeClassView[] {
    return this.classes.map((rc, order) => ({
      order,
      pages: 2 ** order,
      cpus: rc.cpus.map(m => ({ loaded: m.loaded.list(), prev: m.prev.list() })),
      depot: rc.depot.map(m => m.list()).reverse(),
      depotWorkPending: rc.depotWorkPending,
    }));
  }
}
