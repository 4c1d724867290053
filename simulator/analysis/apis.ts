// Which kernel functions the source analysis cares about, and what their arguments mean. Names and
// argument orders follow the kernel headers (include/linux/iommu.h, iova.h, dma-mapping.h, pfn.h, mm.h).

export type ApiFamily = 'iommu' | 'iova' | 'dma' | 'sva' | 'mm';

/** Prefix families from the brief: every call whose name matches is recorded. */
const FAMILY_PATTERNS: Array<[RegExp, ApiFamily]> = [
  [/^iommu_sva_/, 'sva'],
  [/^iommu_/, 'iommu'],
  [/^(alloc_iova|free_iova)/, 'iova'],
  [/^(dma_map_|dma_unmap_|dma_alloc_|dma_free_|dma_get_sgtable|dma_sync_|dma_mapping_error$)/, 'dma'],
];

/** mm-layer helpers that convert between addresses and CPU pages. */
export const MM_CALL_HELPERS = new Set(['PHYS_PFN', 'PFN_PHYS', 'PAGE_ALIGN', 'PFN_UP', 'PFN_DOWN', 'PAGE_ALIGN_DOWN']);
/** mm-layer constants used in address arithmetic (they are identifiers, not calls). */
export const MM_CONSTANTS = ['PAGE_SHIFT', 'PAGE_SIZE', 'PAGE_MASK'];
export const MM_CONSTANT_RE = /\bPAGE_(?:SHIFT|SIZE|MASK)\b/g;

const families = new Map<string, ApiFamily | null>();

export function apiFamily(name: string): ApiFamily | null {
  let family = families.get(name);
  if (family === undefined) {
    family = MM_CALL_HELPERS.has(name) || MM_CONSTANTS.includes(name) ? 'mm'
      : FAMILY_PATTERNS.find(([re]) => re.test(name))?.[1] ?? null;
    if (families.size < 8192) families.set(name, family);    // callee names repeat: mutex_lock, dev_err ...
  }
  return family;
}

/**
 * Argument positions (0-based) that carry an IOVA, an IOVA pfn or an IOVA-space size, per API. An mm helper
 * found inside one of these arguments is sizing or addressing IOVA space with the CPU page size.
 */
export const IOVA_ARG_SLOTS: Record<string, number[]> = {
  iommu_map: [1, 3],                  // (domain, iova, paddr, size, prot, gfp)
  iommu_map_sg: [1],                  // (domain, iova, sg, nents, prot, gfp)
  iommu_map_sgtable: [1],             // (domain, iova, sgt, prot)
  iommu_unmap: [1, 2],                // (domain, iova, size)
  iommu_unmap_fast: [1, 2],
  iommu_iova_to_phys: [1],
  alloc_iova: [1, 2],                 // (iovad, size in granules, limit_pfn, size_aligned)
  alloc_iova_fast: [1, 2],            // (iovad, size in granules, limit_pfn, flush_rcache)
  free_iova: [1],                     // (iovad, pfn)
  free_iova_fast: [1, 2],             // (iovad, pfn, size)
  find_iova: [1],
  reserve_iova: [1, 2],               // (iovad, pfn_lo, pfn_hi)
  init_iova_domain: [1, 2],           // (iovad, granule, start_pfn)
};

/** Calls whose result is an IOVA, an IOVA pfn or a DMA address. */
export const IOVA_RETURNING = new Set([
  'alloc_iova_fast', 'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs',
  'dma_map_resource', 'sg_dma_address', 'iova_dma_addr', 'iommu_dma_alloc_iova', 'dma_map_phys',
]);

/** Calls that put memory into a device's address space (the thing an error path must undo). */
export const MAP_APIS = new Set([
  'iommu_map', 'iommu_map_sg', 'iommu_map_sgtable',
  'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs', 'dma_map_sg',
  'dma_map_sg_attrs', 'dma_map_sgtable', 'dma_map_resource',
]);

export const UNMAP_APIS = new Set([
  'iommu_unmap', 'iommu_unmap_fast',
  'dma_unmap_single', 'dma_unmap_single_attrs', 'dma_unmap_page', 'dma_unmap_page_attrs', 'dma_unmap_sg',
  'dma_unmap_sg_attrs', 'dma_unmap_sgtable', 'dma_unmap_resource',
]);

/** DMA-API calls that map or allocate through the device's DMA ops (and so its DMA domain). */
export const DMA_API_MAPPERS = new Set([
  'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs', 'dma_map_sg',
  'dma_map_sg_attrs', 'dma_map_sgtable', 'dma_map_resource', 'dma_alloc_coherent', 'dma_alloc_attrs',
  'dma_alloc_wc', 'dma_alloc_noncoherent', 'dma_alloc_pages', 'dma_alloc_noncontiguous',
]);

/** Single-address DMA mappings whose result must go through dma_mapping_error(). */
export const CHECKED_DMA_MAPS = new Set([
  'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs', 'dma_map_resource',
]);

export const DOMAIN_GETTERS = new Set([
  'iommu_domain_alloc', 'iommu_paging_domain_alloc', 'iommu_paging_domain_alloc_flags',
  'iommu_get_domain_for_dev', 'iommu_get_dma_domain',
]);
export const DOMAIN_ATTACHERS = new Set(['iommu_attach_device', 'iommu_attach_group', 'iommu_attach_device_pasid']);
/** iommu_* calls whose first argument is a domain that must exist. */
export const DOMAIN_USERS = new Set([
  'iommu_map', 'iommu_map_sg', 'iommu_map_sgtable', 'iommu_unmap', 'iommu_unmap_fast', 'iommu_iova_to_phys',
]);

/** Array allocators take (count, element size, gfp); plain ones take (size, gfp). */
export const ARRAY_ALLOCATORS = new Set(['kvmalloc_array', 'kmalloc_array', 'kcalloc', 'kvcalloc']);
export const SIZE_ALLOCATORS = new Set(['kmalloc', 'kzalloc', 'kvmalloc', 'kvzalloc', 'vmalloc', 'vzalloc']);

export const USER_COPY_IN = new Set(['copy_from_user', '__copy_from_user']);

/** Loop macros that walk a scatterlist. */
export const SG_LOOP_MACRO_RE = /^for_each_(?:sg|sgtable_sg|sgtable_dma_sg|sg_page|sgtable_page|sg_dma_page|sgtable_dma_page)$/;
