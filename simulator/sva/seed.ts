// The seed 004 binding model (iommu-sva.c as posted in "[PATCH v2 03/40] iommu/sva: Manage process address
// spaces", with the io_mm allocation of the later patches so binds succeed): errors as the patch returns them.
import type { ErrnoResult } from '../core/errno';
import { errnoResult } from '../core/errno';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import type { Mm } from './mm';
import { cdTableFor, clearCd, installCd } from './tables';
import { Bond, IoMm, allocPasid, svaState } from './state';

function domainOf(dev: Device): Domain | null {
  return dev.group?.domain ?? null;
}

/** The domain's PASID table (created with entry 0 = the domain's io_pgtable). */
function tableOf(k: Kernel, d: Domain) {
  return cdTableFor(k, 'domain', d.id, d.iommu, d);
}

/** io_mm_attach: a PASID outside the device's range is -ERANGE; the first bond in a domain installs the entry. */
function attach(k: Kernel, d: Domain, dev: Device, ioMm: IoMm): 0 | ErrnoResult {
  const s = svaState(k);
  const param = s.params.get(dev)!;
  if (ioMm.pasid > param.maxPasid || ioMm.pasid < param.minPasid) return errnoResult('ERANGE');
  const attachDomain = !s.bonds.some(b => b.domain === d && b.ioMm === ioMm);
  if (attachDomain) installCd(k, tableOf(k, d), ioMm.pasid, ioMm.mm);
  s.bonds.push({ ioMm, dev, domain: d, exited: false });
  return 0;
}

function putIoMm(k: Kernel, ioMm: IoMm): void {
  const s = svaState(k);
  if (--ioMm.refs > 0) return;
  s.ioMms.delete(ioMm.pasid);          // io_mm_release: idr_remove
  s.usedPasids.delete(ioMm.pasid);
}

/** io_mm_detach_locked: the last bond of the io_mm in its domain clears the PASID entry. */
export function detachBond(k: Kernel, bond: Bond): void {
  const s = svaState(k);
  const detachDomain = !s.bonds.some(b => b !== bond && b.domain === bond.domain && b.ioMm === bond.ioMm && b.dev !== bond.dev);
  if (detachDomain && !bond.exited) clearCd(k, tableOf(k, bond.domain), bond.ioMm.pasid);
  s.bonds.splice(s.bonds.indexOf(bond), 1);
  putIoMm(k, bond.ioMm);
}

export function seedBind(k: Kernel, dev: Device, mm: Mm, flags: string[]): number | ErrnoResult {
  const s = svaState(k);
  const d = domainOf(dev);
  if (!d) return errnoResult('EINVAL');
  // The SMMU installs PASID entries only beside a stage-1 (paging) domain's own table.
  if (!d.pgtable) return errnoResult('EINVAL');
  const param = s.params.get(dev);
  if (!param) {
    k.printk('warn', `WARNING: iommu_sva_bind_device: ${dev.name} has no SVA parameters (iommu_sva_device_init was not called)`);
    return errnoResult('EINVAL');
  }
  if (flags.some(f => !param.features.includes(f))) return errnoResult('EINVAL');
  let ioMm = [...s.ioMms.values()].find(m => m.mm === mm);
  if (ioMm && s.bonds.some(b => b.ioMm === ioMm && b.dev === dev)) return errnoResult('EEXIST');
  // Identical features within an io_mm for now.
  if (ioMm && (ioMm.flags.length !== flags.length || ioMm.flags.some(f => !flags.includes(f)))) return errnoResult('EDOM');
  if (ioMm) {
    ioMm.refs++;
  } else {
    const pasid = allocPasid(s, param.minPasid, param.maxPasid);
    if (pasid < 0) return errnoResult('ENOSPC');
    ioMm = { pasid, mm, flags: flags.slice(), refs: 1 };
    s.ioMms.set(pasid, ioMm);
    s.usedPasids.add(pasid);
  }
  const r = attach(k, d, dev, ioMm);
  if (r !== 0) {
    putIoMm(k, ioMm);                     // frees a just-allocated io_mm (and its PASID) too
    return r;
  }
  return ioMm.pasid;
}

export function seedUnbind(k: Kernel, dev: Device, pasid: number): 0 | ErrnoResult {
  const s = svaState(k);
  if (!s.params.get(dev) || !domainOf(dev)) return errnoResult('EINVAL');
  const bond = s.bonds.find(b => b.dev === dev && b.ioMm.pasid === pasid);
  if (!bond) return errnoResult('ESRCH');
  detachBond(k, bond);
  return 0;
}

/** __iommu_sva_unbind_dev_all */
export function seedUnbindAll(k: Kernel, dev: Device): number {
  const s = svaState(k);
  const mine = s.bonds.filter(b => b.dev === dev);
  for (const b of mine) detachBond(k, b);
  return mine.length;
}

/**
 * The process exits: every PASID entry of its io_mm is cleared at once (the device must not keep walking a
 * dead address space), the bonds stay until their drivers unbind, and only then is the PASID freed.
 */
export function seedProcessExit(k: Kernel, mm: Mm): string[] {
  const s = svaState(k);
  const notified: string[] = [];
  for (const b of s.bonds) {
    if (b.ioMm.mm !== mm || b.exited) continue;
    clearCd(k, tableOf(k, b.domain), b.ioMm.pasid);
    b.exited = true;
    notified.push(b.dev.name);
  }
  return notified;
}
