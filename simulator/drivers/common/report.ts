// What driver models add to the report: the owner of every range they mapped themselves (the mapping tables
// and the map show "apu0 GEM 2 ..."), the device addresses of their buffers, and a `drivers` section with
// each driver instance's own state (variant, domain, objects, jobs).
import { hex } from '../../core/format';
import type { Kernel } from '../../kernel';
import type { Domain } from '../../iommu/domain';
import { MappingOwner, registerMappingAnnotator, registerReportExtender } from '../../report/build';
import type { Report } from '../../report/types';
import { driverState } from './registry';

registerMappingAnnotator((k: Kernel, d: Domain): MappingOwner[] => {
  if (!k.ext.has('drivers')) return [];
  const out: MappingOwner[] = [];
  for (const m of driverState(k).mappings) {
    if (m.domain !== d) continue;
    out.push({ iova: m.iova, size: m.size, owner: m.owner, requested: m.requested });
  }
  return out;
});

registerReportExtender((k: Kernel, report: Report) => {
  if (!k.ext.has('drivers')) return;
  const s = driverState(k);
  if (report.buffers) {
    const byId = new Map(report.buffers.map(b => [b.id, b]));
    for (const m of s.mappings) {
      let off = 0;
      for (const b of m.buffers) {
        const rb = byId.get(b.id);
        if (rb) (rb.dma ??= []).push({ dev: m.dev, dma: hex(m.dma + off), size: b.size });
        off += b.size;
      }
    }
  }
  if (s.sections.size) {
    const drivers: Record<string, unknown> = {};
    for (const [key, sec] of s.sections) drivers[key] = sec.view();
    Object.assign(report, { drivers });
  }
});
