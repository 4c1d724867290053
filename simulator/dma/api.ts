// The streaming DMA API (kernel/dma/mapping.c): dma_map_page / dma_map_single, dma_unmap_*, dma_map_sg,
// dma_unmap_sg and dma_sync_single_*. Each call picks dma-iommu or dma-direct for the device, emits the dma
// tracepoints and feeds dma-debug. These functions are the public, scenario-independent API: a unit test or
// benchmark can call them on a Kernel directly.
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { DMA_MAPPING_ERROR } from '../runner/ops';
import { dmaTarget } from './cookie';
import { UnmapRef, debugAdd, debugCheckArea, debugCheckSgSegments, debugCheckSync, debugCheckUnmap, debugMappedEnts } from './debug';
import { directMapPage, directMapSg, directUnmapPage } from './direct';
import { iommuDmaMapPage, iommuDmaUnmapPage } from './iommu-map';
import { DmaSeg, iommuDmaMapSg, iommuDmaUnmapSg } from './iommu-sg';
import {
  DEBUG_SG, DEBUG_SINGLE, DIR_TRACE, DMA_NONE, DmaDir, DmaEntry, MAPPING_ERROR, MapRecord, PhysRange, devDma, dmaState,
} from './state';

export type DmaAddr = number | typeof DMA_MAPPING_ERROR;

/** BUG_ON(!valid_dma_direction(dir)) */
export function checkDirection(k: Kernel, dir: DmaDir, fn: string): void {
  if (dir === DMA_NONE) k.oops(`kernel BUG at kernel/dma/mapping.c: ${fn}: BUG_ON(!valid_dma_direction(dir)) (DMA_NONE)`);
}

/** dma_map_page_attrs (dma_map_single is dma_map_page on the buffer's page and offset). */
export function dmaMapPage(k: Kernel, dev: Device, phys: number, size: number, dir: DmaDir, api = 'dma_map_page'): DmaAddr {
  const st = dmaState(k);
  const dd = devDma(dev);
  checkDirection(k, dir, api);
  st.lastExposed = 0;
  const t = dmaTarget(k, dev, 'iommu_dma_map_page', st);
  const dma = t ? iommuDmaMapPage(k, st, dev, dd, t.domain, t.cookie, phys, size, dir, api) : directMapPage(k, st, dev, dd, phys, size);
  if (dma === MAPPING_ERROR) {
    if (k.tracing) k.tracepoint('dma_map_phys', `${dev.name} dir=${DIR_TRACE[dir]} dma_addr=ffffffffffffffff size=${size} phys_addr=${phys.toString(16)} attrs=`);
    return DMA_MAPPING_ERROR;
  }
  if (k.tracing) k.tracepoint('dma_map_phys', tp.dmaMapPhys(dev.name, DIR_TRACE[dir], dma, size, phys));
  const rec = new MapRecord(api, dev, k.step, t ? t.domain : null, st.outIova, st.outIovaSize, phys, size, st.lastExposed);
  if (st.outBounce) rec.bounces = [st.outBounce];
  debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_SINGLE, dma, size, dir, phys, 0, 0));
  return dma;
}

/** dma_map_single_attrs: debug_dma_map_single checks the area first (so a map that then fails still warns), then dma_map_page. */
export function dmaMapSingle(k: Kernel, dev: Device, paddr: number, size: number, dir: DmaDir): DmaAddr {
  if (dmaState(k).opts.debug) debugCheckArea(k, dev, devDma(dev), paddr, size);
  return dmaMapPage(k, dev, paddr, size, dir, 'dma_map_single');
}

/** dma_unmap_page_attrs: the unmap, the tracepoint, then dma-debug's check_unmap. */
export function dmaUnmapPage(k: Kernel, dev: Device, dma: DmaAddr, size: number, dir: DmaDir, api = 'dma_unmap_page'): void {
  const dd = devDma(dev);
  checkDirection(k, dir, api);
  if (dma === DMA_MAPPING_ERROR) {
    // ~0 is not mapped: iommu_dma_unmap_page WARNs, dma-direct does nothing useful
    if (dmaTarget(k, dev, 'iommu_dma_unmap_page')) {
      k.printk('warn', 'WARNING: drivers/iommu/dma-iommu.c: iommu_dma_unmap_page: WARN_ON(!phys)', dev.name);
    }
    if (k.tracing) k.tracepoint('dma_unmap_phys', `${dev.name} dir=${DIR_TRACE[dir]} dma_addr=ffffffffffffffff size=${size} attrs=`);
    debugCheckUnmap(k, dev, dd, { type: DEBUG_SINGLE, dma: 0, size, dir, sgCallEnts: 0, isMappingError: true }, api);
    return;
  }
  const t = dmaTarget(k, dev, 'iommu_dma_unmap_page');
  if (t) iommuDmaUnmapPage(k, dev, t.domain, t.cookie, dma, size, api);
  else directUnmapPage(k, dma);
  if (k.tracing) k.tracepoint('dma_unmap_phys', tp.dmaUnmapPhys(dev.name, DIR_TRACE[dir], dma, size));
  // check_unmap keeps nothing of its argument: one object serves every call
  const ref = singleUnmapRef;
  ref.dma = dma;
  ref.size = size;
  ref.dir = dir;
  debugCheckUnmap(k, dev, dd, ref, api);
}

const singleUnmapRef: UnmapRef = { type: DEBUG_SINGLE, dma: 0, size: 0, dir: DMA_NONE, sgCallEnts: 0, isMappingError: false };

export function dmaUnmapSingle(k: Kernel, dev: Device, dma: DmaAddr, size: number, dir: DmaDir): void {
  dmaUnmapPage(k, dev, dma, size, dir, 'dma_unmap_single');
}

/** What dma_map_sg gives back: nents (0 on error), the DMA segments, and the list that was mapped. */
export interface SgResult {
  nents: number;
  entries: DmaSeg[];
  orig_nents: number;
  sg: PhysRange[];
}

const MAX_TRACE = 128;

function traceMapSg(k: Kernel, dev: Device, dir: DmaDir, sg: readonly PhysRange[], entries: readonly DmaSeg[]): void {
  const ents = entries.slice(0, MAX_TRACE);
  const phys = sg.slice(0, MAX_TRACE).map(s => s.paddr);
  if (k.tracing) k.tracepoint('dma_map_sg', tp.dmaMapSg(dev.name, DIR_TRACE[dir], Math.min(sg.length, MAX_TRACE), sg.length,
    ents.length, entries.length, ents.map(e => e.dma), ents.map(e => e.len), phys));
}

/** dma_map_sg_attrs: dma_map_sg returns 0 for every error. */
export function dmaMapSg(k: Kernel, dev: Device, sg: readonly PhysRange[], dir: DmaDir, api = 'dma_map_sg'): SgResult {
  const st = dmaState(k);
  const dd = devDma(dev);
  checkDirection(k, dir, api);
  st.lastExposed = 0;
  const t = dmaTarget(k, dev, 'iommu_dma_map_sg', st);
  const result: SgResult = { nents: 0, entries: [], orig_nents: sg.length, sg: sg.map(s => ({ paddr: s.paddr, len: s.len })) };
  if (t) {
    const r = iommuDmaMapSg(k, st, dev, dd, t.domain, t.cookie, sg, dir, api);
    if (typeof r === 'string') return result;
    result.entries = r.entries;
    st.lastExposed = r.exposed;
    if (r.perEntry) {
      r.entries.forEach((e, i) => {
        const p = r.pieces![i];
        const rec = new MapRecord(api, dev, k.step, t.domain, p.iova, p.iovaSize, sg[i].paddr, sg[i].len, p.exposed);
        rec.perEntry = true;
        if (p.bounce) rec.bounces = [p.bounce];
        debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_SG, e.dma, e.len, dir, sg[i].paddr, sg.length, r.entries.length));
      });
    } else {
      const requested = sg.reduce((n, s) => n + s.len, 0);
      const rec = new MapRecord(api, dev, k.step, t.domain, r.iova, r.iovaSize, sg[0]?.paddr ?? 0, requested, r.exposed);
      r.entries.forEach((e, i) => debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_SG, e.dma, e.len, dir, sg[i].paddr, sg.length, r.entries.length)));
    }
  } else {
    const entries = directMapSg(k, st, dev, dd, sg);
    if (!entries) return result;
    result.entries = entries;
    entries.forEach((e, i) => {
      const rec = new MapRecord(api, dev, k.step, null, e.dma, e.len, sg[i].paddr, e.len, 0);
      debugAdd(k, dev, dd, new DmaEntry(rec, DEBUG_SG, e.dma, e.len, dir, sg[i].paddr, sg.length, entries.length));
    });
  }
  result.nents = result.entries.length;
  traceMapSg(k, dev, dir, sg, result.entries);
  if (st.opts.debug) debugCheckSgSegments(k, dev, dd, sg, result.entries);
  return result;
}

/**
 * dma_unmap_sg_attrs. `entries` are the DMA fields of the list as dma_map_sg left them (nothing for a list that
 * was never mapped); `nents` is what the driver passes, which should be the count it gave dma_map_sg.
 */
export function dmaUnmapSg(k: Kernel, dev: Device, sg: readonly PhysRange[], entries: readonly DmaSeg[], nents: number, dir: DmaDir,
  api = 'dma_unmap_sg'): void {
  const dd = devDma(dev);
  checkDirection(k, dir, api);
  if (k.tracing) k.tracepoint('dma_unmap_sg', tp.dmaUnmapSg(dev.name, DIR_TRACE[dir], nents, sg.slice(0, nents).map(s => s.paddr)));
  const perEntry = entries.length ? dd.entries.get(entries[0].dma)?.rec.perEntry ?? false : false;
  // debug_dma_unmap_sg: one check per entry, up to the mapped count recorded for the first one
  const mapped = entries.length ? debugMappedEnts(dd, entries[0].dma) : 0;
  for (let i = 0; i < nents; i++) {
    if (mapped && i >= mapped) break;
    const e = entries[i];
    debugCheckUnmap(k, dev, dd, { type: DEBUG_SG, dma: e?.dma ?? 0, size: e?.len ?? 0, dir, sgCallEnts: nents, isMappingError: false }, api);
    if (!mapped && !e) break;
  }
  const t = dmaTarget(k, dev, 'iommu_dma_unmap_sg');
  if (t) iommuDmaUnmapSg(k, dev, t.domain, t.cookie, entries, perEntry, api);
  else for (const e of entries) if (e.len) directUnmapPage(k, e.dma);
}

/** dma_sync_single_for_cpu / _for_device: no data is modelled, so only the tracepoint and dma-debug's checks. */
export function dmaSyncSingle(k: Kernel, dev: Device, dma: DmaAddr, size: number, dir: DmaDir, toCpu: boolean): void {
  const dd = devDma(dev);
  const fn = toCpu ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device';
  checkDirection(k, dir, fn);
  if (dma === DMA_MAPPING_ERROR) {
    k.finding('mapping-error-unchecked', 'error',
      `${fn} on ${dev.name} was given DMA_MAPPING_ERROR: the driver did not check dma_mapping_error() after mapping`, { dev: dev.name, fn });
    return;
  }
  if (k.tracing) k.tracepoint(fn, tp.dmaSyncSingle(dev.name, DIR_TRACE[dir], dma, size));
  debugCheckSync(k, dev, dd, dma, size, dir, toCpu);
}

/** dma_mapping_error: -ENOMEM for DMA_MAPPING_ERROR, 0 otherwise. */
export function dmaMappingError(dma: DmaAddr): number {
  return dma === DMA_MAPPING_ERROR ? -12 : 0;
}

/** The exposure of the last map or alloc call (bytes beyond what was asked). */
export function lastExposure(k: Kernel): number {
  return dmaState(k).lastExposed;
}
