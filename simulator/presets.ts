// Built-in platforms. Each is the inline-platform YAML a scenario could carry itself, so a preset is
// documentation as much as data. Seed presets (apple-t8103, qcom-sdm845 ...) register beside their models.
import { registerPreset } from './platform/registry';

registerPreset({
  name: 'generic-4k',
  doc: 'One generic IOMMU with 4K/2M/1G pages (LPAE tables), a platform device and a PCI device; 4 GiB of RAM at 0x80000000.',
  yaml: `
memory: { base: 0x80000000, size: 4G }
iommus:
  - { name: iommu0, model: generic, pgsize_bitmap: [4K, 2M, 1G], ias: 48, oas: 48, bypass: true }
devices:
  - { name: dma0, iommu: iommu0, streams: [0x10], bus: platform }
  - { name: "0000:01:00.0", iommu: iommu0, streams: [0x100], bus: pci, dma_mask: 64 }
`,
});

registerPreset({
  name: 'arm-smmuv3',
  doc: 'An Arm SMMUv3 (4K/16K/64K granules, 48-bit IAS/OAS) in front of a PCIe NIC, a platform DMA engine and an untrusted Thunderbolt-attached device; 8 GiB of RAM at 0x800000000.',
  yaml: `
memory: { base: 0x800000000, size: 8G }
iommus:
  - { name: smmu0, model: arm-smmu-v3, pgsize_bitmap: [4K, 16K, 64K, 2M, 32M, 512M, 1G], ias: 48, oas: 48 }
devices:
  - { name: "0000:00:01.0", iommu: smmu0, streams: [0x100], bus: pci, dma_mask: 64 }
  - { name: pl330, iommu: smmu0, streams: [0x20], bus: platform, dma_mask: 32 }
  - { name: "0000:05:00.0", iommu: smmu0, streams: [0x500], bus: pci, untrusted: true, dma_mask: 64 }
`,
});
