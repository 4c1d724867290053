// Domain types and flags as include/linux/iommu.h defines them, and the domain object.
import type { PageTable } from './pgtable';
import type { IommuInstance } from './instance';

export const __IOMMU_DOMAIN_PAGING = 1 << 0;
export const __IOMMU_DOMAIN_DMA_API = 1 << 1;
export const __IOMMU_DOMAIN_PT = 1 << 2;
export const __IOMMU_DOMAIN_DMA_FQ = 1 << 3;
export const __IOMMU_DOMAIN_SVA = 1 << 4;
export const __IOMMU_DOMAIN_PLATFORM = 1 << 5;
export const __IOMMU_DOMAIN_NESTED = 1 << 6;

export const IOMMU_DOMAIN_BLOCKED = 0;
export const IOMMU_DOMAIN_IDENTITY = __IOMMU_DOMAIN_PT;
export const IOMMU_DOMAIN_UNMANAGED = __IOMMU_DOMAIN_PAGING;
export const IOMMU_DOMAIN_DMA = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API;
export const IOMMU_DOMAIN_DMA_FQ = IOMMU_DOMAIN_DMA | __IOMMU_DOMAIN_DMA_FQ;
export const IOMMU_DOMAIN_SVA = __IOMMU_DOMAIN_SVA;
export const IOMMU_DOMAIN_PLATFORM = __IOMMU_DOMAIN_PLATFORM;
export const IOMMU_DOMAIN_NESTED = __IOMMU_DOMAIN_NESTED;

export type DomainTypeName = 'BLOCKED' | 'IDENTITY' | 'UNMANAGED' | 'DMA' | 'DMA_FQ' | 'SVA' | 'PLATFORM' | 'NESTED';

export const DOMAIN_TYPES: Record<DomainTypeName, number> = {
  BLOCKED: IOMMU_DOMAIN_BLOCKED, IDENTITY: IOMMU_DOMAIN_IDENTITY, UNMANAGED: IOMMU_DOMAIN_UNMANAGED,
  DMA: IOMMU_DOMAIN_DMA, DMA_FQ: IOMMU_DOMAIN_DMA_FQ, SVA: IOMMU_DOMAIN_SVA, PLATFORM: IOMMU_DOMAIN_PLATFORM, NESTED: IOMMU_DOMAIN_NESTED,
};

export function domainTypeName(type: number): DomainTypeName {
  for (const [n, v] of Object.entries(DOMAIN_TYPES)) if (v === type) return n as DomainTypeName;
  return 'UNMANAGED';
}

export const isPaging = (type: number) => (type & __IOMMU_DOMAIN_PAGING) !== 0;
export const isDmaApi = (type: number) => (type & __IOMMU_DOMAIN_DMA_API) !== 0;

/** Per-domain state the DMA layer keeps (the IOVA cookie); opaque to the core. */
export interface DmaCookie { kind: 'dma-cookie' }

export class Domain {
  /** the unmerged large-page series' __IOMMU_DOMAIN_LP */
  lp = false;
  cookie: DmaCookie | null = null;
  /** group ids whose current domain this is */
  readonly groups = new Set<number>();

  constructor(readonly id: string, public type: number, readonly iommu: IommuInstance, readonly pgtable: PageTable | null,
    readonly pgsizeBitmap: number[], readonly aperture: { start: number; end: number }, readonly createdAtStep: number) {}

  get typeName(): DomainTypeName {
    return domainTypeName(this.type);
  }

  get granule(): number {
    return this.pgsizeBitmap.length ? this.pgsizeBitmap[0] : 0;
  }
}
