// The review checks: stable code, severity and the hover text that explains the kernel behaviour behind
// each one. Written for driver developers; facts are from mainline (see ../shared/spec/linux-facts.md).
import type { ReviewCode, Severity } from './types';

export interface ReviewCheckSpec {
  severity: Severity;
  title: string;
  explain: string;
}

export const REVIEW_CHECKS: Record<ReviewCode, ReviewCheckSpec> = {
  'mm-pfn-on-iova': {
    severity: 'warning',
    title: 'CPU page helpers used on IOVA space',
    explain: 'PHYS_PFN, PFN_PHYS, PAGE_ALIGN, PAGE_SHIFT and PAGE_SIZE describe CPU pages. An IOVA domain counts in '
      + 'its own granule (iovad->granule, the smallest IOMMU page size), which is deliberately decoupled from '
      + 'PAGE_SIZE: an Apple DART uses 16 KiB pages under a 4 KiB kernel, and a 64 KiB kernel can sit on a 4 KiB '
      + 'IOMMU. Sizes rounded to PAGE_SIZE then fail iommu_map()\'s alignment check (-EINVAL) or waste IOVA space, '
      + 'and pfns shifted by PAGE_SHIFT address the wrong granule. Use iova_pfn(), iova_dma_addr(), iova_align(), '
      + 'iova_shift() and iova_offset() on the iova_domain, or the domain\'s pgsize_bitmap for iommu_map() sizes.',
  },
  'iova-truncated': {
    severity: 'warning',
    title: 'IOVA or DMA address stored in a 32-bit type',
    explain: 'dma_addr_t is 64 bits wide whenever the platform can address more than 4 GiB, and IOMMUs commonly '
      + 'hand out IOVAs above 4 GiB (48-bit input address spaces are usual on SMMUv3). Keeping an IOVA in u32, '
      + 'int or unsigned int silently drops the upper bits, so the device is programmed with a different address '
      + 'than the one mapped. Keep IOVAs in dma_addr_t (u64 / __u64 in a uAPI struct) and IOVA pfns in unsigned long.',
  },
  'map-per-sg-entry': {
    severity: 'info',
    title: 'iommu_map() once per scatterlist entry',
    explain: 'iommu_map_sg() (or iommu_map_sgtable()) maps a whole scatterlist at one IOVA in one call: it merges '
      + 'physically contiguous entries, picks the largest page sizes the IOMMU supports, syncs the IOTLB once and '
      + 'undoes everything it mapped when a later entry fails. A hand-written loop gets none of that, and any '
      + 'per-entry padding (PAGE_ALIGN of each length) can run past the IOVA range that was allocated for the '
      + 'unpadded total.',
  },
  'unmap-per-segment': {
    severity: 'info',
    title: 'iommu_unmap() per segment of one IOVA range',
    explain: 'Mappings that are contiguous in IOVA space can be removed with a single iommu_unmap(domain, iova, '
      + 'total_size). One call walks the page table once and issues one IOTLB invalidation instead of one per '
      + 'segment; it also cannot drift out of step with the way the range was mapped.',
  },
  'wrong-free-function': {
    severity: 'error',
    title: 'IOVA freed with the wrong function',
    explain: 'alloc_iova_fast() may return a range from the per-CPU rcache and must be given back with '
      + 'free_iova_fast(iovad, pfn, size), which refills that cache. free_iova() removes the range from the rbtree '
      + 'and bypasses the cache, so freeing the same pfn again later trips a WARN. The reverse pairing (alloc_iova() '
      + 'with free_iova_fast()) caches a range whose size alloc_iova() did not round up to a power of two, so a later '
      + 'alloc_iova_fast() of the rounded size can overlap its neighbour. Unless allocations are hot, plain '
      + 'alloc_iova()/free_iova() is the simpler pair.',
  },
  'unbounded-user-count': {
    severity: 'warning',
    title: 'Allocation sized by an unchecked user count',
    explain: 'The count comes straight from userspace (an ioctl argument or a copy_from_user() buffer). Without an '
      + 'upper bound, any process that can open the device can ask for arbitrarily large kernel allocations: '
      + 'kvmalloc_array() falls back to vmalloc and will happily take gigabytes of unaccounted memory. Check the '
      + 'count against a driver limit (and zero) before allocating, and prefer __GFP_ACCOUNT for user-driven '
      + 'allocations.',
  },
  'error-path-leak': {
    severity: 'warning',
    title: 'Error path leaves mappings behind',
    explain: 'An earlier call in this function (or an earlier iteration of the loop) mapped memory into a device\'s '
      + 'address space, and this error path leaves without unmapping it. The device keeps access to memory the '
      + 'driver is about to forget about; if the IOVA is also freed, the next allocation reuses a range whose page '
      + 'table entries are still live. Unwind in reverse order: unmap what was mapped, then free the IOVA.',
  },
  'error-return-zero': {
    severity: 'error',
    title: 'Error recorded, then 0 returned',
    explain: 'The function notices a failure (an error code is stored or a call\'s error result is tested) and then '
      + 'reaches a `return 0`. The caller, usually userspace through an ioctl, is told the operation succeeded and '
      + 'acts on results that were never produced. Return the recorded error.',
  },
  'domain-never-allocated': {
    severity: 'warning',
    title: 'IOMMU domain never allocated or attached',
    explain: 'This domain pointer is used for iommu_map()/iommu_unmap(), but nothing in the file assigns it '
      + '(iommu_paging_domain_alloc(), iommu_domain_alloc(), iommu_get_domain_for_dev()) or attaches it to a device '
      + '(iommu_attach_device()). Either it is always NULL, so every path that tests it is dead code, or it is set '
      + 'elsewhere without the locking that would stop it disappearing while mappings are made into it.',
  },
  'dma-get-sgtable-sharing': {
    severity: 'warning',
    title: 'dma_get_sgtable() used to share a buffer with another device',
    explain: 'dma_get_sgtable() rebuilds a scatterlist for memory from dma_alloc_coherent()/dma_alloc_attrs() so it '
      + 'can be exported (dma-buf). Mapping that table for a second device assumes both devices see the buffer the '
      + 'same way, which only holds for buffers from the coherent allocator and IOMMUs with compatible page sizes; '
      + 'the unmerged series for IOMMU pages larger than PAGE_SIZE made it fail with -ENXIO there. Allocate pages '
      + 'aligned to both IOMMUs\' granules and map them into each domain (iommu_map_sg()) instead.',
  },
  'own-domain-with-dma-api': {
    severity: 'error',
    title: 'DMA API used on a device attached to its own IOMMU domain',
    explain: 'After iommu_attach_device() moves the device to a driver-owned UNMANAGED domain, the DMA API still '
      + 'works on the default DMA domain. On 4.19 dma-iommu used the device\'s current domain, which has no IOVA '
      + 'cookie, and iommu_dma_map_sg() oopsed (the drm/msm report). Since 4.20 it maps into the group\'s default '
      + 'domain, so the call succeeds but the device, now translated by the other domain, faults on the returned '
      + 'address. Map through the driver\'s own domain (iommu_map_sg()) or keep the device on the DMA domain.',
  },
  'mapping-error-unchecked': {
    severity: 'warning',
    title: 'DMA mapping result not checked',
    explain: 'dma_map_single()/dma_map_page() return DMA_MAPPING_ERROR when they fail (IOVA space exhausted, no '
      + 'bounce buffer, address beyond the DMA mask). The value is not 0 and looks like a normal address; a device '
      + 'programmed with it scribbles somewhere. Every result must be tested with dma_mapping_error(dev, addr) '
      + 'before use; CONFIG_DMA_API_DEBUG reports unchecked mappings.',
  },
};
