// DMA allocations: dma_alloc_coherent and dma_alloc_noncontiguous on dma-iommu (__iommu_dma_alloc_pages and
// __iommu_dma_alloc_noncontiguous: pages of the orders the IOMMU can map, mapped contiguously in IOVA space; on
// arm64 a blocking dma_alloc_coherent takes this "remap" path too) and on dma-direct (one block of
// get_order(size)), plus dma_get_sgtable. With the large-page series, non-contiguous allocations take orders of
// at least the IOMMU granule and free the spill-over pages of the last block, and get_sgtable is refused.
import { getOrder, hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import { iommuMapSg } from '../iommu/map';
import { IovaCookie, allocIova, freeIova } from './cookie';
import { exposedBytes, reportExposure } from './exposure';
import { dmaProt, iommuDmaUnmapRange } from './iommu-map';
import { dmaCapable } from './direct';
import { DMA_BIDIRECTIONAL, DevDma, MapRecord, PhysRange, alignUpTo, isUntrusted } from './state';

/** __fls: index of the highest set bit */
const fls = (n: number) => 31 - Math.clz32(n);

export interface AllocOut {
  cpu: number;              // kernel address, named by the physical address of the first page
  dma: number;
  pages: PhysRange[];       // the allocation's pages, in the order they are mapped
  iova: number;
  iovaSize: number;
  exposed: number;
  spill: number;            // pages freed straight away (large-page series)
}

/**
 * __iommu_dma_alloc_pages: `count` pages from the largest orders in order_mask that fit what is left, falling
 * back to smaller orders when an order is exhausted. With the series, a last block smaller than the minimum
 * order is allocated whole and its spill-over pages freed. Returns pfns in order, or null (nothing kept).
 */
export function allocPageList(k: Kernel, count: number, orderMask: number, largePageSeries: boolean): { pfns: number[]; spill: number } | null {
  const buddy = k.mem.buddy;
  const minOrder = largePageSeries && orderMask ? fls(orderMask) : -1;
  orderMask &= (2 << buddy.maxOrder) - 1;
  if (!orderMask) return null;
  const pfns: number[] = [];
  let spill = 0;
  const fail = () => { for (const p of pfns) buddy.release(p, 0); return null; };
  while (count > 0) {
    let pfn: number | null = null;
    let orderSize = 0;
    for (orderMask &= (2 << Math.min(fls(count), 29)) - 1; orderMask; orderMask &= ~orderSize) {
      const order = fls(orderMask);
      orderSize = 1 << order;
      pfn = buddy.alloc(order);
      if (pfn !== null) break;
    }
    if (pfn === null && minOrder >= 0 && !orderMask && count < 1 << minOrder) {
      pfn = buddy.alloc(minOrder);
      if (pfn === null) return fail();
      for (let j = count; j < 1 << minOrder; j++) buddy.release(pfn + j, 0);
      spill += (1 << minOrder) - count;
      orderSize = count;
    }
    if (pfn === null) return fail();
    count -= orderSize;
    for (let j = 0; j < orderSize; j++) pfns.push(pfn + j);
  }
  return { pfns, spill };
}

/** sg_alloc_table_from_pages: physically contiguous pages merge into one entry. */
export function pageRuns(pfns: readonly number[], pageSize: number): PhysRange[] {
  const runs: PhysRange[] = [];
  for (const pfn of pfns) {
    const last = runs[runs.length - 1];
    if (last && last.paddr + last.len === pfn * pageSize) last.len += pageSize;
    else runs.push({ paddr: pfn * pageSize, len: pageSize });
  }
  return runs;
}

let nextBufId = 1;

function trackRuns(k: Kernel, runs: readonly PhysRange[], kind: 'coherent' | 'pages', owner: string): void {
  for (const r of runs) k.mem.track({ id: `dma-${kind}${nextBufId++}`, kind, paddr: r.paddr, size: r.len, owner, freed: false });
}

/** Frees an allocation's pages one by one (the pages were split) and drops them from the buffer registry. */
export function freePageRuns(k: Kernel, runs: readonly PhysRange[]): void {
  const P = k.cfg.page_size;
  for (const r of runs) {
    const b = k.mem.bufferAt(r.paddr);
    if (b) k.mem.untrack(b);
    for (let a = r.paddr; a < r.paddr + r.len; a += P) k.mem.buddy.release(a / P, 0);
  }
}

/**
 * __iommu_dma_alloc_noncontiguous: pages of the orders pgsize_bitmap allows, one IOVA range, iommu_map_sg.
 * Null when pages or IOVA space run out or the map fails (everything undone).
 */
export function iommuAllocNoncontig(k: Kernel, dev: Device, dd: DevDma, d: Domain, cookie: IovaCookie, size: number,
  kind: 'coherent' | 'pages', api: string): AllocOut | null {
  const P = k.cfg.page_size;
  const g = cookie.iovad.granule;
  let orderMask = 0;
  for (const s of d.pgsizeBitmap) if (s >= P) orderMask |= 2 ** Math.round(Math.log2(s / P));
  let minSize = d.pgsizeBitmap[0];
  const lp = g > P;
  if (lp) {
    if (size < g) {
      // one contiguous block of get_order(size), so the single entry can be widened to its IOMMU page
      minSize = alignUpTo(size, P * 2 ** getOrder(size, P));
      orderMask = 2 ** Math.round(Math.log2(minSize / P));
    }
    size = alignUpTo(size, P);
  } else if (minSize < P) {
    orderMask |= 1;
  } else {
    size = alignUpTo(size, minSize);
  }
  const count = alignUpTo(size, P) / P;
  const got = allocPageList(k, count, orderMask, lp);
  if (!got) return null;
  const pages = pageRuns(got.pfns, P);
  const iovaSize = alignUpTo(size, g);
  const iova = allocIova(k, dev, d, cookie, iovaSize, dd.coherentMaskBits);
  const undo = () => { for (const p of got.pfns) k.mem.buddy.release(p, 0); return null; };
  if (!iova) return undo();
  // sg_alloc_table_from_pages over iova_size bytes: the entries cover at most that much
  let layout: PhysRange[] = [];
  let left = iovaSize;
  for (const r of pages) {
    if (left <= 0) break;
    layout.push({ paddr: r.paddr, len: Math.min(left, r.len) });
    left -= r.len;
  }
  let sOff = 0;
  if (lp) {
    if (size < g) {
      sOff = layout[0].paddr % g;
      layout = [{ paddr: layout[0].paddr - sOff, len: alignUpTo(layout[0].len + sOff, g) }];
    } else {
      // "convince iommu_map_sg to map the last block even though it may be too small"
      const last = layout[layout.length - 1];
      last.len = alignUpTo(last.len, g);
    }
  }
  const mapped = iommuMapSg(k, d, iova, layout, dmaProt(DMA_BIDIRECTIONAL, dev.spec.coherent));
  if (typeof mapped !== 'number' || mapped < iovaSize) {
    freeIova(k, cookie, iova, iovaSize, false, api, dev.name);
    return undo();
  }
  trackRuns(k, pages, kind, `${api} for ${dev.name}, step ${k.step}`);
  const pieces: PhysRange[] = [];
  const exposed = exposedBytes(layout, pages, pieces);
  reportExposure(k, { api, dev, iova, iovaSize, requested: size, paddr: pages[0].paddr, granule: g, untrusted: isUntrusted(dev) }, exposed, pieces);
  return { cpu: pages[0].paddr, dma: iova + sOff, pages, iova, iovaSize, exposed, spill: got.spill };
}

/** iommu_dma_free / iommu_dma_free_noncontiguous: unmap what the caller names, free the allocation's pages. */
export function iommuFreeNoncontig(k: Kernel, dev: Device, d: Domain, cookie: IovaCookie, rec: MapRecord | null, dma: number, size: number, api: string): void {
  iommuDmaUnmapRange(k, dev, d, cookie, dma, size, api);
  if (rec?.pages) freePageRuns(k, rec.pages);
  else k.printk('warn', `WARNING: ${api}: no allocation of ${dev.name} at that CPU address; the kernel would now free whatever ` +
    'pages are there (the simulator leaves them alone)', dev.name);
}

/** dma_direct_alloc / dma_direct_alloc_pages: one block of get_order(size); null when the mask cannot reach it. */
export function directAlloc(k: Kernel, dev: Device, dd: DevDma, size: number, kind: 'coherent' | 'pages', api: string): AllocOut | null {
  const P = k.cfg.page_size;
  const order = getOrder(alignUpTo(size, P), P);
  const buf = k.mem.allocPages(order, kind, `${api} for ${dev.name}, step ${k.step}`);
  if (!buf) return null;
  if (!dmaCapable(dd, buf.paddr, alignUpTo(size, P), true)) {
    // the kernel retries from ZONE_DMA32 / ZONE_DMA; the simulator has no zones
    k.mem.freePages(buf.paddr, order);
    return null;
  }
  return { cpu: buf.paddr, dma: buf.paddr, pages: [{ paddr: buf.paddr, len: buf.size }], iova: buf.paddr, iovaSize: alignUpTo(size, P), exposed: 0, spill: 0 };
}

/** dma_direct_free: the whole get_order(size) block. */
export function directFree(k: Kernel, rec: MapRecord | null, cpu: number, size: number): void {
  const P = k.cfg.page_size;
  const paddr = rec?.pages?.[0]?.paddr ?? cpu;
  const order = getOrder(alignUpTo(size, P), P);
  const buf = k.mem.bufferAt(paddr);
  // A wrong size (dma-debug reports it) must not free pages of another order: that would corrupt the free lists.
  if (buf && buf.order === order) k.mem.freePages(paddr, order);
  else if (buf) k.printk('warn', `WARNING: dma_direct_free of ${hex(paddr)} with order ${order}, but it was allocated with order ${buf.order ?? 'none'}: not freed`);
}

/**
 * dma_get_sgtable. dma-iommu: the pages behind a remapped allocation (sg_alloc_table_from_pages over size
 * bytes), or the one page run at cpu; the large-page series returns -ENXIO when the granule exceeds PAGE_SIZE.
 * dma-direct: one entry of PAGE_ALIGN(size) at the page of the DMA address.
 */
export function getSgtable(k: Kernel, granule: number | null, rec: MapRecord | null, cpu: number, dma: number, size: number): PhysRange[] | 'ENXIO' {
  const P = k.cfg.page_size;
  if (granule === null) return [{ paddr: dma - (dma % P), len: alignUpTo(size, P) }];
  if (k.cfg.large_iommu_pages && granule > P) return 'ENXIO';
  if (!rec?.pages) return [{ paddr: cpu - (cpu % P), len: alignUpTo(size, P) }];
  const out: PhysRange[] = [];
  let left = size;
  for (const r of rec.pages) {
    if (left <= 0) break;
    out.push({ paddr: r.paddr, len: Math.min(left, r.len) });
    left -= r.len;
  }
  return out;
}
