// Lazy invalidation (DMA_FQ domains, dma-iommu's flush queue): an unmap clears the page-table entries but
// leaves the IOTLB alone; the IOVA waits in a ring of IOVA_DEFAULT_FQ_SIZE entries until an IOTLB flush of
// the whole domain, which happens when the ring is full or when the timer (10 ms in the kernel, a number of
// steps here) fires. Until then the IOTLB may still translate the unmapped range: the simulator marks those
// entries stale, and a device access through one is reported as `stale-iotlb-access`.
import { hex, sizeLabel } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { onDeviceAccess } from '../iommu/access';
import { onAfterStep } from '../runner/hooks';
import type { IovaCookie } from './cookie';
import type { IovaFinding } from './iova-findings';

/** Domains with a flush queue, for the timer. */
export const fqCookies = new WeakMap<Kernel, Set<IovaCookie>>();

/** Findings of the IOVA allocator stamped with the current step; a kernel WARN also goes to the log. */
export function raiseIovaFindings(k: Kernel, fs: readonly IovaFinding[]): void {
  for (const f of fs) {
    if (f.message.startsWith('WARNING:')) k.printk('warn', f.message);
    k.finding(f.code, f.severity, f.message, f.data);
  }
}

export interface FqEntry { iova: number; size: number; step: number; api: string; dev: string; reported: number }

export class FlushQueue {
  readonly entries: FqEntry[] = [];
  /** step at whose end the timer fires; -1 when it is not armed */
  timerStep = -1;
  flushes = 0;
  constructor(readonly size: number, readonly timeout: number) {}

  /** fq_full: a ring of `size` slots holds size - 1 entries */
  get full(): boolean { return this.entries.length >= this.size - 1; }
}

/** fq_flush_iotlb + fq_ring_free: one flush_iotlb_all, then every queued IOVA goes back to the allocator. */
export function flushQueue(k: Kernel, cookie: IovaCookie, reason: string): number {
  const fq = cookie.fq;
  if (!fq) return 0;
  const d = cookie.domain;
  fq.flushes++;
  d.iommu.model.flushAll(d.iommu.iotlb, d, reason);
  const n = fq.entries.length;
  const g = cookie.iovad.granule;
  for (const e of fq.entries) {
    const r = cookie.iovad.freeIovaFast(Math.floor(e.iova / g), Math.max(1, e.size / g));
    if (r.findings.length) raiseIovaFindings(k, r.findings);
  }
  fq.entries.length = 0;
  return n;
}

/** queue_iova: free what a previous flush covered, flush when full, append, arm the timer. */
export function queueIova(k: Kernel, cookie: IovaCookie, iova: number, size: number, why: { api: string; dev: string }): void {
  const fq = cookie.fq!;
  if (fq.full) flushQueue(k, cookie, 'flush queue full');
  fq.entries.push({ iova, size, step: k.step, api: why.api, dev: why.dev, reported: -1 });
  if (fq.timerStep < 0) fq.timerStep = k.step + fq.timeout;
}

/** The flush_queue op: what fq_flush_timeout does, now. Returns the number of IOVAs released. */
export function flushQueueNow(k: Kernel, cookie: IovaCookie): number {
  if (!cookie.fq) return 0;
  cookie.fq.timerStep = -1;
  return flushQueue(k, cookie, 'flush queue (explicit)');
}

// fq_flush_timeout: the timer fires at the end of the step it was armed for.
onAfterStep(k => {
  const set = fqCookies.get(k);
  if (!set) return;
  for (const c of set) {
    const fq = c.fq!;
    if (fq.timerStep >= 0 && k.step >= fq.timerStep) {
      fq.timerStep = -1;
      flushQueue(k, c, 'flush queue timeout');
    }
  }
});

function queuedEntryAt(cookie: IovaCookie, addr: number): FqEntry | undefined {
  return cookie.fq?.entries.find(e => addr >= e.iova && addr < e.iova + e.size);
}

/** A successful access through an IOTLB entry whose page-table entry is gone. */
function reportStale(k: Kernel, dev: Device, addr: number, size: number, access: 'read' | 'write', paddr: number): void {
  const d = dev.group?.domain;
  if (!d) return;
  const cookie = d.cookie as IovaCookie | null;
  const e = cookie ? queuedEntryAt(cookie, addr) : undefined;
  if (e) {
    if (e.reported === k.step) return;      // one finding per queued range and step
    e.reported = k.step;
  }
  const owner = k.mem.bufferContaining(paddr);
  k.finding('stale-iotlb-access', 'error',
    `${dev.name} ${access === 'write' ? 'wrote' : 'read'} ${sizeLabel(Math.max(1, size))} at ${hex(addr)} through a stale IOTLB entry ` +
    `to ${hex(paddr)}${owner ? ` (${owner.id}, ${owner.owner})` : ''}: ` +
    (e ? `the range was unmapped by ${e.api} at step ${e.step} but ${d.id} is lazy (DMA_FQ) and the flush queue has not been flushed yet`
      : `the range is no longer mapped in ${d.id} but the IOTLB was not invalidated`),
    { dev: dev.name, iova: addr, paddr, domain: d.id, ...(e ? { unmappedAtStep: e.step } : {}) });
}

onDeviceAccess((k, dev, addr, size, access, r, recorded) => {
  if (recorded && r.ok && r.stale) reportStale(k, dev, addr, size, access, r.paddr);
});
