// dma-iommu scatterlists (iommu_dma_map_sg, __finalise_sg, iommu_dma_unmap_sg). Every segment is widened to
// whole granules (its offset into the first granule is remembered), segments are laid out back to back in one
// IOVA allocation, padding is added so no segment straddles the device's segment boundary (the padding
// lengthens the previous segment, so it maps real memory), and the result is merged back into as few DMA
// segments as the boundary and max segment size allow. Untrusted devices map entry by entry through
// iommu_dma_map_page so each one can bounce.
import type { ErrnoName } from '../core/errno';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import { iommuMapSg } from '../iommu/map';
import { IovaCookie, allocIova, freeIova } from './cookie';
import { exposedBytes, reportExposure } from './exposure';
import { dmaProt, iommuDmaMapPage, iommuDmaUnmapPage, iommuDmaUnmapRange } from './iommu-map';
import { BounceSlot, DevDma, DmaDir, DmaState, MAPPING_ERROR, PhysRange, alignUpTo, isUntrusted } from './state';

export interface DmaSeg { dma: number; len: number }

export interface SgMapOut {
  entries: DmaSeg[];
  iova: number;            // start of the IOVA allocation (0 when mapped entry by entry)
  iovaSize: number;
  exposed: number;
  perEntry: boolean;
  /** per-entry mappings: each entry's IOVA range, exposure and bounce slot */
  pieces?: Array<{ iova: number; iovaSize: number; exposed: number; bounce: BounceSlot | null }>;
}

/** iommu_dma_map_sg_swiotlb: each entry through iommu_dma_map_page; all undone on the first failure. */
function mapSgPerEntry(k: Kernel, st: DmaState, dev: Device, dd: DevDma, d: Domain, cookie: IovaCookie, sg: readonly PhysRange[],
  dir: DmaDir, api: string): SgMapOut | ErrnoName {
  const out: SgMapOut = { entries: [], iova: 0, iovaSize: 0, exposed: 0, perEntry: true, pieces: [] };
  for (const s of sg) {
    const dma = iommuDmaMapPage(k, st, dev, dd, d, cookie, s.paddr, s.len, dir, api);
    if (dma === MAPPING_ERROR) {
      for (const e of out.entries) iommuDmaUnmapPage(k, dev, d, cookie, e.dma, e.len, api);
      return 'EIO';
    }
    out.entries.push({ dma, len: s.len });
    out.pieces!.push({ iova: st.outIova, iovaSize: st.outIovaSize, exposed: st.lastExposed, bounce: st.outBounce });
    out.exposed += st.lastExposed;
  }
  return out;
}

/**
 * __finalise_sg: DMA segments from the laid-out IOVA range. A segment joins the previous one when that one
 * ended exactly on a granule boundary, it starts on one, it does not start on a segment boundary and the
 * merged length stays within the max segment size.
 */
export function finaliseSg(sg: readonly PhysRange[], offs: readonly number[], iovaLens: readonly number[], dmaStart: number,
  boundary: number, maxSeg: number): DmaSeg[] {
  const out: DmaSeg[] = [];
  let dma = dmaStart;
  let curLen = 0;
  for (let i = 0; i < sg.length; i++) {
    const sOff = offs[i], sLen = sg[i].len, sIovaLen = iovaLens[i];
    const notOnBoundary = boundary === Infinity ? dma !== 0 : dma % boundary !== 0;
    if (curLen && !sOff && notOnBoundary && maxSeg - curLen >= sLen) {
      curLen += sLen;
    } else {
      out.push({ dma: dma + sOff, len: 0 });
      curLen = sLen;
    }
    out[out.length - 1].len = curLen;
    dma += sIovaLen;
    if (sLen + sOff < sIovaLen) curLen = 0;
  }
  return out;
}

/** iommu_dma_map_sg: the entries, or the errno dma_map_sg turns into 0. */
export function iommuDmaMapSg(k: Kernel, st: DmaState, dev: Device, dd: DevDma, d: Domain, cookie: IovaCookie, sg: readonly PhysRange[],
  dir: DmaDir, api: string): SgMapOut | ErrnoName {
  if (isUntrusted(dev)) return mapSgPerEntry(k, st, dev, dd, d, cookie, sg, dir, api);
  const g = cookie.iovad.granule;
  const boundary = dd.segBoundary;
  const offs: number[] = [];
  const iovaLens: number[] = [];
  let iovaLen = 0;
  for (let i = 0; i < sg.length; i++) {
    const off = sg[i].paddr % g;
    const len = alignUpTo(sg[i].len + off, g);
    // pad_len = (mask - iova_len + 1) & mask: the distance to the next segment boundary
    const pad = boundary === Infinity ? 0 : (boundary - (iovaLen % boundary)) % boundary;
    if (pad && pad < len - 1) {
      iovaLens[i - 1] += pad;
      iovaLen += pad;
    }
    offs.push(off);
    iovaLens.push(len);
    iovaLen += len;
  }
  if (iovaLen === 0) return { entries: finaliseSg(sg, offs, iovaLens, 0, boundary, dd.maxSegSize), iova: 0, iovaSize: 0, exposed: 0, perEntry: false };
  const iova = allocIova(k, dev, d, cookie, iovaLen, dd.maskBits);
  if (!iova) return 'ENOMEM';
  const layout = sg.map((s, i) => ({ paddr: s.paddr - offs[i], len: iovaLens[i] }));
  const mapped = iommuMapSg(k, d, iova, layout, dmaProt(dir, dev.spec.coherent));
  if (typeof mapped !== 'number' || mapped < iovaLen) {
    freeIova(k, cookie, iova, iovaLen, false, api, dev.name);
    return mapped === '-ENOMEM' ? 'ENOMEM' : 'EINVAL';
  }
  const pieces: PhysRange[] = [];
  const exposed = exposedBytes(layout, sg as PhysRange[], pieces);
  const requested = sg.reduce((n, s) => n + s.len, 0);
  reportExposure(k, { api, dev, iova, iovaSize: iovaLen, requested, paddr: sg[0].paddr, granule: g, untrusted: false }, exposed, pieces);
  return { entries: finaliseSg(sg, offs, iovaLens, iova, boundary, dd.maxSegSize), iova, iovaSize: iovaLen, exposed, perEntry: false };
}

/**
 * iommu_dma_unmap_sg: the segments were mapped as one IOVA range, so one unmap from the first DMA segment to
 * the end of the last one; lists mapped entry by entry are unmapped entry by entry.
 */
export function iommuDmaUnmapSg(k: Kernel, dev: Device, d: Domain, cookie: IovaCookie, entries: readonly DmaSeg[], perEntry: boolean, api: string): void {
  if (perEntry) {
    for (const e of entries) if (e.len) iommuDmaUnmapPage(k, dev, d, cookie, e.dma, e.len, api);
    return;
  }
  let start = -1, end = 0;
  for (const e of entries) {
    if (e.len === 0) break;
    if (start < 0) start = e.dma;
    end = e.dma + e.len;
  }
  if (start >= 0 && end) iommuDmaUnmapRange(k, dev, d, cookie, start, end - start, api);
}
