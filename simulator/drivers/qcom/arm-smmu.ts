// `arm-smmu`: an Arm SMMUv2 / MMU-500 as drivers/iommu/arm/arm-smmu drives it (Qualcomm's apps_smmu and
// adreno_smmu on sdm845): stage-1 context banks with io-pgtable-arm LPAE tables, stream matching, ID registers
// as data, the probe banner and the context-fault line. Qualcomm's opt-outs of the automatic DMA domain are
// default-domain policies here (see qcomDefaultDomain).
import { hex } from '../../core/format';
import { registerModel } from '../../kernel';
import type { KernelConfig } from '../../scenario/types';
import { ScenarioError } from '../../scenario/types';
import { registerModelParams } from '../../platform/registry';
import type { Device } from '../../iommu/device';
import { IOMMU_DOMAIN_IDENTITY } from '../../iommu/domain';
import type { IommuModel, ModelConfig, Refusal, RegisterValue } from '../../iommu/instance';
import { defaultDmaDomain, flushAllDefault, flushRangeDefault, lpaeFormatFor, numList } from '../../models/lpae-common';

registerModelParams({
  model: 'arm-smmu', doc: 'Arm SMMUv2 / MMU-500 (arm-smmu driver): stage-1 context banks with LPAE tables, stream matching',
  params: {
    pgsize_bitmap: { type: { list: 'u64' }, doc: 'page sizes of the supported LPAE formats (default [4K, 64K, 2M, 512M, 1G]: AArch64 4K and 64K granules)' },
    ias: { type: 'int', min: 32, max: 48, doc: 'stage-1 input (VA) bits, IDR2.UBS (default 48)' },
    oas: { type: 'int', min: 32, max: 48, doc: 'stage-1 output (IPA) bits, IDR2.IAS (default 40)' },
    context_banks: { type: 'int', min: 1, max: 128, doc: 'IDR1.NUMCB (default 16)' },
    smrs: { type: 'int', min: 1, max: 128, doc: 'stream match register groups, IDR0.NUMSMRG (default 80)' },
    bypass: { type: 'bool', doc: 'streams may bypass translation (identity domains); default true' },
    default_domain: { type: { enum: ['dma', 'identity', 'blocked'] }, doc: 'default domain policy (default dma)' },
    iotlb_entries: { type: 'int', min: 1, max: 1 << 20, doc: 'TLB capacity (default 128)' },
  },
});

/** The compatibles of the 2019 of/device blacklist (seed 002); mainline's qcom_smmu_client_of_match holds these too. */
export const QCOM_DISPLAY_GPU_CLIENTS = ['qcom,mdp4', 'qcom,mdss', 'qcom,sdm845-mdss', 'qcom,adreno'];
const DMA_DOMAIN_CHOICES = ['dma', 'identity', 'none'];
const OPT_OUTS = ['blacklist', 'identity'];

/**
 * Which default domain a device gets: its own `dma_domain` param when given; else, with kernel option
 * `qcom_dma_opt_out`, the display/GPU clients get none (`blacklist`: the thread's of/device list, no DMA domain
 * until the driver attaches its own) or an identity domain (`identity`: mainline's qcom_smmu_def_domain_type);
 * else the IOMMU's policy.
 */
export function qcomDefaultDomain(dev: Device, kernel: KernelConfig, where: ScenarioError['pos']): number | null | 'dma' {
  const own = dev.spec.params.dma_domain;
  if (own !== undefined) {
    if (typeof own !== 'string' || !DMA_DOMAIN_CHOICES.includes(own)) {
      throw new ScenarioError(dev.spec.pos, `device ${dev.name} params dma_domain: expected dma, identity or none, got ${JSON.stringify(own)}`);
    }
    if (own === 'none') return null;
    if (own === 'identity') return IOMMU_DOMAIN_IDENTITY;
    return 'dma';
  }
  const opt = kernel.options.qcom_dma_opt_out;
  if (opt === undefined || opt === false) return 'dma';
  if (typeof opt !== 'string' || !OPT_OUTS.includes(opt)) {
    throw new ScenarioError(where, `kernel options qcom_dma_opt_out: expected blacklist or identity, got ${JSON.stringify(opt)}`);
  }
  const compatible = dev.spec.params.compatible;
  if (typeof compatible !== 'string' || !QCOM_DISPLAY_GPU_CLIENTS.includes(compatible)) return 'dma';
  return opt === 'blacklist' ? null : IOMMU_DOMAIN_IDENTITY;
}

const SIZE_ENC: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5 };
const FSR_FORMAT_AARCH64 = 0x400;      // FSR[10:9] = 0b10
const FSR: Record<string, number> = { translation: 0x2, 'address-size': 0x80, permission: 0x8 };

registerModel('arm-smmu', (name, p, _cfg, k) => {
  const config: ModelConfig = {
    pgsizeBitmap: numList(p.pgsize_bitmap, [4096, 65536, 2 ** 21, 2 ** 29, 2 ** 30]),
    ias: (p.ias as number) ?? 48, oas: (p.oas as number) ?? 40, bypass: p.bypass !== false,
    pasidBits: 0, iotlbEntries: (p.iotlb_entries as number) ?? 128, streams: 2 ** 16,
  };
  const numCb = (p.context_banks as number) ?? 16;
  const numSmr = (p.smrs as number) ?? 80;
  const bitmap = config.pgsizeBitmap.reduce((a, s) => a + s, 0);
  /** context bank of each attached paging domain, in attach order (arm_smmu_alloc_context_bank) */
  const banks = new Map<string, number>();
  const registers = (): RegisterValue[] => {
    const has = (g: number) => (config.pgsizeBitmap.includes(g) ? 1 : 0);
    const idr2 = (SIZE_ENC[config.oas] ?? 2) | (SIZE_ENC[config.oas] ?? 2) << 4 | (SIZE_ENC[config.ias] ?? 5) << 8
      | has(4096) << 12 | has(16384) << 13 | has(65536) << 14;
    return [
      { name: 'SMMU_IDR0', offset: 0x20, value: (1 << 30 | 1 << 27 | numSmr) >>> 0, fields: { S1TS: 1, SMS: 1, NUMSMRG: numSmr } },
      { name: 'SMMU_IDR1', offset: 0x24, value: numCb, fields: { PAGESIZE: 0, NUMCB: numCb } },
      { name: 'SMMU_IDR2', offset: 0x28, value: idr2, fields: { IAS: SIZE_ENC[config.oas] ?? 2, OAS: SIZE_ENC[config.oas] ?? 2, UBS: SIZE_ENC[config.ias] ?? 5,
        PTFS_4K: has(4096), PTFS_16K: has(16384), PTFS_64K: has(65536) } },
    ];
  };
  const model: IommuModel = {
    model: 'arm-smmu', driver: 'arm-smmu', config, registers,
    probe: () => ({ log: [
      'probing hardware configuration...', 'SMMUv2 with:', '\tstage 1 translation', `\tstream matching with ${numSmr} register groups`,
      `\t${numCb} context banks (0 stage-2 only)`, `\tSupported page sizes: 0x${bitmap.toString(16).padStart(8, '0')}`,
      `\tStage-1: ${config.ias}-bit VA -> ${config.oas}-bit IPA`,
    ] }),
    defaultDomainType: (dev, kernel): number | Refusal | null => {
      const t = qcomDefaultDomain(dev, kernel, k.platform.pos);
      return t === 'dma' ? defaultDmaDomain(dev, kernel, p.default_domain as string | undefined) : t;
    },
    createFormat: (_type, kernel) => lpaeFormatFor(config.pgsizeBitmap, config.ias, config.oas, kernel),
    attachCheck: (d) => {
      if (d.pgtable && !banks.has(d.id)) {
        if (banks.size >= numCb) return { errno: 'ENOSPC', message: `no free context bank (${numCb} in use)` };
        banks.set(d.id, banks.size);
      }
      return null;
    },
    flushRange: flushRangeDefault,
    flushAll: flushAllDefault,
    faultMessage: (f) => {
      if (f.kind === 'blocked') return `Blocked unknown Stream ID ${hex(f.stream)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`;
      const d = f.dev.group?.domain;
      const fsr = (FSR[f.kind] ?? 0x2) | FSR_FORMAT_AARCH64;
      const fsynr = (f.access === 'write' ? 0x10 : 0) | ((f.level ?? 3) & 3);
      return `Unhandled context fault: fsr=0x${fsr.toString(16)}, iova=0x${f.iova.toString(16).padStart(8, '0')}, fsynr=0x${fsynr.toString(16)}, ` +
        `cbfrsynra=0x${f.stream.toString(16)}, cb=${d ? banks.get(d.id) ?? 0 : 0}`;
    },
  };
  void name;
  return model;
});
