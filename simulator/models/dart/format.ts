// Apple DART page tables as io-pgtable-dart builds them (APPLE_DART for t8103, APPLE_DART2 for t6000/t8110).
// Walker levels: level 0 is the TTBR registers (1 or 4 of them, chosen by the IOVA bits above the tables),
// then 2 tables (3 on a t8110 whose input space is wider than 36 bits), leaves at the last level only.
import {
  DESC_INVALID, DESC_LEAF, DESC_TABLE, DecodedDesc, PROT_CACHE, PROT_READ, PROT_WRITE, PteFormat,
} from '../../iommu/pte-format';
import { alignDown, modulo } from '../../iommu/arith';

export type DartPteKind = 'dart1' | 'dart2';

/** How a TTBR register holds a table address (apple_dart_hw: ttbr_valid, ttbr_shift, ttbr_addr_field_shift). */
export interface TtbrEncoding { validBit: number; shift: number; fieldShift: number }
export const TTBR_T8020: TtbrEncoding = { validBit: 31, shift: 12, fieldShift: 0 };
export const TTBR_T8110: TtbrEncoding = { validBit: 0, shift: 14, fieldShift: 2 };

const TWO32 = 4294967296;
const PTE_VALID = 1 << 0;
// DART1 (t8103): output address bits 35:12 in place.
const DART1_SP_DIS = 1 << 1;
const DART1_NO_WRITE = 1 << 7;
const DART1_NO_READ = 1 << 8;
// DART2 (t6000, t8110): output address >> 4 in bits 37:10.
const DART2_NO_CACHE = 1 << 1;
const DART2_NO_WRITE = 1 << 2;
const DART2_NO_READ = 1 << 3;
// Sub-page protection, bits 63:52 (START) and 51:40 (END) = hi-word bits 31:20 and 19:8. The driver always
// allows the whole page: START 0, END 0xfff. Mandatory on DART2, optional (and still written) on DART1.
const SUBPAGE_END_FULL_HI = 0xfff << 8;

export interface DartFormatOptions {
  kind: DartPteKind;
  pgsize: number;        // 4K or 16K (PARAMS1 page shift)
  ias: number;
  oas: number;           // 36 or 42
  ttbr: TtbrEncoding;
}

/** Sub-page protection fields of a leaf's high word. */
export function dartSubpage(hi: number): { start: number; end: number } {
  return { start: (hi >>> 20) & 0xfff, end: (hi >>> 8) & 0xfff };
}

export class DartFormat implements PteFormat {
  readonly name: string;
  readonly granule: number;
  readonly shifts: number[] = [];
  readonly bits: number[] = [];
  readonly leafLevels: boolean[] = [];
  readonly registerRoot = true;
  readonly ias: number;
  readonly oas: number;
  /** table levels below the TTBRs (2, or 3 for a "4-level" t8110 whose TCR has FOUR_LEVEL set) */
  readonly tableLevels: number;
  readonly nTtbrs: number;
  readonly kind: DartPteKind;
  readonly ttbr: TtbrEncoding;

  constructor(o: DartFormatOptions) {
    // apple_dart_alloc_pgtable's refusals: the driver then fails the domain with -ENOMEM.
    if (o.oas !== 36 && o.oas !== 42) throw new Error(`DART output size ${o.oas} is neither 36 nor 42 bits`);
    if (o.ias > o.oas) throw new Error(`DART input size ${o.ias} exceeds the output size ${o.oas}`);
    if (o.pgsize !== 4096 && o.pgsize !== 16384) throw new Error(`DART page size ${o.pgsize} is neither 4K nor 16K`);
    const pgShift = Math.log2(o.pgsize);
    const bitsPerLevel = pgShift - 3;
    const vaBits = o.ias - pgShift;
    // Only the old 4K-page DARTs spread the space over up to 4 TTBRs; 16K ones use one.
    const maxTblBits = o.pgsize === 4096 ? 2 : 0;
    const levels = Math.max(2, Math.ceil((vaBits - maxTblBits) / bitsPerLevel));
    if (levels > 3) throw new Error(`DART input size ${o.ias} needs ${levels} table levels (at most 3)`);
    const tblBits = Math.max(0, vaBits - bitsPerLevel * levels);
    if (tblBits > maxTblBits) throw new Error(`DART input size ${o.ias} needs ${2 ** tblBits} TTBRs`);
    this.kind = o.kind;
    this.ttbr = o.ttbr;
    this.granule = o.pgsize;
    this.ias = o.ias;
    this.oas = o.oas;
    this.tableLevels = levels;
    this.nTtbrs = 2 ** tblBits;
    this.shifts.push(pgShift + bitsPerLevel * levels);
    this.bits.push(tblBits);
    this.leafLevels.push(false);
    for (let i = 0; i < levels; i++) {
      this.shifts.push(pgShift + bitsPerLevel * (levels - 1 - i));
      this.bits.push(bitsPerLevel);
      this.leafLevels.push(i === levels - 1);
    }
    this.name = `apple-${o.kind}-${o.pgsize / 1024}k`;
  }

  get lastLevel(): number {
    return this.tableLevels;
  }

  tableBytes(level: number): number {
    return level === 0 ? 0 : this.granule;
  }

  leafError(_paddr: number, prot: number): number {
    return prot & (PROT_READ | PROT_WRITE) ? 0 : -22;      // -EINVAL: neither read nor write
  }

  /** Address field of a descriptor's low word (the output or table address as the descriptor holds it). */
  private addrLo(paddr: number): number {
    if (this.kind === 'dart1') {
      return alignDown(modulo(paddr, TWO32), 4096);
    }
    return alignDown(modulo(Math.floor(paddr / 16), TWO32), 1024);
  }

  /** Address field of a descriptor's high word. */
  private addrHi(paddr: number): number {
    if (this.kind === 'dart1') return Math.floor(paddr / TWO32) & 0xf;
    return Math.floor(Math.floor(paddr / 16) / TWO32) & 0x3f;
  }

  private addrOf(lo: number, hi: number): number {
    if (this.kind === 'dart1') return (hi & 0xf) * TWO32 + (lo >>> 12) * 4096;
    return ((hi & 0x3f) * TWO32 + (lo >>> 10) * 1024) * 16;
  }

  leafAddress(lo: number, hi: number): number {
    return this.addrOf(lo, hi);
  }

  encodeLeaf(paddr: number, prot: number, _level: number, out: Uint32Array): void {
    let flags = PTE_VALID;
    if (this.kind === 'dart1') {
      flags |= DART1_SP_DIS;
      if (!(prot & PROT_WRITE)) flags |= DART1_NO_WRITE;
      if (!(prot & PROT_READ)) flags |= DART1_NO_READ;
    } else {
      if (!(prot & PROT_WRITE)) flags |= DART2_NO_WRITE;
      if (!(prot & PROT_READ)) flags |= DART2_NO_READ;
      if (!(prot & PROT_CACHE)) flags |= DART2_NO_CACHE;
    }
    out[0] = (this.addrLo(paddr) + flags) >>> 0;
    out[1] = (this.addrHi(paddr) | SUBPAGE_END_FULL_HI) >>> 0;
  }

  /** Level 0: the TTBR register value; below: a next-level table pointer (address | VALID). */
  encodeTable(tablePaddr: number, out: Uint32Array, level: number): void {
    if (level === 0) {
      out[0] = encodeTtbr(this.ttbr, tablePaddr);
      out[1] = 0;
      return;
    }
    out[0] = (this.addrLo(tablePaddr) + PTE_VALID) >>> 0;
    out[1] = this.addrHi(tablePaddr) >>> 0;
  }

  descType(lo: number, _hi: number, level: number): number {
    if (level === 0) return ttbrValid(this.ttbr, lo) ? DESC_TABLE : DESC_INVALID;
    if (!(lo & PTE_VALID)) return DESC_INVALID;
    return level === this.tableLevels ? DESC_LEAF : DESC_TABLE;
  }

  decode(lo: number, hi: number, level: number): DecodedDesc {
    const type = this.descType(lo, hi, level) as DecodedDesc['type'];
    if (level === 0) return { type, addr: type === DESC_INVALID ? 0 : decodeTtbr(this.ttbr, lo), prot: 0 };
    const addr = this.addrOf(lo, hi);
    let prot = 0;
    if (type === DESC_LEAF) {
      if (this.kind === 'dart1') {
        if (!(lo & DART1_NO_READ)) prot |= PROT_READ;
        if (!(lo & DART1_NO_WRITE)) prot |= PROT_WRITE;
      } else {
        if (!(lo & DART2_NO_READ)) prot |= PROT_READ;
        if (!(lo & DART2_NO_WRITE)) prot |= PROT_WRITE;
        if (!(lo & DART2_NO_CACHE)) prot |= PROT_CACHE;
      }
    }
    return { type, addr, prot };
  }
}

/** apple_dart_hw_set_ttbr: VALID | (paddr >> ttbr_shift) << ttbr_addr_field_shift. */
export function encodeTtbr(e: TtbrEncoding, paddr: number): number {
  return ((2 ** e.validBit) + Math.floor(paddr / 2 ** e.shift) * 2 ** e.fieldShift) >>> 0;
}

export function ttbrValid(e: TtbrEncoding, value: number): boolean {
  return ((value >>> e.validBit) & 1) === 1;      // registers and descriptors hold unsigned 32-bit values
}

export function decodeTtbr(e: TtbrEncoding, value: number): number {
  const field = (value >>> 0) - (ttbrValid(e, value) ? 2 ** e.validBit : 0);
  return Math.floor(field / 2 ** e.fieldShift) * 2 ** e.shift;
}
