// The IOMMU core (drivers/iommu/iommu.c): IOMMU driver probe, device probe into groups, default domains,
// domain allocation, attach and detach, with the kernel's return values and tracepoints.
import { ErrnoName, ErrnoResult, errnoResult } from '../core/errno';
import { sizeLabel } from '../core/format';
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import { Device, Group } from './device';
import {
  DOMAIN_TYPES, Domain, DomainTypeName, IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, isDmaApi, isPaging,
} from './domain';
import type { IommuInstance, Refusal } from './instance';
import { PageTable } from './pgtable';
import { formatPageSizes } from './pte-format';

/** What a step shows for a domain: JSON-able, and accepted back as a `domain:` argument. */
export interface DomainHandle { id: string; type: DomainTypeName; iommu: string; granule: number }

export function domainHandle(d: Domain): DomainHandle {
  return { id: d.id, type: d.typeName, iommu: d.iommu.name, granule: d.granule };
}

/** Layers that need to know when a domain is attached (the DMA layer sets up its IOVA cookie). */
export type AttachHook = (k: Kernel, domain: Domain, dev: Device) => void;
const attachHooks: AttachHook[] = [];
export function onDomainAttached(h: AttachHook): void { attachHooks.push(h); }

/**
 * Layers that may veto an attach after the IOMMU driver accepted it (the large-page series' page-size
 * check in __iommu_attach_device). A veto prints its own message and returns the errno; null lets it pass.
 */
export type AttachVeto = (k: Kernel, domain: Domain, dev: Device) => ErrnoName | null;
const attachVetoes: AttachVeto[] = [];
export function registerAttachVeto(v: AttachVeto): void { attachVetoes.push(v); }
function vetoAttach(k: Kernel, d: Domain, dev: Device): ErrnoName | null {
  for (const v of attachVetoes) {
    const errno = v(k, d, dev);
    if (errno) return errno;
  }
  return null;
}

function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'errno' in x && 'message' in x;
}

/** The IOMMU drivers' own probe, once at boot, in platform order. */
export function bootIommus(k: Kernel): void {
  for (const inst of k.iommus.values()) {
    const { log, refusal } = inst.model.probe(k.cfg);
    for (const line of log) k.printk(refusal ? 'err' : 'info', line, inst.name);
    inst.refusal = refusal ?? null;
    inst.probed = !refusal;
  }
}

/** iommu_domain_alloc / iommu_paging_domain_alloc and the core's own default-domain allocation. */
export function allocDomain(k: Kernel, inst: IommuInstance, type: number): Domain | Refusal {
  const cfg = inst.model.config;
  if (type === IOMMU_DOMAIN_IDENTITY && !cfg.bypass) {
    return { errno: 'EOPNOTSUPP', message: `${inst.name}: hardware cannot bypass translation: no identity domain` };
  }
  let pgtable: PageTable | null = null;
  let bitmap: number[] = [];
  const id = k.newDomainId();
  if (isPaging(type)) {
    const fmt = inst.model.createFormat(type, k.cfg);
    if (isRefusal(fmt)) return fmt;
    try {
      pgtable = new PageTable(fmt, k.tableAllocator(`io-pgtable ${id}`), k.bus, id,
        { splitBlocks: k.cfg.options.arm_lpae_split_blocks === true });
    } catch {
      return { errno: 'ENOMEM', message: 'no memory for the page-table root' };
    }
    const sizes = formatPageSizes(fmt);
    bitmap = cfg.pgsizeBitmap.filter(s => sizes.includes(s));
  }
  const aperture = { start: 0, end: 2 ** (pgtable?.fmt.ias ?? cfg.ias) - 1 };
  const d = new Domain(id, type, inst, pgtable, bitmap, aperture, k.step);
  k.domains.set(id, d);
  return d;
}

function groupFor(k: Kernel, dev: Device, inst: IommuInstance): Group | Refusal {
  const label = dev.spec.group ?? null;
  const chosen = inst.model.deviceGroup?.(dev, k.groups);
  if (chosen !== undefined && chosen !== 'new') return chosen;
  if (label !== null && chosen === undefined) {
    const existing = k.groups.find(g => g.label === label);
    if (existing) {
      if (existing.iommu !== inst) {
        return { errno: 'EINVAL', message: `group '${label}' spans ${existing.iommu.name} and ${inst.name}` };
      }
      return existing;
    }
  }
  const g = new Group(k.groups.length, inst, label);
  k.groups.push(g);
  return g;
}

/** Switches a group to a domain: every device's streams now translate through it. */
function setGroupDomain(k: Kernel, g: Group, d: Domain, dev?: Device): void {
  const old = g.domain;
  // A device joining a group that already has a domain is attached to it too (iommu_group_add_device).
  if (old === d && !dev) return;
  if (old && old !== d) {
    old.groups.delete(g.id);
    // Streams now point elsewhere: the old domain's cached translations for them are dropped.
    old.iommu.model.flushAll(old.iommu.iotlb, old, 'domain switch');
  }
  g.domain = d;
  d.groups.add(g.id);
  for (const member of dev ? [dev] : g.devices) {
    g.iommu.model.onAttach?.(d, member);
    if (k.tracing) k.tracepoint('attach_device_to_domain', tp.attachDeviceToDomain(member.name));
    for (const h of attachHooks) h(k, d, member);
  }
}

/** probe: the device joins (or creates) its group and gets the group's default domain. */
export function probeDevice(k: Kernel, dev: Device): DomainHandle | ErrnoResult | null {
  if (dev.probed) return errnoResult('EBUSY');
  const inst = dev.iommu;
  if (!inst) {
    dev.probed = true;
    return null;       // no IOMMU: dma-direct
  }
  if (inst.refusal) {
    // The IOMMU driver did not bind; the device probes without translation after the deferral times out.
    k.printk('warn', `deferred probe timeout, ignoring dependency on ${inst.name}`, dev.name);
    dev.probed = true;
    return errnoResult('ENODEV');
  }
  const g = groupFor(k, dev, inst);
  if (isRefusal(g)) {
    if (g.message) k.printk('err', g.message, dev.name);
    return errnoResult(g.errno);
  }
  dev.group = g;
  g.devices.push(dev);
  k.printk('info', `Adding to iommu group ${g.id}`, dev.name);
  if (k.tracing) k.tracepoint('add_device_to_group', tp.addDeviceToGroup(g.id, dev.name));
  dev.probed = true;
  if (g.domain) {
    setGroupDomain(k, g, g.domain, dev);
    return domainHandle(g.domain);
  }
  const type = inst.model.defaultDomainType(dev, k.cfg);
  if (type === null) return null;        // no default domain: the driver sets one up (or DMA goes untranslated)
  if (isRefusal(type)) {
    if (type.message) k.printk('err', type.message, dev.name);
    return errnoResult(type.errno);
  }
  const d = allocDomain(k, inst, type);
  if (isRefusal(d)) {
    k.printk('err', d.message, dev.name);
    return errnoResult(d.errno);
  }
  const refused = inst.model.attachCheck(d, dev, k.cfg);
  if (refused) {
    if (refused.message) k.printk('err', refused.message, dev.name);
    return errnoResult(refused.errno);
  }
  const vetoed = vetoAttach(k, d, dev);
  if (vetoed) return errnoResult(vetoed);
  g.defaultDomain = d;
  setGroupDomain(k, g, d, dev);
  if (isPaging(type) && isDmaApi(type)) {
    k.printk('info', `${inst.name}: default domain type ${d.typeName}, granule ${sizeLabel(d.granule)}`, dev.name);
  }
  return domainHandle(d);
}

/** Layers that must act when a driver unbinds (dma-debug's pending-mapping check runs before the device leaves). */
export type RemoveHook = (k: Kernel, dev: Device) => void;
const removeHooks: RemoveHook[] = [];
export function onDeviceRemove(h: RemoveHook): void { removeHooks.push(h); }

/** remove: the device leaves its group; an empty group releases its domains. */
export function removeDevice(k: Kernel, dev: Device): number | ErrnoResult {
  if (!dev.probed) return errnoResult('ENODEV');
  for (const h of removeHooks) h(k, dev);
  const g = dev.group;
  dev.probed = false;
  if (!g) return 0;
  g.devices.splice(g.devices.indexOf(dev), 1);
  if (k.tracing) k.tracepoint('remove_device_from_group', tp.removeDeviceFromGroup(g.id, dev.name));
  dev.group = null;
  if (g.devices.length === 0 && g.domain) {
    g.domain.groups.delete(g.id);
    g.domain.iommu.model.flushAll(g.domain.iommu.iotlb, g.domain, 'group released');
  }
  return 0;
}

/** iommu_attach_device: single-device groups only; -EBUSY when a non-default domain is already attached. */
export function attachDevice(k: Kernel, d: Domain, dev: Device): number | ErrnoResult {
  const g = dev.group;
  if (!g) return errnoResult('ENODEV');
  if (g.devices.length !== 1) return errnoResult('EINVAL');
  if (g.domain && g.domain !== g.defaultDomain && g.domain !== g.blockingDomain) {
    return g.domain === d ? 0 : errnoResult('EBUSY');
  }
  if (d.iommu !== g.iommu) {
    k.printk('err', `cannot attach to ${d.iommu.name} (upstream of ${g.iommu.name})`, dev.name);
    return errnoResult('EINVAL');
  }
  const refused = g.iommu.model.attachCheck(d, dev, k.cfg);
  if (refused) {
    if (refused.message) k.printk('err', refused.message, dev.name);
    return errnoResult(refused.errno);
  }
  const vetoed = vetoAttach(k, d, dev);
  if (vetoed) return errnoResult(vetoed);
  setGroupDomain(k, g, d);
  return 0;
}

/** iommu_detach_device: back to the default domain (or a blocking domain when there is none). */
export function detachDevice(k: Kernel, d: Domain, dev: Device): number | ErrnoResult {
  const g = dev.group;
  if (!g) return errnoResult('ENODEV');
  if (g.domain !== d) {
    k.printk('warn', `WARNING: detaching ${dev.name} from ${d.id}, which it is not attached to`);
    return 0;
  }
  if (g.devices.length !== 1) return errnoResult('EINVAL');
  let target = g.defaultDomain;
  if (!target) {
    const blocked = g.blockingDomain ?? allocDomain(k, g.iommu, IOMMU_DOMAIN_BLOCKED);
    if (isRefusal(blocked)) return errnoResult(blocked.errno);
    g.blockingDomain = blocked;
    target = blocked;
  }
  setGroupDomain(k, g, target);
  return 0;
}

export function domainTypeFromArg(arg: string | undefined): number {
  const name = (arg ?? 'unmanaged').toUpperCase() as DomainTypeName;
  return DOMAIN_TYPES[name];
}

export function currentDomain(dev: Device): Domain | null {
  return dev.group?.domain ?? null;
}
