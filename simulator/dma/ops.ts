// Scenario op handlers of the DMA API. Arguments arrive validated and resolved; references may still hold
// the wrong kind of value (an object where an address is expected), which is an input error at the argument.
import { errnoResult } from '../core/errno';
import type { Kernel } from '../kernel';
import { DMA_MAPPING_ERROR, OpContext, registerOpHandler } from '../runner/ops';
import { onDeviceRemove } from '../iommu/core';
import { dmaTarget } from './cookie';
import { debugLeakCheck } from './debug';
import { flushQueueNow } from './flush-queue';
import {
  DmaAddr, dmaMapPage, dmaMapSingle, dmaMapSg, dmaMappingError, dmaSyncSingle, dmaUnmapPage, dmaUnmapSg,
} from './api';
import {
  SgtResult, dmaAllocCoherent, dmaAllocNoncontiguous, dmaFreeCoherent, dmaFreeNoncontiguous, dmaGetSgtable,
} from './api-alloc';
import type { DmaSeg } from './iommu-sg';
import { DmaDir, PhysRange, devDma, dirFromArg, dmaState } from './state';

function dir(ctx: OpContext, v: unknown): DmaDir {
  const d = dirFromArg(v);
  if (d === undefined) ctx.fail('dir', `dir must be bidirectional, to_device, from_device or none, got ${JSON.stringify(v)}`);
  return d!;
}

const describe = (v: unknown) => v === null ? 'null (the step that made it failed)' : typeof v === 'object' ? 'an object' : JSON.stringify(v);

function addr(ctx: OpContext, key: string, v: unknown): number {
  if (typeof v !== 'number') ctx.fail(key, `${key} must be an address, got ${describe(v)}`);
  return v as number;
}

/** A buffer larger than all of RAM cannot exist; refusing it also bounds the page-table work of one step. */
function bufferSize(ctx: OpContext, key: string, v: unknown): number {
  const n = addr(ctx, key, v);
  if (n > ctx.k.mem.size) ctx.fail(key, `${key} 0x${n.toString(16)} is larger than the platform's memory (0x${ctx.k.mem.size.toString(16)} bytes)`);
  return n;
}

function dmaArg(ctx: OpContext, v: unknown): DmaAddr {
  return v === DMA_MAPPING_ERROR ? DMA_MAPPING_ERROR : addr(ctx, 'dma', v);
}

function segList(ctx: OpContext, key: string, v: unknown): PhysRange[] {
  const list = Array.isArray(v) ? v : v && typeof v === 'object' && Array.isArray((v as { sg?: unknown }).sg) ? (v as { sg: unknown[] }).sg : null;
  if (!list) ctx.fail(key, `${key} must be a list of {paddr, len} or an earlier sg result, got ${describe(v)}`);
  return list!.map((e, i) => {
    const s = e as { paddr?: unknown; len?: unknown };
    if (typeof s?.paddr !== 'number' || typeof s?.len !== 'number') ctx.fail(key, `${key}[${i}] must be {paddr, len} with numbers`);
    return { paddr: s.paddr as number, len: s.len as number };
  });
}

function dmaSegs(v: unknown): DmaSeg[] {
  const e = v && typeof v === 'object' && !Array.isArray(v) ? (v as { entries?: unknown }).entries : undefined;
  return Array.isArray(e) ? e.filter(x => typeof x?.dma === 'number' && typeof x?.len === 'number') as DmaSeg[] : [];
}

function exposedAfter<T>(ctx: OpContext, result: T): T {
  ctx.exposed = dmaState(ctx.k).lastExposed;
  return result;
}

for (const op of ['dma_map_single', 'dma_map_page'] as const) {
  registerOpHandler(op, (ctx, a) => {
    const dev = ctx.dev('dev', a.dev);
    const phys = addr(ctx, 'paddr', a.paddr) + (op === 'dma_map_page' && a.offset !== undefined ? addr(ctx, 'offset', a.offset) : 0);
    const size = bufferSize(ctx, 'size', a.size), d = dir(ctx, a.dir);
    return exposedAfter(ctx, op === 'dma_map_single' ? dmaMapSingle(ctx.k, dev, phys, size, d) : dmaMapPage(ctx.k, dev, phys, size, d, op));
  });
}
for (const op of ['dma_unmap_single', 'dma_unmap_page'] as const) {
  registerOpHandler(op, (ctx, a) => {
    dmaUnmapPage(ctx.k, ctx.dev('dev', a.dev), dmaArg(ctx, a.dma), addr(ctx, 'size', a.size), dir(ctx, a.dir), op);
    return null;
  });
}

registerOpHandler('dma_map_sg', (ctx, a) => {
  const sg = segList(ctx, 'sg', a.sg);
  bufferSize(ctx, 'sg', sg.reduce((n, s) => n + s.len, 0));
  return exposedAfter(ctx, dmaMapSg(ctx.k, ctx.dev('dev', a.dev), sg, dir(ctx, a.dir)));
});

registerOpHandler('dma_unmap_sg', (ctx, a) => {
  const dev = ctx.dev('dev', a.dev);
  const sg = segList(ctx, 'sg', a.sg);
  const orig = a.sg && typeof a.sg === 'object' && !Array.isArray(a.sg) && typeof a.sg.orig_nents === 'number' ? a.sg.orig_nents : sg.length;
  dmaUnmapSg(ctx.k, dev, sg, dmaSegs(a.sg), typeof a.nents === 'number' ? a.nents : orig, dir(ctx, a.dir));
  return null;
});

registerOpHandler('dma_alloc_coherent', (ctx, a) =>
  exposedAfter(ctx, dmaAllocCoherent(ctx.k, ctx.dev('dev', a.dev), addr(ctx, 'size', a.size))));

registerOpHandler('dma_free_coherent', (ctx, a) => {
  const cpu = a.cpu === undefined ? undefined : addr(ctx, 'cpu', a.cpu);
  dmaFreeCoherent(ctx.k, ctx.dev('dev', a.dev), addr(ctx, 'size', a.size), cpu, addr(ctx, 'dma', a.dma));
  return null;
});

registerOpHandler('dma_alloc_noncontiguous', (ctx, a) =>
  exposedAfter(ctx, dmaAllocNoncontiguous(ctx.k, ctx.dev('dev', a.dev), addr(ctx, 'size', a.size), dir(ctx, a.dir))));

function sgtArg(ctx: OpContext, v: unknown): SgtResult {
  let t = v;
  if (typeof v === 'string') for (const b of ctx.bindings.values()) if (b && typeof b === 'object' && (b as { id?: unknown }).id === v) t = b;
  const ok = t && typeof t === 'object' && Array.isArray((t as SgtResult).entries) && (t as SgtResult).entries.length > 0 && Array.isArray((t as SgtResult).sg);
  if (!ok) ctx.fail('sgt', `sgt must be the result of dma_alloc_noncontiguous, got ${describe(v)}`);
  return t as SgtResult;
}

registerOpHandler('dma_free_noncontiguous', (ctx, a) => {
  dmaFreeNoncontiguous(ctx.k, ctx.dev('dev', a.dev), addr(ctx, 'size', a.size), sgtArg(ctx, a.sgt), dir(ctx, a.dir));
  return null;
});

registerOpHandler('dma_get_sgtable', (ctx, a) => {
  const cpu = a.cpu === undefined ? undefined : addr(ctx, 'cpu', a.cpu);
  return dmaGetSgtable(ctx.k, ctx.dev('dev', a.dev), cpu, addr(ctx, 'dma', a.dma), addr(ctx, 'size', a.size));
});

for (const op of ['dma_sync_single_for_device', 'dma_sync_single_for_cpu'] as const) {
  registerOpHandler(op, (ctx, a) => {
    dmaSyncSingle(ctx.k, ctx.dev('dev', a.dev), dmaArg(ctx, a.dma), addr(ctx, 'size', a.size), dir(ctx, a.dir), op.endsWith('cpu'));
    return null;
  });
}

registerOpHandler('dma_mapping_error', (ctx, a) => {
  ctx.dev('dev', a.dev);
  const r = dmaMappingError(dmaArg(ctx, a.dma));
  return r ? errnoResult('ENOMEM') : 0;
});

registerOpHandler('flush_queue', (ctx, a) => {
  const t = dmaTarget(ctx.k, ctx.dev('dev', a.dev), 'flush_queue');
  return t ? flushQueueNow(ctx.k, t.cookie) : 0;
});

function lastPageAddr(k: Kernel): number {
  return k.mem.base + k.mem.size - k.cfg.page_size;
}

for (const op of ['dma_set_mask_and_coherent', 'dma_set_mask', 'dma_set_coherent_mask'] as const) {
  registerOpHandler(op, (ctx, a) => {
    const dev = ctx.dev('dev', a.dev);
    const bits = a.bits as number;
    // dma_supported: dma-iommu takes any mask; dma-direct needs 32 bits or a mask covering all of RAM
    if (!dmaTarget(ctx.k, dev, op) && bits < 32 && 2 ** bits - 1 < lastPageAddr(ctx.k)) return errnoResult('EIO');
    const dd = devDma(dev);
    if (op !== 'dma_set_coherent_mask') dd.maskBits = bits;
    if (op !== 'dma_set_mask') dd.coherentMaskBits = bits;
    return 0;
  });
}

registerOpHandler('dma_set_max_seg_size', (ctx, a) => {
  const size = addr(ctx, 'size', a.size);
  if (size < 1 || size > 0xffffffff) ctx.fail('size', `max segment size ${size} must be in 1..0xffffffff (an unsigned int)`);
  devDma(ctx.dev('dev', a.dev)).maxSegSize = size;
  return 0;
});

registerOpHandler('dma_set_seg_boundary', (ctx, a) => {
  const mask = addr(ctx, 'mask', a.mask);
  const size = mask + 1;
  if (2 ** Math.round(Math.log2(size)) !== size) ctx.fail('mask', `segment boundary mask 0x${mask.toString(16)} must be 2^n - 1 (e.g. 0xffffffff)`);
  devDma(ctx.dev('dev', a.dev)).segBoundary = size;
  return 0;
});

// remove: the driver unbinds first, and dma-debug reports what it left mapped (the mappings stay).
onDeviceRemove((k, dev) => {
  if (dev.ext.dma) debugLeakCheck(k, dev, devDma(dev));
});
