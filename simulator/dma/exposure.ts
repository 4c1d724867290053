// Exposure accounting: the bytes a mapping makes device-visible beyond what the caller asked for. An IOMMU
// maps whole granules, so a 4 KiB buffer on a 16 KiB-page IOMMU (Apple DART with 4 KiB CPU pages) hands the
// device 12 KiB of whatever shares those IOMMU pages. Memory that belongs to the mapping itself (the pages of
// a coherent allocation, the zeroed padding of its own bounce slot) is not counted. The `exposure` finding
// names the live buffers inside the exposed bytes.
import { hex, sizeLabel } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { CpuBuffer } from '../platform/memory';
import { devDma, type PhysRange } from './state';

/** Bytes of [start, end) not covered by the sorted, disjoint `own` ranges, and those uncovered pieces. */
export function uncovered(start: number, end: number, own: readonly PhysRange[], out?: PhysRange[]): number {
  let bytes = 0;
  let at = start;
  for (const o of own) {
    const os = o.paddr, oe = o.paddr + o.len;
    if (oe <= at) continue;
    if (os >= end) break;
    if (os > at) { bytes += os - at; out?.push({ paddr: at, len: os - at }); }
    at = Math.max(at, oe);
    if (at >= end) break;
  }
  if (at < end) { bytes += end - at; out?.push({ paddr: at, len: end - at }); }
  return bytes;
}

/** Sorts ranges and merges overlapping or touching ones. */
export function normalise(ranges: PhysRange[]): PhysRange[] {
  const s = ranges.filter(r => r.len > 0).sort((a, b) => a.paddr - b.paddr);
  const out: PhysRange[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.paddr <= last.paddr + last.len) last.len = Math.max(last.len, r.paddr + r.len - last.paddr);
    else out.push({ paddr: r.paddr, len: r.len });
  }
  return out;
}

/** Exposed bytes of `visible` (device-reachable physical ranges) outside `own`, with the uncovered pieces. */
export function exposedBytes(visible: readonly PhysRange[], own: readonly PhysRange[], pieces?: PhysRange[]): number {
  const o = normalise(own.slice());
  let n = 0;
  for (const v of normalise(visible.slice())) n += uncovered(v.paddr, v.paddr + v.len, o, pieces);
  return n;
}

/** False when the same device, buffer and size already raised the finding in this step (and remembers this one). */
export function exposureIsNew(k: Kernel, dev: Device, paddr: number, size: number): boolean {
  const dd = devDma(dev);
  if (dd.exposureStep === k.step && dd.exposurePaddr === paddr && dd.exposureSize === size) return false;
  dd.exposureStep = k.step;
  dd.exposurePaddr = paddr;
  dd.exposureSize = size;
  return true;
}

export interface ExposureContext {
  api: string;
  dev: Device;
  iova: number;
  iovaSize: number;
  requested: number;
  paddr: number;            // the caller's buffer (first segment)
  granule: number;
  untrusted: boolean;
}

/**
 * Raises the `exposure` finding for `pieces` (the exposed physical ranges) when there are any. A loop that maps
 * the same buffer over and over within one step (a driver model, a benchmark) raises it once.
 */
export function reportExposure(k: Kernel, c: ExposureContext, exposed: number, pieces: readonly PhysRange[]): void {
  if (exposed > 0 && exposureIsNew(k, c.dev, c.paddr, c.requested)) raiseExposure(k, c, exposed, pieces);
}

/** The `exposure` finding itself (callers have checked exposureIsNew). */
export function raiseExposure(k: Kernel, c: ExposureContext, exposed: number, pieces: readonly PhysRange[]): void {
  // the buffer being mapped may itself extend into the exposed bytes: that is named, but is not a neighbour
  const own = c.paddr >= 0 ? k.mem.bufferContaining(c.paddr) : undefined;
  const seen = new Set<CpuBuffer>();
  let ownToo = false;
  for (const p of pieces) {
    for (const b of k.mem.buffersIn(p.paddr, p.paddr + p.len)) {
      if (b === own) ownToo = true; else seen.add(b);
    }
  }
  const neighbours = [...seen].sort((a, b) => a.paddr - b.paddr);
  const where = pieces.map(p => `${hex(p.paddr)}-${hex(p.paddr + p.len - 1)}`).join(', ');
  const rest = ownToo && own ? `the rest of ${own.id}` : '';
  const who = neighbours.length
    ? `; those bytes hold ${rest ? rest + ', ' : ''}${neighbours.slice(0, 4).map(b => `${b.id} [${hex(b.paddr)}-${hex(b.paddr + b.size - 1)}] (${b.owner})`).join(', ')}` +
      (neighbours.length > 4 ? ` and ${neighbours.length - 4} more` : '')
    : rest && pieces.every(p => p.paddr >= own!.paddr && p.paddr + p.len <= own!.paddr + own!.size) ? `; those bytes are ${rest}`
    : rest ? `; those bytes hold ${rest} and free memory, visible to whatever is allocated there while the mapping lives`
      : '; no other live buffer is there now, but anything allocated there while the mapping lives is visible too';
  const severity = neighbours.length || c.untrusted ? 'warning' : 'info';
  k.finding('exposure', severity,
    `${c.api}: ${c.dev.name} can reach ${sizeLabel(exposed)} beyond the ${sizeLabel(c.requested)} asked for ` +
    `(IOVA ${hex(c.iova)}-${hex(c.iova + c.iovaSize - 1)}, ${sizeLabel(c.granule)} IOMMU pages): physical ${where}${who}`,
    { dev: c.dev.name, iova: c.iova, size: c.iovaSize, requested: c.requested, exposed, granule: c.granule,
      ranges: pieces.map(p => ({ paddr: p.paddr, len: p.len })), neighbours: neighbours.map(b => b.id) });
}
