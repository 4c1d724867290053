// The allocating DMA API (kernel/dma/mapping.c): dma_alloc_coherent / dma_free_coherent,
// dma_alloc_noncontiguous / dma_free_noncontiguous and dma_get_sgtable, on dma-iommu or dma-direct.
import type { ErrnoResult } from '../core/errno';
import { errnoResult } from '../core/errno';
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { dmaTarget } from './cookie';
import { debugAdd, debugCheckUnmap, debugEntries } from './debug';
import { AllocOut, directAlloc, directFree, getSgtable, iommuAllocNoncontig, iommuFreeNoncontig } from './alloc';
import { checkDirection } from './api';
import type { DmaSeg } from './iommu-sg';
import { printArray } from '../trace/tracepoints';
import {
  DEBUG_COHERENT, DEBUG_SG, DIR_TRACE, DMA_BIDIRECTIONAL, DevDma, DmaDir, DmaEntry, MapRecord, PhysRange, alignUpTo, devDma,
  dmaState, isUntrusted,
} from './state';

export interface CoherentResult { cpu: number; dma: number; paddr: number; size: number; pages?: PhysRange[] }

function allocate(k: Kernel, dev: Device, dd: DevDma, size: number, kind: 'coherent' | 'pages', api: string, fn: string): { out: AllocOut; domain: MapRecord['domain'] } | null {
  const t = dmaTarget(k, dev, fn);
  if (!t) {
    const out = directAlloc(k, dev, dd, size, kind, api);
    return out ? { out, domain: null } : null;
  }
  // The large-page series (patch 1) sizes untrusted devices' allocations in whole IOMMU pages.
  const g = t.cookie.iovad.granule;
  const sz = k.cfg.large_iommu_pages && isUntrusted(dev) ? alignUpTo(size, g) : size;
  const out = iommuAllocNoncontig(k, dev, dd, t.domain, t.cookie, sz, kind, api);
  return out ? { out, domain: t.domain } : null;
}

/**
 * Allocates and records one coherent or non-contiguous allocation; on failure traces `failTp` (dma_alloc with a
 * zero address, or dma_alloc_sgt_err) and returns null.
 */
function allocateRecord(k: Kernel, dev: Device, dd: DevDma, size: number, kind: 'coherent' | 'pages', api: string, fn: string,
  failTp: 'dma_alloc' | 'dma_alloc_sgt_err', dir: DmaDir) {
  const got = size > 0 ? allocate(k, dev, dd, size, kind, api, fn) : null;
  if (!got) {
    if (k.tracing) k.tracepoint(failTp, tp.dmaAlloc(dev.name, 0, 0, size, DIR_TRACE[dir]));
    return null;
  }
  const { out, domain } = got;
  dmaState(k).lastExposed = out.exposed;
  const rec = new MapRecord(api, dev, k.step, domain, out.iova, out.iovaSize, out.pages[0].paddr, size, out.exposed);
  rec.pages = out.pages;
  rec.cpu = out.cpu;
  return { out, domain, rec };
}

/** Live allocation of the device whose CPU address is cpu (dma_common_find_pages / find_vm_area). */
function recordByCpu(dd: DevDma, cpu: number, type: number): MapRecord | null {
  for (const e of debugEntries(dd)) if (e.type === type && e.rec.cpu === cpu) return e.rec;
  return null;
}

/** dma_alloc_attrs: { cpu, dma, paddr } or null. */
export function dmaAllocCoherent(k: Kernel, dev: Device, size: number): CoherentResult | null {
  const st = dmaState(k);
  const dd = devDma(dev);
  st.lastExposed = 0;
  const api = 'dma_alloc_coherent';
  const got = allocateRecord(k, dev, dd, size, 'coherent', api, 'iommu_dma_alloc', 'dma_alloc', DMA_BIDIRECTIONAL);
  if (!got) return null;
  const { out, rec } = got;
  if (k.tracing) k.tracepoint('dma_alloc', tp.dmaAlloc(dev.name, out.dma, out.cpu, size, DIR_TRACE[DMA_BIDIRECTIONAL]));
  debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_COHERENT, out.dma, size, DMA_BIDIRECTIONAL, out.pages[0].paddr, 0, 0));
  const r: CoherentResult = { cpu: out.cpu, dma: out.dma, paddr: out.pages[0].paddr, size };
  if (out.pages.length > 1) r.pages = out.pages;
  return r;
}

/** dma_free_attrs: tracepoint, dma-debug, then the free of what the arguments name. */
export function dmaFreeCoherent(k: Kernel, dev: Device, size: number, cpu: number | undefined, dma: number): void {
  const dd = devDma(dev);
  const api = 'dma_free_coherent';
  const byDma = dd.entries.get(dma);
  const cpuAddr = cpu ?? (byDma?.type === DEBUG_COHERENT ? byDma.rec.cpu : dma);
  if (k.tracing) k.tracepoint('dma_free', tp.dmaFree(dev.name, dma, cpuAddr, size, DIR_TRACE[DMA_BIDIRECTIONAL]));
  const e = debugCheckUnmap(k, dev, dd, { type: DEBUG_COHERENT, dma, size, dir: DMA_BIDIRECTIONAL, cpu, sgCallEnts: 0, isMappingError: false }, api);
  const rec = recordByCpu(dd, cpuAddr, DEBUG_COHERENT) ?? (e && e.rec.cpu === cpuAddr ? e.rec : null);
  const t = dmaTarget(k, dev, 'iommu_dma_free');
  if (t) {
    const sz = k.cfg.large_iommu_pages && isUntrusted(dev) ? alignUpTo(size, t.cookie.iovad.granule) : size;
    iommuFreeNoncontig(k, dev, t.domain, t.cookie, rec, dma, sz, api);
  } else {
    directFree(k, rec, cpuAddr, size);
  }
}

/** The sg table dma_alloc_noncontiguous returns: one DMA segment over the pages. */
export interface SgtResult { id: string; nents: number; orig_nents: number; dma: number; entries: DmaSeg[]; sg: PhysRange[] }

function traceSgt(k: Kernel, name: 'dma_alloc_sgt' | 'dma_free_sgt', dev: Device, dir: DmaDir, dma: number, size: number, sg: readonly PhysRange[]): void {
  const base = `${dev.name} dir=${DIR_TRACE[dir]} dma_addr=${dma.toString(16)} size=${size} phys_addrs=${printArray(sg.map(s => s.paddr))}`;
  if (k.tracing) k.tracepoint(name, name === 'dma_alloc_sgt' ? `${base} flags=GFP_KERNEL attrs=` : base);
}

/** dma_alloc_noncontiguous: an sg table, or null. */
export function dmaAllocNoncontiguous(k: Kernel, dev: Device, size: number, dir: DmaDir): SgtResult | null {
  const st = dmaState(k);
  const dd = devDma(dev);
  const api = 'dma_alloc_noncontiguous';
  checkDirection(k, dir, api);
  st.lastExposed = 0;
  const got = allocateRecord(k, dev, dd, size, 'pages', api, 'iommu_dma_alloc_noncontiguous', 'dma_alloc_sgt_err', dir);
  if (!got) return null;
  const { out, domain, rec } = got;
  const len = domain ? out.iovaSize : alignUpTo(size, k.cfg.page_size);
  traceSgt(k, 'dma_alloc_sgt', dev, dir, out.dma, size, out.pages);
  debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_SG, out.dma, len, dir, out.pages[0].paddr, out.pages.length, 1));
  return { id: `sgt${st.nextSgt++}`, nents: 1, orig_nents: out.pages.length, dma: out.dma, entries: [{ dma: out.dma, len }], sg: out.pages };
}

/** dma_free_noncontiguous: dma-debug checks the table's own DMA segment; `size` drives the unmap and free. */
export function dmaFreeNoncontiguous(k: Kernel, dev: Device, size: number, sgt: SgtResult, dir: DmaDir): void {
  const dd = devDma(dev);
  const api = 'dma_free_noncontiguous';
  checkDirection(k, dir, api);
  const seg = sgt.entries[0];
  traceSgt(k, 'dma_free_sgt', dev, dir, seg.dma, size, sgt.sg);
  const e = debugCheckUnmap(k, dev, dd, { type: DEBUG_SG, dma: seg.dma, size: seg.len, dir, sgCallEnts: sgt.orig_nents, isMappingError: false }, api);
  const rec = e?.rec ?? null;
  const t = dmaTarget(k, dev, 'iommu_dma_free_noncontiguous');
  if (t) {
    const sz = k.cfg.large_iommu_pages && isUntrusted(dev) ? alignUpTo(size, t.cookie.iovad.granule) : size;
    iommuFreeNoncontig(k, dev, t.domain, t.cookie, rec, seg.dma, sz, api);
  } else {
    directFree(k, rec, sgt.sg[0]?.paddr ?? seg.dma, size);
  }
}

/** dma_get_sgtable_attrs: the CPU pages of a coherent buffer as an sg table, or -ENXIO. */
export function dmaGetSgtable(k: Kernel, dev: Device, cpu: number | undefined, dma: number, size: number): { nents: number; orig_nents: number; sg: PhysRange[] } | ErrnoResult {
  const dd = devDma(dev);
  const e = dd.entries.get(dma);
  const cpuAddr = cpu ?? (e?.type === DEBUG_COHERENT ? e.rec.cpu : dma);
  const t = dmaTarget(k, dev, 'iommu_dma_get_sgtable');
  const r = getSgtable(k, t ? t.cookie.iovad.granule : null, recordByCpu(dd, cpuAddr, DEBUG_COHERENT), cpuAddr, dma, size);
  if (r === 'ENXIO') return errnoResult('ENXIO');
  return { nents: r.length, orig_nents: r.length, sg: r };
}
