// dma tracepoints (include/trace/events/dma.h): which IOMMU events each one explains, the step result it
// stands for, and the DMA-API handles (streaming maps, coherent allocations, sg lists) still live at the
// end of the trace — a handle never unmapped is what a driver leaks.
import { errnoFromNumber } from '../core/errno';
import { hex } from '../core/format';
import type { DmaBody } from './import-body';
import type { DmaBinding } from './import-model';

export type DmaRole = 'map' | 'unmap' | 'error' | 'other';

const ROLE: Record<string, DmaRole> = {
  dma_map_phys: 'map', dma_map_page: 'map', dma_map_resource: 'map', dma_alloc: 'map', dma_alloc_pages: 'map',
  dma_alloc_sgt: 'map', dma_map_sg: 'map',
  dma_unmap_phys: 'unmap', dma_unmap_page: 'unmap', dma_unmap_resource: 'unmap', dma_free: 'unmap',
  dma_free_pages: 'unmap', dma_free_sgt: 'unmap', dma_unmap_sg: 'unmap',
  dma_map_sg_err: 'error', dma_alloc_sgt_err: 'error',
};

export function dmaRole(name: string): DmaRole {
  return ROLE[name] ?? 'other';
}

/**
 * The IOVA range(s) a DMA call names, for binding the IOMMU events before it: one range for single
 * buffers, one per entry for scatterlists, none (bind all) for dma_unmap_sg and the error events.
 */
export function setDmaRange(bind: DmaBinding, name: string, b: DmaBody): void {
  bind.ranges = null;
  bind.all = false;
  if (name === 'dma_map_sg' && b.dmaAddrs && b.sizes) bind.ranges = b.dmaAddrs.map((a, i) => [a, a + b.sizes![i]]);
  else if (b.dma !== undefined && b.size !== undefined && dmaRole(name) !== 'error') {
    bind.lo = b.dma;
    bind.hi = b.dma + b.size;
  } else bind.all = true;
}

/** What the API call returned, as a scenario step's result would show it. */
export function dmaResult(name: string, b: DmaBody): unknown {
  if (b.mappingError) return 'DMA_MAPPING_ERROR';
  switch (dmaRole(name)) {
    case 'map':
      if (name === 'dma_map_sg') return b.ents ? b.ents[1] : b.dmaAddrs!.length;
      if (name.startsWith('dma_alloc')) return b.dma ? { dma: hex(b.dma) } : null;
      return hex(b.dma!);
    case 'error':
      return b.err !== undefined ? errnoFromNumber(b.err) ?? b.err : null;
    default:
      return null;
  }
}

export interface DmaHandle {
  dev: string;
  event: string;               // dma_map_phys, dma_alloc, dma_map_sg …
  dma: number | null;          // first DMA address (null: dma_map_sg traced without it)
  size: number;
  phys: number | null;         // physical address when the event prints it
  dir: string | null;
  line: number;
}

/** Live DMA-API handles by device, then by address; O(1) per event, no key strings built. */
export class DmaHandles {
  private live = new Map<string, Map<number, DmaHandle>>();
  private sg = new Map<string, Map<number, DmaHandle>>();

  private table(byDev: Map<string, Map<number, DmaHandle>>, dev: string): Map<number, DmaHandle> {
    let t = byDev.get(dev);
    if (!t) byDev.set(dev, (t = new Map()));
    return t;
  }

  /** Records a map/alloc or drops an unmap/free; returns false when an unmap names no live handle. */
  update(dev: string, name: string, b: DmaBody, line: number): boolean {
    const role = dmaRole(name);
    if (role !== 'map' && role !== 'unmap') return true;
    if (b.mappingError) return true;
    // sg lists are freed by their physical addresses (dma_unmap_sg prints no DMA address)
    const isSg = name === 'dma_map_sg' || name === 'dma_unmap_sg';
    const key = isSg ? b.physAddrs?.[0] : b.dma;
    if (key === undefined) return role === 'map';
    const table = this.table(isSg ? this.sg : this.live, dev);
    if (role === 'unmap') return table.delete(key);
    if (name.startsWith('dma_alloc') && !b.dma) return true;          // failed allocation traces dma_addr=0
    let size = b.size ?? 0;
    if (isSg) {
      size = 0;
      for (const x of b.sizes ?? []) size += x;
    }
    table.set(key, {
      dev, event: name, dma: b.dma ?? b.dmaAddrs?.[0] ?? null, size,
      phys: b.phys ?? b.physAddrs?.[0] ?? null, dir: b.dir ?? null, line,
    });
    return true;
  }

  list(): DmaHandle[] {
    const out: DmaHandle[] = [];
    for (const byDev of [this.live, this.sg]) for (const t of byDev.values()) out.push(...t.values());
    return out.sort((a, b) => a.line - b.line);
  }
}
