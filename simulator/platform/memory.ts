// Physical memory: a buddy page allocator (mm/page_alloc.c: lowest half of a split goes to the caller,
// buddies merge on free) and kmalloc size classes carved from slabs (mm/slub.c, simplified), plus the
// registry of CPU buffers that exposure findings and the views name.
import { getOrder, hex, sizeLabel } from '../core/format';

/** arm64 CONFIG_ARCH_FORCE_MAX_ORDER per page size (largest buddy block = PAGE_SIZE << order). */
export function maxPageOrder(pageSize: number): number {
  return pageSize === 4096 ? 10 : pageSize === 16384 ? 11 : 13;
}

/** kmalloc caches: powers of two from 8 bytes, plus kmalloc-96 and kmalloc-192. */
const KMALLOC_CLASSES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];

export interface CpuBuffer {
  id: string;
  kind: 'kmalloc' | 'pages' | 'pgtable' | 'coherent' | 'swiotlb' | 'gem' | 'firmware';
  paddr: number;
  size: number;
  owner: string;                // "step 3 kmalloc", "apu gem 2", "io-pgtable d1"
  freed: boolean;
  order?: number;               // page allocations
}

export class BuddyAllocator {
  private readonly free: Array<Set<number>>;   // per order: free block start pfns (insertion ordered)
  readonly maxOrder: number;
  readonly basePfn: number;
  readonly pages: number;
  freePages = 0;

  constructor(readonly base: number, readonly size: number, readonly pageSize: number) {
    this.maxOrder = maxPageOrder(pageSize);
    this.basePfn = base / pageSize;
    this.pages = size / pageSize;
    this.free = Array.from({ length: this.maxOrder + 1 }, () => new Set<number>());
    // Seed the free lists with the largest naturally aligned blocks that fit.
    let pfn = this.basePfn;
    const end = this.basePfn + this.pages;
    while (pfn < end) {
      let order = this.maxOrder;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > end)) order--;
      this.free[order].add(pfn);
      this.freePages += 2 ** order;
      pfn += 2 ** order;
    }
  }

  /** Returns the first pfn of 2^order pages, or null when no block is free (the kernel returns NULL). */
  alloc(order: number): number | null {
    if (order > this.maxOrder) return null;
    let o = order;
    while (o <= this.maxOrder && this.free[o].size === 0) o++;
    if (o > this.maxOrder) return null;
    const pfn = this.free[o].values().next().value as number;
    this.free[o].delete(pfn);
    // expand(): keep the low half, put the high halves back on the lower free lists.
    while (o > order) {
      o--;
      this.free[o].add(pfn + 2 ** o);
    }
    this.freePages -= 2 ** order;
    return pfn;
  }

  release(pfn: number, order: number): void {
    this.freePages += 2 ** order;
    while (order < this.maxOrder) {
      const size = 2 ** order;
      // __find_buddy_pfn: pfn ^ (1 << order), on the absolute pfn (free blocks are naturally aligned, as seeded)
      const buddy = (pfn / size) % 2 === 0 ? pfn + size : pfn - size;
      if (!this.free[order].has(buddy)) break;
      this.free[order].delete(buddy);
      pfn = Math.min(pfn, buddy);
      order++;
    }
    this.free[order].add(pfn);
  }

  contains(paddr: number): boolean {
    return paddr >= this.base && paddr < this.base + this.size;
  }

  /** The free lists (start pfns per order), read-only: for the consistency checks of simulator/invariants.ts. */
  freeLists(): ReadonlyArray<ReadonlySet<number>> {
    return this.free;
  }
}

interface SlabCache { objSize: number; freeObjs: number[] }

/** Physical memory with its allocators and the buffer registry. */
export class PhysicalMemory {
  readonly buddy: BuddyAllocator;
  private readonly caches = new Map<number, SlabCache>();
  private readonly buffers = new Map<number, CpuBuffer>();   // by paddr, live ones
  private readonly allBuffers: CpuBuffer[] = [];
  private nextId = 1;

  constructor(readonly base: number, readonly size: number, readonly pageSize: number) {
    this.buddy = new BuddyAllocator(base, size, pageSize);
  }

  /** alloc_pages(order): null when exhausted. */
  allocPages(order: number, kind: CpuBuffer['kind'], owner: string, track = true): CpuBuffer | null {
    const pfn = this.buddy.alloc(order);
    if (pfn === null) return null;
    const buf: CpuBuffer = { id: `${kind}${this.nextId++}`, kind, paddr: pfn * this.pageSize, size: this.pageSize * 2 ** order, owner, freed: false, order };
    if (track) this.track(buf);
    return buf;
  }

  freePages(paddr: number, order: number): CpuBuffer | undefined {
    const buf = this.buffers.get(paddr);
    this.buddy.release(paddr / this.pageSize, order);
    if (buf) this.untrack(buf);
    return buf;
  }

  /** kmalloc(size): a slab object for small sizes, whole pages above KMALLOC_MAX_CACHE_SIZE (2 pages). */
  kmalloc(size: number, owner: string): CpuBuffer | null {
    if (size === 0) return null;   // ZERO_SIZE_PTR in the kernel; no memory
    if (size > 2 * this.pageSize) {
      const buf = this.allocPages(getOrder(size, this.pageSize), 'kmalloc', owner);
      if (buf) buf.size = size;     // the caller asked for size; the pages behind it are 2^order
      return buf;
    }
    const objSize = KMALLOC_CLASSES.find(c => c >= size)!;
    let cache = this.caches.get(objSize);
    if (!cache) this.caches.set(objSize, cache = { objSize, freeObjs: [] });
    if (cache.freeObjs.length === 0) {
      // A new slab: SLUB picks an order so a slab holds several objects; at most order 3.
      const order = Math.min(3, getOrder(Math.max(objSize * 8, this.pageSize), this.pageSize));
      const pfn = this.buddy.alloc(order);
      if (pfn === null) return null;
      const start = pfn * this.pageSize;
      const n = Math.floor((this.pageSize * 2 ** order) / objSize);
      for (let i = n - 1; i >= 0; i--) cache.freeObjs.push(start + i * objSize);   // lowest address first
    }
    const paddr = cache.freeObjs.pop()!;
    const buf: CpuBuffer = { id: `kmalloc${this.nextId++}`, kind: 'kmalloc', paddr, size, owner, freed: false };
    this.track(buf);
    return buf;
  }

  kfree(paddr: number): CpuBuffer | undefined {
    const buf = this.buffers.get(paddr);
    if (!buf || buf.kind !== 'kmalloc') return undefined;
    if (buf.order !== undefined) this.buddy.release(paddr / this.pageSize, buf.order);
    else this.caches.get(KMALLOC_CLASSES.find(c => c >= buf.size)!)!.freeObjs.push(paddr);
    this.untrack(buf);
    return buf;
  }

  track(buf: CpuBuffer): void {
    this.buffers.set(buf.paddr, buf);
    this.allBuffers.push(buf);
  }

  untrack(buf: CpuBuffer): void {
    buf.freed = true;
    this.buffers.delete(buf.paddr);
  }

  bufferAt(paddr: number): CpuBuffer | undefined {
    return this.buffers.get(paddr);
  }

  /** Live buffers overlapping [start, end), except `except`: who else becomes visible. */
  buffersIn(start: number, end: number, except?: CpuBuffer): CpuBuffer[] {
    const out: CpuBuffer[] = [];
    for (const b of this.buffers.values()) {
      if (b !== except && b.kind !== 'pgtable' && b.paddr < end && b.paddr + b.size > start) out.push(b);
    }
    return out.sort((a, b) => a.paddr - b.paddr);
  }

  /** Buffers that contain paddr (the innermost one). */
  bufferContaining(paddr: number): CpuBuffer | undefined {
    let best: CpuBuffer | undefined;
    for (const b of this.buffers.values()) {
      if (paddr >= b.paddr && paddr < b.paddr + b.size && (!best || b.size < best.size)) best = b;
    }
    return best;
  }

  listBuffers(): CpuBuffer[] {
    return this.allBuffers.filter(b => b.kind !== 'pgtable');
  }

  contains(paddr: number, size = 1): boolean {
    return paddr >= this.base && paddr + size <= this.base + this.size;
  }

  describe(b: CpuBuffer): string {
    return `${b.id} [${hex(b.paddr)}-${hex(b.paddr + b.size - 1)}] ${sizeLabel(b.size)} (${b.owner})`;
  }
}
