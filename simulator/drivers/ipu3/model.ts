// `ipu3-mmu`: the IPU3 imaging unit's MMU as an IOMMU (the "self-contained IOMMU driver" of seed 003, or the
// IOMMU half of the driver's own DMA ops): one client, 4 KiB pages, 32-bit IOVA, the L1 table's pfn in
// REG_L1_PHYS, and whole-TLB invalidation through REG_TLB_INVALIDATE (it cannot invalidate a range). It has
// no bypass and no fault interrupt: a stray access reads the dummy page, which the simulator reports as a fault.
import { registerModel } from '../../kernel';
import { registerModelParams } from '../../platform/registry';
import { Domain, IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ } from '../../iommu/domain';
import type { IommuModel, ModelConfig, RegisterValue } from '../../iommu/instance';
import { Ipu3Format } from './format';

const IMGU_REG_BASE = 0x4000;
export const REG_TLB_INVALIDATE = IMGU_REG_BASE + 0x300;
export const REG_L1_PHYS = IMGU_REG_BASE + 0x304;

registerModelParams({
  model: 'ipu3-mmu', doc: 'the Intel IPU3 imaging unit\'s own MMU: 2-level tables of 1024 32-bit pfn entries, 4K pages, 32-bit IOVA',
  params: {
    oas: { type: 'int', min: 32, max: 44, doc: 'physical address bits the 32-bit pfn entries reach on this SoC (default 39, Skylake/Kaby Lake)' },
    iotlb_entries: { type: 'int', min: 1, max: 1 << 20, doc: 'TLB capacity (default 32)' },
  },
});

registerModel('ipu3-mmu', (name, p) => {
  const config: ModelConfig = {
    pgsizeBitmap: [4096], ias: 32, oas: (p.oas as number) ?? 39, bypass: false, pasidBits: 0,
    iotlbEntries: (p.iotlb_entries as number) ?? 32, streams: 1,
  };
  let l1: number | null = null;
  let invalidations = 0;
  const invalidate = (iotlb: { invalidateDomain(d: string, r: string): void }, d: Domain, reason: string) => {
    invalidations++;
    iotlb.invalidateDomain(d.id, `${reason} (REG_TLB_INVALIDATE)`);
  };
  const model: IommuModel = {
    model: 'ipu3-mmu', driver: 'ipu3-mmu', config,
    registers: (): RegisterValue[] => [
      { name: 'REG_TLB_INVALIDATE', offset: REG_TLB_INVALIDATE, value: 0, fields: { writes: invalidations } },
      { name: 'REG_L1_PHYS', offset: REG_L1_PHYS, value: l1 === null ? 0 : Math.floor(l1 / 4096), fields: { l1_table: l1 ?? 0 } },
    ],
    probe: () => ({ log: [`IPU3 MMU: 32-bit IOVA, L1/L2 tables of 1024 entries, 4K pages, ${config.oas}-bit physical`] }),
    defaultDomainType: (_dev, kernel) => (kernel.dma_strict ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ),
    createFormat: () => new Ipu3Format(config.oas),
    attachCheck: (d) => (d.pgtable ? null : { errno: 'EINVAL', message: `${name}: the IPU3 MMU cannot bypass or block: paging domains only` }),
    onAttach: (d) => { l1 = d.pgtable!.root.paddr; },
    flushRange: (iotlb, d, _iova, _size, reason) => invalidate(iotlb, d, reason),
    flushAll: (iotlb, d, reason) => invalidate(iotlb, d, reason),
    faultMessage: (f) => `${f.access} of unmapped IOVA 0x${f.iova.toString(16).padStart(8, '0')} goes to the dummy page ` +
      `(the IPU3 MMU raises no fault: the imaging unit ${f.access === 'read' ? 'reads garbage' : 'writes into the dummy page'})`,
  };
  return model;
});
