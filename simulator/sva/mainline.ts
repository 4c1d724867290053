// Today's binding model (drivers/iommu/iommu-sva.c since 6.4): mm->pasid comes from one global space
// [1, max_pasid] and stays with the mm until it is torn down; a PASID is attached to the device's whole group
// (iommu_attach_device_pasid) with a user count, so a second bind of the same device and mm takes a
// reference; arm-smmu-v3 writes the entry into the CD table of every master of the group.
import type { ErrnoResult } from '../core/errno';
import { errnoResult } from '../core/errno';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Mm } from './mm';
import { cdTableFor, clearCd, installCd } from './tables';
import { allocPasid, svaState } from './state';

function masterTable(k: Kernel, dev: Device) {
  return cdTableFor(k, 'device', dev.name, dev.iommu!, dev.group?.domain ?? null);
}

export function mainlineBind(k: Kernel, dev: Device, mm: Mm): number | ErrnoResult {
  const s = svaState(k);
  const param = s.params.get(dev);
  if (!param) return errnoResult('ENODEV');              // SVA not enabled on the master
  const g = dev.group;
  if (!g?.domain?.pgtable) return errnoResult('EINVAL');
  // iommu_sva_alloc_pasid: an mm keeps the PASID it got first; a device that cannot emit it is -EOVERFLOW.
  if (mm.pasid !== null) {
    if (mm.pasid > param.maxPasid) return errnoResult('EOVERFLOW');
  } else {
    const pasid = allocPasid(s, 1, param.maxPasid);
    if (pasid < 0) return errnoResult('ENOSPC');
    mm.pasid = pasid;
    s.usedPasids.add(pasid);
  }
  const pasid = mm.pasid;
  const att = s.attachments.find(a => a.groupId === g.id && a.pasid === pasid);
  if (att) {
    att.users++;
  } else {
    for (const member of g.devices) installCd(k, masterTable(k, member), pasid, mm);
    s.attachments.push({ groupId: g.id, pasid, mm, users: 1 });
  }
  s.handles.push({ dev, mm, pasid });
  return pasid;
}

/** The mm is freed once it has exited and nothing holds it: mm_pasid_drop returns its PASID. */
function maybeDropPasid(k: Kernel, mm: Mm): void {
  const s = svaState(k);
  if (!mm.exited || mm.pasid === null || s.handles.some(h => h.mm === mm)) return;
  s.usedPasids.delete(mm.pasid);
  mm.pasid = null;
}

/** iommu_sva_unbind_device on the device's handle for `pasid` (the real call takes the handle and cannot fail). */
export function mainlineUnbind(k: Kernel, dev: Device, pasid: number): 0 | ErrnoResult {
  const s = svaState(k);
  const i = s.handles.findIndex(h => h.dev === dev && h.pasid === pasid);
  if (i < 0) return errnoResult('ESRCH');
  const h = s.handles[i];
  s.handles.splice(i, 1);
  const g = dev.group;
  const att = g ? s.attachments.find(a => a.groupId === g.id && a.pasid === pasid) : undefined;
  if (att && --att.users === 0) {
    if (!h.mm.exited) for (const member of g!.devices) clearCd(k, masterTable(k, member), pasid);
    s.attachments.splice(s.attachments.indexOf(att), 1);
  }
  maybeDropPasid(k, h.mm);
  return 0;
}

export function mainlineUnbindAll(k: Kernel, dev: Device): number {
  const mine = svaState(k).handles.filter(h => h.dev === dev);
  for (const h of mine) mainlineUnbind(k, dev, h.pasid);
  return mine.length;
}

/** exit_mmap: the SMMU's mm release notifier takes the PASID entries down at once; bonds wait for unbind. */
export function mainlineProcessExit(k: Kernel, mm: Mm): string[] {
  const s = svaState(k);
  const notified: string[] = [];
  for (const att of s.attachments) {
    if (att.mm !== mm) continue;
    const g = k.groups[att.groupId];
    for (const member of g.devices) {
      clearCd(k, masterTable(k, member), att.pasid);
      notified.push(member.name);
    }
  }
  maybeDropPasid(k, mm);
  return notified;
}
