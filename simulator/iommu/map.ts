// iommu_map / iommu_unmap / iommu_map_sg / iommu_iova_to_phys with the checks and return values of
// drivers/iommu/iommu.c, on top of the shared page table.
import { ERRNO, ErrnoResult, errnoFromNumber, errnoResult } from '../core/errno';
import { hex, hexPad } from '../core/format';
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import { Domain, isPaging } from './domain';
import { LIMITS, chargePages, countMapPages } from '../limits';

/** %pa on a 64-bit phys_addr_t */
const pa = (n: number) => '0x' + hexPad(n, 16);

/** iommu_pgsize(): largest size in the bitmap that fits the remaining size and the alignment of iova|paddr. */
export function pickPageSize(bitmap: readonly number[], iova: number, paddr: number, size: number): number {
  let best = 0;
  for (const s of bitmap) {
    if (s > size) break;
    if (iova % s !== 0 || paddr % s !== 0) break;
    best = s;
  }
  return best;
}

/** __iommu_map: 0 or a negative errno result. Undoes a partial map. */
export function iommuMap(k: Kernel, d: Domain, iova: number, paddr: number, size: number, prot: number): 0 | ErrnoResult {
  if (!d.pgtable || d.pgsizeBitmap.length === 0) {
    if (!isPaging(d.type)) return errnoResult('EINVAL');
    return errnoResult('ENODEV');
  }
  if (!isPaging(d.type)) return errnoResult('EINVAL');
  const min = d.pgsizeBitmap[0];
  if (iova % min !== 0 || paddr % min !== 0 || size % min !== 0) {
    k.printk('err', `unaligned: iova 0x${iova.toString(16)} pa ${pa(paddr)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    k.finding('unaligned-map', 'error',
      `iommu_map(${hex(iova)}, pa ${hex(paddr)}, size ${hex(size)}) is not aligned to the domain's smallest page size ${hex(min)}: -EINVAL`,
      { iova, paddr, size, min_pagesz: min, domain: d.id });
    return errnoResult('EINVAL');
  }
  if (size === 0) return 0;
  // Refused before anything is written when the range would need more entries than a step may write.
  chargePages(k, countMapPages(d.pgsizeBitmap, iova, paddr, size, LIMITS.pagesPerStep), () => `iommu_map of ${hex(size)} bytes at iova ${hex(iova)}`, 'size');
  let mapped = 0;
  let ret = 0;
  while (mapped < size) {
    const pgsize = pickPageSize(d.pgsizeBitmap, iova + mapped, paddr + mapped, size - mapped);
    ret = d.pgtable.map(iova + mapped, paddr + mapped, pgsize, prot);
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
 * unmapped and the ranges the IOTLB must still drop.
 */
export function unmapNoSync(k: Kernel, d: Domain, iova: number, size: number, gather: Array<[number, number]>): number {
  if (!d.pgtable || !isPaging(d.type) || d.pgsizeBitmap.length === 0) return 0;
  const min = d.pgsizeBitmap[0];
  if (iova % min !== 0 || size % min !== 0) {
    k.printk('err', `unaligned: iova 0x${iova.toString(16)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    return 0;
  }
  let unmapped = 0;
  const add = (a: number, s: number) => {
    const last = gather[gather.length - 1];
    if (last && last[0] + last[1] === a) last[1] += s; else gather.push([a, s]);
  };
  while (unmapped < size) {
    const pgsize = pickPageSize(d.pgsizeBitmap, iova + unmapped, iova + unmapped, size - unmapped);
    const n = d.pgtable.unmap(iova + unmapped, pgsize, add);
    if (n === 0) break;
    unmapped += n;
  }
  if (k.tracing) k.tracepoint('unmap', tp.unmap(iova, size, unmapped));
  return unmapped;
}

/** iommu_unmap: bytes unmapped, IOTLB invalidated before returning (iommu_iotlb_sync). */
export function iommuUnmap(k: Kernel, d: Domain, iova: number, size: number): number {
  const gather: Array<[number, number]> = [];
  const n = unmapNoSync(k, d, iova, size, gather);
  for (const [a, s] of gather) d.iommu.model.flushRange(d.iommu.iotlb, d, a, s, 'iommu_unmap');
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
