// dma-direct (kernel/dma/direct.c): devices without an IOMMU, behind a refused IOMMU, or on an identity
// domain. The device address is the physical address; a buffer the device's mask cannot reach bounces
// through swiotlb, or fails with the kernel's overflow warning when there is no pool (or the pool itself
// is out of reach).
import { hexPad } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { isSwiotlbBuffer, swiotlbMap, swiotlbPool, swiotlbUnmap, traceBounced } from './swiotlb';
import { DevDma, DmaState, MAPPING_ERROR, PhysRange, maskHex, maskLimit } from './state';
import type { DmaSeg } from './iommu-sg';

/** dma_capable: the whole range below the device's mask. */
export function dmaCapable(dd: DevDma, dma: number, size: number, coherent = false): boolean {
  return dma + Math.max(size, 1) - 1 <= maskLimit(coherent ? dd.coherentMaskBits : dd.maskBits);
}

function overflow(k: Kernel, dev: Device, dd: DevDma, what: string, dma: number, size: number): void {
  const text = `${what} 0x${hexPad(dma, 16)}+${size} overflow (mask ${maskHex(dd.maskBits)}, bus limit 0).`;
  if (!dd.overflowWarned) {
    dd.overflowWarned = true;
    k.printk('warn', `WARNING: kernel/dma/direct.h: ${text}`, dev.name);
  }
  k.finding('dma-mask-overflow', 'error',
    `${dev.name}: ${text} The ${dd.maskBits}-bit device cannot reach the buffer` +
    (what.startsWith('swiotlb') ? ' and the bounce buffer is out of reach too' : ' and there is no bounce buffer pool'),
    { dev: dev.name, dma, size, maskBits: dd.maskBits });
}

/** dma_direct_map_page; st.outIova/outIovaSize/outBounce describe the result. */
export function directMapPage(k: Kernel, st: DmaState, dev: Device, dd: DevDma, phys: number, size: number): number {
  st.outBounce = null;
  st.outIova = phys;
  st.outIovaSize = size;
  if (dmaCapable(dd, phys, size)) return phys;
  if (!swiotlbPool(k)) {
    overflow(k, dev, dd, 'DMA addr', phys, size);
    return MAPPING_ERROR;
  }
  traceBounced(k, dev, phys, size);
  const slot = swiotlbMap(k, dev, phys, size, size, 0);
  if (!slot) return MAPPING_ERROR;
  if (!dmaCapable(dd, slot.phys, size)) {
    swiotlbUnmap(k, slot.phys);
    overflow(k, dev, dd, 'swiotlb addr', slot.phys, size);
    return MAPPING_ERROR;
  }
  st.outBounce = slot;
  st.outIova = slot.phys;
  return slot.phys;
}

/** dma_direct_unmap_page: releases the bounce slot when the address is one. */
export function directUnmapPage(k: Kernel, dma: number): void {
  if (isSwiotlbBuffer(k, dma)) swiotlbUnmap(k, dma);
}

/** dma_direct_map_sg: entry by entry, no merging; -EIO after undoing on the first failure. */
export function directMapSg(k: Kernel, st: DmaState, dev: Device, dd: DevDma, sg: readonly PhysRange[]): DmaSeg[] | null {
  const out: DmaSeg[] = [];
  for (const s of sg) {
    const dma = directMapPage(k, st, dev, dd, s.paddr, s.len);
    if (dma === MAPPING_ERROR) {
      for (const e of out) directUnmapPage(k, e.dma);
      return null;
    }
    out.push({ dma, len: s.len });
  }
  return out;
}
