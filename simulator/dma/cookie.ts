// The IOVA cookie of DMA-API domains (iommu_dma_init_domain), which domain a device's DMA API calls use
// (iommu_get_dma_domain), the large-page series' attach rules, and IOVA allocation with the PCI 32-bit-first
// rule (iommu_dma_alloc_iova / iommu_dma_free_iova).
import type { ErrnoName } from '../core/errno';
import { sizeLabel } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { Domain, DmaCookie, IOMMU_DOMAIN_DMA_FQ, isDmaApi, isPaging } from '../iommu/domain';
import { onDomainAttached, registerAttachVeto } from '../iommu/core';
import { initIovaDomain, isIovaRefusal, type IovaDomain } from './iova';
import { FlushQueue, fqCookies, queueIova, raiseIovaFindings } from './flush-queue';
import { DmaState, devDma, dmaState, maskLimit } from './state';

export interface IovaCookie extends DmaCookie {
  kind: 'dma-cookie';
  domain: Domain;
  iovad: IovaDomain;
  /** DMA_FQ domains: unmapped IOVAs wait here until the IOTLB is flushed */
  fq: FlushQueue | null;
  /** iommu.forcedac, read once when the cookie is made (kernel options do not change after boot) */
  forceDac: boolean;
  /** what dmaTarget returns for this cookie's domain (one object, not one per call) */
  target: { domain: Domain; cookie: IovaCookie } | null;
}

export function cookieOf(d: Domain): IovaCookie | null {
  return (d.cookie as IovaCookie | null) ?? null;
}

/**
 * iommu_dma_init_domain at attach: one IOVA domain per DMA-API domain, granule = the smallest IOMMU page,
 * base pfn 1 (pfn 0 is never handed out). Mainline BUGs in init_iova_domain when that granule is larger than
 * PAGE_SIZE; the large-page series removes the BUG and flags DMA domains with __IOMMU_DOMAIN_LP.
 */
function initDomainCookie(k: Kernel, d: Domain): void {
  if (!isDmaApi(d.type) || !isPaging(d.type) || d.cookie) return;
  if (k.cfg.large_iommu_pages) d.lp = true;
  const granule = d.granule;
  const basePfn = Math.max(1, Math.floor(d.aperture.start / granule));
  const iovad = initIovaDomain(granule, basePfn, { pageSize: k.cfg.page_size, largePages: k.cfg.large_iommu_pages });
  if (isIovaRefusal(iovad)) {
    if (iovad.bug && granule > k.cfg.page_size) {
      k.finding('pagesize-mismatch', 'error',
        `${d.typeName} domain ${d.id} on ${d.iommu.name} has ${sizeLabel(granule)} IOMMU pages but PAGE_SIZE is ${sizeLabel(k.cfg.page_size)}: ` +
        'mainline init_iova_domain BUG()s on a granule larger than PAGE_SIZE (kernel.large_iommu_pages applies the series that allows it)',
        { domain: d.id, granule, page_size: k.cfg.page_size });
    }
    if (iovad.bug) k.oops(iovad.message);
    k.printk('err', iovad.message);
    return;
  }
  iovad.initRcaches();
  const st = dmaState(k);
  const cookie: IovaCookie = { kind: 'dma-cookie', domain: d, iovad, fq: null, forceDac: st.opts.forceDac, target: null };
  cookie.target = { domain: d, cookie };
  if (d.type === IOMMU_DOMAIN_DMA_FQ) {
    cookie.fq = new FlushQueue(st.opts.fqSize, st.opts.fqTimeout);
    let set = fqCookies.get(k);
    if (!set) fqCookies.set(k, set = new Set());
    set.add(cookie);
  }
  d.cookie = cookie;
}

onDomainAttached((k, d) => initDomainCookie(k, d));

/**
 * The series' iommu_check_page_size in __iommu_attach_device: a paging domain without __IOMMU_DOMAIN_LP whose
 * smallest page is larger than PAGE_SIZE cannot be attached.
 */
registerAttachVeto((k, d): ErrnoName | null => {
  if (!k.cfg.large_iommu_pages || !isPaging(d.type)) return null;
  if (isDmaApi(d.type)) d.lp = true;
  if (d.lp || d.granule <= k.cfg.page_size) return null;
  k.printk('warn', 'IOMMU page size cannot represent CPU pages.');
  k.finding('pagesize-mismatch', 'error',
    `attach of ${d.id} (${d.typeName}, ${sizeLabel(d.granule)} pages) refused with -EFAULT: with ${sizeLabel(k.cfg.page_size)} CPU pages ` +
    'only DMA domains (flagged __IOMMU_DOMAIN_LP) may use a larger IOMMU page size', { domain: d.id, granule: d.granule });
  return 'EFAULT';
});

export type DmaTarget = { domain: Domain; cookie: IovaCookie } | null;

/**
 * iommu_get_dma_domain(): the domain dma-iommu maps into, or null when the device uses dma-direct (no IOMMU,
 * a refused IOMMU, no or identity default domain). From 4.20 that is the group's default domain whatever the
 * device is attached to now; 4.19 used the current domain and dereferenced its (possibly NULL) cookie.
 */
export function dmaTarget(k: Kernel, dev: Device, fn: string, st: DmaState | null = null): DmaTarget {
  const inst = dev.iommu;
  const g = dev.group;
  if (!inst || inst.refusal || !dev.probed || !g) return null;
  const def = g.defaultDomain;
  if (!def || !isDmaApi(def.type)) {
    if (g.domain && def && g.domain !== def) warnMismatch(k, dev, def, g.domain, fn);
    return null;
  }
  // attached to its default domain (the usual case) the version does not matter
  const d = !g.domain || g.domain === def || (st ?? dmaState(k)).usesDefaultDomain ? def : g.domain;
  const cookie = cookieOf(d);
  if (!cookie) {
    k.printk('err', '[0000000000000038] user address but active_mm is swapper');
    k.printk('err', 'Internal error: Oops: 96000005 [#1] PREEMPT SMP');
    k.printk('err', `pc : ${fn}`);
    k.finding('null-iova-cookie', 'error',
      `${fn} on ${dev.name}: the device is attached to ${d.id} (${d.typeName}), which has no IOVA cookie; before 4.20 ` +
      'dma-iommu used the current domain, so a driver-owned domain plus DMA API calls dereference NULL', { dev: dev.name, domain: d.id });
    k.oops(`Unable to handle kernel NULL pointer dereference at virtual address 0000000000000038: ${fn} on ${dev.name} (${d.id} has no iova_cookie)`);
  }
  if (g.domain && g.domain !== d) warnMismatch(k, dev, d, g.domain, fn);
  return cookie.target ?? { domain: d, cookie };
}

function warnMismatch(k: Kernel, dev: Device, used: Domain, current: Domain, fn: string): void {
  const dd = devDma(dev);
  if (dd.mismatchWarned === current.id) return;
  dd.mismatchWarned = current.id;
  k.finding('dma-domain-mismatch', 'warning',
    `${fn} on ${dev.name} uses its default domain ${used.id} (${used.typeName}) but the device is attached to ${current.id} ` +
    `(${current.typeName}): the device translates through ${current.id}, so addresses from the DMA API do not reach what was mapped`,
    { dev: dev.name, dmaDomain: used.id, attached: current.id });
}

/** bits_per(n): the number of bits needed to hold n. */
export function bitsPer(n: number): number {
  return n <= 1 ? 1 : Math.floor(Math.log2(n)) + 1;
}

const DMA_BIT_MASK_32 = 2 ** 32 - 1;

/**
 * iommu_dma_alloc_iova: size bytes (a multiple of the granule) below min(mask, aperture end). PCI devices try
 * the 32-bit space first; the first time that fails they print `Using %d-bit DMA addresses` and stop trying.
 * Returns the IOVA or 0.
 */
export function allocIova(k: Kernel, dev: Device, d: Domain, cookie: IovaCookie, size: number, maskBits: number): number {
  const iovad = cookie.iovad;
  const g = iovad.granule;
  const pages = size / g;
  if (pages < 1) {
    // a zero-length mapping: the kernel has no check and would insert an empty range; refuse it visibly
    k.printk('warn', `WARNING: drivers/iommu/dma-iommu.c: iommu_dma_alloc_iova: zero-length mapping`, dev.name);
    return 0;
  }
  const limit = Math.min(maskLimit(maskBits), d.aperture.end);
  if (limit > DMA_BIT_MASK_32 && dev.spec.bus === 'pci' && !dev.loggedDmaBits && !cookie.forceDac) {
    const r = iovad.allocIovaFast(pages, Math.floor(DMA_BIT_MASK_32 / g), false);
    if (r.findings.length) raiseIovaFindings(k, r.findings);
    if (r.pfn !== null) return r.pfn * g;
    dev.loggedDmaBits = true;
    k.printk('info', `Using ${bitsPer(limit)}-bit DMA addresses`, dev.name);
  }
  const r = iovad.allocIovaFast(pages, Math.floor(limit / g), true);
  if (r.findings.length) raiseIovaFindings(k, r.findings);
  if (r.oops) k.oops(r.oops);
  return r.pfn === null ? 0 : r.pfn * g;
}

/** iommu_dma_free_iova: into the flush queue (lazy unmap) or straight back to the rcache. */
export function freeIova(k: Kernel, cookie: IovaCookie, iova: number, size: number, queued: boolean, api: string, dev: string): void {
  const g = cookie.iovad.granule;
  if (queued && cookie.fq) {
    queueIova(k, cookie, iova, size, { api, dev });
    return;
  }
  const r = cookie.iovad.freeIovaFast(Math.floor(iova / g), Math.max(1, size / g));
  if (r.findings.length) raiseIovaFindings(k, r.findings);
  if (r.oops) k.oops(r.oops);
}
