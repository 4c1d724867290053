// intel-ipu3: seed 003's platform, an x86 laptop whose PCI camera has its own MMU.
import { registerPreset } from '../../platform/registry';

registerPreset({
  name: 'intel-ipu3',
  doc: 'Intel IPU3 camera on a Skylake/Kaby Lake laptop (seed 003): x86 (kernel option arch: x86, so the DMA API does no cache '
    + 'maintenance), 2 GiB of RAM at 0x40000000, PAGE_SIZE 4K. The IPU3 is PCI function 0000:00:05.0 (requester id 0x28, not '
    + 'cache-coherent) behind the VT-d unit dmar0 (modelled with the generic model: 4K/2M/1G pages, 48-bit input, 39-bit output; '
    + 'in passthrough by default, kernel option passthrough: false makes it translate). Its imaging unit imgu sits behind the '
    + 'IPU3\'s own MMU imgu-mmu (model ipu3-mmu: 2-level tables of 1024 pfn entries, 4K pages, 32-bit IOVA, no bypass, no fault '
    + 'interrupt), not cache-coherent; device param pci names the function its MMU\'s output goes through. Bind with ipu3.probe '
    + '(variant own_dma_ops or iommu_driver); the unit accesses memory with ipu3.dma_read / ipu3.dma_write.',
  kernel: { options: { arch: 'x86', passthrough: true } },
  yaml: `
memory: { base: 0x40000000, size: 2G }
iommus:
  - { name: dmar0, model: generic, pgsize_bitmap: [4K, 2M, 1G], ias: 48, oas: 39 }
  - { name: imgu-mmu, model: ipu3-mmu }
devices:
  - { name: imgu, iommu: imgu-mmu, streams: [0], coherent: false, dma_mask: 32, params: { pci: "0000:00:05.0" } }
  - { name: "0000:00:05.0", iommu: dmar0, streams: [0x28], bus: pci, coherent: false, dma_mask: 39 }
`,
});
