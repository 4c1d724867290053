// SVA ops: iommu_sva_device_init / bind / unbind / device_shutdown, the process side (mm_map, mm_unmap,
// process_exit), and PASID-tagged device accesses (dma_read/dma_write with `pasid`) walking the process's
// page table through the PASID table entry.
import { errnoResult } from '../core/errno';
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import { AccessResult, setPasidTranslator } from '../iommu/access';
import type { FaultInfo } from '../iommu/instance';
import { PROT_READ, PROT_WRITE, protFromNames } from '../iommu/pte-format';
import { OpContext, registerOpHandler } from '../runner/ops';
import { registerOpSchema } from '../scenario/opspec';
import { tp } from '../trace/tracepoints';
import { chargePages } from '../limits';
import { findMm, getMm } from './mm';
import { mainlineBind, mainlineProcessExit, mainlineUnbind, mainlineUnbindAll } from './mainline';
import { seedBind, seedProcessExit, seedUnbind, seedUnbindAll } from './seed';
import { SVA_FEATURES, svaModel, svaState } from './state';
import { findTable, setEntry0 } from './tables';
import { onDomainAttached } from '../iommu/core';

const obj = (o: Record<string, import('../scenario/opspec').ArgField>) => ({ object: o });
const dev = { type: 'name' as const, required: true, doc: 'device name' };
const mmArg = { type: 'name' as const, required: true, doc: 'process (mm) name' };

// Same as the contract's schema, plus the seed's bind flags (IOMMU_SVA_FEAT_*): an io_mm keeps the flags of its first bind.
registerOpSchema({ name: 'iommu_sva_bind_device', doc: 'bind a process address space to a device; returns the PASID', args: obj({
  dev, mm: mmArg, flags: { type: { list: { enum: SVA_FEATURES } }, doc: 'IOMMU_SVA_FEAT_* for this bond (seed model; must match the io_mm\'s)' },
}) });
registerOpSchema({ name: 'iommu_sva_device_shutdown', doc: 'unbind every PASID of the device and drop its SVA parameters', args: obj({ dev }) });
registerOpSchema({ name: 'mm_map', doc: 'the process maps memory: populate its CPU page table (what a PASID access walks)', args: obj({
  mm: mmArg, va: { type: 'u64', required: true, doc: 'virtual address (PAGE_SIZE aligned)' },
  paddr: { type: 'u64', required: true, doc: 'physical address' }, size: { type: 'u64', required: true, doc: 'bytes (PAGE_SIZE multiple)' },
  prot: { type: { list: { enum: ['read', 'write'] } }, doc: 'default [read, write]' },
}) });
registerOpSchema({ name: 'mm_unmap', doc: 'the process unmaps memory (the SMMU is told through the mmu notifier)', args: obj({
  mm: mmArg, va: { type: 'u64', required: true, doc: 'virtual address' }, size: { type: 'u64', required: true, doc: 'bytes' },
}) });
registerOpSchema({ name: 'process_exit', doc: 'the process exits: its PASID entries are taken down; bonds remain until drivers unbind', args: obj({ mm: mmArg }) });

// A master's CD table follows the domain it is attached to: entry 0 becomes the new domain's io_pgtable.
onDomainAttached((k, d, member) => {
  const t = findTable(k, 'device', member.name);
  if (t) setEntry0(k, t, d);
});

function checkOption(ctx: OpContext): void {
  const opt = ctx.k.cfg.options.sva;
  if (opt !== undefined && opt !== 'seed' && opt !== 'mainline') ctx.fail('', `kernel option sva: expected seed or mainline, got ${JSON.stringify(opt)}`);
}

registerOpHandler('iommu_sva_device_init', (ctx, a) => {
  checkOption(ctx);
  const d = ctx.dev('dev', a.dev);
  const inst = d.iommu;
  if (!inst || inst.refusal || inst.model.config.pasidBits === 0 || !d.group?.domain) return errnoResult('ENODEV');
  const features: string[] = a.features ?? [];
  if (features.some(f => !(SVA_FEATURES as readonly string[]).includes(f))) return errnoResult('EINVAL');   // only IOMMU_SVA_FEAT_IOPF exists
  const s = svaState(ctx.k);
  if (s.params.has(d)) return errnoResult('EEXIST');
  // The SMMU driver narrows the range: PASID 0 holds the non-PASID table, SSIDSIZE bounds the top.
  const hwMax = 2 ** inst.model.config.pasidBits - 1;
  const minPasid = Math.max(a.min_pasid ?? 1, 1);
  const maxPasid = Math.min(a.max_pasid ?? hwMax, hwMax);
  if (minPasid > maxPasid) return errnoResult('EINVAL');
  s.params.set(d, { features, minPasid, maxPasid });
  return 0;
});

function liveMm(ctx: OpContext, name: string) {
  const mm = getMm(ctx.k, name);
  return mm.exited ? null : mm;
}

registerOpHandler('iommu_sva_bind_device', (ctx, a) => {
  checkOption(ctx);
  const d = ctx.dev('dev', a.dev);
  const mm = liveMm(ctx, a.mm);
  if (!mm) return errnoResult('ESRCH');             // the process is gone: no mm to bind
  return svaModel(ctx.k) === 'seed' ? seedBind(ctx.k, d, mm, a.flags ?? []) : mainlineBind(ctx.k, d, mm);
});

registerOpHandler('iommu_sva_unbind_device', (ctx, a) => {
  checkOption(ctx);
  const d = ctx.dev('dev', a.dev);
  return svaModel(ctx.k) === 'seed' ? seedUnbind(ctx.k, d, a.pasid) : mainlineUnbind(ctx.k, d, a.pasid);
});

registerOpHandler('iommu_sva_device_shutdown', (ctx, a) => {
  checkOption(ctx);
  const d = ctx.dev('dev', a.dev);
  const s = svaState(ctx.k);
  if (!s.params.has(d)) return errnoResult('EINVAL');
  if (svaModel(ctx.k) === 'seed') seedUnbindAll(ctx.k, d); else mainlineUnbindAll(ctx.k, d);
  s.params.delete(d);
  return 0;
});

registerOpHandler('mm_map', (ctx, a) => {
  const page = ctx.k.cfg.page_size;
  for (const key of ['va', 'paddr', 'size'] as const) {
    if (a[key] % page !== 0) ctx.fail(key, `mm_map ${key} ${hex(a[key])} is not a multiple of PAGE_SIZE (${hex(page)})`);
  }
  if (a.size === 0) ctx.fail('size', 'mm_map size is 0');
  if (a.va + a.size > 2 ** 48) ctx.fail('va', `mm_map ${hex(a.va)} + ${hex(a.size)} is beyond the 48-bit user address space`);
  const mm = liveMm(ctx, a.mm);
  if (!mm) return errnoResult('ESRCH');
  const prot = protFromNames(a.prot ?? ['read', 'write']);
  chargePages(ctx.k, a.size / page, `mm_map of ${hex(a.size)} bytes`, 'size');
  for (let off = 0; off < a.size; off += page) {
    const r = mm.pgtable.map(a.va + off, a.paddr + off, page, prot);
    if (r !== 0) {
      for (let u = 0; u < off; u += page) mm.pgtable.unmap(a.va + u, page, () => undefined);
      return r === -17 ? errnoResult('EEXIST') : r === -34 ? errnoResult('ERANGE') : errnoResult('ENOMEM');
    }
  }
  return 0;
});

registerOpHandler('mm_unmap', (ctx, a) => {
  const mm = findMm(ctx.k, a.mm);
  if (!mm || mm.exited) return errnoResult('ESRCH');
  const page = ctx.k.cfg.page_size;
  chargePages(ctx.k, Math.ceil(a.size / page), `mm_unmap of ${hex(a.size)} bytes`, 'size');
  let unmapped = 0;
  for (let off = 0; off < a.size; off += page) unmapped += mm.pgtable.unmap(a.va - (a.va % page) + off, page, () => undefined);
  if (ctx.k.bus.active && unmapped) {
    ctx.k.emit({ kind: 'printk', level: 'debug', text: `mmu notifier: CMD_TLBI_NH_VA asid ${mm.asid} ${hex(a.va)}+${hex(a.size)} on every SMMU sharing ${mm.name}` });
  }
  return unmapped;
});

registerOpHandler('process_exit', (ctx, a) => {
  const mm = findMm(ctx.k, a.mm);
  if (!mm || mm.exited) return errnoResult('ESRCH');
  mm.exited = true;
  const notified = svaModel(ctx.k) === 'seed' ? seedProcessExit(ctx.k, mm) : mainlineProcessExit(ctx.k, mm);
  return notified.length;
});

function pasidFault(k: Kernel, d: Device, pasid: number, iova: number, access: 'read' | 'write', kind: FaultInfo['kind']): AccessResult {
  const inst = d.iommu!;
  const f: FaultInfo = { dev: d, stream: d.primaryStream, iova, access, kind, pasid };
  const message = inst.model.faultMessage(f, inst);
  k.printk('err', message, inst.name);
  if (k.tracing) k.tracepoint('io_page_fault', tp.ioPageFault(inst.model.driver, d.name, iova, access === 'write' ? 1 : 0));
  k.recordFault({ dev: d.name, stream: f.stream, iova, kind, message, access, pasid, iommu: inst.name }, access === 'write' ? 1 : 0);
  return { ok: false, fault: kind, iova, message };
}

/** A PASID-tagged access: the STE's CD table, the CD for the PASID, then the process's own page table. */
setPasidTranslator((k, d, pasid, iova, access) => {
  const domain = d.group?.domain;
  const table = svaModel(k) === 'seed' ? (domain ? findTable(k, 'domain', domain.id) : undefined) : findTable(k, 'device', d.name);
  const entry = table?.entries.get(pasid);
  if (!entry || entry.kind !== 'mm' || !entry.mm) return pasidFault(k, d, pasid, iova, access, 'translation');
  const mm = findMm(k, entry.mm);
  const leaf = mm?.pgtable.lookup(iova);
  if (!leaf) return pasidFault(k, d, pasid, iova, access, 'translation');
  if (!(leaf.prot & (access === 'write' ? PROT_WRITE : PROT_READ))) return pasidFault(k, d, pasid, iova, access, 'permission');
  return { ok: true, paddr: leaf.paddr + (iova - leaf.iova), via: 'pasid', stale: false };
});
