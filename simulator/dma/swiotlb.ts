// The bounce-buffer pool (kernel/dma/swiotlb.c): a contiguous region cut into IO_TLB_SIZE (2 KiB) slots.
// dma-iommu bounces untrusted devices' unaligned buffers through slots aligned to the IOVA granule so the
// mapped granules hold nothing but the bounced data and zeroed padding; dma-direct bounces buffers a device
// cannot reach. Departures: the pool is carved from the page allocator on first use (the kernel reserves it
// at boot), is 4 MiB by default (kernel.options.swiotlb_size; the kernel's default is 64 MiB) and holds no data.
//
// kernel.options.swiotlb_v2_misaligned_slot reproduces the large-page v2 series (Aug 2021): slots were only
// PAGE_SIZE aligned, so a 16 KiB slot could start 4 KiB into an IOMMU page and the mapping of that page
// exposed the neighbouring slots (fixed in v3 with swiotlb's alloc_align_mask).
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { CpuBuffer } from '../platform/memory';
import { BounceSlot, alignUpTo, dmaState } from './state';

export const IO_TLB_SIZE = 2048;

export class SwiotlbPool {
  readonly used: Uint8Array;
  readonly nslots: number;
  index = 0;
  usedSlots = 0;
  nextId = 1;
  /** live slots by start address */
  readonly slots = new Map<number, BounceSlot>();
  constructor(readonly base: number, readonly size: number) {
    this.nslots = size / IO_TLB_SIZE;
    this.used = new Uint8Array(this.nslots);
  }
  contains(phys: number): boolean { return phys >= this.base && phys < this.base + this.size; }
}

const pools = new WeakMap<Kernel, SwiotlbPool | null>();

/** is_swiotlb_active: the pool, allocated on first use; null when swiotlb is off or memory is short. */
export function swiotlbPool(k: Kernel): SwiotlbPool | null {
  if (!k.cfg.swiotlb) return null;
  let p = pools.get(k);
  if (p !== undefined) return p;
  const st = dmaState(k);
  const pageSize = k.cfg.page_size;
  const order = Math.round(Math.log2(st.opts.swiotlbSize / pageSize));
  const pfn = k.mem.buddy.alloc(order);
  if (pfn === null) {
    k.printk('err', 'software IO TLB: Cannot allocate buffer');
    p = null;
  } else {
    // The v2 series' pool start was only page aligned: model it one page into a larger-aligned block.
    const skew = st.opts.v2Slot !== 'off' ? pageSize : 0;
    p = new SwiotlbPool(pfn * pageSize + skew, st.opts.swiotlbSize - skew);
    k.printk('info', `software IO TLB: area num 1.`);
    k.printk('info', `software IO TLB: mapped [mem ${hex(p.base)}-${hex(p.base + p.size - 1)}] (${p.size / 1048576}MB)`);
  }
  pools.set(k, p);
  return p;
}

export function isSwiotlbBuffer(k: Kernel, phys: number): boolean {
  const p = pools.get(k);
  return !!p && p.contains(phys);
}

/** First free run of `n` slots whose start is `align`-aligned, searching from the rotating index. */
function findSlots(p: SwiotlbPool, n: number, align: number): number {
  const stride = Math.max(1, align / IO_TLB_SIZE);
  const aligned = (i: number) => (p.base + i * IO_TLB_SIZE) % align === 0;
  for (let pass = 0; pass < 2; pass++) {
    const from = pass === 0 ? p.index : 0;
    const to = pass === 0 ? p.nslots : p.index;
    let i = from;
    while (i < to && !aligned(i)) i++;
    for (; i + n <= p.nslots && i < to; i += stride) {
      if (!aligned(i)) continue;
      let ok = true;
      for (let j = 0; j < n; j++) if (p.used[i + j]) { ok = false; break; }
      if (ok) return i;
    }
  }
  return -1;
}

/**
 * swiotlb_tbl_map_single: a slot of `bytes` aligned to `align` for `size` bytes of `orig`. Null (and the
 * kernel's rate-limited warning) when the pool is full.
 */
export function swiotlbMap(k: Kernel, dev: Device, orig: number, size: number, bytes: number, align: number): BounceSlot | null {
  const p = swiotlbPool(k);
  if (!p) return null;
  const pageSize = k.cfg.page_size;
  const st = dmaState(k);
  const slotAlign = st.opts.v2Slot !== 'off' ? Math.max(IO_TLB_SIZE, bytes >= pageSize ? pageSize : IO_TLB_SIZE)
    : Math.max(align, IO_TLB_SIZE, bytes >= pageSize ? pageSize : IO_TLB_SIZE);
  const n = alignUpTo(bytes, IO_TLB_SIZE) / IO_TLB_SIZE;
  const i = findSlots(p, n, slotAlign);
  if (i < 0) {
    k.printk('warn', `swiotlb buffer is full (sz: ${size} bytes), total ${p.nslots} (slots), used ${p.usedSlots} (slots)`, dev.name);
    return null;
  }
  for (let j = 0; j < n; j++) p.used[i + j] = 1;
  p.usedSlots += n;
  p.index = (i + n) % p.nslots;
  const phys = p.base + i * IO_TLB_SIZE;
  const buf: CpuBuffer = {
    id: `swiotlb${p.nextId++}`, kind: 'swiotlb', paddr: phys, size: n * IO_TLB_SIZE,
    owner: `bounce of ${hex(orig)} (${size} bytes) for ${dev.name}, step ${k.step}`, freed: false,
  };
  k.mem.track(buf);
  const slot: BounceSlot = { phys, bytes: n * IO_TLB_SIZE, orig, size, buf };
  p.slots.set(phys, slot);
  return slot;
}

/** swiotlb_tbl_unmap_single: releases the slot starting at phys (or containing it). */
export function swiotlbUnmap(k: Kernel, phys: number): BounceSlot | null {
  const p = pools.get(k);
  if (!p || !p.contains(phys)) return null;
  let slot = p.slots.get(phys);
  if (!slot) for (const s of p.slots.values()) if (phys >= s.phys && phys < s.phys + s.bytes) { slot = s; break; }
  if (!slot) return null;
  const i = (slot.phys - p.base) / IO_TLB_SIZE;
  const n = slot.bytes / IO_TLB_SIZE;
  for (let j = 0; j < n; j++) p.used[i + j] = 0;
  p.usedSlots -= n;
  p.slots.delete(slot.phys);
  k.mem.untrack(slot.buf);
  return slot;
}

/** trace_swiotlb_bounced (include/trace/events/swiotlb.h). */
export function traceBounced(k: Kernel, dev: Device, dma: number, size: number): void {
  if (k.tracing) k.tracepoint('swiotlb_bounced', `dev_name=${dev.name} dma_addr=${dma.toString(16)} size=${size}`);
}
