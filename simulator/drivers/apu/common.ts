// Pieces both APU variants use: errno plumbing, GEM creation, handle lookup, and the device running a job
// (the APU firmware reading every buffer of the job at the device address the driver gave it).
import type { ErrnoName, ErrnoResult } from '../../core/errno';
import { alignUp, hex } from '../../core/format';
import type { Kernel } from '../../kernel';
import { deviceAccess } from '../../iommu/access';
import { IOMMU_DOMAIN_IDENTITY } from '../../iommu/domain';
import type { Device } from '../../iommu/device';
import { allocSegments, segmentPhys, withSite } from '../common/registry';
import { ApuDriver, ApuGem, ApuJob } from './state';

export type Ret = 0 | ErrnoName;

export function errnoName(r: ErrnoResult): ErrnoName {
  return r.slice(1) as ErrnoName;
}

/**
 * GEM creation, apu_gem_new. The posted driver makes a DMA GEM object whose apu_obj->size is the size asked
 * for; the reviewed one a shmem object of PAGE_ALIGN(size) (drm_gem_shmem_create rounds up). `lengths` is
 * the page list get_sg_table will return: one physically contiguous run per entry.
 */
export function gemNew(k: Kernel, apu: ApuDriver, size: number, lengths: number[] | undefined): ApuGem | ErrnoName {
  return withSite(k, apu.site('apu_gem_new'), () => {
    const dev = apu.dev.name;
    const P = k.cfg.page_size;
    if (size === 0) {
      if (apu.variant === 'reviewed') return 'EINVAL';
      k.printk('err', 'failed to allocate buffer with size 0', dev);
      return 'ENOMEM';
    }
    const handle = apu.nextHandle;
    let lens = lengths ?? [size];
    if (apu.variant === 'reviewed') lens = lens.map((l, i) => (i === lens.length - 1 ? alignUp(l, P) : l));
    const segs = allocSegments(k, lens, i => `${dev} GEM ${handle}${lens.length > 1 ? ` segment ${i}` : ''}`);
    if (!segs) {
      k.printk('err', `failed to allocate buffer with size ${size}`, dev);
      return 'ENOMEM';
    }
    apu.nextHandle++;
    const gem: ApuGem = {
      handle, size, objSize: apu.variant === 'reviewed' ? alignUp(size, P) : size, segs, refcount: 0, sgtHeld: false,
      iova: 0, iovaPfn: null, iovaPages: 0, node: null, mappings: [],
    };
    apu.gems.set(handle, gem);
    return gem;
  });
}

/**
 * drm_gem_objects_lookup for `count` handles of which userspace passed `given`: reading past the user's
 * array is -EFAULT, an unknown handle -ENOENT.
 */
export function lookupHandles(apu: ApuDriver, handles: readonly number[], count: number): ApuGem[] | ErrnoName {
  if (count > handles.length) return 'EFAULT';
  const out: ApuGem[] = [];
  for (const h of handles.slice(0, count)) {
    const g = apu.gems.get(h);
    if (!g) return 'ENOENT';
    out.push(g);
  }
  return out;
}

/** The device address of `addr` as the device's IOMMU translates it now, without recording anything; -1 if none. */
function translateQuiet(dev: Device, addr: number): number {
  const d = dev.iommu && !dev.iommu.refusal ? dev.group?.domain ?? null : null;
  if (!d || d.type === IOMMU_DOMAIN_IDENTITY) return addr;
  if (!d.pgtable) return -1;
  const pa = d.pgtable.iovaToPhys(addr);
  return pa === 0 ? -1 : pa;
}

/**
 * The job runs: the device reads every buffer at the address it was given. A fault is the IOMMU's; a
 * translation that succeeds but lands outside the buffer's own pages is `wrong-translation`.
 */
export function runJob(k: Kernel, apu: ApuDriver, job: ApuJob): number {
  let faults = 0;
  job.bos.forEach((bo, i) => {
    const addr = job.addrs[i];
    const r = deviceAccess(k, apu.dev, addr, bo.objSize, 'read');
    if (!r.ok) { faults++; return; }
    const step = Math.max(apu.granule || k.cfg.page_size, 1);
    for (let off = 0; off < bo.objSize; off += step) {
      const want = segmentPhys(bo.segs, off);
      const got = translateQuiet(apu.dev, addr + off);
      if (want >= 0 && got !== want) {
        k.finding('wrong-translation', 'error',
          `${apu.dev.name} job ${job.id} reads GEM ${bo.handle} at ${hex(addr)}: offset ${hex(off)} translates to ${k.describeAddr(got)} ` +
          `instead of the object's own page ${hex(want)}`, { dev: apu.dev.name, handle: bo.handle, iova: addr + off, paddr: got, expected: want });
        break;
      }
    }
  });
  return faults;
}
