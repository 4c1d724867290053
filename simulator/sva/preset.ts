// arm-sva: seed 004's diagram as a platform — one SMMUv3 with 20 PASID bits, device 00:00.0 alone in its
// group (domain A) and devices 00:01.0 and 00:01.1 sharing a group (domain B).
import { registerPreset } from '../platform/registry';

registerPreset({
  name: 'arm-sva',
  doc: 'Seed 004\'s SVA example: an Arm SMMUv3 (smmu0: 4K/2M/1G pages, 48-bit IAS/OAS, SSIDSIZE 20 so PASIDs 1..0xfffff, '
    + 'PASID 0 holding the private io_pgtable) with three PCI devices in two groups: 00:00.0 (stream 0x0) alone, whose default '
    + 'domain is "domain A", and the functions 00:01.0 and 00:01.1 (streams 0x8, 0x9) behind one bridge, sharing group "b" and '
    + '"domain B". 4 GiB of RAM at 0x80000000. Processes are named in the steps (mm_map, iommu_sva_bind_device).',
  yaml: `
memory: { base: 0x80000000, size: 4G }
iommus:
  - { name: smmu0, model: arm-smmu-v3, pgsize_bitmap: [4K, 2M, 1G], ias: 48, oas: 48, pasid_bits: 20 }
devices:
  - { name: "00:00.0", iommu: smmu0, streams: [0x0], bus: pci }
  - { name: "00:01.0", iommu: smmu0, streams: [0x8], bus: pci, group: b }
  - { name: "00:01.1", iommu: smmu0, streams: [0x9], bus: pci, group: b }
`,
});
