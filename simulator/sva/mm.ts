// Process address spaces for SVA: one CPU page table per mm (arm64 stage-1 LPAE at the kernel's PAGE_SIZE,
// 48-bit VA), populated by scenarios with `mm_map`. The SMMU walks these very tables through a PASID's
// context descriptor, so a device access with a PASID sees exactly what the process mapped.
import type { Kernel } from '../kernel';
import { LpaeFormat } from '../iommu/format-lpae';
import { PageTable } from '../iommu/pgtable';

export interface Mm {
  name: string;
  pgtable: PageTable;
  /** physical address of the pgd (TTB0 of the context descriptor) */
  pgd: number;
  /** CPU ASID, pinned while the mm is shared with an SMMU */
  asid: number;
  exited: boolean;
  /** mainline: mm->pasid, allocated at the first bind and dropped when the mm is torn down */
  pasid: number | null;
}

export interface MmState {
  mms: Map<string, Mm>;
  nextAsid: number;
}

export const CPU_VA_BITS = 48;

export function mmState(k: Kernel): MmState {
  let s = k.ext.get('sva.mm') as MmState | undefined;
  if (!s) k.ext.set('sva.mm', s = { mms: new Map(), nextAsid: 1 });
  return s;
}

/** An ASID from the space the SMMU shares with the CPU (process ASIDs and private domains alike). */
export function allocAsid(k: Kernel): number {
  return mmState(k).nextAsid++;
}

/** The mm of process `name`, created (empty) the first time it is named. */
export function getMm(k: Kernel, name: string): Mm {
  const s = mmState(k);
  let mm = s.mms.get(name);
  if (!mm) {
    const pgtable = new PageTable(new LpaeFormat(k.cfg.page_size, CPU_VA_BITS, 48), k.tableAllocator(`page tables of process ${name}`), null, `mm:${name}`);
    mm = { name, pgtable, pgd: pgtable.root.paddr, asid: allocAsid(k), exited: false, pasid: null };
    s.mms.set(name, mm);
  }
  return mm;
}

export function findMm(k: Kernel, name: string): Mm | undefined {
  return mmState(k).mms.get(name);
}
