// The report's SVA sections: `sva` (bonds, or mainline handles, with their PASIDs) and `sva_tables`
// (which binding model ran, the stream table, every PASID table with its entries, the processes).
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import { registerReportExtender } from '../report/build';
import type { Report } from '../report/types';
import { mmState } from './mm';
import { svaModel, svaState } from './state';
import { CdTable, allTables, cdAddress, findTable, streamTable } from './tables';

function tableView(k: Kernel, t: CdTable) {
  return {
    owner: t.owner, owner_kind: t.ownerKind, iommu: t.iommu, base: hex(t.base), two_level: t.twoLevel,
    entries: [...t.entries.values()].sort((a, b) => a.pasid - b.pasid).map(e => ({
      pasid: e.pasid, kind: e.kind, cd: hex(cdAddress(k, t, e.pasid)), ttb0: hex(e.ttb0), asid: e.asid,
      ...(e.mm ? { mm: e.mm } : {}), ...(e.domain ? { domain: e.domain } : {}),
    })),
  };
}

export function svaReport(k: Kernel, r: Report): void {
  const s = svaState(k);
  const mms = mmState(k).mms;
  if (s.params.size === 0 && mms.size === 0 && allTables(k).length === 0) return;
  const model = svaModel(k);
  r.sva = model === 'seed'
    ? s.bonds.map(b => ({ dev: b.dev.name, pasid: b.ioMm.pasid, mm: b.ioMm.mm.name, domain: b.domain.id, ...(b.exited ? { exited: true } : {}) }))
    : s.handles.map(h => {
      const att = s.attachments.find(a => a.pasid === h.pasid && a.groupId === h.dev.group?.id);
      return { dev: h.dev.name, pasid: h.pasid, mm: h.mm.name, domain: h.dev.group?.domain?.id ?? '-', users: att?.users ?? 0, ...(h.mm.exited ? { exited: true } : {}) };
    });
  const cdOf = (dev: string) => {
    const d = k.devices.get(dev);
    return model === 'seed' ? (d?.group?.domain ? findTable(k, 'domain', d.group.domain.id) : undefined) : findTable(k, 'device', dev);
  };
  r.sva_tables = {
    model,
    stream_table: streamTable(k, cdOf).map(e => ({ ...e, s1_context_ptr: e.s1_context_ptr === null ? null : hex(e.s1_context_ptr) })),
    pasid_tables: allTables(k).map(t => tableView(k, t)),
    processes: [...mms.values()].map(mm => ({
      mm: mm.name, pgd: hex(mm.pgd), asid: mm.asid, exited: mm.exited,
      pasid: model === 'mainline' ? mm.pasid : [...s.ioMms.values()].find(m => m.mm === mm)?.pasid ?? null,
      pages: [...mm.pgtable.leaves()].length,
    })),
  };
}

registerReportExtender(svaReport);
