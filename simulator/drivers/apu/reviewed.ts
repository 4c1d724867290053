// The APU driver after the review (examples/drivers/apu_gem_reviewed.c): a paging domain allocated and
// attached at probe, drm_mm for the fixed device addresses, sizes in IOMMU pages, one iommu_map_sgtable and
// one iommu_unmap per object, 64-bit addresses, user counts bounded by APU_MAX_BOS_PER_CALL, and error paths
// that unwind exactly what they did and return the error.
import { alignUp, hex } from '../../core/format';
import type { ErrnoName } from '../../core/errno';
import type { Kernel } from '../../kernel';
import { allocDomain, attachDevice, detachDevice } from '../../iommu/core';
import { IOMMU_DOMAIN_UNMANAGED } from '../../iommu/domain';
import { iommuMapSg, iommuUnmap } from '../../iommu/map';
import { PROT_CACHE, PROT_READ, PROT_WRITE } from '../../iommu/pte-format';
import { DrmMm } from '../common/drm-mm';
import { addMapping, removeMapping, withSite } from '../common/registry';
import { Ret, errnoName, lookupHandles } from './common';
import { APU_MAX_BOS_PER_CALL, ApuDriver, ApuGem, ApuJob } from './state';
import type { MapResult } from './as-posted';

/** apu_iommu_init (reviewed): refuses a non-coherent device, allocates and attaches its domain, sets up drm_mm. */
export function initReviewed(k: Kernel, apu: ApuDriver): Ret {
  return withSite(k, apu.site('apu_iommu_init'), () => {
    const dev = apu.dev;
    if (!dev.spec.coherent) {
      k.printk('err', 'error -EOPNOTSUPP: APU must be cache-coherent to use its own domain', dev.name);
      return 'EOPNOTSUPP';
    }
    if (!dev.iommu || dev.iommu.refusal) return 'ENODEV';
    const d = allocDomain(k, dev.iommu, IOMMU_DOMAIN_UNMANAGED);
    if ('errno' in d) {
      if (d.message) k.printk('err', d.message, dev.name);
      return d.errno;
    }
    const r = attachDevice(k, d, dev);
    if (typeof r === 'string') return errnoName(r);
    apu.domain = d;
    apu.granule = d.granule;
    const end = Math.min(apu.iovaBase + apu.iovaSize, d.aperture.end + 1);
    apu.mm = new DrmMm(apu.iovaBase, end - apu.iovaBase);
    return 0;
  });
}

/** apu_gem_iommu_map (reviewed). */
export function mapReviewed(k: Kernel, apu: ApuDriver, bo: ApuGem): Ret {
  return withSite(k, apu.site('apu_gem_iommu_map'), () => {
    if (bo.refcount) { bo.refcount++; return 0; }
    const d = apu.domain!;
    const size = alignUp(bo.objSize, apu.granule);
    const node = apu.mm!.insert(size, apu.granule);
    if (!node) return 'ENOSPC';
    const mapped = iommuMapSg(k, d, node.start, bo.segs.map(s => ({ paddr: s.paddr, len: s.len })), PROT_READ | PROT_WRITE | PROT_CACHE);
    k.api('iommu_map_sg', { domain: d.id, iova: node.start, nents: bo.segs.length, prot: ['read', 'write', 'cache'] }, mapped);
    if (typeof mapped !== 'number') {
      apu.mm!.remove(node);
      return errnoName(mapped);
    }
    bo.node = node;
    bo.iova = node.start;
    bo.refcount = 1;
    bo.sgtHeld = true;
    bo.mappings.push(addMapping(k, { domain: d, iova: node.start, size: node.size, owner: `${apu.dev.name} GEM ${bo.handle} (${k.site})`,
      requested: bo.size, dev: apu.dev.name, buffers: bo.segs.map(s => s.buf), dma: node.start }));
    return 0;
  });
}

/** apu_gem_iommu_unmap (reviewed): one iommu_unmap of the whole node. */
export function unmapReviewed(k: Kernel, apu: ApuDriver, bo: ApuGem): void {
  withSite(k, apu.site('apu_gem_iommu_unmap'), () => {
    if (!bo.refcount) {
      k.printk('warn', `WARNING: ${apu.site('apu_gem_iommu_unmap')}: WARN_ON(!apu_obj->iommu_refcount) for GEM ${bo.handle}`, apu.dev.name);
      return;
    }
    if (--bo.refcount) return;
    const node = bo.node!;
    const unmapped = iommuUnmap(k, apu.domain!, bo.iova, node.size);
    k.api('iommu_unmap', { domain: apu.domain!.id, iova: bo.iova, size: node.size }, unmapped);
    if (unmapped < bo.objSize) {
      k.printk('warn', `WARNING: ${apu.site('apu_gem_iommu_unmap')}: WARN_ON(unmapped < size): ${unmapped} of ${bo.objSize} bytes at ${hex(bo.iova)}`, apu.dev.name);
    }
    apu.mm!.remove(node);
    for (const m of bo.mappings) removeMapping(k, m);
    bo.mappings = [];
    bo.node = null;
    bo.sgtHeld = false;
    bo.iova = 0;
  });
}

function bounded(count: number): boolean {
  return count > 0 && count <= APU_MAX_BOS_PER_CALL;
}

/** Maps every buffer, or unmaps the ones it mapped and returns the first error (the reviewers' unwinding). */
function mapAll(k: Kernel, apu: ApuDriver, bos: ApuGem[]): Ret {
  for (let i = 0; i < bos.length; i++) {
    const ret = mapReviewed(k, apu, bos[i]);
    if (ret !== 0) {
      while (i--) unmapReviewed(k, apu, bos[i]);
      return ret;
    }
  }
  return 0;
}

/** apu_ioctl_gem_iommu_map (reviewed): all or nothing. */
export function ioctlMapReviewed(k: Kernel, apu: ApuDriver, handles: number[], count: number): MapResult | ErrnoName {
  return withSite(k, apu.site('apu_ioctl_gem_iommu_map'), () => {
    if (!bounded(count)) return 'EINVAL';
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    const ret = mapAll(k, apu, bos);
    if (ret !== 0) return ret;
    return { ret: 0, dma: bos.map(b => b.iova) };
  });
}

/** apu_ioctl_gem_iommu_unmap (reviewed). */
export function ioctlUnmapReviewed(k: Kernel, apu: ApuDriver, handles: number[], count: number): Ret {
  return withSite(k, apu.site('apu_ioctl_gem_iommu_unmap'), () => {
    if (!bounded(count)) return 'EINVAL';
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    for (const bo of bos) unmapReviewed(k, apu, bo);
    return 0;
  });
}

/** apu_job_submit (reviewed): unwinds only the buffers it mapped. */
export function jobSubmitReviewed(k: Kernel, apu: ApuDriver, handles: number[], count: number): ApuJob | ErrnoName {
  return withSite(k, apu.site('apu_job_submit'), () => {
    if (!bounded(count)) return 'EINVAL';
    const bos = lookupHandles(apu, handles, count);
    if (typeof bos === 'string') return bos;
    const ret = mapAll(k, apu, bos);
    if (ret !== 0) return ret;
    const job: ApuJob = { id: apu.nextJob++, bos, addrs: bos.map(b => b.iova), done: false };
    apu.jobs.set(job.id, job);
    return job;
  });
}

/** apu_job_cleanup (reviewed). */
export function jobCleanupReviewed(k: Kernel, apu: ApuDriver, job: ApuJob): void {
  withSite(k, apu.site('apu_job_cleanup'), () => {
    for (const bo of job.bos) unmapReviewed(k, apu, bo);
    job.done = true;
  });
}

/** apu_remove (reviewed): drm_dev_unregister waits for open files and their jobs, then apu_iommu_fini. */
export function removeReviewed(k: Kernel, apu: ApuDriver): void {
  withSite(k, apu.site('apu_remove'), () => {
    for (const job of apu.jobs.values()) if (!job.done) jobCleanupReviewed(k, apu, job);
    withSite(k, apu.site('apu_iommu_fini'), () => {
      const left = apu.mm?.list().length ?? 0;
      if (left) {
        k.printk('warn', 'WARNING: drivers/gpu/drm/drm_mm.c: drm_mm_takedown: Memory manager not clean during takedown.', apu.dev.name);
        k.finding('leak', 'warning', `apu_iommu_fini: ${left} object(s) are still mapped when the driver goes away (GEM_IOMMU_MAP references ` +
          'never dropped with GEM_IOMMU_UNMAP): drm_mm_takedown WARNs and their mappings stay in the freed domain', { dev: apu.dev.name, objects: left });
      }
      if (apu.domain) detachDevice(k, apu.domain, apu.dev);
      apu.domain = null;
      apu.mm = null;
    });
  });
}
