// A modelled IOTLB shared by every IOMMU model: entries tagged by domain, one per translated page or
// block, filled by walks and dropped by the model's invalidation callbacks. FIFO replacement.
import type { EventBus } from '../core/events';

export interface IotlbEntry { domain: string; iova: number; size: number; paddr: number; prot: number; stale: boolean }

export class Iotlb {
  private readonly entries = new Map<string, IotlbEntry>();

  constructor(readonly iommu: string, readonly capacity: number, private readonly bus: EventBus) {}

  private key(domain: string, iova: number, size: number): string {
    return `${domain}:${size}:${iova}`;
  }

  /** Entry translating iova for the domain, trying each page size the domain uses. */
  lookup(domain: string, iova: number, pageSizes: readonly number[]): IotlbEntry | undefined {
    for (const size of pageSizes) {
      const e = this.entries.get(this.key(domain, iova - (iova % size), size));
      if (e) return e;
    }
    return undefined;
  }

  fill(e: Omit<IotlbEntry, 'stale'>): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(this.key(e.domain, e.iova, e.size), { ...e, stale: false });
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'fill', iommu: this.iommu, domain: e.domain, iova: e.iova, size: e.size, paddr: e.paddr });
  }

  /** Drops entries of the domain overlapping [iova, iova+size). */
  invalidateRange(domain: string, iova: number, size: number, reason: string): void {
    if (this.entries.size > 0) {
      for (const [k, e] of this.entries) {
        if (e.domain === domain && e.iova < iova + size && e.iova + e.size > iova) this.entries.delete(k);
      }
    }
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'invalidate', iommu: this.iommu, domain, iova, size, reason });
  }

  invalidateDomain(domain: string, reason: string): void {
    for (const [k, e] of this.entries) if (e.domain === domain) this.entries.delete(k);
    if (this.bus.active) this.bus.emit({ kind: 'iotlb', op: 'invalidate-all', iommu: this.iommu, domain, iova: 0, size: 0, reason });
  }

  /** Marks entries whose page-table entry is gone but which were not invalidated (lazy mode). */
  markStale(domain: string, iova: number, size: number): void {
    for (const e of this.entries.values()) {
      if (e.domain === domain && e.iova < iova + size && e.iova + e.size > iova) e.stale = true;
    }
  }

  list(): IotlbEntry[] {
    return [...this.entries.values()];
  }
}
