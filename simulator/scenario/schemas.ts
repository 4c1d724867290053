// Schemas of the contract's ops (scenario-format.md "Steps"). Driver models register theirs beside their code.
import { ArgField, ArgType, markVoidOps, registerOpSchema } from './opspec';
import { LIMITS } from '../limits';

const u64 = (doc: string, required = true): ArgField => ({ type: 'u64', required, doc });
const dev: ArgField = { type: 'name', required: true, doc: 'device name' };
const handle = (doc: string, required = true): ArgField => ({ type: 'handle', required, doc });
export const DIRECTIONS = ['bidirectional', 'to_device', 'from_device', 'none'] as const;
const dir: ArgField = { type: { enum: DIRECTIONS }, required: true, doc: 'DMA direction' };
export const PROT_BITS = ['read', 'write', 'cache', 'noexec', 'mmio', 'priv'] as const;
const prot: ArgField = { type: { list: { enum: PROT_BITS } }, required: false, doc: 'IOMMU_READ | IOMMU_WRITE ... (default [read, write])' };
const sgEntry: ArgType = { object: { paddr: u64('physical address of the segment'), len: u64('segment length') } };
const sgList: ArgField = { type: { oneOf: [{ list: sgEntry, max: LIMITS.sgEntries }, 'handle'] }, required: true, doc: 'scatterlist: [{paddr, len}] or an earlier sg result' };
const obj = (o: Record<string, ArgField>) => ({ object: o });

registerOpSchema({ name: 'probe', doc: 'probe a device: join or create its IOMMU group and attach the default domain', args: { scalar: dev } });
registerOpSchema({ name: 'remove', doc: 'remove a device: detach it and leave its group (dma-debug reports pending mappings)', args: { scalar: dev } });
registerOpSchema({ name: 'iommu_domain_alloc', doc: 'allocate a domain for a device or IOMMU', args: obj({
  dev: { type: 'name', doc: 'device whose IOMMU the domain is for' },
  iommu: { type: 'name', doc: 'IOMMU instance (alternative to dev)' },
  type: { type: { enum: ['unmanaged', 'dma', 'dma_fq', 'identity', 'blocked'] }, doc: 'domain type (default unmanaged)' },
}) });
for (const name of ['iommu_attach_device', 'iommu_detach_device']) {
  registerOpSchema({ name, doc: name === 'iommu_attach_device' ? 'attach a device (single-device group) to a domain' : 'detach a device, returning its group to the default domain',
    args: obj({ domain: handle('domain: $d or "d1"'), dev }) });
}
registerOpSchema({ name: 'iommu_get_domain_for_dev', doc: 'the domain the device is attached to', args: obj({ dev }) });
registerOpSchema({ name: 'iommu_map', doc: 'map a physically contiguous range', args: obj({
  domain: handle('domain'), iova: u64('IO virtual address'), paddr: u64('physical address'), size: u64('bytes'), prot,
}) });
registerOpSchema({ name: 'iommu_map_sg', doc: 'map a scatterlist at one IOVA', args: obj({ domain: handle('domain'), iova: u64('IO virtual address'), sg: sgList, prot }) });
registerOpSchema({ name: 'iommu_unmap', doc: 'unmap a range; returns bytes unmapped', args: obj({ domain: handle('domain'), iova: u64('IO virtual address'), size: u64('bytes') }) });
registerOpSchema({ name: 'iommu_iova_to_phys', doc: 'translate through the page table (0 if unmapped)', args: obj({ domain: handle('domain'), iova: u64('IO virtual address') }) });

registerOpSchema({ name: 'init_iova_domain', doc: 'initialise an IOVA allocator', args: obj({
  granule: u64('allocation granule (power of two)'), start_pfn: { type: 'u64', required: true, doc: 'lowest pfn' },
  rcache: { type: 'bool', doc: 'also run iova_domain_init_rcaches (as dma-iommu does)' },
}) });
for (const name of ['alloc_iova', 'alloc_iova_fast']) {
  registerOpSchema({ name, doc: name === 'alloc_iova' ? 'allocate a range top-down below limit_pfn' : 'allocate through the rcache (sizes < 32 pages rounded to a power of two)',
    args: obj({
      iovad: handle('IOVA domain'), size: { type: 'u64', required: true, doc: 'pages' }, limit_pfn: { type: 'u64', required: true, doc: 'highest pfn' },
      ...(name === 'alloc_iova' ? { size_aligned: { type: 'bool', doc: 'align to the size rounded up to a power of two' } }
        : { flush_rcache: { type: 'bool', doc: 'on failure drop all cached ranges and retry once' } }),
    }) });
}
for (const name of ['free_iova', 'free_iova_fast']) {
  registerOpSchema({ name, doc: name === 'free_iova' ? 'free the range containing pfn' : 'return a range to the rcache', args: obj({
    iovad: handle('IOVA domain'), pfn: { type: 'u64', required: true, doc: 'pfn of the range' }, size: { type: 'u64', doc: 'pages' },
  }) });
}
registerOpSchema({ name: 'kmalloc', doc: 'allocate a physically contiguous CPU buffer', args: obj({ size: u64('bytes') }) });
registerOpSchema({ name: 'alloc_pages', doc: 'allocate 2^order pages', args: obj({ order: { type: 'int', required: true, min: 0, max: 20, doc: 'page order' } }) });
registerOpSchema({ name: 'kfree', doc: 'free a kmalloc buffer', args: obj({ paddr: u64('buffer address') }) });
registerOpSchema({ name: 'free_pages', doc: 'free pages from alloc_pages', args: obj({ paddr: u64('first page'), order: { type: 'int', required: true, min: 0, max: 20 } }) });

registerOpSchema({ name: 'dma_map_single', doc: 'map a CPU buffer for DMA', args: obj({ dev, paddr: u64('physical address'), size: u64('bytes'), dir }) });
registerOpSchema({ name: 'dma_map_page', doc: 'map part of a page for DMA', args: obj({ dev, paddr: u64('physical address of the page'), offset: u64('offset in the page', false), size: u64('bytes'), dir }) });
for (const name of ['dma_unmap_single', 'dma_unmap_page']) {
  registerOpSchema({ name, doc: 'unmap a streaming mapping', args: obj({ dev, dma: u64('device address returned by the map'), size: u64('bytes'), dir }) });
}
registerOpSchema({ name: 'dma_map_sg', doc: 'map a scatterlist; returns nents (0 = error) and entries[{dma, len}]', args: obj({ dev, sg: sgList, dir }) });
registerOpSchema({ name: 'dma_unmap_sg', doc: 'unmap a scatterlist mapped by dma_map_sg', args: obj({ dev, sg: sgList, dir, nents: { type: 'int', doc: 'entries passed to dma_map_sg (default: all)' } }) });
registerOpSchema({ name: 'dma_alloc_coherent', doc: 'allocate coherent memory: { cpu, dma, paddr } or null', args: obj({ dev, size: u64('bytes') }) });
registerOpSchema({ name: 'dma_free_coherent', doc: 'free coherent memory', args: obj({ dev, size: u64('bytes'), cpu: u64('CPU address', false), dma: u64('device address') }) });
registerOpSchema({ name: 'dma_alloc_noncontiguous', doc: 'allocate non-contiguous pages mapped contiguously for the device', args: obj({ dev, size: u64('bytes'), dir }) });
registerOpSchema({ name: 'dma_free_noncontiguous', doc: 'free a dma_alloc_noncontiguous allocation', args: obj({ dev, size: u64('bytes'), sgt: handle('the allocation'), dir }) });
registerOpSchema({ name: 'dma_get_sgtable', doc: 'describe a coherent buffer as an sg table (for sharing)', args: obj({ dev, cpu: u64('CPU address', false), dma: u64('device address'), size: u64('bytes') }) });
for (const name of ['dma_sync_single_for_device', 'dma_sync_single_for_cpu']) {
  registerOpSchema({ name, doc: 'hand a streaming buffer to the ' + (name.endsWith('device') ? 'device' : 'CPU'), args: obj({ dev, dma: u64('device address'), size: u64('bytes'), dir }) });
}
for (const name of ['dma_read', 'dma_write']) {
  registerOpSchema({ name, doc: 'a device ' + (name === 'dma_read' ? 'read' : 'write') + ' through its IOMMU', args: obj({
    dev, addr: u64('device address'), size: u64('bytes', false), pasid: { type: 'int', doc: 'PASID (SVA)' },
  }) });
}
registerOpSchema({ name: 'iommu_sva_device_init', doc: 'enable SVA for a device', args: obj({
  dev, features: { type: { list: { enum: ['iopf', 'pri', 'stall', 'ats'] } }, doc: 'IOMMU_SVA_FEAT_*' },
  min_pasid: { type: 'int', doc: 'lowest PASID' }, max_pasid: { type: 'int', doc: 'highest PASID' },
}) });
registerOpSchema({ name: 'iommu_sva_bind_device', doc: 'bind a process address space to a device; returns the PASID', args: obj({ dev, mm: { type: 'name', required: true, doc: 'process (mm) name' } }) });
registerOpSchema({ name: 'iommu_sva_unbind_device', doc: 'unbind a PASID from a device', args: obj({ dev, pasid: { type: 'int', required: true } }) });
registerOpSchema({ name: 'firmware_scanout', doc: 'a device left reading memory by the boot firmware (e.g. a display still scanning out)', args: obj({ dev, paddr: u64('physical address'), size: u64('bytes') }) });
registerOpSchema({ name: 'flush_queue', doc: 'flush a DMA_FQ domain\'s queue now (what the timer would do)', args: obj({ dev }) });
registerOpSchema({ name: 'scanout_stop', doc: 'the driver takes over the display: the firmware scanout stops', args: obj({ dev }) });

markVoidOps(['kfree', 'free_pages', 'free_iova', 'free_iova_fast', 'dma_unmap_single', 'dma_unmap_page', 'dma_unmap_sg',
  'dma_free_coherent', 'dma_free_noncontiguous', 'dma_sync_single_for_device', 'dma_sync_single_for_cpu', 'flush_queue']);
