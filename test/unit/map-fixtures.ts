// Report fixture for the address-map tests: one DART domain with a 4 KiB buffer in a 16 KiB granule, a
// read-only mapping a write faulted in, a stale IOTLB entry in a swiotlb slot, and one malformed mapping.
import type { Report } from '../../simulator/report/types';

export function smallReport(): Report {
  return {
    scenario: 'unit', kernel: { page_size: 4096, large_iommu_pages: true, dma_strict: false },
    steps: [
      { index: 0, op: 'probe', site: null, result: 'd1', events: [], findings: [] },
      { index: 1, op: 'kmalloc', site: null, result: {}, events: [], findings: [] },
      { index: 2, op: 'dma_map_single', site: 'xhci-ring.c:xhci_queue_bulk_tx', result: '0xffffd000', findings: [],
        events: [{ kind: 'pte', op: 'set', domain: 'd1', iova: '0xffffc000' }] },
      { index: 3, op: 'iommu_map', site: null, result: 0, findings: [],
        events: [{ kind: 'api', name: 'iommu_map', args: {}, result: 0, site: 'apu_gem.c:apu_bo_map' }] },
      { index: 4, op: 'dma_read', site: 'xhci-ring.c:xhci_irq', result: null, events: [], findings: [] },
    ],
    groups: [], devices: [{ name: 'xhci', group: 0, domain: 'd1', streams: [1], untrusted: false }],
    domains: [
      { id: 'd0', type: 'IDENTITY', iommu: 'dart0', granule: 16384, pgsize_bitmap: [16384], devices: [], mappings: [] },
      { id: 'd1', type: 'DMA_FQ', iommu: 'dart0', granule: 16384, pgsize_bitmap: [16384], devices: ['xhci'],
        aperture: { start: '0x0', end: '0xffffffff' }, reserved: [{ start: '0xfee00000', end: '0xfeefffff', why: 'MSI' }],
        mappings: [
          { iova: '0xffffc000', size: 16384, paddr: '0x800004000', prot: ['read', 'write'], requested: 4096, exposed: 12288 },
          { iova: '0xffff0000', size: 32768, paddr: '0x800100000', prot: ['read'], owner: 'iommu_map step 3' },
          { iova: '0xfffe0000', size: 16384, paddr: '0x87c000000', prot: ['read', 'write'], stale: true, owner: 'dma_map_single step 2' },
          { iova: 'zz', size: 16384, paddr: '0x0', prot: [] },
        ] },
    ],
    faults: [{ step: 4, dev: 'xhci', stream: 1, iova: '0xffff0100', kind: 'permission', message: 'WRITE FAULT', access: 'write' },
      { step: 4, dev: 'other', stream: 2, iova: '0x1000', kind: 'translation', message: 'not ours' }],
    findings: [],
    platform: { name: 'p', memory: { base: '0x800000000', size: 2 ** 33 }, iommus: [] },
    buffers: [
      { id: 'buf', kind: 'kmalloc', paddr: '0x800005000', size: 4096, owner: 'step 1 kmalloc', dma: [{ dev: 'xhci', dma: '0xffffd000', size: 4096 }] },
      { id: 'neighbour', kind: 'kmalloc', paddr: '0x800006000', size: 4096 },
      { id: 'slot0', kind: 'swiotlb-slot', paddr: '0x87c000000', size: 16384 },
    ],
  };
}
