// Builds the Report (the JSON contract and every view's snapshot) from a session's kernel state.
import type { SimEvent } from '../core/events';
import { hex } from '../core/format';
import type { Kernel } from '../kernel';
import type { Domain } from '../iommu/domain';
import { protToNames } from '../iommu/pte-format';
import type { Report, ReportDomain, ReportEvent, ReportMapping, ReportStep } from './types';
import type { Session, StepRun } from '../session';

/** What the DMA layer (or a driver model) knows about who owns a mapped range. */
export interface MappingOwner { iova: number; size: number; owner: string; requested?: number; exposed?: number }
export type MappingAnnotator = (k: Kernel, d: Domain) => MappingOwner[];
const annotators: MappingAnnotator[] = [];
export function registerMappingAnnotator(a: MappingAnnotator): void { annotators.push(a); }

/** Extra report sections from other layers (iovads, sva bonds, buffers of driver models). */
export type ReportExtender = (k: Kernel, r: Report) => void;
const extenders: ReportExtender[] = [];
export function registerReportExtender(e: ReportExtender): void { extenders.push(e); }

const ADDRESS_KEYS = new Set(['iova', 'paddr', 'addr', 'table', 'dma', 'cpu']);

/** Values as the report shows them: addresses in hex, everything else as is. */
export function reportValue(v: unknown, key = ''): unknown {
  if (typeof v === 'number') return ADDRESS_KEYS.has(key) ? hex(v) : v;
  if (Array.isArray(v)) return v.map(x => reportValue(x, key));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = reportValue(x, k);
    return out;
  }
  return v;
}

export function reportEvent(e: SimEvent): ReportEvent {
  const out = reportValue(e) as ReportEvent;
  if (e.kind === 'api') out.result = reportValue(e.result, resultKey(e.name));
  return out;
}

export function stepRecord(s: Session, run: StepRun): ReportStep {
  const k = s.kernel;
  return {
    index: run.spec.index,
    op: run.spec.op,
    site: run.spec.site ?? null,
    result: reportValue(run.result, resultKey(run.spec.op)),
    events: run.events.map(reportEvent),
    findings: run.findings.map(i => k.findings[i]),
    line: run.spec.pos.line,
    ...(run.spec.as ? { as: run.spec.as } : {}),
    ...(run.expectFailures.length ? { expectFailures: run.expectFailures } : {}),
  };
}

/** Bare-number results that are addresses: shown in hex. */
function resultKey(op: string): string {
  return /^(dma_map_single|dma_map_page|iommu_iova_to_phys|dma_read|dma_write)$/.test(op) ? 'addr' : '';
}

export function domainMappings(k: Kernel, d: Domain): ReportMapping[] {
  if (!d.pgtable) return [];
  const owners = annotators.flatMap(a => a(k, d)).sort((a, b) => a.iova - b.iova);
  const ownerAt = (iova: number): MappingOwner | undefined => {
    let lo = 0, hi = owners.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = owners[mid];
      if (iova < o.iova) hi = mid - 1; else if (iova >= o.iova + o.size) lo = mid + 1; else return o;
    }
    return undefined;
  };
  const out: Array<{ iova: number; size: number; paddr: number; prot: number; owner?: MappingOwner }> = [];
  for (const leaf of d.pgtable.leaves()) {
    const owner = ownerAt(leaf.iova);
    const last = out[out.length - 1];
    if (last && last.iova + last.size === leaf.iova && last.paddr + last.size === leaf.paddr && last.prot === leaf.prot && last.owner === owner) {
      last.size += leaf.size;
    } else {
      out.push({ iova: leaf.iova, size: leaf.size, paddr: leaf.paddr, prot: leaf.prot, owner });
    }
  }
  const stale = d.iommu.iotlb.list().filter(e => e.domain === d.id && e.stale);
  const mappings: ReportMapping[] = out.map(m => ({
    iova: hex(m.iova), size: m.size, paddr: hex(m.paddr), prot: protToNames(m.prot),
    ...(m.owner ? { owner: m.owner.owner, requested: m.owner.requested, exposed: m.owner.exposed } : {}),
  }));
  // Stale IOTLB entries translate ranges the tables no longer map (lazy invalidation).
  for (const e of stale) mappings.push({ iova: hex(e.iova), size: e.size, paddr: hex(e.paddr), prot: protToNames(e.prot), stale: true });
  return mappings;
}

function reportDomain(k: Kernel, d: Domain): ReportDomain {
  const devices: string[] = [];
  for (const gid of d.groups) for (const dev of k.groups[gid].devices) devices.push(dev.name);
  const group = k.groups.find(g => g.defaultDomain === d);
  return {
    id: d.id, type: d.typeName, iommu: d.iommu.name, granule: d.granule, pgsize_bitmap: d.pgsizeBitmap, devices,
    mappings: domainMappings(k, d),
    aperture: { start: hex(d.aperture.start), end: hex(d.aperture.end) },
    default_of_group: group ? group.id : null,
    iova_cookie: d.cookie !== null,
    ...(d.pgtable ? { format: d.pgtable.fmt.name } : {}),
  };
}

export function buildReport(s: Session, opts: { maxSteps?: number } = {}): Report {
  const k = s.kernel;
  const cfg = k.cfg;
  const report: Report = {
    scenario: s.scenario.name,
    kernel: { page_size: cfg.page_size, large_iommu_pages: cfg.large_iommu_pages, dma_strict: cfg.dma_strict, swiotlb: cfg.swiotlb, ...(cfg.version ? { version: cfg.version } : {}) },
    steps: (opts.maxSteps !== undefined && s.runs.length > opts.maxSteps ? s.runs.slice(0, opts.maxSteps) : s.runs).map(r => stepRecord(s, r)),
    steps_total: s.cursor,
    groups: k.groups.map(g => ({ id: g.id, iommu: g.iommu.name, devices: g.devices.map(d => d.name), default_domain: g.defaultDomain?.id ?? null, domain: g.domain?.id ?? null })),
    domains: [...k.domains.values()].map(d => reportDomain(k, d)),
    devices: [...k.devices.values()].map(d => ({
      name: d.name, group: d.group?.id ?? null, domain: d.group?.domain?.id ?? null, streams: d.streams, untrusted: d.spec.untrusted,
      iommu: d.iommu?.name ?? null, bus: d.spec.bus, coherent: d.spec.coherent, dma_mask: d.spec.dma_mask, probed: d.probed,
    })),
    faults: k.faults.map(f => ({ step: f.step, dev: f.dev, stream: f.stream, iova: hex(f.iova), kind: f.kind, message: f.message, access: f.access, iommu: f.iommu, ...(f.pasid !== undefined ? { pasid: f.pasid } : {}) })),
    findings: k.findings.slice(),
    platform: {
      name: s.scenario.platform.name,
      memory: { base: hex(k.mem.base), size: k.mem.size },
      iommus: [...k.iommus.values()].map(i => ({
        name: i.name, model: i.model.model, pgsize_bitmap: i.model.config.pgsizeBitmap, ias: i.model.config.ias, oas: i.model.config.oas,
        bypass: i.model.config.bypass, registers: i.model.registers().map(r => ({ ...r, offset: hex(r.offset), value: hex(r.value) })),
      })),
    },
    buffers: k.mem.listBuffers().map(b => ({ id: b.id, kind: b.kind, paddr: hex(b.paddr), size: b.size, owner: b.owner, freed: b.freed })),
    oops: s.oops,
    expectations: { checked: s.expectationsChecked, failed: s.expectationFailures().length },
  };
  for (const e of extenders) e(k, report);
  return report;
}
