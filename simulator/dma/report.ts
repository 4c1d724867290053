// What the DMA layer adds to the report: who owns each mapped IOVA range and what it exposes (the map and
// the text view show these), the IOVA allocators, the DMA addresses of each CPU buffer, and a `dma` section
// with flush queues, the swiotlb pool and per-device live mapping counts.
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Domain } from '../iommu/domain';
import { MappingOwner, registerMappingAnnotator, registerReportExtender } from '../report/build';
import type { Report } from '../report/types';
import type { IovaDomain } from './iova';
import { fqCookies } from './flush-queue';
import { cookieOf } from './cookie';
import { debugEntries } from './debug';
import { MapRecord, dmaDevices, dmaState } from './state';

function ownerLabel(k: Kernel, r: MapRecord): string {
  const b = k.mem.bufferContaining(r.paddr);
  return `${r.api} step ${r.step} (${r.dev.name}${b ? `, ${b.id}` : ''})`;
}

function liveRecords(k: Kernel): MapRecord[] {
  const seen = new Set<MapRecord>();
  for (const [, dd] of dmaDevices(k)) for (const e of debugEntries(dd)) seen.add(e.rec);
  return [...seen];
}

registerMappingAnnotator((k: Kernel, d: Domain): MappingOwner[] => {
  const out: MappingOwner[] = [];
  for (const r of liveRecords(k)) {
    if (r.domain !== d || r.iovaSize === 0) continue;
    out.push({ iova: r.iova, size: r.iovaSize, owner: ownerLabel(k, r), requested: r.requested, exposed: r.exposed });
  }
  return out;
});

function iovadView(id: string, d: IovaDomain) {
  const cached = d.rcacheState()?.reduce((n, c) => n + c.cpus.reduce((m, x) => m + x.loaded.length + x.prev.length, 0)
    + c.depot.reduce((m, x) => m + x.length, 0), 0);
  return {
    id, granule: d.granule, start_pfn: d.startPfn,
    ranges: d.ranges().map(r => ({ pfn_lo: r.pfnLo, pfn_hi: r.pfnHi, ...(r.fast ? { fast: true } : {}), ...(r.cached ? { cached: true } : {}) })),
    ...(cached !== undefined ? { cached } : {}),
  };
}

registerReportExtender((k: Kernel, report: Report) => {
  const st = k.ext.has('dma') ? dmaState(k) : null;
  const iovads = [...(st?.iovads ?? new Map<string, IovaDomain>())].map(([id, d]) => iovadView(id, d));
  for (const d of k.domains.values()) {
    const c = cookieOf(d);
    if (c) iovads.push(iovadView(`${d.id}.iovad`, c.iovad));
  }
  if (iovads.length) report.iovads = iovads;
  if (report.buffers) {
    const byId = new Map(report.buffers.map(b => [b.id, b]));
    for (const [dev, dd] of dmaDevices(k)) {
      for (const e of debugEntries(dd)) {
        const b = k.mem.bufferContaining(e.paddr);
        const rb = b && byId.get(b.id);
        if (rb) (rb.dma ??= []).push({ dev: dev.name, dma: hex(e.dma), size: e.size });
      }
    }
  }
  const queues = [...(fqCookies.get(k) ?? [])].map(c => ({
    domain: c.domain.id, queued: c.fq!.entries.length, size: c.fq!.size, flushes: c.fq!.flushes,
    timer_step: c.fq!.timerStep >= 0 ? c.fq!.timerStep : null,
    entries: c.fq!.entries.map(e => ({ iova: hex(e.iova), size: e.size, step: e.step, api: e.api })),
  }));
  const devices = [...dmaDevices(k)].filter(([, dd]) => dd.live > 0).map(([dev, dd]) => ({
    dev: dev.name, live: dd.live, mask_bits: dd.maskBits,
    mappings: debugEntries(dd).slice(0, 256).map(e => ({ dma: hex(e.dma), size: e.size, api: e.rec.api, step: e.rec.step, exposed: e.rec.exposed })),
  }));
  if (queues.length || devices.length) Object.assign(report, { dma: { flush_queues: queues, devices } });
});
