// Arm SMMUv3 (drivers/iommu/arm/arm-smmu-v3): LPAE stage-1 tables chosen by arm_lpae_restrict_pgsizes,
// ID registers as data, and the driver's event dump for faults. PASID/SVA state lives in the SVA layer.
import { hex } from '../core/format';
import { registerModel } from '../kernel';
import { registerModelParams } from '../platform/registry';
import type { IommuModel, ModelConfig, RegisterValue } from '../iommu/instance';
import { defaultDmaDomain, flushAllDefault, flushRangeDefault, lpaeFormatFor, numList } from './lpae-common';

registerModelParams({
  model: 'arm-smmu-v3', doc: 'Arm SMMUv3 with stage-1 LPAE tables (PASID tables with pasid_bits > 0)',
  params: {
    pgsize_bitmap: { type: { list: 'u64' }, doc: 'page sizes from IDR5 granules (default [4K, 2M, 1G])' },
    ias: { type: 'int', min: 32, max: 52, doc: 'input address bits (default 48)' },
    oas: { type: 'int', min: 32, max: 52, doc: 'output address bits, IDR5.OAS (default 48)' },
    pasid_bits: { type: 'int', min: 0, max: 20, doc: 'IDR1.SSIDSIZE: substream (PASID) bits; 0 = none' },
    sid_bits: { type: 'int', min: 1, max: 32, doc: 'IDR1.SIDSIZE (default 16)' },
    bypass: { type: 'bool', doc: 'STE bypass allowed for identity domains (default true)' },
    default_domain: { type: { enum: ['dma', 'identity', 'blocked'] }, doc: 'default domain policy (default dma)' },
    iotlb_entries: { type: 'int', min: 1, max: 1 << 20, doc: 'TLB capacity (default 512)' },
  },
});

const OAS_ENCODING: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
const EVENT_NAMES: Record<string, [number, string]> = {
  translation: [0x10, 'F_TRANSLATION'], 'address-size': [0x11, 'F_ADDR_SIZE'], permission: [0x13, 'F_PERMISSION'], blocked: [0x04, 'C_BAD_STE'],
};

registerModel('arm-smmu-v3', (name, p) => {
  const config: ModelConfig = {
    pgsizeBitmap: numList(p.pgsize_bitmap, [4096, 2 ** 21, 2 ** 30]),
    ias: (p.ias as number) ?? 48, oas: (p.oas as number) ?? 48, bypass: p.bypass !== false,
    pasidBits: (p.pasid_bits as number) ?? 0, iotlbEntries: (p.iotlb_entries as number) ?? 512, streams: 2 ** ((p.sid_bits as number) ?? 16),
  };
  const sidBits = (p.sid_bits as number) ?? 16;
  const registers = (): RegisterValue[] => {
    const gran = (g: number) => (config.pgsizeBitmap.includes(g) ? 1 : 0);
    const idr5 = (OAS_ENCODING[config.oas] ?? 5) | gran(4096) << 4 | gran(16384) << 5 | gran(65536) << 6;
    const idr1 = sidBits | config.pasidBits << 6;
    const idr0 = 1 << 1 /* S1P */ | 2 << 2 /* TTF AArch64 */ | 1 << 27 /* 2-level stream table */;
    return [
      { name: 'IDR0', offset: 0x0, value: idr0, fields: { S1P: 1, TTF: 2, ST_LVL: 1 } },
      { name: 'IDR1', offset: 0x4, value: idr1, fields: { SIDSIZE: sidBits, SSIDSIZE: config.pasidBits } },
      { name: 'IDR5', offset: 0x14, value: idr5, fields: { OAS: OAS_ENCODING[config.oas] ?? 5, GRAN4K: gran(4096), GRAN16K: gran(16384), GRAN64K: gran(65536) } },
    ];
  };
  const model: IommuModel = {
    model: 'arm-smmu-v3', driver: 'arm-smmu-v3', config, registers,
    probe: () => ({ log: [`ias ${config.ias}-bit, oas ${config.oas}-bit (features 0x00000${(config.pasidBits ? 0x1 : 0).toString(16)}00)`] }),
    defaultDomainType: (dev, kernel) => defaultDmaDomain(dev, kernel, p.default_domain as string | undefined),
    createFormat: (_type, kernel) => lpaeFormatFor(config.pgsizeBitmap, config.ias, config.oas, kernel),
    attachCheck: () => null,
    flushRange: flushRangeDefault,
    flushAll: flushAllDefault,
    faultMessage: (f) => {
      const [id, evt] = EVENT_NAMES[f.kind] ?? [0x10, 'F_TRANSLATION'];
      if (f.kind === 'blocked') return `event 0x${id.toString(16).padStart(2, '0')} received: ${evt} sid: ${hex(f.stream)} (stream is blocked: transaction aborted)`;
      return `event: ${evt} client: ${f.dev.name} sid: ${hex(f.stream)} ssid: ${hex(f.pasid ?? 0)} iova: ${hex(f.iova)} ipa: 0x0`;
    },
  };
  void name;
  return model;
});
