// Arm VMSAv8-64 long-descriptor stage-1 format as io-pgtable-arm builds it (ARM_64_LPAE_S1):
// 4K, 16K or 64K granule, 8-byte descriptors, levels chosen from the input size.
import { DESC_INVALID, DESC_LEAF, DESC_TABLE, DecodedDesc, PROT_CACHE, PROT_MMIO, PROT_NOEXEC, PROT_PRIV, PROT_READ, PROT_WRITE, PteFormat } from './pte-format';

// Descriptor bits (lo word unless noted).
const VALID = 1 << 0;
const TYPE_TABLE_OR_PAGE = 1 << 1;   // table at levels < 3, page at level 3; 0 = block
const ATTRINDX_SHIFT = 2;            // MAIR index: 0 non-cacheable, 1 cacheable, 2 device
const AP_UNPRIV = 1 << 6;            // AP[1]: EL0 may access
const AP_RDONLY = 1 << 7;            // AP[2]
const SH_IS = 3 << 8;                // inner shareable
const AF = 1 << 10;
const NG = 1 << 11;
const XN_HI = 1 << (54 - 32);        // execute-never, in the hi word

export class LpaeFormat implements PteFormat {
  readonly name: string;
  readonly shifts: number[] = [];
  readonly bits: number[] = [];
  readonly leafLevels: boolean[] = [];
  private readonly addrMaskLoBits: number;
  private readonly lastLevel: number;

  constructor(readonly granule: number, readonly ias: number, readonly oas: number, readonly coherentWalk = true) {
    if (granule !== 4096 && granule !== 16384 && granule !== 65536) throw new Error(`LPAE granule ${granule} is not 4K, 16K or 64K`);
    const pgShift = Math.log2(granule);
    const bitsPerLevel = pgShift - 3;
    const levels = Math.ceil((ias - pgShift) / bitsPerLevel);
    for (let i = 0; i < levels; i++) {
      const shift = pgShift + bitsPerLevel * (levels - 1 - i);
      this.shifts.push(shift);
      this.bits.push(i === 0 ? ias - shift : bitsPerLevel);
    }
    // Architectural level numbers: the last level is 3. Blocks: 1G and 2M for 4K, 32M for 16K, 512M for 64K.
    const firstArchLevel = 4 - levels;
    for (let i = 0; i < levels; i++) {
      const arch = firstArchLevel + i;
      this.leafLevels.push(arch === 3 || arch === 2 || (arch === 1 && granule === 4096));
    }
    this.lastLevel = levels - 1;
    this.addrMaskLoBits = pgShift;
    this.name = `arm-lpae-s1-${granule / 1024}k`;
  }

  tableBytes(level: number): number {
    return Math.max(8 * 2 ** this.bits[level], 64);
  }

  encodeLeaf(paddr: number, prot: number, level: number, out: Uint32Array): void {
    let lo = VALID | AF | NG;
    if (level === this.lastLevel) lo |= TYPE_TABLE_OR_PAGE;
    if (!(prot & PROT_WRITE) && (prot & PROT_READ)) lo |= AP_RDONLY;
    if (!(prot & PROT_PRIV)) lo |= AP_UNPRIV;
    if (prot & PROT_MMIO) lo |= 2 << ATTRINDX_SHIFT;
    else if (prot & PROT_CACHE) lo |= 1 << ATTRINDX_SHIFT;
    if (this.coherentWalk || (prot & PROT_CACHE)) lo |= SH_IS;
    const hiAddr = Math.floor(paddr / 4294967296);
    const loAddr = paddr - hiAddr * 4294967296;
    out[0] = (lo | loAddr) >>> 0;
    out[1] = (hiAddr | ((prot & PROT_NOEXEC) ? XN_HI : 0)) >>> 0;
  }

  encodeTable(tablePaddr: number, out: Uint32Array): void {
    const hiAddr = Math.floor(tablePaddr / 4294967296);
    out[0] = ((tablePaddr - hiAddr * 4294967296) | VALID | TYPE_TABLE_OR_PAGE) >>> 0;
    out[1] = hiAddr >>> 0;
  }

  descType(lo: number, _hi: number, level: number): number {
    if (!(lo & VALID)) return DESC_INVALID;
    if (level === this.lastLevel) return lo & TYPE_TABLE_OR_PAGE ? DESC_LEAF : DESC_INVALID;
    return lo & TYPE_TABLE_OR_PAGE ? DESC_TABLE : DESC_LEAF;
  }

  leafAddress(lo: number, hi: number): number {
    // output address bits 47:pgShift
    return (hi & 0xffff) * 4294967296 + (lo >>> this.addrMaskLoBits) * this.granule;
  }

  decode(lo: number, hi: number, level: number): DecodedDesc {
    const type = this.descType(lo, hi, level) as DecodedDesc['type'];
    const addr = this.leafAddress(lo, hi);
    let prot = 0;
    if (type === DESC_LEAF) {
      prot = PROT_READ;
      if (!(lo & AP_RDONLY)) prot |= PROT_WRITE;
      if (!(lo & AP_UNPRIV)) prot |= PROT_PRIV;
      const idx = (lo >>> ATTRINDX_SHIFT) & 7;
      if (idx === 1) prot |= PROT_CACHE;
      if (idx === 2) prot |= PROT_MMIO;
      if (hi & XN_HI) prot |= PROT_NOEXEC;
    }
    return { type, addr, prot };
  }
}
