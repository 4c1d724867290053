// The imported state as the Report every view reads. What a trace cannot tell (IOMMU instance, streams,
// prot bits, page sizes) is left empty or marked unknown rather than invented.
import type { Report, ReportBuffer, ReportDevice, ReportDomain, ReportFault, ReportGroup, ReportMapping, ReportStep } from '../report/types';
import { hex } from '../core/format';
import type { DmaHandle } from './import-dma';
import type { DomainState, TraceModel } from './import-model';

/** Domain fields an imported report adds. */
export type ImportedDomain = ReportDomain & { pre_trace: boolean; line: number; granule_deduced: boolean; granule_max: number | null };
export type ImportedMapping = ReportMapping & { line: number };

const UNKNOWN_GRANULE = 4096;
const MIN_MAPS_FOR_GRANULE = 8;

function domainReport(d: DomainState, steps: ReportStep[]): ImportedDomain {
  const mappings: ImportedMapping[] = d.live.toArray().map(m => {
    const by = m.ownerStep >= 0 ? steps[m.ownerStep] : null;
    const owner = by ? `${by.op} line ${by.line} (${m.ownerDev})` : `map line ${m.line}`;
    const r: ImportedMapping = { iova: hex(m.iova), size: m.end - m.iova, paddr: hex(m.paddr), prot: [], owner, line: m.line };
    if (m.requested !== undefined) r.requested = m.requested;
    return r;
  });
  return {
    id: d.id, type: d.type, iommu: 'unknown',
    // no page-size information in a trace: the alignment every map showed is an upper bound of the
    // granule, trusted once enough maps agree; granule_max keeps the bound
    granule: d.maps >= MIN_MAPS_FOR_GRANULE ? d.align : UNKNOWN_GRANULE, granule_deduced: d.maps >= MIN_MAPS_FOR_GRANULE,
    granule_max: d.maps ? d.align : null,
    pgsize_bitmap: [], devices: [...d.devices], mappings,
    default_of_group: d.defaultOf, pre_trace: d.preTrace, line: d.line,
  };
}

export function buildReport(file: string, model: TraceModel, steps: ReportStep[], faults: ReportFault[], handles: DmaHandle[]): Report {
  const groups: ReportGroup[] = [...model.groups.values()].sort((a, b) => a.id - b.id).map(g => ({
    id: g.id, iommu: 'unknown', devices: [...g.devices], default_domain: g.defaultDomain?.id ?? null, domain: g.domain?.id ?? null,
  }));
  const devices: ReportDevice[] = [...model.devices.values()].map(d => {
    const r: ReportDevice & { driver?: string } = {
      name: d.name, group: d.group, domain: d.domain?.id ?? null, streams: [], untrusted: false, iommu: null, probed: true,
    };
    if (d.driver) r.driver = d.driver;
    return r;
  });
  for (const f of model.findings) if (f.step !== null) f.site = steps[f.step]?.site ?? null;
  const buffers: ReportBuffer[] = handles.filter(h => h.phys !== null).map(h => ({
    id: `dma-line-${h.line}`, kind: h.event, paddr: hex(h.phys!), size: h.size, owner: `${h.event} line ${h.line}`,
    dma: h.dma === null ? [] : [{ dev: h.dev, dma: hex(h.dma), size: h.size }],
  }));
  return {
    scenario: file,
    // a trace does not carry these; the defaults are the mainline ones
    kernel: { page_size: 4096, large_iommu_pages: false, dma_strict: true, version: 'unknown (imported trace)' },
    steps, groups, domains: model.domains.map(d => domainReport(d, steps)), devices, faults, findings: model.findings, buffers,
  };
}
