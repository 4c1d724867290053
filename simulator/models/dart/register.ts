// The four DART models and the parameters an inline `iommus:` entry may give them.
import { sizeLabel } from '../../core/format';
import { registerModel } from '../../kernel';
import type { ArgField } from '../../scenario/opspec';
import { registerModelParams } from '../../platform/registry';
import { DartModel } from './model';
import { DART_HW, DartHw } from './regs';

const COMMON: Record<string, ArgField> = {
  page_size: { type: 'u64', doc: 'DART page size, PARAMS1 bits 27:24: 16K (default) or 4K' },
  bypass: { type: 'bool', doc: 'PARAMS2 bit 0: the DART can bypass translation per stream' },
  locked: { type: 'bool', doc: 'the firmware locked the DART (CONFIG bit 15 / t8110 PROTECT bit 0): TTBR and TCR are read-only' },
  downstream: { type: 'bool', doc: 'run the Asahi (downstream) driver: a locked DART reuses the firmware TTBR with one stream and DMA domains only' },
  iotlb_entries: { type: 'int', min: 1, max: 1 << 20, doc: 'TLB capacity (default 64)' },
};

const DOCS: Record<string, string> = {
  'apple-dart-t8103': 'Apple M1 DART (apple,t8103-dart): 16 streams, 32-bit input, 36-bit output, DART1 PTEs, 4 TTBRs per stream',
  'apple-dart-t8103-usb4': 'Apple M1 USB4/Thunderbolt DART (apple,t8103-usb4-dart): 64 streams, TTBRs at 0x400, no per-stream bypass, DART1 PTEs',
  'apple-dart-t6000': 'Apple M1 Pro/Max/Ultra DART (apple,t6000-dart): 16 streams, 32-bit input, 42-bit output, DART2 PTEs with mandatory sub-page protection',
  'apple-dart-t8110': 'Apple M2-generation DART (apple,t8110-dart): streams and widths from PARAMS3/4, DART2 PTEs, TLB_CMD invalidation, 4-level tables when the input is wider than 36 bits',
};

function int(v: unknown, fallback: number): number {
  return typeof v === 'number' ? v : fallback;
}

function build(hw: DartHw, name: string, p: Record<string, unknown>, k: ConstructorParameters<typeof DartModel>[4]): DartModel {
  const pgsize = int(p.page_size, 16384);
  if (pgsize !== 4096 && pgsize !== 16384) {
    throw new Error(`IOMMU ${name}: page_size ${sizeLabel(pgsize)} is not a DART page size (4K or 16K)`);
  }
  const t8110 = hw.generation === 't8110';
  return new DartModel(hw.model, name, hw, {
    pgsize,
    bypass: typeof p.bypass === 'boolean' ? p.bypass : hw.defaultBypass,
    locked: p.locked === true,
    downstream: p.downstream === true,
    ias: t8110 ? int(p.va_width, 32) : 32,
    oas: t8110 ? int(p.pa_width, 42) : hw.oas!,
    streams: t8110 ? int(p.streams, 64) : hw.maxSids,
    iotlbEntries: int(p.iotlb_entries, 64),
  }, k);
}

for (const hw of Object.values(DART_HW)) {
  const params: Record<string, ArgField> = { ...COMMON };
  if (hw.generation === 't8110') {
    params.va_width = { type: 'int', min: 32, max: 52, doc: 'PARAMS3 VA_WIDTH: input address bits (default 32; above 36 uses 4-level tables)' };
    params.pa_width = { type: 'int', min: 32, max: 52, doc: 'PARAMS3 PA_WIDTH: output address bits (default 42; io-pgtable-dart accepts 36 or 42)' };
    params.streams = { type: 'int', min: 1, max: hw.maxSids, doc: 'PARAMS4 NUM_SIDS (default 64)' };
  }
  registerModelParams({ model: hw.model, doc: DOCS[hw.model], params });
  registerModel(hw.model, (name, p, _cfg, k) => build(hw, name, p, k));
}
