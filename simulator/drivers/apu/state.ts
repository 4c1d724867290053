// The APU accelerator driver's state (seed 000): one instance per device bound by `apu.probe`, its GEM
// objects (handles as userspace sees them), its jobs, and the IOMMU resources of the variant it runs.
import { hex } from '../../core/format';
import type { Device } from '../../iommu/device';
import type { Domain } from '../../iommu/domain';
import type { IovaDomain } from '../../dma/iova';
import type { DrmMm, MmNode } from '../common/drm-mm';
import type { DriverMapping, Segment } from '../common/registry';

export const APU_VARIANTS = ['as_posted', 'reviewed'] as const;
export type ApuVariant = typeof APU_VARIANTS[number];

/** The example driver sources the sites name (examples/drivers/). */
export const APU_FILE: Record<ApuVariant, string> = { as_posted: 'apu_gem.c', reviewed: 'apu_gem_reviewed.c' };

/** APU_MAX_BOS_PER_CALL of the reviewed driver: the bound the posted one lacks. */
export const APU_MAX_BOS_PER_CALL = 256;

export interface ApuGem {
  handle: number;
  /** args->size as userspace gave it */
  size: number;
  /** what the GEM object really holds: size (DMA GEM) or PAGE_ALIGN(size) (shmem GEM) */
  objSize: number;
  segs: Segment[];
  refcount: number;
  /** the IOMMU state: the page list is held while mapped (iommu_sgt / sgt) */
  sgtHeld: boolean;
  /** apu_obj->iova as the driver stores it (a u32 in the posted driver) */
  iova: number;
  /** the IOVA range alloc_iova_fast reserved (posted driver) */
  iovaPfn: number | null;
  iovaPages: number;
  /** the drm_mm node (reviewed driver) */
  node: MmNode | null;
  mappings: DriverMapping[];
}

export interface ApuJob { id: number; bos: ApuGem[]; addrs: number[]; done: boolean }

export class ApuDriver {
  domain: Domain | null = null;
  iovad: IovaDomain | null = null;
  limitPfn = 0;
  mm: DrmMm | null = null;
  granule = 0;
  readonly gems = new Map<number, ApuGem>();
  readonly jobs = new Map<number, ApuJob>();
  nextHandle = 1;
  nextJob = 1;
  /** apu_remove ran: only completions of jobs still in flight reach the driver now */
  removed = false;

  constructor(readonly dev: Device, readonly variant: ApuVariant, readonly iovaBase: number, readonly iovaSize: number) {}

  site(fn: string): string {
    return `${APU_FILE[this.variant]}:${fn}`;
  }

  view(): Record<string, unknown> {
    return {
      driver: 'apu', variant: this.variant, domain: this.domain?.id ?? null,
      iova_window: { start: hex(this.iovaBase), end: hex(this.iovaBase + this.iovaSize - 1) },
      ...(this.iovad ? { iovad: { granule: this.iovad.granule, limit_pfn: this.limitPfn } } : {}),
      ...(this.mm ? { drm_mm: this.mm.list().map(n => ({ start: hex(n.start), size: n.size })) } : {}),
      objects: [...this.gems.values()].map(g => ({
        handle: g.handle, size: g.size, refcount: g.refcount, iova: g.refcount ? hex(g.iova) : null,
        segments: g.segs.map(s => ({ paddr: hex(s.paddr), len: s.len, buffer: s.buf.id })),
      })),
      jobs: [...this.jobs.values()].map(j => ({ id: j.id, handles: j.bos.map(b => b.handle), done: j.done })),
    };
  }
}

export function apuDriver(dev: Device): ApuDriver | undefined {
  return dev.ext.apu as ApuDriver | undefined;
}
