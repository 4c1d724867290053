// Scenario ops of the APU driver model: apu.probe binds the driver (variant as_posted or reviewed), then the
// ioctls (apu.gem_new, apu.gem_iommu_map, apu.gem_iommu_unmap, apu.gem_queue) and the job completion
// (apu.job_done). Results: errno strings, or objects whose `dma` lists the device addresses userspace gets.
import { errnoResult, type ErrnoName } from '../../core/errno';
import { hex } from '../../core/format';
import { probeDevice } from '../../iommu/core';
import { OpContext, registerOpHandler } from '../../runner/ops';
import { ArgField, registerOpSchema } from '../../scenario/opspec';
import { registerSection } from '../common/registry';
import { gemNew, runJob } from './common';
import { initPosted, ioctlMapPosted, ioctlUnmapPosted, jobCleanupPosted, jobSubmitPosted, removePosted } from './as-posted';
import { initReviewed, ioctlMapReviewed, ioctlUnmapReviewed, jobCleanupReviewed, jobSubmitReviewed, removeReviewed } from './reviewed';
import { APU_VARIANTS, ApuDriver, ApuJob, ApuVariant, apuDriver } from './state';

const dev: ArgField = { type: 'name', required: true, doc: 'the APU device' };
const handles: ArgField = { type: { list: 'int', max: 4096 }, required: true, doc: 'GEM handles ($g.handle or $g)' };
const count: ArgField = { type: 'int', min: 0, max: 0xffffffff, doc: 'bo_handle_count as userspace sets it (a __u32; default: the number of handles)' };
const obj = (o: Record<string, ArgField>) => ({ object: o });

registerOpSchema({ name: 'apu.probe', doc: 'bind the APU driver: probe the device and run apu_iommu_init', args: obj({
  dev,
  variant: { type: { enum: APU_VARIANTS }, doc: 'as_posted (seed 000 as posted) or reviewed; default kernel.options.apu_variant, else as_posted' },
  domain: { type: { enum: ['dead', 'attached'] }, doc: 'as_posted only: dead (as posted, nothing allocates apu->domain) or attached (a domain added so the rest runs)' },
  rcaches: { type: 'bool', doc: 'as_posted with an attached domain: also run iova_domain_init_rcaches (default true; as posted nothing does, and alloc_iova_fast oopses)' },
  iova_base: { type: 'u64', doc: 'start of the IOVA window the driver allocates from (default: device param iova_base, else 0)' },
  iova_size: { type: 'u64', doc: 'size of that window (default: device param iova_size, else 4G)' },
}) });
registerOpSchema({ name: 'apu.remove', doc: 'unbind the APU driver (apu_remove); the device stays probed', args: obj({ dev }) });
registerOpSchema({ name: 'apu.gem_new', doc: 'DRM_IOCTL_APU_GEM_NEW: a GEM object; { handle, size, paddr, segments }', args: obj({
  dev, size: { type: 'u64', required: true, max: 0xffffffff, doc: 'bytes (a __u32)' },
  segments: { type: { list: 'u64', max: 1024 }, doc: 'physically contiguous runs get_sg_table returns (default one); they add up to size' },
}) });
registerOpSchema({ name: 'apu.gem_iommu_map', doc: 'DRM_IOCTL_APU_GEM_IOMMU_MAP: map objects; { ret, dma: [device addresses] } or -errno', args: obj({ dev, handles, count }) });
registerOpSchema({ name: 'apu.gem_iommu_unmap', doc: 'DRM_IOCTL_APU_GEM_IOMMU_UNMAP: unmap objects; 0 or -errno', args: obj({ dev, handles, count }) });
registerOpSchema({ name: 'apu.gem_queue', doc: 'DRM_IOCTL_APU_GEM_QUEUE: submit a job (maps its buffers) and run it: the APU reads every buffer', args: obj({ dev, handles, count }) });
registerOpSchema({ name: 'apu.job_done', doc: 'a job completes: apu_job_cleanup unmaps its buffers', args: obj({
  dev, job: { type: 'int', required: true, min: 1, doc: 'job id ($q.job or $q)' },
}) });

function driver(ctx: OpContext, name: unknown, afterRemove = false): ApuDriver {
  const d = ctx.dev('dev', name);
  const apu = apuDriver(d);
  if (!apu || (apu.removed && !afterRemove)) ctx.fail('dev', `${d.name} has no APU driver bound: run apu.probe: { dev: ${d.name} } first`);
  return apu!;
}

function variantOf(ctx: OpContext, arg: unknown): ApuVariant {
  const v = arg ?? ctx.k.cfg.options.apu_variant ?? 'as_posted';
  if (!APU_VARIANTS.includes(v as ApuVariant)) ctx.fail('variant', `kernel options apu_variant: expected as_posted or reviewed, got ${JSON.stringify(v)}`);
  return v as ApuVariant;
}

function handleList(ctx: OpContext, v: unknown): number[] {
  return (v as unknown[]).map((h, i) => {
    const n = typeof h === 'object' && h !== null && 'handle' in h ? (h as { handle: unknown }).handle : h;
    if (typeof n !== 'number') ctx.fail('handles', `handles[${i}] must be a GEM handle (a number or an apu.gem_new result), got ${JSON.stringify(h)}`);
    return n as number;
  });
}

const fail = (e: ErrnoName) => errnoResult(e);

registerOpHandler('apu.probe', (ctx, a) => {
  const d = ctx.dev('dev', a.dev);
  if (apuDriver(d) && !apuDriver(d)!.removed) ctx.fail('dev', `${d.name} already has the APU driver bound`);
  const variant = variantOf(ctx, a.variant);
  if (variant === 'reviewed' && a.domain === 'dead') ctx.fail('domain', 'the reviewed driver always allocates and attaches its domain: domain: dead only applies to as_posted');
  if (!d.probed) {
    const r = probeDevice(ctx.k, d);
    if (typeof r === 'string') return r;
  }
  const p = d.spec.params;
  const base = (a.iova_base as number | undefined) ?? (typeof p.iova_base === 'number' ? p.iova_base : 0);
  const size = (a.iova_size as number | undefined) ?? (typeof p.iova_size === 'number' ? p.iova_size : 2 ** 32);
  if (size <= 0) ctx.fail('iova_size', 'the IOVA window must not be empty');
  const apu = new ApuDriver(d, variant, base, size);
  const ret = variant === 'reviewed' ? initReviewed(ctx.k, apu) : initPosted(ctx.k, apu, { attach: a.domain === 'attached', rcaches: a.rcaches !== false });
  if (ret !== 0) return fail(ret);
  d.ext.apu = apu;
  registerSection(ctx.k, d.name, apu);
  return { variant, domain: apu.domain?.id ?? null, iova_window: `${hex(base)}-${hex(base + size - 1)}` };
});

registerOpHandler('apu.gem_new', (ctx, a) => {
  const apu = driver(ctx, a.dev);
  const P = ctx.k.cfg.page_size;
  const segs = a.segments as number[] | undefined;
  if (segs) {
    if (segs.length === 0) ctx.fail('segments', 'segments: give at least one length');
    const sum = segs.reduce((x, y) => x + y, 0);
    if (sum !== a.size) ctx.fail('segments', `segments add up to ${sum} bytes, but size is ${a.size}`);
    segs.forEach((l, i) => {
      if (l === 0) ctx.fail('segments', `segments[${i}] is empty`);
      if (i < segs.length - 1 && l % P !== 0) ctx.fail('segments', `segments[${i}] = ${l}: only the last entry of a page list may end inside a page (PAGE_SIZE ${P})`);
    });
  }
  const g = gemNew(ctx.k, apu, a.size, segs);
  if (typeof g === 'string') return fail(g);
  return { handle: g.handle, size: g.size, paddr: g.segs[0].paddr, segments: g.segs.map(s => ({ paddr: s.paddr, len: s.len })) };
});

registerOpHandler('apu.gem_iommu_map', (ctx, a) => {
  const apu = driver(ctx, a.dev);
  const hs = handleList(ctx, a.handles);
  const n = (a.count as number | undefined) ?? hs.length;
  const r = apu.variant === 'reviewed' ? ioctlMapReviewed(ctx.k, apu, hs, n) : ioctlMapPosted(ctx.k, apu, hs, n);
  return typeof r === 'string' ? fail(r) : r;
});

registerOpHandler('apu.gem_iommu_unmap', (ctx, a) => {
  const apu = driver(ctx, a.dev);
  const hs = handleList(ctx, a.handles);
  const n = (a.count as number | undefined) ?? hs.length;
  const r = apu.variant === 'reviewed' ? ioctlUnmapReviewed(ctx.k, apu, hs, n) : ioctlUnmapPosted(ctx.k, apu, hs, n);
  return r === 0 ? 0 : fail(r);
});

registerOpHandler('apu.gem_queue', (ctx, a) => {
  const apu = driver(ctx, a.dev);
  const hs = handleList(ctx, a.handles);
  const n = (a.count as number | undefined) ?? hs.length;
  const job = apu.variant === 'reviewed' ? jobSubmitReviewed(ctx.k, apu, hs, n) : jobSubmitPosted(ctx.k, apu, hs, n);
  if (typeof job === 'string') return fail(job);
  const faults = runJob(ctx.k, apu, job);
  return { ret: 0, job: job.id, dma: job.addrs, faults };
});

registerOpHandler('apu.job_done', (ctx, a) => {
  const apu = driver(ctx, a.dev, true);
  const v = a.job as unknown;
  const id = typeof v === 'object' && v !== null && 'job' in v ? (v as { job: unknown }).job : v;
  const job: ApuJob | undefined = typeof id === 'number' ? apu.jobs.get(id) : undefined;
  if (!job) ctx.fail('job', `no job ${JSON.stringify(id)} on ${apu.dev.name}; jobs: ${[...apu.jobs.keys()].join(', ') || 'none'}`);
  if (job!.done && apu.removed) return 0;        // apu_remove already waited for it
  if (job!.done) ctx.fail('job', `job ${job!.id} on ${apu.dev.name} is already done`);
  if (apu.variant === 'reviewed') jobCleanupReviewed(ctx.k, apu, job!);
  else jobCleanupPosted(ctx.k, apu, job!);
  return 0;
});

registerOpHandler('apu.remove', (ctx, a) => {
  const apu = driver(ctx, a.dev);
  if (apu.variant === 'reviewed') removeReviewed(ctx.k, apu);
  else removePosted(ctx.k, apu);
  apu.removed = true;
  return 0;
});
