// Apple display sharing (seed 001's thread): the display coprocessor DCP and its PIODMA engine sit behind two
// different DARTs (dart-dcp and the locked dart-disp0 on apple-t8103), and a buffer DCP allocated must also be
// reachable by PIODMA. The three ways the thread weighs, chosen with dcp.init { method }:
// - get_sgtable: the posted driver: dma_alloc_coherent for DCP, dma_get_sgtable, dma_map_sgtable for PIODMA.
//   Two IOVA allocators, so two different addresses; works only while the allocation has the right shape for
//   both DARTs, and the large-page series refuses get_sgtable outright.
// - shared_default_domain (exynos style): attach PIODMA to DCP's default domain and use DCP's DMA addresses for
//   both. A domain cannot span two DART instances: the attach fails, and PIODMA faults on DCP's addresses.
// - unmanaged_domains (rockchip/tegra style): one UNMANAGED domain per DART, pages allocated by the driver in
//   granule-aligned blocks, mapped with iommu_map_sg at the same driver-chosen IOVA in both.
import { errnoResult } from '../../core/errno';
import { alignUp, hex } from '../../core/format';
import type { Kernel } from '../../kernel';
import { allocDomain, attachDevice, currentDomain, probeDevice } from '../../iommu/core';
import type { Device } from '../../iommu/device';
import { Domain, IOMMU_DOMAIN_UNMANAGED } from '../../iommu/domain';
import { iommuMapSg } from '../../iommu/map';
import { PROT_READ, PROT_WRITE } from '../../iommu/pte-format';
import { dmaMapSg } from '../../dma/api';
import { dmaAllocCoherent, dmaGetSgtable } from '../../dma/api-alloc';
import { DMA_BIDIRECTIONAL, type PhysRange } from '../../dma/state';
import type { CpuBuffer } from '../../platform/memory';
import { OpContext, registerOpHandler } from '../../runner/ops';
import { ArgField, registerOpSchema } from '../../scenario/opspec';
import { DrmMm } from '../common/drm-mm';
import { addMapping, allocSegments, findingOnce, registerSection, withSite } from '../common/registry';

export const DCP_METHODS = ['get_sgtable', 'shared_default_domain', 'unmanaged_domains'] as const;
type Method = typeof DCP_METHODS[number];

interface DcpBuffer { id: number; size: number; dva: number; paddr: number; sg: PhysRange[] | null; piodma: number | null; bufs: CpuBuffer[] }

class DcpDriver {
  readonly buffers = new Map<number, DcpBuffer>();
  nextId = 1;
  domains: { dcp: Domain; piodma: Domain } | null = null;
  mm: DrmMm | null = null;
  sharedRefused = false;
  constructor(readonly method: Method, readonly dcp: Device, readonly piodma: Device) {}
  view(): Record<string, unknown> {
    return {
      driver: 'apple-dcp', method: this.method, dcp: this.dcp.name, piodma: this.piodma.name,
      domains: { dcp: currentDomain(this.dcp)?.id ?? null, piodma: currentDomain(this.piodma)?.id ?? null },
      buffers: [...this.buffers.values()].map(b => ({ id: b.id, size: b.size, paddr: hex(b.paddr), dcp_dva: hex(b.dva), piodma_dva: b.piodma === null ? null : hex(b.piodma) })),
    };
  }
}

const obj = (o: Record<string, ArgField>) => ({ object: o });
registerOpSchema({ name: 'dcp.init', doc: 'bind the display driver: probe DCP and PIODMA and set up the chosen way of sharing buffers', args: obj({
  method: { type: { enum: DCP_METHODS }, required: true, doc: 'get_sgtable (as posted), shared_default_domain (exynos style) or unmanaged_domains (rockchip/tegra style)' },
  dcp: { type: 'name', doc: 'the coprocessor device (default dcp)' },
  piodma: { type: 'name', doc: 'the PIODMA device (default piodma)' },
}) });
registerOpSchema({ name: 'dcp.allocate_buffer', doc: 'dcpep_cb_allocate_buffer: a buffer for DCP; { buffer, dma (DCP\'s address), size, paddr }', args: obj({
  size: { type: 'u64', required: true, doc: 'bytes DCP asked for' },
}) });
registerOpSchema({ name: 'dcp.map_piodma', doc: 'dcpep_cb_map_piodma: make a DCP buffer reachable by PIODMA; { ret, dma (PIODMA\'s address), dcp (DCP\'s address of the buffer) }', args: obj({
  buffer: { type: 'int', required: true, min: 1, doc: 'the buffer ($buf or $buf.buffer)' },
}) });

function driverOf(ctx: OpContext): DcpDriver {
  const d = ctx.k.ext.get('dcp-driver') as DcpDriver | undefined;
  if (!d) ctx.fail('', 'the DCP driver is not bound: run dcp.init first');
  return d!;
}

function attachOwn(k: Kernel, dev: Device): Domain | string {
  const d = allocDomain(k, dev.iommu!, IOMMU_DOMAIN_UNMANAGED);
  if ('errno' in d) {
    if (d.message) k.printk('err', d.message, dev.name);
    return `-${d.errno}`;
  }
  const r = attachDevice(k, d, dev);
  return typeof r === 'string' ? r : d;
}

registerOpHandler('dcp.init', (ctx, a) => {
  const k = ctx.k;
  if (k.ext.has('dcp-driver')) ctx.fail('', 'the DCP driver is already bound');
  const dcp = ctx.dev('dcp', a.dcp ?? 'dcp');
  const piodma = ctx.dev('piodma', a.piodma ?? 'piodma');
  for (const d of [dcp, piodma]) {
    if (d.probed) continue;
    const r = probeDevice(k, d);
    if (typeof r === 'string') return r;
  }
  const drv = new DcpDriver(a.method as Method, dcp, piodma);
  k.ext.set('dcp-driver', drv);
  registerSection(k, 'dcp', drv);
  if (drv.method === 'shared_default_domain') {
    return withSite(k, 'dcp.c:dcp_share_dma_domain', () => {
      const d = currentDomain(dcp);
      if (!d) return errnoResult('ENODEV');
      const r = attachDevice(k, d, piodma);
      if (r === 0) return { method: drv.method, domain: d.id };
      drv.sharedRefused = true;
      k.finding('shared-domain-refused', 'error', `exynos-style sharing attaches ${piodma.name} to ${dcp.name}'s default domain ${d.id}, but ${d.id} belongs to ` +
        `${d.iommu.name} and ${piodma.name} sits behind ${piodma.iommu?.name}: iommu_attach_device returns ${r} (a DART domain cannot span two ` +
        `DART instances). A driver that carries on hands PIODMA ${dcp.name}'s DMA addresses, which ${piodma.iommu?.name} does not translate`,
        { domain: d.id, dev: piodma.name });
      return r;
    });
  }
  if (drv.method === 'unmanaged_domains') {
    return withSite(k, 'dcp.c:dcp_iommu_init', () => {
      const a1 = attachOwn(k, dcp);
      if (typeof a1 === 'string') return a1;
      const a2 = attachOwn(k, piodma);
      if (typeof a2 === 'string') return a2;
      drv.domains = { dcp: a1, piodma: a2 };
      const g = Math.max(a1.granule, a2.granule);
      const end = Math.min(a1.aperture.end, a2.aperture.end) + 1;
      drv.mm = new DrmMm(g, end - 2 * g);
      return { method: drv.method, domain: a1.id, piodma_domain: a2.id };
    });
  }
  return { method: drv.method, domain: currentDomain(dcp)?.id ?? null, piodma_domain: currentDomain(piodma)?.id ?? null };
});

registerOpHandler('dcp.allocate_buffer', (ctx, a) => {
  const k = ctx.k;
  const drv = driverOf(ctx);
  return withSite(k, 'dcp.c:dcpep_cb_allocate_buffer', () => {
    const id = drv.nextId;
    if (drv.method === 'unmanaged_domains') {
      if (!drv.domains || !drv.mm) return errnoResult('ENODEV');
      const g = Math.max(drv.domains.dcp.granule, drv.domains.piodma.granule);
      const size = alignUp(a.size, g);
      const segs = allocSegments(k, [size], () => `dcp buffer ${id}`);
      if (!segs) return errnoResult('ENOMEM');
      const node = drv.mm.insert(size, g);
      if (!node) return errnoResult('ENOSPC');
      const r = iommuMapSg(k, drv.domains.dcp, node.start, [{ paddr: segs[0].paddr, len: size }], PROT_READ | PROT_WRITE);
      if (typeof r === 'string') { drv.mm.remove(node); return r; }
      addMapping(k, { domain: drv.domains.dcp, iova: node.start, size, owner: `dcp buffer ${id} (dcp.c:dcpep_cb_allocate_buffer)`, requested: a.size,
        dev: drv.dcp.name, buffers: [segs[0].buf], dma: node.start });
      drv.buffers.set(id, { id, size, dva: node.start, paddr: segs[0].paddr, sg: [{ paddr: segs[0].paddr, len: size }], piodma: null, bufs: [segs[0].buf] });
      drv.nextId++;
      return { buffer: id, dma: node.start, size, paddr: segs[0].paddr };
    }
    const size = alignUp(a.size, 4096);                           // resp->dva_size = ALIGN(req->size, 4096)
    const buf = dmaAllocCoherent(k, drv.dcp, size);
    if (!buf) return errnoResult('ENOMEM');
    const sgt = dmaGetSgtable(k, drv.dcp, buf.cpu, buf.dma, size);  // its return value is not checked
    drv.buffers.set(id, { id, size, dva: buf.dma, paddr: buf.paddr, sg: typeof sgt === 'string' ? null : sgt.sg, piodma: null, bufs: [] });
    drv.nextId++;
    return { buffer: id, dma: buf.dma, size, paddr: buf.paddr, ...(typeof sgt === 'string' ? { get_sgtable: sgt } : {}) };
  });
});

registerOpHandler('dcp.map_piodma', (ctx, a) => {
  const k = ctx.k;
  const drv = driverOf(ctx);
  const v = a.buffer as unknown;
  const id = typeof v === 'object' && v !== null && 'buffer' in v ? (v as { buffer: unknown }).buffer : v;
  return withSite(k, 'dcp.c:dcpep_cb_map_piodma', () => {
    const buf = typeof id === 'number' ? drv.buffers.get(id) : undefined;
    if (!buf || (drv.method === 'get_sgtable' && !buf.sg)) {
      k.printk('warn', `denying map of invalid buffer ${typeof id === 'number' ? id.toString(16) : String(id)} for pidoma`, drv.dcp.name);
      if (buf) {
        k.finding('dma-get-sgtable-sharing', 'error', `buffer ${buf.id}: dma_get_sgtable failed when it was allocated (its return value was ignored), so ` +
          'there is no page list to map for PIODMA (the large-page series refuses get_sgtable when the IOMMU page is larger than PAGE_SIZE)', { id: buf.id });
      }
      return errnoResult('EINVAL');        // the coprocessor gets resp->ret = EINVAL (positive, as posted)
    }
    if (drv.method === 'shared_default_domain') {
      buf.piodma = buf.dva;
      return { ret: 0, dma: buf.dva, dcp: hex(buf.dva) };
    }
    if (drv.method === 'unmanaged_domains') {
      const d = drv.domains!.piodma;
      const r = iommuMapSg(k, d, buf.dva, buf.sg!, PROT_READ | PROT_WRITE);
      if (typeof r === 'string') return r;
      addMapping(k, { domain: d, iova: buf.dva, size: buf.size, owner: `dcp buffer ${buf.id} for PIODMA (dcp.c:dcpep_cb_map_piodma)`, requested: buf.size,
        dev: drv.piodma.name, buffers: buf.bufs, dma: buf.dva });
      buf.piodma = buf.dva;
      return { ret: 0, dma: buf.dva, dcp: hex(buf.dva) };
    }
    const sg = dmaMapSg(k, drv.piodma, buf.sg!, DMA_BIDIRECTIONAL);     // dma_map_sgtable(dcp->piodma, map, ...)
    if (sg.nents === 0) {
      k.printk('warn', 'failed to map for piodma -22', drv.dcp.name);
      k.finding('error-return-zero', 'error', `dcpep_cb_map_piodma: dma_map_sgtable for ${drv.piodma.name} failed but resp->ret is set to 0: ` +
        'the coprocessor is told the mapping worked and gets a stale address', { id: buf.id });
      return { ret: 0, dma: null, dcp: hex(buf.dva) };
    }
    const contiguous = sg.entries.every((e, i) => i === 0 || sg.entries[i - 1].dma + sg.entries[i - 1].len === e.dma);
    if (!contiguous) {
      k.finding('dma-get-sgtable-sharing', 'error', `buffer ${buf.id}: dma_map_sgtable gave ${drv.piodma.name} ${sg.nents} segments that are not ` +
        `contiguous in its address space, but only sg_dma_address of the first (${hex(sg.entries[0].dma)}) is handed to the coprocessor`, { id: buf.id });
    }
    findingOnce(k, 'dcp', 'dma-get-sgtable-sharing', 'warning', `PIODMA reaches DCP's buffers by a dma_get_sgtable + dma_map_sgtable round trip: ` +
      `buffer ${buf.id} is at ${hex(buf.dva)} for ${drv.dcp.name} and ${hex(sg.entries[0].dma)} for ${drv.piodma.name} (two IOVA allocators: equal only by ` +
      'coincidence). It works only while both ' +
      'DARTs accept the allocation\'s shape; the thread\'s alternatives are one shared domain (exynos) or driver-owned domains (rockchip/tegra)', { id: buf.id });
    buf.piodma = sg.entries[0].dma;
    return { ret: 0, dma: sg.entries[0].dma, dcp: hex(buf.dva) };
  });
});
