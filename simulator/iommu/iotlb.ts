// A modelled IOTLB shared by every IOMMU model: entries tagged by domain, one per translated page or
// block, filled by walks and dropped by the model's invalidation callbacks. FIFO replacement.
//
// Layout: per domain, one Map per page size keyed by the entry's IOVA (a number, exact below 2^53), so a
// lookup is one Map probe per page size and a range invalidation probes the aligned IOVAs of a small range
// instead of scanning every entry. A doubly linked list through the slots keeps the fill order, which is the
// FIFO replacement order and the order list() returns.
import type { EventBus } from '../core/events';

export interface IotlbEntry { domain: string; iova: number; size: number; paddr: number; prot: number; stale: boolean }

interface Slot {
  entry: IotlbEntry;
  owner: SizeClass;
  prev: Slot | null;
  next: Slot | null;
}

/** One domain's entries of one page size, by IOVA. */
interface SizeClass {
  size: number;
  byIova: Map<number, Slot>;
  /** entries whose IOVA is not a multiple of `size` (only a direct fill() makes them): ranges then scan */
  unaligned: number;
}

interface DomainEntries {
  classes: SizeClass[];
  count: number;
}

export class Iotlb {
  private readonly domains = new Map<string, DomainEntries>();
  private head: Slot | null = null;
  private tail: Slot | null = null;
  private count = 0;

  constructor(readonly iommu: string, readonly capacity: number, private readonly bus: EventBus) {}

  /** Entry translating iova for the domain, trying each page size the domain uses. */
  lookup(domain: string, iova: number, pageSizes: readonly number[]): IotlbEntry | undefined {
    const de = this.domains.get(domain);
    if (de === undefined || de.count === 0) return undefined;
    for (let p = 0; p < pageSizes.length; p++) {
      const size = pageSizes[p];
      const c = classOf(de, size);
      if (c === undefined) continue;
      const s = c.byIova.get(iova - (iova % size));
      if (s !== undefined) return s.entry;
    }
    return undefined;
  }

  fill(e: Omit<IotlbEntry, 'stale'>): void {
    if (this.count >= this.capacity && this.head !== null) this.remove(this.head);
    // an explicit literal: a spread copy was over half of fill()'s own time in the 1M-step profile
    const entry: IotlbEntry = { domain: e.domain, iova: e.iova, size: e.size, paddr: e.paddr, prot: e.prot, stale: false };
    let de = this.domains.get(e.domain);
    if (de === undefined) this.domains.set(e.domain, de = { classes: [], count: 0 });
    let c = classOf(de, e.size);
    if (c === undefined) de.classes.push(c = { size: e.size, byIova: new Map(), unaligned: 0 });
    const old = c.byIova.get(e.iova);
    if (old !== undefined) {
      old.entry = entry;           // a refill keeps its place in the replacement order
    } else {
      const s: Slot = { entry, owner: c, prev: this.tail, next: null };
      if (this.tail !== null) this.tail.next = s; else this.head = s;
      this.tail = s;
      c.byIova.set(e.iova, s);
      if (e.iova % e.size !== 0) c.unaligned++;
      de.count++;
      this.count++;
    }
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'fill', iommu: this.iommu, domain: e.domain, iova: e.iova, size: e.size, paddr: e.paddr });
  }

  /** Drops entries of the domain overlapping [iova, iova+size). */
  invalidateRange(domain: string, iova: number, size: number, reason: string): void {
    const de = this.domains.get(domain);
    if (de !== undefined && de.count > 0) this.forRange(de, iova, size, false);
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'invalidate', iommu: this.iommu, domain, iova, size, reason });
  }

  invalidateDomain(domain: string, reason: string): void {
    const de = this.domains.get(domain);
    if (de !== undefined && de.count > 0) {
      for (const c of de.classes) {
        for (const s of c.byIova.values()) this.unlink(s);
        c.byIova.clear();
        c.unaligned = 0;
      }
      this.count -= de.count;
      de.count = 0;
    }
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'invalidate-all', iommu: this.iommu, domain, iova: 0, size: 0, reason });
  }

  /** Marks entries whose page-table entry is gone but which were not invalidated (lazy mode). */
  markStale(domain: string, iova: number, size: number): void {
    const de = this.domains.get(domain);
    if (de !== undefined && de.count > 0) this.forRange(de, iova, size, true);
  }

  list(): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (let s = this.head; s !== null; s = s.next) out.push(s.entry);
    return out;
  }

  /** Every entry of the domain overlapping [iova, iova+size): marked stale, or removed. */
  private forRange(de: DomainEntries, iova: number, size: number, stale: boolean): void {
    const end = iova + size;
    for (const c of de.classes) {
      const m = c.byIova;
      if (m.size === 0) continue;
      const first = iova - (iova % c.size);
      // Entries of this class overlapping the range start at first, first + size, … below end; probe those
      // when they are fewer than the entries, else scan.
      if (c.unaligned === 0 && (end - first) / c.size <= m.size) {
        for (let a = first; a < end; a += c.size) {
          const s = m.get(a);
          if (s !== undefined) this.hit(s, stale);
        }
      } else {
        for (const s of m.values()) {
          const e = s.entry;
          if (e.iova < end && e.iova + e.size > iova) this.hit(s, stale);
        }
      }
    }
  }

  private hit(s: Slot, stale: boolean): void {
    if (stale) s.entry.stale = true; else this.remove(s);
  }

  /** Takes one slot out of its class, its domain's count and the replacement order. */
  private remove(s: Slot): void {
    const c = s.owner;
    c.byIova.delete(s.entry.iova);
    if (s.entry.iova % c.size !== 0) c.unaligned--;
    this.domains.get(s.entry.domain)!.count--;
    this.count--;
    this.unlink(s);
  }

  private unlink(s: Slot): void {
    if (s.prev !== null) s.prev.next = s.next; else this.head = s.next;
    if (s.next !== null) s.next.prev = s.prev; else this.tail = s.prev;
    s.prev = s.next = null;
  }
}

function classOf(de: DomainEntries, size: number): SizeClass | undefined {
  const cs = de.classes;
  for (let i = 0; i < cs.length; i++) if (cs[i].size === size) return cs[i];
  return undefined;
}
