// Apple DART register layouts as data (drivers/iommu/apple-dart.c: struct apple_dart_hw and the register
// defines), one table per hardware generation, and the register file a DART instance keeps.
import { TTBR_T8020, TTBR_T8110, TtbrEncoding } from './format';
import type { DartPteKind } from './format';

/** A bit field: name, lowest bit, width. */
export type Field = [name: string, lsb: number, width: number];

export interface DartHw {
  model: string;                 // simulator model name
  compatible: string;            // DT compatible the driver matches
  generation: 't8020' | 't8110';
  pte: DartPteKind;
  oas: number | null;            // fixed output size; null: read from PARAMS3 (t8110)
  maxSids: number;
  lock: { offset: number; bit: number; name: string };
  error: { offset: number; streamField: Field; codeField: Field; addrLo: number; addrHi: number };
  /** error code bits, FIELD_GET(ERROR_CODE) == one of these */
  codes: Record<FaultCode, number | null>;
  enableStreams: number;
  tcr: number;
  tcrEnabled: number;
  tcrBypass: number;             // 0: this DART cannot bypass per stream (t8103-usb4)
  tcr4Level: number;             // t8110 TCR_FOUR_LEVEL (downstream and the 2025 4-level series)
  ttbr: number;
  ttbrCount: number;
  ttbrEnc: TtbrEncoding;
  defaultBypass: boolean;        // PARAMS2 bit 0 as shipped
}

export type FaultCode = 'READ FAULT' | 'WRITE FAULT' | 'NO PTE FOR IOVA' | 'NO PMD FOR IOVA' | 'NO PGD FOR IOVA' | 'NO TTBR FOR IOVA';

// Common to every generation.
export const PARAMS1 = 0x00;
export const PARAMS1_PAGE_SHIFT: Field = ['PAGE_SHIFT', 24, 4];
export const PARAMS2 = 0x04;
export const PARAMS2_BYPASS: Field = ['BYPASS_SUPPORT', 0, 1];

// T8020 (t8103, t8103-usb4, t6000).
export const T8020_STREAM_COMMAND = 0x20;
export const T8020_STREAM_COMMAND_INVALIDATE = 1 << 20;
export const T8020_STREAM_SELECT = 0x34;
export const T8020_TCR_TRANSLATE_ENABLE = 1 << 7;
export const T8020_TCR_BYPASS_DART = 1 << 8;
export const T8020_TCR_BYPASS_DAPF = 1 << 12;

// T8110.
export const T8110_PARAMS3 = 0x08;
export const T8110_PARAMS3_FIELDS: Field[] = [['PA_WIDTH', 24, 6], ['VA_WIDTH', 16, 6], ['VER_MAJ', 8, 8], ['VER_MIN', 0, 8]];
export const T8110_PARAMS4 = 0x0c;
export const T8110_PARAMS4_FIELDS: Field[] = [['NUM_CLIENTS', 16, 9], ['NUM_SIDS', 0, 9]];
export const T8110_TLB_CMD = 0x80;
export const T8110_TLB_CMD_FIELDS: Field[] = [['BUSY', 31, 1], ['OP', 8, 3], ['STREAM', 0, 8]];
export const T8110_TLB_CMD_OP_FLUSH_SID = 1;
export const T8110_ERROR_MASK = 0x104;
export const T8110_TCR_TRANSLATE_ENABLE = 1 << 0;
export const T8110_TCR_BYPASS_DART = 1 << 1;
export const T8110_TCR_BYPASS_DAPF = 1 << 2;
export const T8110_TCR_FOUR_LEVEL = 1 << 3;

export const ERROR_FLAG = 2 ** 31;

const T8020_COMMON = {
  generation: 't8020' as const,
  lock: { offset: 0x60, bit: 15, name: 'CONFIG' },
  error: { offset: 0x40, streamField: ['STREAM', 24, 4] as Field, codeField: ['CODE', 0, 12] as Field, addrLo: 0x50, addrHi: 0x54 },
  codes: { 'READ FAULT': 1 << 4, 'WRITE FAULT': 1 << 3, 'NO PTE FOR IOVA': 1 << 2, 'NO PMD FOR IOVA': 1 << 1, 'NO PGD FOR IOVA': null, 'NO TTBR FOR IOVA': 1 << 0 },
  enableStreams: 0xfc,
  tcr: 0x100,
  tcrEnabled: T8020_TCR_TRANSLATE_ENABLE,
  tcr4Level: 0,
  ttbrCount: 4,
  ttbrEnc: TTBR_T8020,
};

export const DART_HW: Record<string, DartHw> = {
  'apple-dart-t8103': {
    ...T8020_COMMON, model: 'apple-dart-t8103', compatible: 'apple,t8103-dart', pte: 'dart1', oas: 36, maxSids: 16,
    tcrBypass: T8020_TCR_BYPASS_DAPF | T8020_TCR_BYPASS_DART, ttbr: 0x200, defaultBypass: true,
  },
  'apple-dart-t8103-usb4': {
    ...T8020_COMMON, model: 'apple-dart-t8103-usb4', compatible: 'apple,t8103-usb4-dart', pte: 'dart1', oas: 36, maxSids: 64,
    tcrBypass: 0, ttbr: 0x400, defaultBypass: false,
  },
  'apple-dart-t6000': {
    ...T8020_COMMON, model: 'apple-dart-t6000', compatible: 'apple,t6000-dart', pte: 'dart2', oas: 42, maxSids: 16,
    tcrBypass: T8020_TCR_BYPASS_DAPF | T8020_TCR_BYPASS_DART, ttbr: 0x200, defaultBypass: true,
  },
  'apple-dart-t8110': {
    model: 'apple-dart-t8110', compatible: 'apple,t8110-dart', generation: 't8110', pte: 'dart2', oas: null, maxSids: 256,
    lock: { offset: 0x200, bit: 0, name: 'PROTECT' },
    error: { offset: 0x100, streamField: ['STREAM', 20, 8], codeField: ['CODE', 0, 15], addrLo: 0x170, addrHi: 0x174 },
    codes: { 'READ FAULT': 1 << 5, 'WRITE FAULT': 1 << 4, 'NO PTE FOR IOVA': 1 << 3, 'NO PMD FOR IOVA': 1 << 2, 'NO PGD FOR IOVA': 1 << 1, 'NO TTBR FOR IOVA': 1 << 0 },
    enableStreams: 0xc00,
    tcr: 0x1000, tcrEnabled: T8110_TCR_TRANSLATE_ENABLE, tcrBypass: T8110_TCR_BYPASS_DAPF | T8110_TCR_BYPASS_DART,
    tcr4Level: T8110_TCR_FOUR_LEVEL, ttbr: 0x1400, ttbrCount: 1, ttbrEnc: TTBR_T8110, defaultBypass: true,
  },
};

export function fieldGet(value: number, f: Field): number {
  return Math.floor((value >>> 0) / 2 ** f[1]) % 2 ** f[2];
}

export function decodeFields(value: number, fields: readonly Field[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fields) out[f[0]] = fieldGet(value, f);
  return out;
}

export const tcrOffset = (hw: DartHw, sid: number) => hw.tcr + 4 * sid;
/** DART_TTBR(dart, sid, idx): ttbr + (ttbr_count * sid + idx) * 4 */
export const ttbrOffset = (hw: DartHw, sid: number, idx: number) => hw.ttbr + 4 * (hw.ttbrCount * sid + idx);

export function tcrFields(hw: DartHw): Field[] {
  return hw.generation === 't8110'
    ? [['TRANSLATE_ENABLE', 0, 1], ['BYPASS_DART', 1, 1], ['BYPASS_DAPF', 2, 1], ['FOUR_LEVEL', 3, 1]]
    : [['TRANSLATE_ENABLE', 7, 1], ['BYPASS_DART', 8, 1], ['BYPASS_DAPF', 12, 1]];
}

export function ttbrFields(hw: DartHw): Field[] {
  const e = hw.ttbrEnc;
  return e.validBit === 31 ? [['VALID', 31, 1], ['ADDR', 0, 31]] : [['VALID', 0, 1], ['ADDR', 2, 30]];
}

export function errorFields(hw: DartHw): Field[] {
  return [['FLAG', 31, 1], hw.error.streamField, hw.error.codeField];
}
