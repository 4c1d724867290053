// The APU driver as first posted (examples/drivers/apu_gem.c, seed 000). Every function follows the posted
// code, flaws included, and reports each flaw where it bites: CPU page arithmetic on IOVAs, one iommu_map per
// scatterlist entry padded with PAGE_ALIGN (overrunning the IOVA allocation), one iommu_unmap per segment,
// alloc_iova_fast ranges given back with free_iova, the u32 apu_obj->iova, user-controlled array sizes, errors
// swallowed by the ioctl, and a domain nothing allocates. The IOMMU, IOVA and allocator layers report what the
// kernel itself would do with those calls.
import { alignUp, hex, sizeLabel } from '../../core/format';
import type { Kernel } from '../../kernel';
import { allocDomain, attachDevice, detachDevice } from '../../iommu/core';
import { IOMMU_DOMAIN_UNMANAGED } from '../../iommu/domain';
import { iommuMap, iommuUnmap } from '../../iommu/map';
import { PROT_READ, PROT_WRITE } from '../../iommu/pte-format';
import { initIovaDomain, isIovaRefusal } from '../../dma/iova';
import { raiseIovaFindings } from '../../dma/flush-queue';
import { INT_MAX, U32, addMapping, findingOnce, removeMapping, withSite } from '../common/registry';
import { Ret, errnoName, lookupHandles } from './common';
import { APU_MAX_BOS_PER_CALL, ApuDriver, ApuGem, ApuJob } from './state';
import type { ErrnoName } from '../../core/errno';

/** apu_iommu_init: only the IOVA allocator; `attach` adds the domain the posted patch never allocates. */
export function initPosted(k: Kernel, apu: ApuDriver, opts: { attach: boolean; rcaches: boolean }): Ret {
  return withSite(k, apu.site('apu_iommu_init'), () => {
    const dev = apu.dev;
    if (!dev.iommu || dev.iommu.refusal || !dev.group) return 0;          // !device_iommu_mapped()
    const P = k.cfg.page_size;
    const iovad = initIovaDomain(P, Math.max(1, Math.floor(apu.iovaBase / P)), { pageSize: P, largePages: k.cfg.large_iommu_pages });
    if (isIovaRefusal(iovad)) {
      if (iovad.bug) k.oops(iovad.message);
      k.printk('err', iovad.message, dev.name);
      return 'EINVAL';
    }
    if (opts.rcaches) iovad.initRcaches();
    apu.iovad = iovad;
    apu.limitPfn = Math.floor((apu.iovaBase + apu.iovaSize - 1) / P);
    if (!opts.attach) {
      k.finding('domain-never-allocated', 'error',
        `apu_iommu_init sets up the IOVA allocator but nothing allocates or attaches apu->domain: every GEM_IOMMU_MAP and ` +
        `GEM_IOMMU_UNMAP returns -ENODEV and job submission maps nothing, so all the IOMMU code of the patch is dead`,
        { dev: dev.name });
      return 0;
    }
    const d = allocDomain(k, dev.iommu, IOMMU_DOMAIN_UNMANAGED);
    if ('errno' in d) {
      if (d.message) k.printk('err', d.message, dev.name);
      return d.errno;
    }
    const r = attachDevice(k, d, dev);
    if (typeof r === 'string') return errnoName(r);
    apu.domain = d;
    apu.granule = d.granule;
    k.printk('info', `apu_iommu_init: ${d.id} allocated and attached (the posted patch never does this; ` +
      `added so the rest of its IOMMU code runs)${opts.rcaches ? '' : ', IOVA rcaches left uninitialised as posted'}`, dev.name);
    return 0;
  });
}

/** The PAGE_SHIFT / PHYS_PFN finding, once per device, worded for the relation of PAGE_SIZE and the granule. */
function cpuPageArithmetic(k: Kernel, apu: ApuDriver): void {
  const P = k.cfg.page_size, g = apu.granule;
  const base = `apu_gem_iommu_map sizes the IOVA allocation with size >> PAGE_SHIFT, pads segments with PAGE_ALIGN and converts ` +
    `with PFN_PHYS/PHYS_PFN: CPU page arithmetic (PAGE_SIZE ${sizeLabel(P)}) on IOVAs, whose unit is the IOMMU page (${sizeLabel(g)})`;
  if (P === g) findingOnce(k, apu.dev.name, 'mm-pfn-on-iova', 'info', `${base}; harmless here only because the two are equal`);
  else if (P > g) findingOnce(k, apu.dev.name, 'mm-pfn-on-iova', 'warning', `${base}; every object takes whole ${sizeLabel(P)} pages of IOVA space`);
  else findingOnce(k, apu.dev.name, 'mm-pfn-on-iova', 'error', `${base}; PAGE_ALIGN(len) gives multiples of ${sizeLabel(P)}, which a domain with ${sizeLabel(g)} pages cannot map`);
}

/** The posted error paths of apu_gem_iommu_map: the reference taken on entry is kept, mapped segments stay mapped. */
function failedMap(k: Kernel, bo: ApuGem, mappedSegments: number): void {
  k.finding('error-path-leak', 'warning', `GEM ${bo.handle}: the failed map keeps iommu_refcount at 1 and iommu_sgt allocated, so the ` +
    'next map of this object returns 0 without mapping anything' +
    (mappedSegments ? `; segments 0..${mappedSegments - 1} stay mapped from ${hex(bo.iova)} (the IOVA range is freed without iommu_unmap)` : ''),
    { handle: bo.handle, segments: mappedSegments });
}

/** apu_gem_iommu_map (posted). */
export function mapPosted(k: Kernel, apu: ApuDriver, bo: ApuGem): Ret {
  return withSite(k, apu.site('apu_gem_iommu_map'), () => {
    const dev = apu.dev.name;
    if (bo.refcount++) return 0;                                   // "already mapped", even if the first map failed
    bo.sgtHeld = true;
    const d = apu.domain!, iovad = apu.iovad!;
    const P = k.cfg.page_size;
    cpuPageArithmetic(k, apu);
    let pages = Math.floor(bo.size / P);
    if (pages === 0) {
      k.finding('mm-pfn-on-iova', 'error', `GEM ${bo.handle}: size >> PAGE_SHIFT is 0 for a ${bo.size}-byte object, so alloc_iova_fast ` +
        'is asked for 0 pages (roundup_pow_of_two(0) is undefined; arm64 and x86 compute 1)', { dev, handle: bo.handle });
      pages = 1;
    }
    const r = iovad.allocIovaFast(pages, apu.limitPfn, true);
    k.api('alloc_iova_fast', { size: pages, limit_pfn: apu.limitPfn, flush_rcache: true }, r.pfn ?? 0);
    if (r.oops) k.oops(r.oops);
    raiseIovaFindings(k, r.findings);
    if (r.pfn === null) {
      k.printk('err', `no IOVA space for ${bo.size} bytes`, dev);
      failedMap(k, bo, 0);
      return 'ENOMEM';
    }
    bo.iovaPfn = r.pfn;
    bo.iovaPages = r.pages;
    const full = r.pfn * P;                                       // PFN_PHYS(iova_pfn)
    bo.iova = full % U32;                                         // apu_obj->iova is a u32
    if (full >= U32) {
      k.finding('iova-truncated', 'error', `GEM ${bo.handle}: alloc_iova_fast returned IOVA ${hex(full)} but apu_obj->iova is a u32 and keeps ` +
        `${hex(bo.iova)}: the object is mapped at, and reported to userspace as, an address outside the range the allocator ` +
        `reserved, and the free later looks up the wrong pfn`, { dev, handle: bo.handle, iova: full, truncated: bo.iova });
    }
    const lens = bo.segs.map(s => alignUp(s.len, P));
    const total = lens.reduce((a, b) => a + b, 0);
    const reserved = r.pages * P;
    if (total > reserved) {
      k.finding('iova-overrun', 'error', `GEM ${bo.handle}: ${bo.size} bytes >> PAGE_SHIFT reserved ${r.pages} page(s) (${sizeLabel(reserved)}) ` +
        `of IOVA, but the PAGE_ALIGN-padded segments map ${sizeLabel(total)} from ${hex(bo.iova)}: the ${sizeLabel(total - reserved)} from ` +
        `${hex((bo.iova + reserved) % U32)} on lie in IOVA space the allocator may hand to another object`,
        { dev, handle: bo.handle, iova: bo.iova, reserved, mapped: total });
    }
    if (bo.segs.length > 1) {
      findingOnce(k, dev, 'map-per-sg-entry', 'warning', `apu_gem_iommu_map calls iommu_map once per scatterlist entry (${bo.segs.length} ` +
        `calls for GEM ${bo.handle}); iommu_map_sg maps the list in one call, merges contiguous entries into larger pages and undoes ` +
        'everything on failure', { handle: bo.handle, calls: bo.segs.length });
    }
    let iova = bo.iova;
    for (let i = 0; i < bo.segs.length; i++) {
      const ret = iommuMap(k, d, iova, bo.segs[i].paddr, lens[i], PROT_READ | PROT_WRITE);
      k.api('iommu_map', { domain: d.id, iova, paddr: bo.segs[i].paddr, size: lens[i], prot: ['read', 'write'] }, ret);
      if (ret !== 0) {
        k.printk('err', `failed to map segment ${i}`, dev);
        raiseIovaFindings(k, iovad.freeIova(r.pfn).findings);     // free_iova on an alloc_iova_fast range
        k.api('free_iova', { pfn: r.pfn }, null);
        failedMap(k, bo, i);
        return errnoName(ret);
      }
      bo.mappings.push(addMapping(k, { domain: d, iova, size: lens[i], owner: `${dev} GEM ${bo.handle}${bo.segs.length > 1 ? ` segment ${i}` : ''} (${k.site})`,
        requested: bo.segs[i].len, dev, buffers: [bo.segs[i].buf], dma: iova }));
      iova = (iova + lens[i]) % U32;
    }
    return 0;
  });
}

/** apu_gem_iommu_unmap (posted). */
export function unmapPosted(k: Kernel, apu: ApuDriver, bo: ApuGem): void {
  withSite(k, apu.site('apu_gem_iommu_unmap'), () => {
    if (!bo.sgtHeld) return;
    bo.refcount = bo.refcount === 0 ? U32 - 1 : bo.refcount - 1;  // unsigned int
    if (bo.refcount) return;
    const d = apu.domain!;
    const P = k.cfg.page_size;
    if (bo.segs.length > 1) {
      findingOnce(k, apu.dev.name, 'unmap-per-segment', 'info', `apu_gem_iommu_unmap calls iommu_unmap once per segment (${bo.segs.length} ` +
        `calls and IOTLB syncs for GEM ${bo.handle}); the object is one IOVA-contiguous range that a single iommu_unmap removes`,
        { handle: bo.handle, calls: bo.segs.length });
    }
    let iova = bo.iova;
    for (const s of bo.segs) {
      const unmapped = iommuUnmap(k, d, iova, alignUp(s.len, P));
      k.api('iommu_unmap', { domain: d.id, iova, size: alignUp(s.len, P) }, unmapped);
      iova = (iova + alignUp(s.len, P)) % U32;
    }
    for (const m of bo.mappings) removeMapping(k, m);
    bo.mappings = [];
    bo.sgtHeld = false;
    raiseIovaFindings(k, apu.iovad!.freeIova(Math.floor(bo.iova / P)).findings);   // free_iova(PHYS_PFN(apu_obj->iova))
    k.api('free_iova', { pfn: Math.floor(bo.iova / P) }, null);
  });
}

const bytesLabel = (n: number) => (n % 1024 === 0 ? sizeLabel(n) : `${n} bytes`);

/**
 * The user count sizes kernel allocations with no bound: reported when it exceeds what the reviewed driver
 * allows or what userspace passed; above INT_MAX bytes kvmalloc refuses with a WARN (-ENOMEM).
 */
function userCount(k: Kernel, apu: ApuDriver, ioctl: string, count: number, given: number, elem: number): ErrnoName | null {
  const bytes = count * elem;
  if (count > APU_MAX_BOS_PER_CALL || count > given) {
    k.finding('unbounded-user-count', 'error', `${ioctl}: bo_handle_count ${count} comes from userspace unchecked and sizes ` +
      `kvmalloc_array(${count}, ${elem}) = ${bytesLabel(bytes)} of unaccounted kernel memory` +
      (count > given && bytes <= INT_MAX ? `; userspace passed ${given} handle(s), so the lookup reads past its array` : '') +
      (bytes > INT_MAX ? '; above INT_MAX bytes kvmalloc refuses with a WARN and the ioctl fails with -ENOMEM' : ''),
      { dev: apu.dev.name, count, bytes });
  }
  if (bytes > INT_MAX) {
    k.printk('warn', `WARNING: mm/util.c: kvmalloc_node: WARN_ON_ONCE(size > INT_MAX): ${bytes} bytes`);
    return 'ENOMEM';
  }
  return null;
}

export interface MapResult { ret: 0; dma: Array<number | null> }

/** apu_ioctl_gem_iommu_map (posted): returns 0 whatever happened after the domain check. */
export function ioctlMapPosted(k: Kernel, apu: ApuDriver, handles: number[], count: number): MapResult | ErrnoName {
  return withSite(k, apu.site('apu_ioctl_gem_iommu_map'), () => {
    if (!apu.domain) return 'ENODEV';
    const refused = userCount(k, apu, 'GEM_IOMMU_MAP', count, handles.length, 8);
    if (refused) return refused;
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    const das: Array<number | null> = new Array(count).fill(null);
    for (let i = 0; i < bos.length; i++) {
      const ret = mapPosted(k, apu, bos[i]);
      if (ret !== 0) {
        k.finding('error-return-zero', 'error', `GEM_IOMMU_MAP: mapping handle ${bos[i].handle} failed with -${ret} but the ioctl returns 0; ` +
          `bo_device_addresses[${i}..${count - 1}] are uninitialised kvmalloc memory`, { dev: apu.dev.name, handle: bos[i].handle, errno: `-${ret}` });
        if (i > 0) {
          k.finding('error-path-leak', 'warning', `GEM_IOMMU_MAP: handle(s) ${bos.slice(0, i).map(b => b.handle).join(', ')} mapped before the ` +
            'failure stay mapped and referenced: the error path does not unwind them', { dev: apu.dev.name });
        }
        break;
      }
      das[i] = bos[i].iova;
    }
    return { ret: 0, dma: das };
  });
}

/** apu_ioctl_gem_iommu_unmap (posted). */
export function ioctlUnmapPosted(k: Kernel, apu: ApuDriver, handles: number[], count: number): Ret {
  return withSite(k, apu.site('apu_ioctl_gem_iommu_unmap'), () => {
    if (!apu.domain) return 'ENODEV';
    const refused = userCount(k, apu, 'GEM_IOMMU_UNMAP', count, handles.length, 8);
    if (refused) return refused;
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    for (const bo of bos) unmapPosted(k, apu, bo);
    return 0;
  });
}

/** apu_job_submit (posted): maps every buffer; its error path unmaps every buffer of the job. */
export function jobSubmitPosted(k: Kernel, apu: ApuDriver, handles: number[], count: number): ApuJob | ErrnoName {
  return withSite(k, apu.site('apu_job_submit'), () => {
    const refused = userCount(k, apu, 'GEM_QUEUE', count, handles.length, 8);
    if (refused) return refused;
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    const job: ApuJob = { id: apu.nextJob, bos, addrs: [], done: false };
    if (!apu.domain) {
      findingOnce(k, `${apu.dev.name}:queue`, 'domain-never-allocated', 'error', 'apu_job_submit: apu->domain is NULL, so the job\'s ' +
        'buffers are not mapped and the APU is given addresses nothing translates', { dev: apu.dev.name });
    } else {
      for (let i = 0; i < bos.length; i++) {
        const ret = mapPosted(k, apu, bos[i]);
        if (ret === 0) continue;
        const others = bos.slice(i + 1).filter(b => b.refcount > 0);
        if (others.length) {
          k.finding('unbalanced-unmap', 'error', `apu_job_submit: mapping handle ${bos[i].handle} failed and the error path unmaps every ` +
            `buffer of the job, dropping a reference this job never took on handle(s) ${others.map(b => b.handle).join(', ')} ` +
            '(mapped by someone else, which may now be unmapped under them)', { dev: apu.dev.name });
        }
        for (const bo of bos) unmapPosted(k, apu, bo);
        return ret;
      }
    }
    apu.nextJob++;
    job.addrs = bos.map(b => b.iova);
    apu.jobs.set(job.id, job);
    return job;
  });
}

/** apu_job_cleanup (posted). */
export function jobCleanupPosted(k: Kernel, apu: ApuDriver, job: ApuJob): void {
  withSite(k, apu.site('apu_job_cleanup'), () => {
    for (const bo of job.bos) if (apu.domain) unmapPosted(k, apu, bo);
    job.done = true;
  });
}

/**
 * apu_remove (posted): drm_dev_unregister and nothing else. With the domain added by `domain: attached`, its
 * teardown is added too (detach, apu->domain = NULL), and nothing orders it against jobs still in flight:
 * their buffers stay mapped, and apu_job_cleanup later finds apu->domain NULL and unmaps nothing.
 */
export function removePosted(k: Kernel, apu: ApuDriver): void {
  withSite(k, apu.site('apu_remove'), () => {
    const d = apu.domain;
    if (!d) return;
    const pending = [...apu.jobs.values()].filter(j => !j.done);
    if (pending.length) {
      k.finding('missing-synchronisation', 'error', `apu_remove: ${d.id} goes away while job(s) ${pending.map(j => j.id).join(', ')} still have ` +
        'buffers mapped in it: nothing ties the domain\'s lifetime to jobs in flight (apu_job_submit and apu_job_cleanup test apu->domain ' +
        'unlocked), so their mappings and IOVA ranges are never undone', { dev: apu.dev.name, domain: d.id, jobs: pending.map(j => j.id) });
    }
    detachDevice(k, d, apu.dev);
    apu.domain = null;
  });
}
