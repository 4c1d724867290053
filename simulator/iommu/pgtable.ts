// The shared multi-level page table: map, unmap, iova_to_phys and walks over any PteFormat
// (io-pgtable's role). Tables live in simulated physical memory: every table has a physical address
// and table descriptors hold it, so raw dumps read like the hardware's.
import type { EventBus } from '../core/events';
import { alignDown, modulo } from './arith';
import { DESC_INVALID, DESC_LEAF, DESC_TABLE, PteFormat, descHex } from './pte-format';

export interface Table {
  paddr: number;
  level: number;
  desc: Uint32Array;                        // 2 words per entry: lo, hi
  children: Array<Table | undefined> | null; // next-level tables (null at leaf-only levels)
  live: number;                              // valid entries
}

export interface Leaf { iova: number; paddr: number; size: number; prot: number }

export interface WalkStep {
  level: number;
  index: number;
  table: number;          // physical address of the table read (-1: a register-held level, see PteFormat.registerRoot)
  raw: string;
  outcome: 'table' | 'leaf' | 'invalid';
}

export type TableAllocator = {
  alloc(bytes: number, level: number): number | null;   // physical address, or null when memory is exhausted
  free(paddr: number, bytes: number): void;
};

export interface UnmapOptions {
  /** Pre-2024 io-pgtable-arm: unmapping part of a block splits it instead of removing it whole. */
  splitBlocks?: boolean;
}

const scratch = new Uint32Array(2);

export class PageTable {
  readonly root: Table;
  readonly levels: number;
  // The walk's arithmetic, fixed per format and computed once (no `2 **` or format calls per walk).
  private readonly blockSize: number[];
  private readonly entries: number[];
  /** the level whose block size is blockSize[l] when that level may hold a leaf, else -1 (levelFor) */
  private readonly leafLevelOf: number[];
  /** 2^ias: the first IOVA the tables cannot translate */
  readonly inputLimit: number;
  /** 2^oas */
  private readonly outputLimit: number;
  tables = 1;

  constructor(readonly fmt: PteFormat, private readonly mem: TableAllocator, private readonly bus: EventBus | null,
    readonly domainId: string, private readonly opts: UnmapOptions = {}) {
    this.levels = fmt.shifts.length;
    this.blockSize = fmt.shifts.map(s => 2 ** s);
    this.entries = fmt.bits.map(b => 2 ** b);
    this.leafLevelOf = this.blockSize.map((_, l) => (fmt.leafLevels[l] ? l : -1));
    this.inputLimit = 2 ** fmt.ias;
    this.outputLimit = 2 ** fmt.oas;
    const root = this.newTable(0);
    if (!root) throw new Error('no memory for the page-table root');
    this.root = root;
    if (fmt.registerRoot) this.populateRegisterRoot();
  }

  /** A register-held level 0: every first table exists from the start and its register points at it. */
  private populateRegisterRoot(): void {
    this.tables = 0;
    for (let i = 0; i < this.entries[0]; i++) {
      const child = this.newTable(1);
      if (!child) {
        for (const c of this.root.children!) if (c) this.freeSubtree(c);
        throw new Error('no memory for the first-level tables');
      }
      this.root.children![i] = child;
      this.tables++;
      this.fmt.encodeTable(child.paddr, scratch, 0);
      this.root.desc[2 * i] = scratch[0];
      this.root.desc[2 * i + 1] = scratch[1];
      this.root.live++;
    }
  }

  private newTable(level: number): Table | null {
    const paddr = level === 0 && this.fmt.registerRoot ? -1 : this.mem.alloc(this.fmt.tableBytes(level), level);
    if (paddr === null) return null;
    const n = this.entries[level];
    return { paddr, level, desc: new Uint32Array(2 * n), children: level < this.levels - 1 ? new Array(n) : null, live: 0 };
  }

  private index(iova: number, level: number): number {
    return Math.floor(iova / this.blockSize[level]) % this.entries[level];
  }

  /** Level whose block size is pgsize, or -1. */
  levelFor(pgsize: number): number {
    const bs = this.blockSize;
    for (let l = 0; l < bs.length; l++) if (bs[l] === pgsize) return this.leafLevelOf[l];
    return -1;
  }

  // The walks below use one invariant this class keeps (it is the only writer of descriptors): an entry holds a
  // table descriptor exactly when `children[i]` is set. So a walk descends through `children` and decodes a
  // descriptor's type only where no child is (invalid, or a block): the outcome of reading every level's
  // descriptor, as io-pgtable does, without a format call per level.

  /** Maps one page of pgsize. Returns 0 or a negative errno number. */
  map(iova: number, paddr: number, pgsize: number, prot: number): number {
    const target = this.levelFor(pgsize);
    if (target < 0) return -22;                                        // -EINVAL: size the format cannot map
    if (iova >= this.inputLimit || paddr + pgsize > this.outputLimit) return -34;   // -ERANGE
    const fmt = this.fmt;
    if (fmt.leafError !== undefined) {
      const refused = fmt.leafError(paddr, prot);
      if (refused) return refused;
    }
    const blockSize = this.blockSize, entries = this.entries;
    let t = this.root;
    for (let level = 0; level < target; level++) {
      const i = Math.floor(iova / blockSize[level]) % entries[level];
      let child = t.children![i];
      if (child === undefined) {
        if (fmt.descType(t.desc[2 * i], t.desc[2 * i + 1], level) === DESC_LEAF) return -17;   // a block covers it: -EEXIST
        const made = this.newTable(level + 1);
        if (!made) return -12;                                          // -ENOMEM
        child = made;
        t.children![i] = child;
        this.tables++;
        fmt.encodeTable(child.paddr, scratch, level);
        t.desc[2 * i] = scratch[0];
        t.desc[2 * i + 1] = scratch[1];
        t.live++;
        if (this.bus?.active) this.emitPte('table', level, i, alignDown(iova, blockSize[level]), blockSize[level], child.paddr, t, i);
      }
      t = child;
    }
    const i = Math.floor(iova / blockSize[target]) % entries[target];
    if (t.children?.[i] !== undefined || fmt.descType(t.desc[2 * i], t.desc[2 * i + 1], target) !== DESC_INVALID) return -17;   // -EEXIST
    fmt.encodeLeaf(paddr, prot, target, scratch);
    t.desc[2 * i] = scratch[0];
    t.desc[2 * i + 1] = scratch[1];
    t.live++;
    if (this.bus?.active) this.emitPte('set', target, i, iova, pgsize, paddr, t, i);
    return 0;
  }

  /**
   * Unmaps one page of pgsize at iova. Returns the bytes the cleared entry covered (0 for a hole): a larger
   * block containing iova is removed whole (mainline io-pgtable-arm since late 2024), or split with
   * `splitBlocks`. The range the IOTLB must drop is [iova - iova % n, +n) for the n returned; it is also
   * passed to `invalidate` when one is given.
   */
  unmap(iova: number, pgsize: number, invalidate?: (iova: number, size: number) => void): number {
    const target = this.levelFor(pgsize);
    if (target < 0) return 0;
    const blockSize = this.blockSize, entries = this.entries;
    let t = this.root;
    for (let level = 0; ; level++) {
      const i = Math.floor(iova / blockSize[level]) % entries[level];
      const child = t.children === null ? undefined : t.children[i];
      if (child !== undefined && level < target) {
        t = child;
        continue;
      }
      // A table where a leaf of this size was asked: the whole subtree goes (flush_walk), reported as the block.
      if (child === undefined) {
        const type = this.fmt.descType(t.desc[2 * i], t.desc[2 * i + 1], level);
        if (type === DESC_INVALID) return 0;
        if (level !== target && this.opts.splitBlocks) {
          if (!this.split(t, i, level, alignDown(iova, blockSize[level]))) return 0;
          level--;    // re-read this level: it is a table now
          continue;
        }
      }
      const size = blockSize[level];
      const base = alignDown(iova, size);
      this.clear(t, i, level, base);
      if (invalidate) invalidate(base, size);
      return size;
    }
  }

  /** Replaces a block by a next-level table of equal pages (old arm_lpae_split_blk_unmap). */
  private split(t: Table, i: number, level: number, base: number): boolean {
    const d = this.fmt.decode(t.desc[2 * i], t.desc[2 * i + 1], level);
    const child = this.newTable(level + 1);
    if (!child) return false;
    this.tables++;
    const sub = this.blockSize[level + 1];
    for (let j = 0; j < this.entries[level + 1]; j++) {
      this.fmt.encodeLeaf(d.addr + j * sub, d.prot, level + 1, scratch);
      child.desc[2 * j] = scratch[0];
      child.desc[2 * j + 1] = scratch[1];
    }
    child.live = this.entries[level + 1];
    t.children![i] = child;
    this.fmt.encodeTable(child.paddr, scratch, level);
    t.desc[2 * i] = scratch[0];
    t.desc[2 * i + 1] = scratch[1];
    if (this.bus?.active) this.emitPte('table', level, i, base, this.blockSize[level], child.paddr, t, i);
    return true;
  }

  private clear(t: Table, i: number, level: number, base: number): void {
    const child = t.children?.[i];
    if (child) {
      this.freeSubtree(child);
      t.children![i] = undefined;
    }
    t.desc[2 * i] = 0;
    t.desc[2 * i + 1] = 0;
    t.live--;
    if (this.bus?.active) this.emitPte('clear', level, i, base, this.blockSize[level], 0, t, i);
  }

  private freeSubtree(t: Table): void {
    if (t.children) for (const c of t.children) if (c) this.freeSubtree(c);
    this.mem.free(t.paddr, this.fmt.tableBytes(t.level));
    this.tables--;
  }

  /** The leaf translating iova, or null. */
  lookup(iova: number): Leaf | null {
    if (iova < 0 || iova >= this.inputLimit) return null;
    const blockSize = this.blockSize, entries = this.entries;
    let t = this.root;
    for (let level = 0; level < this.levels; level++) {
      const i = Math.floor(iova / blockSize[level]) % entries[level];
      const child = t.children === null ? undefined : t.children[i];
      if (child !== undefined) { t = child; continue; }
      const lo = t.desc[2 * i], hi = t.desc[2 * i + 1];
      if (this.fmt.descType(lo, hi, level) !== DESC_LEAF) return null;
      const d = this.fmt.decode(lo, hi, level);
      const size = blockSize[level];
      return { iova: alignDown(iova, size), paddr: d.addr, size, prot: d.prot };
    }
    return null;
  }

  /** iommu_iova_to_phys: output address including the offset, 0 when unmapped. Allocates nothing. */
  iovaToPhys(iova: number): number {
    if (iova < 0 || iova >= this.inputLimit) return 0;
    const blockSize = this.blockSize, entries = this.entries;
    const fmt = this.fmt;
    let t = this.root;
    for (let level = 0; level < this.levels; level++) {
      const i = Math.floor(iova / blockSize[level]) % entries[level];
      const child = t.children === null ? undefined : t.children[i];
      if (child !== undefined) { t = child; continue; }
      const lo = t.desc[2 * i], hi = t.desc[2 * i + 1];
      if (fmt.descType(lo, hi, level) !== DESC_LEAF) return 0;
      const addr = fmt.leafAddress !== undefined ? fmt.leafAddress(lo, hi, level) : fmt.decode(lo, hi, level).addr;
      return addr + modulo(iova, blockSize[level]);
    }
    return 0;
  }

  /** Every level read while translating iova (the walk panel, faults that name the level). */
  walk(iova: number): WalkStep[] {
    const steps: WalkStep[] = [];
    let t: Table | undefined = this.root;
    for (let level = 0; t && level < this.levels; level++) {
      const i = this.index(iova, level);
      const lo = t.desc[2 * i], hi = t.desc[2 * i + 1];
      const type = this.fmt.descType(lo, hi, level);
      const outcome = type === DESC_TABLE ? 'table' : type === DESC_LEAF ? 'leaf' : 'invalid';
      steps.push({ level, index: i, table: t.paddr, raw: descHex(lo, hi), outcome });
      if (type !== DESC_TABLE) break;
      t = t.children?.[i];
    }
    return steps;
  }

  /** All leaves in IOVA order. */
  *leaves(): Generator<Leaf> {
    yield* this.leavesOf(this.root, 0);
  }

  private *leavesOf(t: Table, base: number): Generator<Leaf> {
    const level = t.level;
    const size = this.blockSize[level];
    for (let i = 0; i < this.entries[level]; i++) {
      const lo = t.desc[2 * i], hi = t.desc[2 * i + 1];
      const type = this.fmt.descType(lo, hi, level);
      if (type === DESC_LEAF) {
        const d = this.fmt.decode(lo, hi, level);
        yield { iova: base + i * size, paddr: d.addr, size, prot: d.prot };
      } else if (type === DESC_TABLE && t.children?.[i]) {
        yield* this.leavesOf(t.children[i]!, base + i * size);
      }
    }
  }

  /** Raw dump: every valid descriptor, one line each, tables before their contents. */
  *dump(): Generator<{ level: number; index: number; iova: number; table: number; raw: string; type: string; addr: number }> {
    const rec = function* (self: PageTable, t: Table, base: number): Generator<any> {
      const size = self.blockSize[t.level];
      for (let i = 0; i < self.entries[t.level]; i++) {
        const lo = t.desc[2 * i], hi = t.desc[2 * i + 1];
        const type = self.fmt.descType(lo, hi, t.level);
        if (type === DESC_INVALID) continue;
        const d = self.fmt.decode(lo, hi, t.level);
        yield { level: t.level, index: i, iova: base + i * size, table: t.paddr, raw: descHex(lo, hi), type: type === DESC_LEAF ? 'leaf' : 'table', addr: d.addr };
        if (type === DESC_TABLE && t.children?.[i]) yield* rec(self, t.children[i]!, base + i * size);
      }
    };
    yield* rec(this, this.root, 0);
  }

  private emitPte(op: 'set' | 'clear' | 'table', level: number, index: number, iova: number, size: number, paddr: number, t: Table, i: number): void {
    this.bus!.emit({ kind: 'pte', op, domain: this.domainId, level, index, iova, size, paddr, raw: descHex(t.desc[2 * i], t.desc[2 * i + 1]) });
  }
}
