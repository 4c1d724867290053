// Consistency checks of the simulated machine, run after every step in test builds (SessionOptions
// .checkInvariants, or IOMMU_LENS_INVARIANTS=1) and on demand. Each check states something the kernel's own
// data structures guarantee; a violation is a simulator bug, reported with the step that caused it rather
// than left to corrupt later results. The checks read state and never change it.
//
// Costs are bounded so a long run stays usable with the checks on: page ranges are sampled, and the walks
// over every leaf or every free block stop at a fixed size.
import { hex } from './core/format';
import type { Kernel } from './kernel';
import type { Domain } from './iommu/domain';
import { cookieOf } from './dma/cookie';
import { dmaDevices, type DmaState, type MapRecord } from './dma/state';

/** A violated invariant: a simulator bug, named with the step after which it was found. */
export class InvariantError extends Error {
  constructor(readonly step: number, readonly op: string, readonly violations: string[]) {
    super(`simulator invariant violated after step ${step} (${op}): ${violations[0]}` +
      (violations.length > 1 ? ` (and ${violations.length - 1} more: ${violations.slice(1, 4).join('; ')})` : ''));
  }
}

/** Pages of a mapping record checked against the page table (first, last and evenly spaced ones). */
const RECORD_SAMPLES = 16;
/** Buddy free lists longer than this are only checked by their page count. */
const MAX_FREE_BLOCKS_CHECKED = 100_000;

/** Every violation found, as one line each; empty when the machine is consistent. */
export function checkInvariants(k: Kernel): string[] {
  const out: string[] = [];
  checkRecords(k, liveRecords(k), out);
  checkIotlbs(k, out);
  checkIovaTrees(k, out);
  checkBuddy(k, out);
  checkGroups(k, out);
  return out;
}

/** The DMA layer's live mappings (dma-debug entries point at them), each once. */
function liveRecords(k: Kernel): MapRecord[] {
  const seen = new Set<MapRecord>();
  for (const [, dd] of dmaDevices(k)) {
    for (const first of dd.entries.values()) {
      for (let e: typeof first | null = first; e; e = e.next) seen.add(e.rec);
    }
  }
  return [...seen];
}

/**
 * The DMA layer's records against the IOVA allocator and the page tables. What a driver bug may legitimately
 * break is left alone: a wrong-size or mid-range unmap clears entries and frees IOVA under a mapping that
 * dma-debug still lists, exactly as in the kernel. What the simulator itself guarantees is checked:
 *  - a mapping made by this step lies in an allocated IOVA range and its pages are mapped (a plain single
 *    mapping to the buffer's own page);
 *  - two live mappings whose IOVA ranges are both still allocated never overlap.
 */
function checkRecords(k: Kernel, records: MapRecord[], out: string[]): void {
  const byDomain = new Map<Domain, MapRecord[]>();
  for (const r of records) {
    if (!r.domain || r.iovaSize <= 0) continue;
    let list = byDomain.get(r.domain);
    if (!list) byDomain.set(r.domain, list = []);
    list.push(r);
  }
  for (const [d, list] of byDomain) {
    const cookie = cookieOf(d);
    const allocated = (r: MapRecord): boolean => {
      if (!cookie) return true;
      const g = cookie.iovad.granule;
      const node = cookie.iovad.findIova(Math.floor(r.iova / g));
      return node !== null && node.pfnHi >= Math.floor((r.iova + r.iovaSize - 1) / g);
    };
    for (const r of list) {
      if (r.step !== k.step) continue;
      if (!allocated(r)) out.push(`${describe(r)}, made by this step, is not inside an allocated IOVA range of ${d.id}`);
      if (d.pgtable) checkRecordPages(d, r, out);
    }
    const live = list.filter(allocated).sort((a, b) => a.iova - b.iova);
    for (let i = 1; i < live.length; i++) {
      const a = live[i - 1], b = live[i];
      if (a.iova + a.iovaSize > b.iova) out.push(`IOVA overlap in ${d.id}: ${describe(a)} and ${describe(b)}`);
    }
  }
}

function describe(r: MapRecord): string {
  return `${r.api} of step ${r.step} (${r.dev.name}, iova ${hex(r.iova)}+${hex(r.iovaSize)})`;
}

/** Sampled pages of a new record are mapped, and a plain single mapping points at the caller's buffer. */
function checkRecordPages(d: Domain, r: MapRecord, out: string[]): void {
  const pt = d.pgtable!;
  const g = d.granule;
  const pages = Math.ceil(r.iovaSize / g);
  const stride = Math.max(1, Math.floor(pages / RECORD_SAMPLES));
  for (let p = 0; ; p = Math.min(p + stride, pages - 1)) {
    const iova = r.iova + p * g;
    const leaf = pt.lookup(iova);
    if (!leaf) {
      out.push(`${describe(r)} was just made but ${hex(iova)} has no page-table entry in ${d.id}`);
      return;
    }
    if (p === 0 && (r.api === 'dma_map_single' || r.api === 'dma_map_page') && !r.bounces) {
      const got = leaf.paddr + (iova - leaf.iova);
      const want = r.paddr - (r.paddr % g);
      if (got !== want) out.push(`${describe(r)} maps ${hex(iova)} to ${hex(got)} but the buffer's first granule is ${hex(want)}`);
    }
    if (p === pages - 1) return;
  }
}

/** IOTLB entries not marked stale are translations the tables give now (same page, output and permissions). */
function checkIotlbs(k: Kernel, out: string[]): void {
  for (const inst of k.iommus.values()) {
    for (const e of inst.iotlb.list()) {
      if (e.stale) continue;
      const d = k.domains.get(e.domain);
      if (!d || !d.pgtable) continue;          // PASID (process) tables and table-less domains are not here
      const leaf = d.pgtable.lookup(e.iova);
      const entry = `${inst.name} IOTLB entry ${e.domain} ${hex(e.iova)}+${hex(e.size)} -> ${hex(e.paddr)}`;
      if (!leaf) out.push(`${entry} is not marked stale but the page table has no entry there`);
      else if (leaf.iova !== e.iova || leaf.size !== e.size || leaf.paddr !== e.paddr || leaf.prot !== e.prot) {
        out.push(`${entry} (prot ${e.prot}) disagrees with the page table's ${hex(leaf.iova)}+${hex(leaf.size)} -> ${hex(leaf.paddr)} (prot ${leaf.prot})`);
      }
    }
  }
}

/** Red-black shape, order and no overlap of every IOVA tree: the domains' cookies and init_iova_domain ones. */
function checkIovaTrees(k: Kernel, out: string[]): void {
  for (const d of k.domains.values()) {
    const c = cookieOf(d);
    const bad = c?.iovad.verifyTree();
    if (bad) out.push(`IOVA tree of ${d.id}: ${bad}`);
  }
  const st = k.ext.get('dma') as DmaState | undefined;
  for (const [id, iovad] of st?.iovads ?? []) {
    const bad = iovad.verifyTree();
    if (bad) out.push(`IOVA tree of ${id}: ${bad}`);
  }
}

/**
 * Buddy allocator: the free count matches the lists, free blocks are naturally aligned, inside RAM, disjoint,
 * not merged buddies left apart, and not under a live buffer.
 */
function checkBuddy(k: Kernel, out: string[]): void {
  const buddy = k.mem.buddy;
  const lists = buddy.freeLists();
  let pages = 0;
  let blocks = 0;
  for (let order = 0; order < lists.length; order++) {
    pages += lists[order].size * 2 ** order;
    blocks += lists[order].size;
  }
  if (pages !== buddy.freePages) out.push(`buddy allocator counts ${buddy.freePages} free pages but its free lists hold ${pages}`);
  if (blocks > MAX_FREE_BLOCKS_CHECKED) return;
  const all: Array<{ pfn: number; order: number }> = [];
  const end = buddy.basePfn + buddy.pages;
  for (let order = 0; order < lists.length; order++) {
    for (const pfn of lists[order]) {
      const n = 2 ** order;
      if (pfn % n !== 0) out.push(`free block at pfn ${hex(pfn)} of order ${order} is not aligned to its size`);
      if (pfn < buddy.basePfn || pfn + n > end) out.push(`free block at pfn ${hex(pfn)} of order ${order} is outside RAM`);
      if (order < buddy.maxOrder && pfn % (2 * n) === 0 && lists[order].has(pfn + n)) {
        out.push(`free buddies at pfn ${hex(pfn)} and ${hex(pfn + n)} of order ${order} were not merged`);
      }
      all.push({ pfn, order });
    }
  }
  all.sort((a, b) => a.pfn - b.pfn);
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1];
    if (a.pfn + 2 ** a.order > all[i].pfn) out.push(`free blocks at pfn ${hex(a.pfn)} (order ${a.order}) and ${hex(all[i].pfn)} overlap`);
  }
  const P = buddy.pageSize;
  for (const b of k.mem.listBuffers()) {
    if (b.freed || b.size === 0) continue;
    const lo = Math.floor(b.paddr / P);
    const hi = Math.floor((b.paddr + b.size - 1) / P);
    const at = lastAtOrBefore(all, hi);
    if (at >= 0 && all[at].pfn + 2 ** all[at].order > lo) out.push(`live buffer ${b.id} at ${hex(b.paddr)} lies in a free buddy block (pfn ${hex(all[at].pfn)})`);
  }
}

/** Index of the last block starting at or before pfn, or -1. */
function lastAtOrBefore(blocks: Array<{ pfn: number }>, pfn: number): number {
  let lo = 0, hi = blocks.length - 1, ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid].pfn <= pfn) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

/** Groups with devices point at live domains that list them; devices sit in the group that lists them. */
function checkGroups(k: Kernel, out: string[]): void {
  for (const g of k.groups) {
    if (g.domain && k.domains.get(g.domain.id) !== g.domain) out.push(`group ${g.id} is attached to ${g.domain.id}, which the kernel does not know`);
    // An empty group is released in the kernel; here it keeps its last domain pointer and nothing else.
    if (g.domain && g.devices.length && !g.domain.groups.has(g.id)) out.push(`group ${g.id} is attached to ${g.domain.id}, but ${g.domain.id} does not list it`);
    for (const dev of g.devices) if (dev.group !== g) out.push(`${dev.name} is listed in group ${g.id} but points at another group`);
  }
  for (const d of k.domains.values()) {
    for (const id of d.groups) {
      const g = k.groups.find(x => x.id === id);
      if (!g || g.domain !== d) out.push(`${d.id} lists group ${id} as attached, but the group's domain is ${g?.domain?.id ?? 'none'}`);
    }
  }
}
