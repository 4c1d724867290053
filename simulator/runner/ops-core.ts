// Handlers of the core ops: device probe/remove, domains, iommu_map & co, CPU memory, device accesses.
import { errnoResult } from '../core/errno';
import { hex, sizeLabel } from '../core/format';
import { attachDevice, allocDomain, currentDomain, detachDevice, domainHandle, domainTypeFromArg, probeDevice, removeDevice } from '../iommu/core';
import { deviceAccess } from '../iommu/access';
import { iommuMap, iommuMapSg, iommuUnmap, iovaToPhys } from '../iommu/map';
import { protFromNames } from '../iommu/pte-format';
import type { CpuBuffer } from '../platform/memory';
import { DMA_MAPPING_ERROR, OpContext, registerOpHandler } from './ops';

export function bufferResult(b: CpuBuffer) {
  return { id: b.id, paddr: b.paddr, size: b.size };
}

const prot = (names: unknown) => protFromNames(Array.isArray(names) ? names as string[] : ['read', 'write']);

registerOpHandler('probe', (ctx, a) => probeDevice(ctx.k, ctx.dev('', a[''])));
registerOpHandler('remove', (ctx, a) => removeDevice(ctx.k, ctx.dev('', a[''])));

registerOpHandler('iommu_domain_alloc', (ctx, a) => {
  const inst = a.iommu !== undefined ? ctx.k.iommus.get(a.iommu) : a.dev !== undefined ? ctx.dev('dev', a.dev).iommu : undefined;
  if (a.iommu !== undefined && !inst) ctx.fail('iommu', `unknown IOMMU '${a.iommu}'; IOMMUs: ${[...ctx.k.iommus.keys()].join(', ')}`);
  if (a.iommu === undefined && a.dev === undefined) ctx.fail('', `iommu_domain_alloc needs 'dev' or 'iommu'`);
  if (!inst) return errnoResult('ENODEV');          // device without an IOMMU
  if (inst.refusal) return errnoResult('ENODEV');
  const d = allocDomain(ctx.k, inst, domainTypeFromArg(a.type));
  if ('errno' in d) {
    ctx.k.printk('err', d.message);
    return errnoResult(d.errno);
  }
  return domainHandle(d);
});

registerOpHandler('iommu_attach_device', (ctx, a) => attachDevice(ctx.k, ctx.domain('domain', a.domain), ctx.dev('dev', a.dev)));
registerOpHandler('iommu_detach_device', (ctx, a) => detachDevice(ctx.k, ctx.domain('domain', a.domain), ctx.dev('dev', a.dev)));
registerOpHandler('iommu_get_domain_for_dev', (ctx, a) => {
  const d = currentDomain(ctx.dev('dev', a.dev));
  return d ? domainHandle(d) : null;
});

registerOpHandler('iommu_map', (ctx, a) => iommuMap(ctx.k, ctx.domain('domain', a.domain), a.iova, a.paddr, a.size, prot(a.prot)));
registerOpHandler('iommu_map_sg', (ctx, a) => {
  // An earlier sg result (dma_map_sg, dma_alloc_noncontiguous) carries its physical segments in `.sg`.
  const sg = Array.isArray(a.sg) ? a.sg : (a.sg as { sg?: unknown })?.sg;
  const physical = (e: unknown) => typeof (e as { paddr?: unknown })?.paddr === 'number' && typeof (e as { len?: unknown })?.len === 'number';
  if (!Array.isArray(sg) || !sg.every(physical)) ctx.fail('sg', `sg must be a list of {paddr, len} or an earlier sg result`);
  return iommuMapSg(ctx.k, ctx.domain('domain', a.domain), a.iova, (sg as Array<{ paddr: number; len: number }>), prot(a.prot));
});
registerOpHandler('iommu_unmap', (ctx, a) => iommuUnmap(ctx.k, ctx.domain('domain', a.domain), a.iova, a.size));
registerOpHandler('iommu_iova_to_phys', (ctx, a) => iovaToPhys(ctx.domain('domain', a.domain), a.iova));

function owner(ctx: OpContext): string {
  return `step ${ctx.step.index} ${ctx.step.op}${ctx.step.as ? ` ($${ctx.step.as})` : ''}`;
}

registerOpHandler('kmalloc', (ctx, a) => {
  const b = ctx.k.mem.kmalloc(a.size, owner(ctx));
  if (!b) {
    ctx.k.printk('warn', `kmalloc: page allocation failure: size:${a.size}`);
    return null;
  }
  return bufferResult(b);
});
registerOpHandler('alloc_pages', (ctx, a) => {
  const b = ctx.k.mem.allocPages(a.order, 'pages', owner(ctx));
  if (!b) {
    ctx.k.printk('warn', `page allocation failure: order:${a.order}, mode:0xcc0(GFP_KERNEL)`);
    return null;
  }
  return bufferResult(b);
});
registerOpHandler('kfree', (ctx, a) => {
  if (!ctx.k.mem.kfree(a.paddr)) ctx.k.printk('warn', `WARNING: kfree of ${hex(a.paddr)}, which is not a live kmalloc buffer`);
  return null;
});
registerOpHandler('free_pages', (ctx, a) => {
  const b = ctx.k.mem.bufferAt(a.paddr);
  if (!b || b.order !== a.order) {
    ctx.k.printk('warn', `WARNING: free_pages(${hex(a.paddr)}, ${a.order}) does not match a live allocation`);
    return null;
  }
  ctx.k.mem.freePages(a.paddr, a.order);
  return null;
});

for (const op of ['dma_read', 'dma_write'] as const) {
  registerOpHandler(op, (ctx, a) => {
    const dev = ctx.dev('dev', a.dev);
    if (a.addr === DMA_MAPPING_ERROR) {
      ctx.k.finding('mapping-error-unchecked', 'error',
        `${dev.name} was given DMA_MAPPING_ERROR as an address: the driver did not check dma_mapping_error() after mapping`, { dev: dev.name });
      return { fault: 'translation', iova: '0xffffffffffffffff' };
    }
    const r = deviceAccess(ctx.k, dev, a.addr, a.size ?? 4, op === 'dma_read' ? 'read' : 'write', a.pasid);
    if (!r.ok) return { fault: r.fault, iova: hex(r.iova) };
    return r.paddr;
  });
}

registerOpHandler('firmware_scanout', (ctx, a) => {
  const dev = ctx.dev('dev', a.dev);
  ctx.k.scanouts.push({ dev, paddr: a.paddr, size: a.size, faulted: false, step: ctx.step.index });
  ctx.k.printk('info', `firmware left ${dev.name} scanning out ${sizeLabel(a.size)} at ${hex(a.paddr)}`);
  return 0;
});
registerOpHandler('scanout_stop', (ctx, a) => {
  const dev = ctx.dev('dev', a.dev);
  const before = ctx.k.scanouts.length;
  for (let i = ctx.k.scanouts.length - 1; i >= 0; i--) if (ctx.k.scanouts[i].dev === dev) ctx.k.scanouts.splice(i, 1);
  return before === ctx.k.scanouts.length ? errnoResult('ENOENT') : 0;
});
