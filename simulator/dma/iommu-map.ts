// dma-iommu streaming mappings (drivers/iommu/dma-iommu.c): __iommu_dma_map / __iommu_dma_unmap and
// iommu_dma_map_page / iommu_dma_unmap_page with the untrusted-device bounce path.
//   iova_off = phys & (granule - 1); mapped = iova_align(size + iova_off); device address = iova + iova_off.
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import { alignDown, modulo } from '../iommu/arith';
import { iommuMap, iovaToPhys, releaseGather, takeGather, unmapNoSync } from '../iommu/map';
import { PROT_CACHE, PROT_READ, PROT_WRITE } from '../iommu/pte-format';
import { IovaCookie, allocIova, freeIova } from './cookie';
import { exposedBytes, exposureIsNew, raiseExposure, reportExposure } from './exposure';
import { isSwiotlbBuffer, swiotlbMap, swiotlbPool, swiotlbUnmap, traceBounced } from './swiotlb';
import {
  BounceSlot, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, DevDma, DmaDir, DmaState, MAPPING_ERROR, PhysRange,
  alignUpTo, isUntrusted,
} from './state';

/** dma_info_to_prot */
export function dmaProt(dir: DmaDir, coherent: boolean): number {
  const cache = coherent ? PROT_CACHE : 0;
  if (dir === DMA_BIDIRECTIONAL) return cache | PROT_READ | PROT_WRITE;
  if (dir === DMA_TO_DEVICE) return cache | PROT_READ;
  if (dir === DMA_FROM_DEVICE) return cache | PROT_WRITE;
  return 0;
}

/**
 * __iommu_dma_map: allocates IOVA for the granules around [phys, phys + size) and maps them. Returns the
 * device address or MAPPING_ERROR; st.outIova / st.outIovaSize describe the IOVA range mapped.
 */
export function iommuDmaMapRange(k: Kernel, st: DmaState, dev: Device, d: Domain, cookie: IovaCookie, phys: number, size: number,
  prot: number, maskBits: number): number {
  const g = cookie.iovad.granule;
  const off = modulo(phys, g);
  // The large-page series (v2, patch 2) refuses, with a WARN, untrusted mappings that are not granule aligned.
  if (k.cfg.large_iommu_pages && isUntrusted(dev) && st.opts.v2Slot === 'warn' && (off !== 0 || alignUpTo(size, g) !== size)) {
    k.printk('warn', `WARNING: drivers/iommu/dma-iommu.c: __iommu_dma_map: WARN_ON(${off ? 'iova_off' : 'size_aligned != size'}) ` +
      `for untrusted ${dev.name} at ${hex(phys)}`);
    return MAPPING_ERROR;
  }
  const mapped = alignUpTo(size + off, g);
  const iova = allocIova(k, dev, d, cookie, mapped, maskBits);
  if (!iova) return MAPPING_ERROR;
  if (iommuMap(k, d, iova, phys - off, mapped, prot) !== 0) {
    freeIova(k, cookie, iova, mapped, false, '__iommu_dma_map', dev.name);
    return MAPPING_ERROR;
  }
  st.outIova = iova;
  st.outIovaSize = mapped;
  return iova + off;
}

/**
 * __iommu_dma_unmap: clears the granules around [dma, dma + size). Strict domains invalidate the IOTLB now
 * and free the IOVA; DMA_FQ domains leave the IOTLB entries (now stale) and queue the IOVA.
 */
export function iommuDmaUnmapRange(k: Kernel, dev: Device, d: Domain, cookie: IovaCookie, dma: number, size: number, api: string): void {
  const g = cookie.iovad.granule;
  const off = modulo(dma, g);
  const iova = dma - off;
  const bytes = alignUpTo(size + off, g);
  const gather = takeGather();
  const unmapped = unmapNoSync(k, d, iova, bytes, gather);
  if (unmapped !== bytes) {
    k.printk('warn', `WARNING: drivers/iommu/dma-iommu.c: __iommu_dma_unmap: WARN_ON(unmapped != size): ` +
      `unmapped ${unmapped} of ${bytes} bytes at ${hex(iova)} in ${d.id}`);
  }
  const queued = cookie.fq !== null;
  for (let i = 0; i < gather.count; i++) {
    if (queued) d.iommu.iotlb.markStale(d.id, gather.start(i), gather.size(i));
    else d.iommu.model.flushRange(d.iommu.iotlb, d, gather.start(i), gather.size(i), 'dma unmap (strict)');
  }
  releaseGather(gather);
  freeIova(k, cookie, iova, bytes, queued, api, dev.name);
}

/**
 * iommu_dma_map_page: bounces untrusted devices' buffers that do not start and end on granule boundaries,
 * maps, and accounts the exposure. Returns the device address or MAPPING_ERROR.
 */
export function iommuDmaMapPage(k: Kernel, st: DmaState, dev: Device, dd: DevDma, d: Domain, cookie: IovaCookie,
  phys: number, size: number, dir: DmaDir, api: string): number {
  const g = cookie.iovad.granule;
  const untrusted = isUntrusted(dev);
  const orig = phys;
  let bounce: BounceSlot | null = null;
  let mapSize = size;
  st.outBounce = null;
  if (untrusted && (modulo(phys, g) !== 0 || modulo(size, g) !== 0)) {
    if (!swiotlbPool(k)) {
      if (!st.bounceInactiveWarned) {
        st.bounceInactiveWarned = true;
        k.printk('warn', 'DMA bounce buffers are inactive, unable to map unaligned transaction.', dev.name);
      }
      return MAPPING_ERROR;
    }
    traceBounced(k, dev, phys, size);
    bounce = swiotlbMap(k, dev, phys, size, alignUpTo(size, g), g);
    if (!bounce) return MAPPING_ERROR;
    phys = bounce.phys;
    // The v2 series mapped the whole aligned slot; mainline maps `size` from a granule-aligned slot (same granules).
    if (st.opts.v2Slot !== 'off') mapSize = bounce.bytes;
  }
  const dma = iommuDmaMapRange(k, st, dev, d, cookie, phys, mapSize, dmaProt(dir, dev.spec.coherent), dd.maskBits);
  if (dma === MAPPING_ERROR) {
    if (bounce) swiotlbUnmap(k, bounce.phys);
    return MAPPING_ERROR;
  }
  st.outBounce = bounce;
  const vstart = alignDown(phys, g);
  if (!bounce) {
    st.lastExposed = st.outIovaSize - size;
    if (st.lastExposed > 0 && exposureIsNew(k, dev, orig, size)) {
      const pieces: PhysRange[] = [];
      if (phys > vstart) pieces.push({ paddr: vstart, len: phys - vstart });
      if (vstart + st.outIovaSize > phys + size) pieces.push({ paddr: phys + size, len: vstart + st.outIovaSize - phys - size });
      raiseExposure(k, { api, dev, iova: st.outIova, iovaSize: st.outIovaSize, requested: size, paddr: orig, granule: g, untrusted }, st.lastExposed, pieces);
    }
  } else {
    const pieces: PhysRange[] = [];
    st.lastExposed = exposedBytes([{ paddr: vstart, len: st.outIovaSize }], [{ paddr: bounce.phys, len: bounce.bytes }], pieces);
    reportExposure(k, { api, dev, iova: st.outIova, iovaSize: st.outIovaSize, requested: size, paddr: orig, granule: g, untrusted }, st.lastExposed, pieces);
  }
  return dma;
}

/** iommu_dma_unmap_page: WARNs and does nothing when the address is not mapped; releases a bounce slot. */
export function iommuDmaUnmapPage(k: Kernel, dev: Device, d: Domain, cookie: IovaCookie, dma: number, size: number, api: string): void {
  const phys = iovaToPhys(d, dma);
  if (!phys) {
    k.printk('warn', `WARNING: drivers/iommu/dma-iommu.c: iommu_dma_unmap_page: WARN_ON(!phys): ${hex(dma)} is not mapped in ${d.id}`, dev.name);
    return;
  }
  iommuDmaUnmapRange(k, dev, d, cookie, dma, size, api);
  if (isSwiotlbBuffer(k, phys)) swiotlbUnmap(k, phys);
}
