// Builds the address map's model (modelTypes.ts) from a Report, in the extension host. Pure: no DOM, no
// vscode, so it is unit-tested directly.
import type { Report, ReportDomain } from '../simulator/report/types';
import { joinMappings, parseHexField, exclusiveEnd } from './modelJoin';
import {
  MAP_MODEL_VERSION, emptyMapModel, type MapDomainInfo, type MapDomainSummary, type MapMappings, type MapModel, type MapReserved,
} from './modelTypes';

export * from './modelTypes';

/** The domain shown when none was asked for: the one with the most mappings (DMA domains first on a tie). */
export function defaultDomainId(report: Report): string | null {
  let best: ReportDomain | null = null;
  for (const d of report.domains) {
    if (!best || d.mappings.length > best.mappings.length) best = d;
  }
  return best ? best.id : null;
}

function domainSummary(d: ReportDomain): MapDomainSummary {
  return { id: d.id, type: d.type, iommu: d.iommu, devices: [...d.devices], mappings: d.mappings.length };
}

/** Aperture from the report, else the IOMMU's input size, else a power of two covering every mapping. */
function apertureOf(report: Report, d: ReportDomain, mp: MapMappings, problems: string[]): { start: number; end: number } {
  if (d.aperture) {
    const start = parseHexField(d.aperture.start, `domain ${d.id} aperture.start`, problems);
    const end = parseHexField(d.aperture.end, `domain ${d.id} aperture.end`, problems);
    if (start !== null && end !== null && end > start) return { start, end: exclusiveEnd(end) };
  }
  const ias = report.platform?.iommus.find(i => i.name === d.iommu)?.ias;
  if (ias && ias > 0 && ias <= 52) return { start: 0, end: 2 ** ias };
  let top = 2 ** 32;
  for (let i = 0; i < mp.iova.length; i++) while (mp.iova[i] + mp.size[i] > top && top < 2 ** 52) top *= 2;
  return { start: 0, end: top };
}

/**
 * Builds the map model of `domainId` (or of the default domain when it is null or gone).
 * Never throws on odd report values: it skips them and lists each in `problems`.
 */
export function buildMapModel(report: Report, domainId: string | null): MapModel {
  const problems: string[] = [];
  const domains = report.domains.map(domainSummary);
  let d = domainId === null ? undefined : report.domains.find(x => x.id === domainId);
  if (!d) {
    const fallback = defaultDomainId(report);
    if (domainId !== null && fallback !== null) problems.push(`domain ${domainId} is not in this run; showing ${fallback}`);
    d = report.domains.find(x => x.id === fallback);
  }
  const memory = report.platform ? memoryOf(report, problems) : null;
  if (!d) {
    const m = emptyMapModel('This run has no IOMMU domains yet. Step the scenario until a device probes or a domain is allocated.');
    return { ...m, scenario: report.scenario, problems, pageSize: report.kernel.page_size, memory };
  }
  const joined = joinMappings(report, d, problems);
  const info: MapDomainInfo = {
    ...domainSummary(d),
    granule: d.granule,
    pgsizes: [...d.pgsize_bitmap],
    format: d.format ?? null,
    aperture: apertureOf(report, d, joined.mappings, problems),
  };
  const reserved: MapReserved[] = [];
  for (const r of d.reserved ?? []) {
    const start = parseHexField(r.start, `domain ${d.id} reserved region start`, problems);
    const end = parseHexField(r.end, `domain ${d.id} reserved region end`, problems);
    if (start !== null && end !== null && end >= start) reserved.push({ start, end: exclusiveEnd(end), why: r.why });
  }
  reserved.sort((a, b) => a.start - b.start);
  return {
    version: MAP_MODEL_VERSION,
    scenario: report.scenario,
    message: null,
    problems,
    domains,
    domain: info,
    pageSize: report.kernel.page_size,
    memory,
    strings: joined.strings,
    mappings: joined.mappings,
    buffers: joined.buffers,
    faults: joined.faults,
    reserved,
    steps: joined.steps,
  };
}

function memoryOf(report: Report, problems: string[]): { base: number; size: number } | null {
  const mem = report.platform!.memory;
  const base = parseHexField(mem.base, 'platform memory base', problems);
  return base === null || !(Number.isSafeInteger(mem.size) && mem.size > 0) ? null : { base, size: mem.size };
}
