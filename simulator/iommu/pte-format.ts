// Format-independent description of an IOMMU page-table format (the io-pgtable idea): hardware models
// describe their levels and how a descriptor is encoded; the walk, map and unmap are shared (pgtable.ts).
// Descriptors are 64-bit values held as two unsigned 32-bit halves (lo, hi) so encoding stays exact.

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_CACHE = 4;
export const PROT_NOEXEC = 8;
export const PROT_MMIO = 16;
export const PROT_PRIV = 32;

export const PROT_NAMES: Array<[number, string]> = [
  [PROT_READ, 'read'], [PROT_WRITE, 'write'], [PROT_CACHE, 'cache'], [PROT_NOEXEC, 'noexec'], [PROT_MMIO, 'mmio'], [PROT_PRIV, 'priv'],
];

export function protFromNames(names: readonly string[]): number {
  let p = 0;
  for (const n of names) for (const [bit, name] of PROT_NAMES) if (name === n) p |= bit;
  return p;
}

export function protToNames(prot: number): string[] {
  return PROT_NAMES.filter(([bit]) => prot & bit).map(([, n]) => n);
}

export const DESC_INVALID = 0;
export const DESC_TABLE = 1;
export const DESC_LEAF = 2;

export interface DecodedDesc {
  type: typeof DESC_INVALID | typeof DESC_TABLE | typeof DESC_LEAF;
  addr: number;          // output address or next-level table address
  prot: number;
}

export interface PteFormat {
  readonly name: string;
  readonly granule: number;               // smallest page size
  /** Address bit where each level's index starts, top level first (e.g. 39, 30, 21, 12). */
  readonly shifts: readonly number[];
  /** Index bits per level, top level first. */
  readonly bits: readonly number[];
  /** Levels whose entries may be leaves (blocks or pages). */
  readonly leafLevels: readonly boolean[];
  readonly ias: number;                    // input address bits
  readonly oas: number;                    // output address bits
  /** Bytes a table of this level occupies in memory (top level may be smaller than a granule). */
  tableBytes(level: number): number;
  /**
   * Level 0 is held in IOMMU registers, not in memory (Apple DART's TTBRs select the first table by the top
   * IOVA bits): its "table" has no physical address (paddr -1) and every next-level table is allocated when
   * the page table is created, as the driver does; encodeTable(…, 0) gives the register value.
   */
  readonly registerRoot?: boolean;
  /** Returns the descriptor or a string naming why it cannot be encoded (e.g. -ERANGE for the output size). */
  encodeLeaf(paddr: number, prot: number, level: number, out: Uint32Array): void;
  /** 0, or the negative errno the format refuses a leaf with before writing it (DART: -EINVAL without read or write). */
  leafError?(paddr: number, prot: number): number;
  /** A table descriptor written at `level` pointing at a table of level + 1. */
  encodeTable(tablePaddr: number, out: Uint32Array, level: number): void;
  decode(lo: number, hi: number, level: number): DecodedDesc;
  /** Fast path: descriptor type without allocating. */
  descType(lo: number, hi: number, level: number): number;
  /** Fast path: a leaf's output address (decode(…).addr) without allocating; optional. */
  leafAddress?(lo: number, hi: number, level: number): number;
}

/** The page sizes a format can map: the block size of every leaf level. */
export function formatPageSizes(f: PteFormat): number[] {
  const out: number[] = [];
  f.shifts.forEach((s, i) => { if (f.leafLevels[i]) out.push(2 ** s); });
  return out.sort((a, b) => a - b);
}

/** Split a number below 2^53 into 32-bit halves. */
export function splitHiLo(n: number): [number, number] {
  const hi = Math.floor(n / 4294967296);
  return [n - hi * 4294967296, hi];
}

export function joinHiLo(lo: number, hi: number): number {
  return hi * 4294967296 + lo;
}

export function descHex(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
