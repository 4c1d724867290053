// The IPU3 imaging unit's own MMU page tables (drivers/staging/media/ipu3/ipu3-mmu.c): a 32-bit IOVA split
// 10 / 10 / 12, an L1 table and L2 tables of 1024 32-bit entries (4 KiB each), every entry a page frame number
// (IPU3_ADDR2PTE: addr >> 12) with no valid or permission bits. The driver fills unmapped entries with the pfn
// of a dummy page (L2) or dummy L2 table (L1), so a stray access reads the dummy page instead of faulting;
// here unmapped entries hold 0 (departure: the raw dump shows 0x0 where the hardware holds the dummy pfn).
// The one cost of that departure: physical page 0 would encode as 0, the empty entry, so the simulator refuses
// to map it (-ERANGE, as for a pfn the 32-bit entry cannot hold) instead of recording a mapping its tables lack.
import { DESC_INVALID, DESC_LEAF, DESC_TABLE, DecodedDesc, PROT_READ, PROT_WRITE, PteFormat } from '../../iommu/pte-format';

export const IPU3_PAGE_SHIFT = 12;
export const IPU3_PT_BITS = 10;
export const IPU3_PT_PTES = 1 << IPU3_PT_BITS;
export const IPU3_PT_SIZE = IPU3_PT_PTES * 4;

export class Ipu3Format implements PteFormat {
  readonly name = 'ipu3-mmu';
  readonly granule = 4096;
  readonly shifts = [IPU3_PAGE_SHIFT + IPU3_PT_BITS, IPU3_PAGE_SHIFT];
  readonly bits = [IPU3_PT_BITS, IPU3_PT_BITS];
  readonly leafLevels = [false, true];
  readonly ias = 32;
  constructor(readonly oas: number) {}

  tableBytes(): number {
    return IPU3_PT_SIZE;
  }

  /** -ERANGE for physical page 0, whose pfn is this model's empty entry (see the header); 0 otherwise. */
  leafError(paddr: number, _prot: number): number {
    return paddr < 4096 ? -34 : 0;
  }

  /** IPU3_ADDR2PTE */
  encodeLeaf(paddr: number, _prot: number, _level: number, out: Uint32Array): void {
    out[0] = Math.floor(paddr / 4096) >>> 0;
    out[1] = 0;
  }

  encodeTable(tablePaddr: number, out: Uint32Array): void {
    out[0] = Math.floor(tablePaddr / 4096) >>> 0;
    out[1] = 0;
  }

  descType(lo: number, _hi: number, level: number): number {
    if (lo === 0) return DESC_INVALID;
    return level === 0 ? DESC_TABLE : DESC_LEAF;
  }

  /** IPU3_PTE2ADDR; the MMU has no permission bits: every mapping is readable and writable. */
  decode(lo: number, hi: number, level: number): DecodedDesc {
    const type = this.descType(lo, hi, level) as DecodedDesc['type'];
    return { type, addr: lo * 4096, prot: type === DESC_LEAF ? PROT_READ | PROT_WRITE : 0 };
  }
}
