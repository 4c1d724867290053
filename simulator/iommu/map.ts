// iommu_map / iommu_unmap / iommu_map_sg / iommu_iova_to_phys with the checks and return values of
// drivers/iommu/iommu.c, on top of the shared page table.
import { ERRNO, ErrnoResult, errnoFromNumber, errnoResult } from '../core/errno';
import { hex, hexPad } from '../core/format';
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import { Domain, isPaging } from './domain';
import { alignDown, modulo } from './arith';
import { LIMITS, chargePages, countMapPages, pagesFreeOfBudget } from '../limits';

/** %pa on a 64-bit phys_addr_t */
const pa = (n: number) => '0x' + hexPad(n, 16);

/** iommu_pgsize(): largest size in the bitmap that fits the remaining size and the alignment of iova|paddr. */
export function pickPageSize(bitmap: readonly number[], iova: number, paddr: number, size: number): number {
  let best = 0;
  for (let i = 0; i < bitmap.length; i++) {
    const s = bitmap[i];
    if (s > size) break;
    if (modulo(iova, s) !== 0 || modulo(paddr, s) !== 0) break;
    best = s;
  }
  return best;
}

/**
 * struct iommu_iotlb_gather: the IOVA ranges an unmap cleared, in order, contiguous ones merged, for the
 * IOTLB maintenance that follows. Reused between calls (takeGather / releaseGather), so an unmap allocates
 * nothing.
 */
export class IotlbGather {
  private readonly starts: number[] = [];
  private readonly sizes: number[] = [];
  count = 0;

  add(iova: number, size: number): void {
    const n = this.count;
    if (n > 0 && this.starts[n - 1] + this.sizes[n - 1] === iova) {
      this.sizes[n - 1] += size;
    } else {
      this.starts[n] = iova;
      this.sizes[n] = size;
      this.count = n + 1;
    }
  }

  start(i: number): number { return this.starts[i]; }
  size(i: number): number { return this.sizes[i]; }
}

const gathers: IotlbGather[] = [];

/** An empty gather; give it back with releaseGather once its ranges are flushed. */
export function takeGather(): IotlbGather {
  const g = gathers.pop() ?? new IotlbGather();
  g.count = 0;
  return g;
}

export function releaseGather(g: IotlbGather): void {
  g.count = 0;
  if (gathers.length < 8) gathers.push(g);
}

/** __iommu_map: 0 or a negative errno result. Undoes a partial map. */
export function iommuMap(k: Kernel, d: Domain, iova: number, paddr: number, size: number, prot: number): 0 | ErrnoResult {
  if (!d.pgtable || d.pgsizeBitmap.length === 0) {
    if (!isPaging(d.type)) return errnoResult('EINVAL');
    return errnoResult('ENODEV');
  }
  if (!isPaging(d.type)) return errnoResult('EINVAL');
  const min = d.pgsizeBitmap[0];
  if (modulo(iova, min) !== 0 || modulo(paddr, min) !== 0 || modulo(size, min) !== 0) {
    k.printk('err', `unaligned: iova 0x${iova.toString(16)} pa ${pa(paddr)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    k.finding('unaligned-map', 'error',
      `iommu_map(${hex(iova)}, pa ${hex(paddr)}, size ${hex(size)}) is not aligned to the domain's smallest page size ${hex(min)}: -EINVAL`,
      { iova, paddr, size, min_pagesz: min, domain: d.id });
    return errnoResult('EINVAL');
  }
  if (size === 0) return 0;
  // Refused before anything is written when the range would need more entries than a step may write.
  const pages = countMapPages(d.pgsizeBitmap, iova, paddr, size, LIMITS.pagesPerStep);
  if (!pagesFreeOfBudget(pages)) chargePages(k, pages, () => `iommu_map of ${hex(size)} bytes at iova ${hex(iova)}`, 'size');
  const pt = d.pgtable;
  let mapped = 0;
  let ret = 0;
  while (mapped < size) {
    const pgsize = pickPageSize(d.pgsizeBitmap, iova + mapped, paddr + mapped, size - mapped);
    ret = pt.map(iova + mapped, paddr + mapped, pgsize, prot);
    if (ret !== 0) break;
    mapped += pgsize;
  }
  if (ret !== 0) {
    if (ret === -ERRNO.EEXIST) k.printk('warn', `WARNING: iommu_map: ${d.id} already maps iova ${hex(iova + mapped)}`);
    if (mapped > 0) iommuUnmap(k, d, iova, mapped);
    return errnoFromNumber(ret) ?? errnoResult('EINVAL');
  }
  if (k.tracing) k.tracepoint('map', tp.map(iova, paddr, size));
  return 0;
}

/**
 * Clears page-table entries without IOTLB maintenance (iommu_unmap_fast with a gather); returns bytes
 * unmapped and adds the ranges the IOTLB must still drop to `gather`.
 */
export function unmapNoSync(k: Kernel, d: Domain, iova: number, size: number, gather: IotlbGather): number {
  if (!d.pgtable || !isPaging(d.type) || d.pgsizeBitmap.length === 0) return 0;
  const min = d.pgsizeBitmap[0];
  if (modulo(iova, min) !== 0 || modulo(size, min) !== 0) {
    k.printk('err', `unaligned: iova 0x${iova.toString(16)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    return 0;
  }
  const pt = d.pgtable;
  let unmapped = 0;
  while (unmapped < size) {
    const at = iova + unmapped;
    const pgsize = pickPageSize(d.pgsizeBitmap, at, at, size - unmapped);
    const n = pt.unmap(at, pgsize);
    if (n === 0) break;
    gather.add(alignDown(at, n), n);      // the entry cleared: the page, or the whole block that held it
    unmapped += n;
  }
  if (k.tracing) k.tracepoint('unmap', tp.unmap(iova, size, unmapped));
  return unmapped;
}

/** iommu_unmap: bytes unmapped, IOTLB invalidated before returning (iommu_iotlb_sync). */
export function iommuUnmap(k: Kernel, d: Domain, iova: number, size: number): number {
  const gather = takeGather();
  const n = unmapNoSync(k, d, iova, size, gather);
  for (let i = 0; i < gather.count; i++) d.iommu.model.flushRange(d.iommu.iotlb, d, gather.start(i), gather.size(i), 'iommu_unmap');
  releaseGather(gather);
  return n;
}

/** iommu_map_sg: merges physically contiguous entries; bytes mapped, or -errno after undoing everything. */
export function iommuMapSg(k: Kernel, d: Domain, iova: number, sg: Array<{ paddr: number; len: number }>, prot: number): number | ErrnoResult {
  let mapped = 0;
  let start = 0, len = 0;
  for (let i = 0; i <= sg.length; i++) {
    const e = sg[i];
    if (e && len > 0 && start + len === e.paddr) { len += e.len; continue; }
    if (len > 0) {
      const r = iommuMap(k, d, iova + mapped, start, len, prot);
      if (r !== 0) {
        if (mapped > 0) iommuUnmap(k, d, iova, mapped);
        return r;
      }
      mapped += len;
    }
    if (e) { start = e.paddr; len = e.len; }
  }
  return mapped;
}

/** iommu_iova_to_phys: identity domains return the iova; paging domains walk; 0 when unmapped. */
export function iovaToPhys(d: Domain, iova: number): number {
  if (d.type === 4 /* IDENTITY */) return iova;
  return d.pgtable ? d.pgtable.iovaToPhys(iova) : 0;
}
