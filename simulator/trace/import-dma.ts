// dma tracepoints (include/trace/events/dma.h): which IOMMU events each one explains, the step result it
// stands for, and the DMA-API handles (streaming maps, coherent allocations, sg lists) still live at the
// end of the trace — a handle never unmapped is what a driver leaks.
import { errnoFromNumber } from '../core/errno';
import { hex } from '../core/format';
import type { ReportStep } from '../report/types';
import { AddrMap } from './import-addr-map';
import { Cursor } from './import-body';
import { parseDmaBody, type DmaBody } from './import-dma-body';
import type { DmaBinding } from './import-model';
import type { StepColumns } from './import-steps';

export type DmaRole = 'map' | 'unmap' | 'error' | 'other';

const ROLE = new Map<string, DmaRole>(Object.entries({
  dma_map_phys: 'map', dma_map_page: 'map', dma_map_resource: 'map', dma_alloc: 'map', dma_alloc_pages: 'map',
  dma_alloc_sgt: 'map', dma_map_sg: 'map',
  dma_unmap_phys: 'unmap', dma_unmap_page: 'unmap', dma_unmap_resource: 'unmap', dma_free: 'unmap',
  dma_free_pages: 'unmap', dma_free_sgt: 'unmap', dma_unmap_sg: 'unmap',
  dma_map_sg_err: 'error', dma_alloc_sgt_err: 'error',
} as Record<string, DmaRole>));

export function dmaRole(name: string): DmaRole {
  return ROLE.get(name) ?? 'other';
}

/**
 * The IOVA range(s) a DMA call names, for binding the IOMMU events before it: one range for single
 * buffers, one per entry for scatterlists, none (bind all) for dma_unmap_sg, truncated lists and the
 * error events.
 */
export function setDmaRange(bind: DmaBinding, name: string, b: DmaBody, role = dmaRole(name)): void {
  bind.starts = bind.lengths = null;
  bind.all = false;
  // a list longer than DMA_TRACE_MAX_ENTRIES prints only its first entries: bind everything pending
  if (name === 'dma_map_sg' && b.truncated) bind.all = true;
  else if (name === 'dma_map_sg' && b.dmaAddrs && b.sizes) {
    bind.starts = b.dmaAddrs;                 // the body's own arrays: the binding is used before the next parse
    bind.lengths = b.sizes;
  }
  else if (b.dma !== undefined && b.size !== undefined && role !== 'error') {
    bind.lo = b.dma;
    bind.hi = b.dma + b.size;
  } else bind.all = true;
}

/** What the API call returned, as a scenario step's result would show it. */
export function dmaResult(name: string, b: DmaBody, role = dmaRole(name)): unknown {
  if (b.mappingError) return 'DMA_MAPPING_ERROR';
  switch (role) {
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

/** Whether text[from, to) is a number as hex() prints it (lowercase, no leading zero), as %llx prints it. */
function asHexPrints(text: string, from: number, to: number): boolean {
  if (to - from > 1 && text.charCodeAt(from) === 48) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 70) return false;                    // A-F
  }
  return true;
}

/**
 * dmaResult() into step i of `steps`; when the result is hex(dma_addr) it is taken from the digits in the
 * text (formatting a number above 2^32 in hex is slow), made when the report is built.
 */
export function setDmaResult(steps: StepColumns, i: number, text: string, name: string, b: DmaBody, role: DmaRole): void {
  const at = b.dmaAt, end = b.dmaEnd;
  if (role === 'map' && !b.mappingError && at !== undefined && end !== undefined && name !== 'dma_map_sg' && b.dma !== undefined) {
    if (asHexPrints(text, at, end)) {
      if (!name.startsWith('dma_alloc')) return steps.setHexResult(i, at, end, false);
      if (b.dma) return steps.setHexResult(i, at, end, true);
    }
  }
  steps.setResult(i, dmaResult(name, b, role));
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

/**
 * Live DMA-API handles by device, then by address, each remembered as the step that created it (its
 * details are read back from that step's text for the few still live at the end); O(1) per event.
 */
export class DmaHandles {
  private live = new Map<string, AddrMap>();
  private sg = new Map<string, AddrMap>();
  /** the table last used, kept at hand: a device's map and unmap calls come in runs */
  private lastTables: Map<string, AddrMap> | null = null;
  private lastDev = '';
  private lastTable: AddrMap | null = null;

  private table(byDev: Map<string, AddrMap>, dev: string): AddrMap {
    if (byDev === this.lastTables && dev === this.lastDev) return this.lastTable!;
    let t = byDev.get(dev);
    if (!t) byDev.set(dev, (t = new AddrMap()));
    this.lastTables = byDev;
    this.lastDev = dev;
    this.lastTable = t;
    return t;
  }

  /** Records a map/alloc or drops an unmap/free; returns false when an unmap names no live handle. */
  update(dev: string, name: string, b: DmaBody, step: number, role = dmaRole(name)): boolean {
    if (role !== 'map' && role !== 'unmap') return true;
    if (b.mappingError) return true;
    // sg lists are freed by their physical addresses (dma_unmap_sg prints no DMA address)
    const isSg = name === 'dma_map_sg' || name === 'dma_unmap_sg';
    const addr = isSg ? b.physAddrs?.[0] : b.dma;
    if (addr === undefined) return role === 'map';
    const table = this.table(isSg ? this.sg : this.live, dev);
    if (role === 'unmap') return table.delete(addr);
    if (name.startsWith('dma_alloc') && !b.dma) return true;          // failed allocation traces dma_addr=0
    table.set(addr, step);
    return true;
  }

  /** The handles still live, oldest first, read back from the steps that created them. */
  list(steps: ReportStep[]): DmaHandle[] {
    const out: DmaHandle[] = [];
    const c = new Cursor('');
    for (const byDev of [this.live, this.sg]) {
      for (const t of byDev.values()) {
        for (const i of t.values()) {            // sorted by line below
          const step = steps[i];
          const b = parseDmaBody(c.reset(String(step.events[0].text)));
          let size = b.size ?? 0;
          if (step.op === 'dma_map_sg') size = (b.sizes ?? []).reduce((x, y) => x + y, 0);
          out.push({
            dev: b.dev, event: step.op, dma: b.dma ?? b.dmaAddrs?.[0] ?? null, size,
            phys: b.phys ?? b.physAddrs?.[0] ?? null, dir: b.dir ?? null, line: step.line ?? 0,
          });
        }
      }
    }
    return out.sort((a, b) => a.line - b.line);
  }
}
