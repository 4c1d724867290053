// drm/msm as seed 002 describes it: the display (mdss) and GPU drivers allocate and attach an IOMMU domain of
// their own and map GEM buffers into it at addresses from their own allocator, but still call the DMA API:
// get_pages() runs dma_map_sg on write-combined buffers for cache maintenance, and DSI command buffers come
// from dma_alloc_coherent. Which domain those DMA API calls reach is the DMA layer's business (4.19: the
// device's current domain, with no IOVA cookie: an oops; 4.20+: the unused default domain).
import { errnoResult } from '../../core/errno';
import { alignUp, hex } from '../../core/format';
import type { Kernel } from '../../kernel';
import { allocDomain, attachDevice, domainHandle } from '../../iommu/core';
import type { Device } from '../../iommu/device';
import { Domain, IOMMU_DOMAIN_UNMANAGED } from '../../iommu/domain';
import { iommuMap, iommuMapSg } from '../../iommu/map';
import { PROT_READ, PROT_WRITE } from '../../iommu/pte-format';
import { dmaMapSg } from '../../dma/api';
import { dmaAllocCoherent } from '../../dma/api-alloc';
import { DMA_BIDIRECTIONAL } from '../../dma/state';
import { OpContext, registerOpHandler } from '../../runner/ops';
import { ArgField, registerOpSchema } from '../../scenario/opspec';
import { DrmMm } from '../common/drm-mm';
import { Segment, addMapping, allocSegments, registerSection, withSite } from '../common/registry';

interface MsmBo { handle: number; size: number; wc: boolean; segs: Segment[]; iova: number | null }

class MsmDriver {
  domain: Domain | null = null;
  /** the KMS/GPU address space: msm_gem_address_space_create(mmu, name, 0x1000, 4G - 0x1000) */
  readonly mm = new DrmMm(0x1000, 2 ** 32 - 0x1000);
  readonly bos = new Map<number, MsmBo>();
  nextHandle = 1;
  constructor(readonly dev: Device) {}
  view(): Record<string, unknown> {
    return {
      driver: 'msm', domain: this.domain?.id ?? null,
      objects: [...this.bos.values()].map(b => ({ handle: b.handle, size: b.size, wc: b.wc, iova: b.iova === null ? null : hex(b.iova) })),
    };
  }
}

function msmOf(ctx: OpContext, name: unknown, create = false): MsmDriver {
  const dev = ctx.dev('dev', name);
  let m = dev.ext.msm as MsmDriver | undefined;
  if (!m && create) {
    m = new MsmDriver(dev);
    dev.ext.msm = m;
    registerSection(ctx.k, dev.name, m);
  }
  if (!m) ctx.fail('dev', `${dev.name} has no msm driver state: create a buffer with msm.gem_new or attach with msm.iommu_attach first`);
  if (!dev.probed) ctx.fail('dev', `${dev.name} is not probed: add 'probe: ${dev.name}' before the driver's ops`);
  return m!;
}

const dev: ArgField = { type: 'name', required: true, doc: 'mdss or gpu' };
const obj = (o: Record<string, ArgField>) => ({ object: o });
registerOpSchema({ name: 'msm.iommu_attach', doc: 'msm_iommu_new + msm_iommu_attach: the driver allocates an UNMANAGED domain and attaches its device', args: obj({
  dev, preserve_scanout: { type: 'bool', doc: 'first map what the firmware is scanning out 1:1 in the new domain, so the switch does not fault' },
}) });
registerOpSchema({ name: 'msm.gem_new', doc: 'msm_gem_new: a buffer of shmem pages; { handle, paddr, size }', args: obj({
  dev, size: { type: 'u64', required: true, doc: 'bytes' }, wc: { type: 'bool', doc: 'MSM_BO_WC (default true): get_pages cleans it with dma_map_sg' },
}) });
registerOpSchema({ name: 'msm.gem_get_iova', doc: 'msm_gem_get_iova: get_pages (dma_map_sg for cache maintenance) then map into the driver\'s own domain; { iova }', args: obj({
  dev, bo: { type: 'int', required: true, min: 1, doc: 'handle ($bo or $bo.handle)' },
}) });
registerOpSchema({ name: 'msm.dsi_tx_buf_alloc', doc: 'dsi_tx_buf_alloc_v2: the DSI command buffer from dma_alloc_coherent; { cpu, dma, paddr }', args: obj({
  dev, size: { type: 'u64', required: true, doc: 'bytes' },
}) });

registerOpHandler('msm.iommu_attach', (ctx, a) => {
  const m = msmOf(ctx, a.dev, true);
  const k = ctx.k;
  const d = withSite(k, 'msm_iommu.c:msm_iommu_new', () => allocDomain(k, m.dev.iommu!, IOMMU_DOMAIN_UNMANAGED));
  if ('errno' in d) {
    if (d.message) k.printk('err', d.message, m.dev.name);
    return errnoResult(d.errno);
  }
  if (a.preserve_scanout === true) preserveScanout(k, m, d);
  const r = withSite(k, 'msm_iommu.c:msm_iommu_attach', () => attachDevice(k, d, m.dev));
  if (r !== 0) return r;
  m.domain = d;
  return domainHandle(d);
});

/** The boot framebuffer mapped at its own physical address (as a handoff of the firmware's mapping would). */
function preserveScanout(k: Kernel, m: MsmDriver, d: Domain): void {
  for (const s of k.scanouts) {
    if (s.dev !== m.dev) continue;
    const g = d.granule;
    const start = s.paddr - (s.paddr % g);
    const size = alignUp(s.paddr + s.size, g) - start;
    m.mm.reserve(start, size);
    if (iommuMap(k, d, start, start, size, PROT_READ) === 0) {
      addMapping(k, { domain: d, iova: start, size, owner: `${m.dev.name} boot framebuffer (kept 1:1)`, requested: s.size, dev: m.dev.name, buffers: [], dma: start });
    }
  }
}

registerOpHandler('msm.gem_new', (ctx, a) => {
  const m = msmOf(ctx, a.dev, true);
  const k = ctx.k;
  return withSite(k, 'msm_gem.c:msm_gem_new', () => {
    if (a.size === 0) return errnoResult('EINVAL');
    const size = alignUp(a.size, k.cfg.page_size);
    // shmem pages: taken here in runs of at most the largest buddy block
    const maxRun = k.cfg.page_size * 2 ** k.mem.buddy.maxOrder;
    const lens: number[] = [];
    for (let left = size; left > 0; left -= maxRun) lens.push(Math.min(left, maxRun));
    const segs = allocSegments(k, lens, i => `${m.dev.name} msm GEM ${m.nextHandle}${lens.length > 1 ? ` pages ${i}` : ''}`);
    if (!segs) return errnoResult('ENOMEM');
    const bo: MsmBo = { handle: m.nextHandle++, size, wc: a.wc !== false, segs, iova: null };
    m.bos.set(bo.handle, bo);
    return { handle: bo.handle, paddr: segs[0].paddr, size };
  });
});

registerOpHandler('msm.gem_get_iova', (ctx, a) => {
  const m = msmOf(ctx, a.dev);
  const k = ctx.k;
  const v = a.bo as unknown;
  const h = typeof v === 'object' && v !== null && 'handle' in v ? (v as { handle: unknown }).handle : v;
  const bo = typeof h === 'number' ? m.bos.get(h) : undefined;
  if (!bo) ctx.fail('bo', `no msm GEM object ${JSON.stringify(h)} on ${m.dev.name}`);
  if (bo!.iova !== null) return { iova: bo!.iova };
  const sg = bo!.segs.map(s => ({ paddr: s.paddr, len: s.len }));
  // get_pages: write-combined buffers must be clean in the CPU caches before the display reads them.
  const dma = bo!.wc ? withSite(k, 'msm_gem.c:get_pages', () => dmaMapSg(k, m.dev, sg, DMA_BIDIRECTIONAL)) : null;
  return withSite(k, 'msm_gem.c:msm_gem_get_iova', () => {
    if (!m.domain) return errnoResult('ENODEV');
    const node = m.mm.insert(bo!.size, m.domain.granule);
    if (!node) return errnoResult('ENOSPC');
    const r = iommuMapSg(k, m.domain, node.start, sg, PROT_READ | PROT_WRITE);
    if (typeof r !== 'number') { m.mm.remove(node); return r; }
    bo!.iova = node.start;
    addMapping(k, { domain: m.domain, iova: node.start, size: node.size, owner: `${m.dev.name} msm GEM ${bo!.handle} (msm_gem.c:msm_gem_get_iova)`,
      requested: bo!.size, dev: m.dev.name, buffers: bo!.segs.map(s => s.buf), dma: node.start });
    return { iova: node.start, ...(dma && dma.nents ? { dma: dma.entries[0].dma } : {}) };
  });
});

registerOpHandler('msm.dsi_tx_buf_alloc', (ctx, a) => {
  const d = ctx.dev('dev', a.dev);
  return withSite(ctx.k, 'dsi_host.c:dsi_tx_buf_alloc_v2', () => dmaAllocCoherent(ctx.k, d, a.size));
});
