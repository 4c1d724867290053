// mediatek-apu: the platform of seed 000 — an APU (AI processor) behind a MediaTek M4U.
import { registerPreset } from '../../platform/registry';

registerPreset({
  name: 'mediatek-apu',
  doc: 'Seed 000\'s APU accelerator on a MediaTek SoC: 4 GiB of RAM at 0x40000000, PAGE_SIZE 4K. One M4U (m4u, modelled with the '
    + 'generic LPAE model: 4K/2M/1G pages, 34-bit IOVA space as on mt8192, 35-bit output; the real M4U uses ARMv7s short descriptors with '
    + '4K/64K/1M/16M pages, which are not modelled). Two APU cores, each its own M4U port and group: apu0 (stream 0x40) allocates device '
    + 'addresses from [16 MiB, 4 GiB) (the reviewed driver\'s APU_IOVA_BASE/APU_IOVA_SIZE), apu1 (stream 0x41) from the 4-8 GiB region (device params iova_base/iova_size, like mt8192\'s '
    + 'per-port IOVA regions), which is where the posted driver\'s u32 IOVA truncates. Both are cache-coherent. Bind the driver with '
    + 'apu.probe (variant as_posted or reviewed).',
  yaml: `
memory: { base: 0x40000000, size: 4G }
iommus:
  - { name: m4u, model: generic, pgsize_bitmap: [4K, 2M, 1G], ias: 34, oas: 35 }
devices:
  - { name: apu0, iommu: m4u, streams: [0x40], params: { iova_base: 16M, iova_size: 0xff000000, compatible: "mediatek,mt8183-apu" } }
  - { name: apu1, iommu: m4u, streams: [0x41], params: { iova_base: 4G, iova_size: 4G, compatible: "mediatek,mt8183-apu" } }
`,
});
