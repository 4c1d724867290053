// `generic`: an IOMMU described only by its page sizes, address widths and bypass support, with
// io-pgtable-arm LPAE tables. For trying out page-size and alignment rules without a real part.
import { hex } from '../core/format';
import { registerModel } from '../kernel';
import { registerModelParams } from '../platform/registry';
import type { IommuModel, ModelConfig } from '../iommu/instance';
import { defaultDmaDomain, flushAllDefault, flushRangeDefault, lpaeFormatFor, numList } from './lpae-common';

registerModelParams({
  model: 'generic', doc: 'an IOMMU with LPAE page tables described by its page sizes and address widths',
  params: {
    pgsize_bitmap: { type: { list: 'u64' }, doc: 'supported page sizes (default [4K, 2M, 1G])' },
    ias: { type: 'int', min: 32, max: 52, doc: 'input (IOVA) address bits (default 48)' },
    oas: { type: 'int', min: 32, max: 52, doc: 'output (physical) address bits (default 48)' },
    bypass: { type: 'bool', doc: 'hardware can bypass translation (identity domains); default true' },
    default_domain: { type: { enum: ['dma', 'identity', 'blocked'] }, doc: 'default domain policy (default dma)' },
    iotlb_entries: { type: 'int', min: 1, max: 1 << 20, doc: 'IOTLB capacity (default 256)' },
  },
});

registerModel('generic', (name, p) => {
  const config: ModelConfig = {
    pgsizeBitmap: numList(p.pgsize_bitmap, [4096, 2 ** 21, 2 ** 30]),
    ias: (p.ias as number) ?? 48, oas: (p.oas as number) ?? 48, bypass: p.bypass !== false,
    pasidBits: 0, iotlbEntries: (p.iotlb_entries as number) ?? 256, streams: 0,
  };
  const model: IommuModel = {
    model: 'generic', driver: 'generic-iommu', config,
    registers: () => [],
    probe: () => ({ log: [`generic IOMMU: page sizes ${config.pgsizeBitmap.map(hex).join(' ')}, ias ${config.ias}, oas ${config.oas}`] }),
    defaultDomainType: (dev, kernel) => defaultDmaDomain(dev, kernel, p.default_domain as string | undefined),
    createFormat: (_type, kernel) => lpaeFormatFor(config.pgsizeBitmap, config.ias, config.oas, kernel),
    attachCheck: () => null,
    flushRange: flushRangeDefault,
    flushAll: flushAllDefault,
    faultMessage: (f, inst) => `${inst.name}: ${f.kind} fault: ${f.access} at iova ${hex(f.iova)} from ${f.dev.name} (stream ${hex(f.stream)})`,
  };
  void name;
  return model;
});
