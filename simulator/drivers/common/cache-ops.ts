// Ops and hooks of the CPU-cache model (cache.ts): cpu_write / cpu_read / clflush_cache_range, the cache
// maintenance the streaming DMA API does for non-coherent devices (added around the DMA layer's own op
// handlers, which must be registered first: simulator-all.ts imports the DMA layer before the drivers), the
// uncached remap of coherent allocations, and every device access checked against dirty lines.
import type { Kernel } from '../../kernel';
import { onDeviceAccess } from '../../iommu/access';
import type { Device } from '../../iommu/device';
import { OpContext, OpHandler, getOpHandler, registerOpHandler } from '../../runner/ops';
import { registerOpSchema } from '../../scenario/opspec';
import { cacheState, cleanRange, cpuRead, cpuWrite, deviceTouches, invalidateRange, maintenance, physRanges } from './cache';

const span = { paddr: { type: 'u64' as const, required: true, doc: 'physical address' }, size: { type: 'u64' as const, required: true, doc: 'bytes' } };
registerOpSchema({ name: 'cpu_write', doc: 'the CPU writes memory through its caches (lines stay dirty until cleaned)', args: { object: span } });
registerOpSchema({ name: 'cpu_read', doc: 'the CPU reads memory through its caches', args: { object: span } });
registerOpSchema({ name: 'clflush_cache_range', doc: 'x86 clflush_cache_range: write back and invalidate the lines of a range', args: { object: span } });

registerOpHandler('cpu_write', (ctx, a) => { cpuWrite(ctx.k, a.paddr, a.size); return 0; });
registerOpHandler('cpu_read', (ctx, a) => { cpuRead(ctx.k, a.paddr, a.size); return 0; });
registerOpHandler('clflush_cache_range', (ctx, a) => {
  cleanRange(ctx.k, a.paddr, a.size);
  invalidateRange(ctx.k, a.paddr, a.size);
  return 0;
});

/** Devices whose accesses a driver model checks itself after its own translation stages (the IPU3). */
export function checkAccessesMyself(dev: Device): void {
  dev.ext.cacheChained = true;
}

onDeviceAccess((k, dev, addr, size, access, r, recorded) => {
  if (!recorded || !r.ok || dev.spec.coherent || dev.ext.cacheChained || r.via === 'pasid') return;
  if (access === 'read' && !k.ext.has('cpu-cache')) return;     // nothing was written by the CPU yet
  deviceTouches(k, dev, r.via === 'direct' || r.via === 'bypass' ? [{ paddr: addr, len: size }] : physRanges(dev, addr, size), access);
});

// ---- the DMA API's maintenance: wrappers around the DMA layer's handlers ----

function wrap(op: string, after: (ctx: OpContext, a: Record<string, any>, result: unknown, before: unknown) => void,
  before?: (ctx: OpContext, a: Record<string, any>) => unknown): void {
  const inner: OpHandler | undefined = getOpHandler(op);
  if (!inner) throw new Error(`drivers/common/cache-ops: the DMA layer has no '${op}' handler yet (import order in simulator-all.ts)`);
  registerOpHandler(op, (ctx, a) => {
    const pre = before?.(ctx, a);
    const result = inner(ctx, a);
    after(ctx, a, result, pre);
    return result;
  });
}

const devOf = (ctx: OpContext, a: Record<string, any>) => ctx.dev('dev', a.dev);
const mapped = (r: unknown) => typeof r === 'number' || (typeof r === 'object' && r !== null && ((r as { nents?: number }).nents ?? 1) > 0);
const fromDevice = (dir: unknown) => dir === 'from_device' || dir === 'bidirectional';

/** True when a DMA API call on `dev` does cache maintenance that the model has to track. */
function maintained(k: Kernel, dev: Device): boolean {
  return k.ext.has('cpu-cache') && maintenance(k, dev) !== 'none';
}

function clean(k: Kernel, dev: Device, ranges: () => ReadonlyArray<{ paddr: number; len: number }>): void {
  if (maintained(k, dev)) for (const r of ranges()) cleanRange(k, r.paddr, r.len);
}

function invalidate(k: Kernel, dev: Device, ranges: () => ReadonlyArray<{ paddr: number; len: number }>): void {
  if (maintained(k, dev)) for (const r of ranges()) invalidateRange(k, r.paddr, r.len);
}

function sgRanges(v: unknown): Array<{ paddr: number; len: number }> {
  const list = Array.isArray(v) ? v : v && typeof v === 'object' && Array.isArray((v as { sg?: unknown }).sg) ? (v as { sg: unknown[] }).sg : [];
  return (list as Array<{ paddr?: unknown; len?: unknown }>).filter(e => typeof e?.paddr === 'number' && typeof e?.len === 'number') as Array<{ paddr: number; len: number }>;
}

for (const op of ['dma_map_single', 'dma_map_page']) {
  wrap(op, (ctx, a, r) => {
    if (mapped(r)) clean(ctx.k, devOf(ctx, a), () => [{ paddr: a.paddr + (op === 'dma_map_page' ? a.offset ?? 0 : 0), len: a.size }]);
  });
}
wrap('dma_map_sg', (ctx, a, r) => { if (mapped(r)) clean(ctx.k, devOf(ctx, a), () => sgRanges(a.sg)); });
wrap('dma_sync_single_for_device', (ctx, a) => {
  const dev = devOf(ctx, a);
  if (typeof a.dma === 'number') clean(ctx.k, dev, () => physRanges(dev, a.dma, a.size, true));
});
wrap('dma_sync_single_for_cpu', (ctx, a) => {
  const dev = devOf(ctx, a);
  if (typeof a.dma === 'number' && fromDevice(a.dir)) invalidate(ctx.k, dev, () => physRanges(dev, a.dma, a.size, true));
});
for (const op of ['dma_unmap_single', 'dma_unmap_page']) {
  // the translation is gone after the unmap: find the pages first (only when someone tracks them)
  wrap(op, (ctx, a, _r, pre) => { if (pre) invalidate(ctx.k, devOf(ctx, a), () => pre as Array<{ paddr: number; len: number }>); },
    (ctx, a) => {
      const dev = devOf(ctx, a);
      return typeof a.dma === 'number' && fromDevice(a.dir) && maintained(ctx.k, dev) ? physRanges(dev, a.dma, a.size, true) : null;
    });
}
wrap('dma_unmap_sg', (ctx, a) => { if (fromDevice(a.dir)) invalidate(ctx.k, devOf(ctx, a), () => sgRanges(a.sg)); });

// Coherent allocations for a non-coherent device: arm64 (and DMA ops that remap write-combined) give the CPU an
// uncached mapping; x86's DMA API hands out ordinary cached memory.
wrap('dma_alloc_coherent', (ctx, a, r) => {
  const dev = devOf(ctx, a);
  if (!r || typeof r !== 'object' || maintenance(ctx.k, dev) === 'none') return;
  const res = r as { dma: number; paddr: number; size: number; pages?: Array<{ paddr: number; len: number }> };
  const ranges = (res.pages ?? [{ paddr: res.paddr, len: res.size }]).map(p => ({ start: p.paddr, end: p.paddr + p.len }));
  const c = cacheState(ctx.k);
  for (const x of ranges) c.uncached.add(x.start, x.end, ctx.k.step, dev.name);
  c.uncachedAllocs.set(`${dev.name}:${res.dma}`, ranges);
});
wrap('dma_free_coherent', (ctx, a) => {
  if (!ctx.k.ext.has('cpu-cache')) return;
  const c = cacheState(ctx.k);
  const key = `${devOf(ctx, a).name}:${a.dma}`;
  for (const x of c.uncachedAllocs.get(key) ?? []) c.uncached.remove(x.start, x.end);
  c.uncachedAllocs.delete(key);
});
