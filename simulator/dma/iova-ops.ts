// Scenario ops on standalone IOVA allocators (drivers/iommu/iova.c as drivers such as the APU use it):
// init_iova_domain, alloc_iova, alloc_iova_fast, free_iova, free_iova_fast, reserve_iova, find_iova.
// Misuse the allocator notices becomes findings; where the kernel WARNs, the WARNING goes to the log too.
import { OpContext, registerOpHandler } from '../runner/ops';
import { IovaArgumentError, initIovaDomain, isIovaRefusal, type IovaDomain } from './iova';
import { raiseIovaFindings } from './flush-queue';
import { dmaState } from './state';

export interface IovadHandle { id: string; granule: number; start_pfn: number }

function iovad(ctx: OpContext, v: unknown): IovaDomain {
  const id = typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : undefined;
  const d = id ? dmaState(ctx.k).iovads.get(id) : undefined;
  if (!d) {
    const known = [...dmaState(ctx.k).iovads.keys()];
    ctx.fail('iovad', v === null ? 'iovad is null (the init_iova_domain step failed)'
      : `'${id ?? JSON.stringify(v)}' is not an IOVA domain` + (known.length ? `; IOVA domains: ${known.join(', ')}` : '; no init_iova_domain step ran yet'));
  }
  return d!;
}

/** Runs an allocator call; a bad argument (size 0, a pfn beyond 2^53) is an input error at the step. */
function guarded<T>(ctx: OpContext, key: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof IovaArgumentError) ctx.fail(key, e.message);
    throw e;
  }
}

const num = (ctx: OpContext, key: string, v: unknown): number => {
  if (typeof v !== 'number') ctx.fail(key, `${key} must be a number, got ${v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v)}`);
  return v as number;
};

registerOpHandler('init_iova_domain', (ctx, a): IovadHandle => {
  const k = ctx.k;
  const granule = num(ctx, 'granule', a.granule);
  const startPfn = num(ctx, 'start_pfn', a.start_pfn);
  const d = initIovaDomain(granule, startPfn, { pageSize: k.cfg.page_size, largePages: k.cfg.large_iommu_pages });
  if (isIovaRefusal(d)) {
    if (d.bug) k.oops(d.message);
    ctx.fail('granule', d.message);
  }
  const dom = d as IovaDomain;
  if (a.rcache === true) dom.initRcaches();
  const st = dmaState(k);
  const id = `iovad${st.nextIovad++}`;
  st.iovads.set(id, dom);
  return { id, granule, start_pfn: startPfn };
});

registerOpHandler('alloc_iova', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  const r = guarded(ctx, 'size', () => d.allocIova(num(ctx, 'size', a.size), num(ctx, 'limit_pfn', a.limit_pfn), a.size_aligned === true));
  return r ? r.pfnLo : null;
});

registerOpHandler('alloc_iova_fast', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  const r = guarded(ctx, 'size', () => d.allocIovaFast(num(ctx, 'size', a.size), num(ctx, 'limit_pfn', a.limit_pfn), a.flush_rcache === true));
  if (r.oops) ctx.k.oops(r.oops);
  raiseIovaFindings(ctx.k, r.findings);
  return r.pfn ?? 0;
});

registerOpHandler('free_iova', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  const r = guarded(ctx, 'pfn', () => d.freeIova(num(ctx, 'pfn', a.pfn)));
  raiseIovaFindings(ctx.k, r.findings);
  return null;
});

registerOpHandler('free_iova_fast', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  if (a.size === undefined) ctx.fail('', 'free_iova_fast needs size (pages): the kernel takes it from the caller, not from the range');
  const r = guarded(ctx, 'pfn', () => d.freeIovaFast(num(ctx, 'pfn', a.pfn), num(ctx, 'size', a.size)));
  if (r.oops) ctx.k.oops(r.oops);
  raiseIovaFindings(ctx.k, r.findings);
  return null;
});

registerOpHandler('reserve_iova', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  const r = guarded(ctx, 'pfn_lo', () => d.reserveIova(num(ctx, 'pfn_lo', a.pfn_lo), num(ctx, 'pfn_hi', a.pfn_hi)));
  return r ? { pfn_lo: r.pfnLo, pfn_hi: r.pfnHi } : null;
});

registerOpHandler('find_iova', (ctx, a) => {
  const d = iovad(ctx, a.iovad);
  const r = guarded(ctx, 'pfn', () => d.findIova(num(ctx, 'pfn', a.pfn)));
  return r ? { pfn_lo: r.pfnLo, pfn_hi: r.pfnHi, fast: r.fast, cached: r.cached } : null;
});
