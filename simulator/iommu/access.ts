// Device accesses: a device reads or writes an address and the IOMMU translates it through the IOTLB
// and a page-table walk, or faults. Firmware-started scanout keeps a device reading across steps.
import { hex, sizeLabel } from '../core/format';
import { tp } from '../trace/tracepoints';
import type { Kernel } from '../kernel';
import type { Device } from './device';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, isPaging } from './domain';
import type { FaultInfo } from './instance';
import { PROT_READ, PROT_WRITE } from './pte-format';
import { chargePages } from '../limits';

export type AccessResult =
  | { ok: true; paddr: number; via: 'iotlb' | 'walk' | 'bypass' | 'direct' | 'pasid'; stale: boolean }
  | { ok: false; fault: FaultInfo['kind']; iova: number; message: string };

/** SVA: translation of a PASID-tagged access, supplied by the SVA layer when it is loaded. */
export type PasidTranslator = (k: Kernel, dev: Device, pasid: number, iova: number, access: 'read' | 'write') => AccessResult;
let pasidTranslator: PasidTranslator | null = null;
export function setPasidTranslator(t: PasidTranslator): void { pasidTranslator = t; }

/** Layers that must hear of every translated access (the DMA layer checks stale entries, debug checks). */
/** `recorded` is false for the firmware-scanout probes that only look whether an access would fault. */
export type AccessHook = (k: Kernel, dev: Device, addr: number, size: number, access: 'read' | 'write', r: AccessResult, recorded: boolean) => void;
const accessHooks: AccessHook[] = [];
export function onDeviceAccess(h: AccessHook): void { accessHooks.push(h); }

function fault(k: Kernel, dev: Device, info: Omit<FaultInfo, 'dev' | 'stream'>, record: boolean): AccessResult {
  const inst = dev.iommu!;
  const f: FaultInfo = { ...info, dev, stream: dev.primaryStream };
  const message = inst.model.faultMessage(f, inst);
  if (record) {
    k.printk('err', message, inst.name);
    if (k.tracing) k.tracepoint('io_page_fault', tp.ioPageFault(inst.model.driver, dev.name, info.iova, info.access === 'write' ? 1 : 0));
    k.recordFault({ dev: dev.name, stream: f.stream, iova: info.iova, kind: info.kind, message, access: info.access, pasid: info.pasid, iommu: inst.name },
      info.access === 'write' ? 1 : 0);
  }
  return { ok: false, fault: info.kind, iova: info.iova, message };
}

/** Translates one access of `size` bytes (every granule page it touches). */
export function deviceAccess(k: Kernel, dev: Device, addr: number, size: number, access: 'read' | 'write',
  pasid?: number, record = true): AccessResult {
  const r = translate(k, dev, addr, Math.max(size, 1), access, pasid, record);
  for (const h of accessHooks) h(k, dev, addr, size, access, r, record);
  if (r.ok && record && k.bus.active) {
    k.emit({ kind: 'access', dev: dev.name, access, iova: addr, size, paddr: r.paddr, via: r.via === 'pasid' ? 'walk' : r.via, pasid });
  }
  return r;
}

function translate(k: Kernel, dev: Device, addr: number, size: number, access: 'read' | 'write', pasid: number | undefined, record: boolean): AccessResult {
  const inst = dev.iommu;
  if (!inst || inst.refusal) return { ok: true, paddr: addr, via: 'direct', stale: false };
  if (pasid !== undefined && pasid !== 0) {
    if (!pasidTranslator) return fault(k, dev, { iova: addr, access, kind: 'translation', pasid }, record);
    return pasidTranslator(k, dev, pasid, addr, access);
  }
  const d = dev.probed ? dev.group?.domain ?? null : null;
  // Not probed yet, or no default domain: the stream keeps the boot configuration (bypass).
  if (!d) return { ok: true, paddr: addr, via: 'bypass', stale: false };
  if (d.type === IOMMU_DOMAIN_IDENTITY) return { ok: true, paddr: addr, via: 'bypass', stale: false };
  if (d.type === IOMMU_DOMAIN_BLOCKED || !isPaging(d.type) || !d.pgtable) {
    return fault(k, dev, { iova: addr, access, kind: 'blocked' }, record);
  }
  const need = access === 'write' ? PROT_WRITE : PROT_READ;
  const granule = d.granule;
  chargePages(k, Math.ceil(((addr % granule) + size) / granule), () => `a device ${access} of ${hex(size)} bytes at ${hex(addr)}`, 'size');
  let first = -1;
  let via: 'iotlb' | 'walk' = 'iotlb';
  let stale = false;
  for (let a = addr - (addr % granule); a < addr + size; a += granule) {
    const at = Math.max(a, addr);
    if (at >= d.pgtable.inputLimit) return fault(k, dev, { iova: at, access, kind: 'address-size' }, record);
    let e = inst.iotlb.lookup(d.id, at, d.pgsizeBitmap);
    if (!e) {
      const leaf = d.pgtable.lookup(at);
      if (record && k.bus.active) {
        // IOTLB miss: the hardware walks the tables level by level
        for (const w of d.pgtable.walk(at)) k.emit({ kind: 'walk', domain: d.id, iova: at, ...w });
      }
      if (!leaf) {
        const steps = d.pgtable.walk(at);
        return fault(k, dev, { iova: at, access, kind: 'translation', level: steps[steps.length - 1]?.level }, record);
      }
      if (!(leaf.prot & need)) return fault(k, dev, { iova: at, access, kind: 'permission' }, record);
      via = 'walk';
      if (record) inst.iotlb.fill({ domain: d.id, iova: leaf.iova, size: leaf.size, paddr: leaf.paddr, prot: leaf.prot });
      e = { domain: d.id, iova: leaf.iova, size: leaf.size, paddr: leaf.paddr, prot: leaf.prot, stale: false };
    } else if (!(e.prot & need)) {
      return fault(k, dev, { iova: at, access, kind: 'permission' }, record);
    }
    if (e.stale) stale = true;
    if (first < 0) first = e.paddr + (at - e.iova);
  }
  return { ok: true, paddr: first, via, stale };
}

/** How many pages of a scanout are sampled each step (the whole framebuffer is not walked every step). */
const SCANOUT_SAMPLES = 16;

/** After every step: devices the firmware left reading memory keep reading; a translating domain under them faults. */
export function checkScanouts(k: Kernel): void {
  for (const s of k.scanouts) {
    const pages = Math.max(1, Math.ceil(s.size / k.cfg.page_size));
    const stride = Math.max(1, Math.floor(pages / SCANOUT_SAMPLES));
    for (let p = 0; p < pages; p += stride) {
      const addr = s.paddr + p * k.cfg.page_size;
      const probe = deviceAccess(k, s.dev, addr, 1, 'read', undefined, false);
      if (probe.ok) continue;
      deviceAccess(k, s.dev, addr, 1, 'read', undefined, true);
      if (!s.faulted) {
        s.faulted = true;
        const d = s.dev.group?.domain;
        k.finding('firmware-dma-fault', 'error',
          `${s.dev.name} was left scanning out ${sizeLabel(s.size)} at ${hex(s.paddr)} by the firmware; ` +
          `${d ? `attaching ${d.typeName} domain ${d.id}` : 'the new IOMMU configuration'} leaves that range unmapped, so every frame faults`,
          { dev: s.dev.name, paddr: s.paddr, size: s.size, iova: addr });
      }
      break;
    }
  }
}
