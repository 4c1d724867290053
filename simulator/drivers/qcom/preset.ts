// qcom-sdm845: seed 002's platform, the Snapdragon 845 display and GPU behind their SMMUs.
import { registerPreset } from '../../platform/registry';

registerPreset({
  name: 'qcom-sdm845',
  doc: 'Qualcomm Snapdragon 845 (seed 002): 4 GiB of RAM at 0x80000000, PAGE_SIZE 4K. apps_smmu (qcom,sdm845-smmu-500, an Arm MMU-500: '
    + 'model arm-smmu, AArch64 4K and 64K granules so page sizes 4K/64K/2M/512M/1G, of which a 4K kernel uses 4K/2M/1G; 48-bit VA, 40-bit '
    + 'IPA) in front of the display subsystem mdss (qcom,sdm845-mdss; streams 0x880 and 0xc80, its two MDP ports). adreno_smmu (the GPU\'s '
    + 'own SMMU, qcom,adreno-smmu, same formats) in front of the Adreno 630 gpu (qcom,adreno, stream 0). Both devices are non-coherent '
    + '(drm/msm cleans write-combined buffers with dma_map_sg). Opt out of the automatic DMA domain with kernel option qcom_dma_opt_out: '
    + 'blacklist (the 2019 of/device list: no default domain until the driver attaches its own) or identity (mainline\'s '
    + 'qcom_smmu_def_domain_type), or per device with params dma_domain: dma|identity|none in an inline platform.',
  yaml: `
memory: { base: 0x80000000, size: 4G }
iommus:
  - { name: apps_smmu, model: arm-smmu, pgsize_bitmap: [4K, 64K, 2M, 512M, 1G], ias: 48, oas: 40, context_banks: 24, smrs: 80 }
  - { name: adreno_smmu, model: arm-smmu, pgsize_bitmap: [4K, 64K, 2M, 512M, 1G], ias: 48, oas: 40, context_banks: 4, smrs: 4 }
devices:
  - { name: mdss, iommu: apps_smmu, streams: [0x880, 0xc80], coherent: false, params: { compatible: "qcom,sdm845-mdss" } }
  - { name: gpu, iommu: adreno_smmu, streams: [0x0], coherent: false, params: { compatible: "qcom,adreno" } }
`,
});
