// Pieces shared by models whose page tables are io-pgtable-arm's LPAE format (generic, Arm SMMU).
import type { KernelConfig } from '../scenario/types';
import { DOMAIN_TYPES, IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ, IOMMU_DOMAIN_IDENTITY } from '../iommu/domain';
import type { Device } from '../iommu/device';
import type { Refusal } from '../iommu/instance';
import { LpaeFormat } from '../iommu/format-lpae';
import { PteFormat, formatPageSizes } from '../iommu/pte-format';
import type { Iotlb } from '../iommu/iotlb';
import type { Domain } from '../iommu/domain';

const GRANULES = [4096, 16384, 65536];

/**
 * arm_lpae_restrict_pgsizes(): the CPU page size if the hardware has it, else the largest granule below
 * it, else the smallest above it; then only that granule's block sizes.
 */
export function restrictPgsizes(bitmap: number[], pageSize: number): { granule: number; sizes: number[] } | null {
  const granules = GRANULES.filter(g => bitmap.includes(g));
  if (granules.length === 0) return null;
  let granule: number;
  if (granules.includes(pageSize)) granule = pageSize;
  else if (granules.some(g => g < pageSize)) granule = Math.max(...granules.filter(g => g < pageSize));
  else granule = Math.min(...granules.filter(g => g > pageSize));
  const fmtSizes = formatPageSizes(new LpaeFormat(granule, 48, 48));
  return { granule, sizes: bitmap.filter(s => fmtSizes.includes(s)) };
}

export function lpaeFormatFor(bitmap: number[], ias: number, oas: number, kernel: KernelConfig): PteFormat | Refusal {
  const r = restrictPgsizes(bitmap, kernel.page_size);
  if (!r) return { errno: 'EINVAL', message: `no supported page-table granule in pgsize_bitmap` };
  return new LpaeFormat(r.granule, ias, oas);
}

/** Default domain: DMA, lazy DMA_FQ unless strict or untrusted (untrusted devices are always strict), identity on passthrough. */
export function defaultDmaDomain(dev: Device, kernel: KernelConfig, forced?: string): number {
  const policy = forced ?? (kernel.options.passthrough === true ? 'identity' : 'dma');
  if (policy === 'identity') return IOMMU_DOMAIN_IDENTITY;
  if (policy !== 'dma') return DOMAIN_TYPES[policy.toUpperCase() as keyof typeof DOMAIN_TYPES];
  return kernel.dma_strict || dev.spec.untrusted ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ;
}

export function flushRangeDefault(iotlb: Iotlb, d: Domain, iova: number, size: number, reason: string): void {
  iotlb.invalidateRange(d.id, iova, size, reason);
}

export function flushAllDefault(iotlb: Iotlb, d: Domain, reason: string): void {
  iotlb.invalidateDomain(d.id, reason);
}

/** "4K,2M" / [4096, "2M"] model params normalised by the loader to numbers. */
export function numList(v: unknown, fallback: number[]): number[] {
  return Array.isArray(v) && v.length ? (v as number[]).slice().sort((a, b) => a - b) : fallback;
}
