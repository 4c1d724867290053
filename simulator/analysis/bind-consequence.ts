// The simulated consequence of a review finding on the loaded run's platform: the numbers of the run
// (CPU page size vs IOMMU granule, the highest device address, the calls made at the site, the simulator's
// own findings) turned into one sentence. Checks whose outcome the run cannot show stay generic (null).
import { hex, sizeLabel } from '../core/format';
import type { Report } from '../report/types';
import { num } from './bind-summary';
import type { Binding, CallOutcome, Consequence, OutcomeDiagnostic } from './bind-types';
import type { Analysis, ReviewCode, SourceFinding } from './types';

/** Review checks with a run-specific consequence, and the ones that only have their generic explanation. */
export const RUN_SPECIFIC_CHECKS: ReviewCode[] = [
  'mm-pfn-on-iova', 'iova-truncated', 'wrong-free-function', 'unbounded-user-count', 'map-per-sg-entry',
  'unmap-per-segment', 'mapping-error-unchecked', 'dma-get-sgtable-sharing',
];
export const GENERIC_CHECKS: ReviewCode[] = ['error-path-leak', 'error-return-zero', 'domain-never-allocated', 'own-domain-with-dma-api'];

type BindingCore = Omit<Binding, 'consequences'>;

const SIZE_HELPERS = /^(PAGE_ALIGN|PAGE_ALIGN_DOWN|PAGE_SIZE|PFN_UP|PAGE_MASK)\b/;

/** The IOMMU granule the file's calls met: their domains, their devices' domains, else the platform's smallest page. */
function granuleOf(report: Report, b: BindingCore): number | undefined {
  const granules: number[] = [];
  const domainGranule = (id: unknown) => report.domains.find(d => d.id === id)?.granule;
  for (const c of b.calls) {
    for (const i of c.invocations) {
      const dom = i.args.domain;
      const g = dom && typeof dom === 'object' ? num((dom as Record<string, unknown>).granule) : domainGranule(dom);
      if (g) granules.push(g);
      const dev = report.devices.find(d => d.name === i.args.dev);
      const dg = dev?.domain ? domainGranule(dev.domain) : undefined;
      if (dg) granules.push(dg);
    }
  }
  if (!granules.length) {
    for (const d of report.domains) if (d.type !== 'IDENTITY' && d.type !== 'BLOCKED' && d.granule) granules.push(d.granule);
  }
  if (!granules.length) {
    for (const m of report.platform?.iommus ?? []) if (m.pgsize_bitmap.length) granules.push(Math.min(...m.pgsize_bitmap));
  }
  return granules.length ? Math.min(...granules) : undefined;
}

function simFinding(b: BindingCore, code: string, fn: string | null): OutcomeDiagnostic | undefined {
  const all = b.diagnostics.filter(d => d.kind === 'finding' && d.code === code);
  return all.find(d => d.function === fn) ?? all[0];
}

function callsAt(b: BindingCore, f: SourceFinding, apis: RegExp): CallOutcome[] {
  return b.calls.filter(c => apis.test(c.call.api) && c.call.line === f.line);
}

function mmConsequence(f: SourceFinding, b: BindingCore, report: Report): Consequence | null {
  const granule = granuleOf(report, b);
  if (!granule) return null;
  const page = b.pageSize;
  const on = `on ${b.platform} with ${sizeLabel(page)} pages`;
  if (granule === page) {
    return { specific: true, text: `${on} the IOMMU granule is also ${sizeLabel(granule)}, so this arithmetic gives the right numbers in this run; `
      + 'it breaks where the IOMMU page is larger than the CPU page (Apple DART: 16K pages under a 4K kernel)' };
  }
  if (granule < page) {
    return { specific: true, text: `${on} the IOMMU granule is only ${sizeLabel(granule)}: pfns and sizes counted in CPU pages are `
      + `${page / granule}× the IOVA allocator's units, so ranges are reserved and addressed ${page / granule}× too coarsely` };
  }
  const hit = b.diagnostics.find(d => d.kind === 'finding' && d.code === 'unaligned-map' && d.function === f.function)
    ?? b.diagnostics.find(d => d.kind === 'finding' && d.code === 'unaligned-map');
  const failed = hit ? undefined : b.calls.flatMap(c => c.invocations.filter(i => i.summary.errno === '-EINVAL' && /^iommu_map/.test(i.name)))[0];
  const elsewhere = (fn: string) => (fn !== f.function ? ` in ${fn}()` : '');
  const seen = /\biommu_unmap\(/.test(f.message) ? '' : hit ? `; the run hit it${elsewhere(hit.function)} at step ${hit.step}`
    : failed ? `; the run hit it at step ${failed.step} (${failed.name} → -EINVAL)` : '';
  const what = /\binit_iova_domain\(/.test(f.message)
    ? `the IOVA allocator gets a ${sizeLabel(page)} granule while the IOMMU maps ${sizeLabel(granule)} pages: the ranges it hands out `
      + `are only ${sizeLabel(page)}-aligned, and iommu_map returns -EINVAL for them`
    : /\biommu_unmap\(/.test(f.message)
    ? `this size is not a multiple of the ${sizeLabel(granule)} granule: iommu_unmap returns 0 and unmaps nothing`
    : SIZE_HELPERS.test(f.message)
    ? `this size is not a multiple of the ${sizeLabel(granule)} granule: iommu_map returns -EINVAL`
    : `a pfn here counts ${sizeLabel(page)} pages but the IOMMU granule is ${sizeLabel(granule)}: addresses built from it are not `
      + `${sizeLabel(granule)}-aligned and iommu_map returns -EINVAL`;
  return { specific: true, text: `${on} ${what}${seen}` };
}

function truncationConsequence(f: SourceFinding, b: BindingCore, report: Report): Consequence | null {
  const declared = /declared '([^']+)'/.exec(f.message)?.[1] ?? '';
  const width = /\b(?:u8|__u8|uint8_t|char|unsigned char)$/.test(declared) ? 8
    : /\b(?:u16|__u16|s16|uint16_t|int16_t|short|unsigned short)$/.test(declared) ? 16 : 32;
  const limit = 2 ** width;
  let max = -1;
  let maxStep: number | null = null;
  const consider = (v: unknown, step: number) => {
    const n = num(v);
    if (n !== undefined && n > max) { max = n; maxStep = step; }
  };
  for (const c of b.calls) for (const i of c.invocations) consider(i.summary.address, i.step);
  if (max < 0) {
    // nothing of this file was bound: the run's device addresses in general
    for (const s of report.steps) for (const e of s.events ?? []) if (e.kind === 'api' && typeof e.name === 'string') {
      const args = (e.args ?? {}) as Record<string, unknown>;
      if (/^iommu_(map|unmap)/.test(e.name)) consider(args.iova, s.index);
      if (/^dma_map_(single|page|resource)/.test(e.name)) consider(e.result, s.index);
    }
  }
  if (max >= limit) {
    return { specific: true, text: `on ${b.platform} the run produced the device address ${hex(max)} (step ${maxStep}): `
      + `a ${width}-bit '${declared || 'variable'}' keeps ${hex(max % limit)}, so the device is given the wrong address` };
  }
  const ends = report.domains.filter(d => d.aperture && d.type !== 'IDENTITY' && d.type !== 'BLOCKED').map(d => num(d.aperture!.end) ?? 0);
  if (!ends.length) return null;
  const top = Math.max(...ends);
  const highest = max >= 0 ? ` (highest ${hex(max)})` : '';
  if (top >= limit) {
    return { specific: true, text: `this run's device addresses stayed below ${sizeLabel(limit)}${highest}, but a domain on ${b.platform} `
      + `reaches ${hex(top)}: any IOVA above ${hex(limit - 1)} would be truncated` };
  }
  return { specific: true, text: `on ${b.platform} every domain aperture ends at or below ${hex(top)}: the truncation cannot happen here, `
    + `only where device addresses pass ${sizeLabel(limit)}` };
}

function loopConsequence(f: SourceFinding, b: BindingCore, api: RegExp, verb: string, better: string): Consequence | null {
  const site = callsAt(b, f, api)[0];
  if (!site) return null;
  const n = site.invocations.length;
  const sizes = site.invocations.map(i => i.summary.mapped ?? i.summary.asked).filter((x): x is number => x !== undefined);
  const total = sizes.reduce((a, x) => a + x, 0);
  // each call's size, or its error when it failed
  const each = site.invocations.map(i => (i.summary.failed ? i.summary.result : (i.summary.mapped ?? i.summary.asked)));
  const list = n <= 6 && each.every(x => x !== undefined) ? ` (${each.map(x => (typeof x === 'number' ? sizeLabel(x) : x)).join(', ')})` : '';
  const failed = site.invocations.find(i => i.summary.failed);
  return { specific: true, text: `the run called ${site.call.api} ${n} time${n === 1 ? '' : 's'} here${list}`
    + (total && n > 1 ? `; ${better} would have ${verb} ${sizeLabel(total)} in one call` : '')
    + (failed ? `; step ${failed.step} failed with ${failed.summary.result}` : '') };
}

function consequenceFor(f: SourceFinding, b: BindingCore, report: Report): Consequence | null {
  switch (f.code) {
    case 'mm-pfn-on-iova': return mmConsequence(f, b, report);
    case 'iova-truncated': return truncationConsequence(f, b, report);
    case 'map-per-sg-entry': return loopConsequence(f, b, /^iommu_map$/, 'mapped', 'iommu_map_sg()');
    case 'unmap-per-segment': return loopConsequence(f, b, /^iommu_unmap/, 'unmapped', 'one iommu_unmap() of the whole range');
    case 'dma-get-sgtable-sharing': {
      const failed = callsAt(b, f, /^dma_get_sgtable/)[0]?.invocations.find(i => i.summary.failed);
      return failed ? { specific: true, text: `on ${b.platform} dma_get_sgtable returned ${failed.summary.result} at step ${failed.step}` } : null;
    }
    case 'mapping-error-unchecked': {
      const failed = callsAt(b, f, /^dma_map_/)[0]?.invocations.find(i => i.summary.result === 'DMA_MAPPING_ERROR');
      if (failed) return { specific: true, text: `at step ${failed.step} ${failed.name} returned DMA_MAPPING_ERROR, which this code hands on as an address` };
      break;
    }
  }
  // wrong-free-function, unbounded-user-count, mapping-error-unchecked ...: the run's own finding of that code
  const same = simFinding(b, f.code, f.function);
  if (same) {
    const where = same.function !== f.function ? ` in ${same.function}()` : '';
    return { specific: true, text: `the run reports it${where} at step ${same.step}: ${same.message.replace(/ \(step \d+\)$/, '')}` };
  }
  return null;
}

export function consequences(analysis: Analysis, report: Report, b: BindingCore): Array<Consequence | null> {
  return analysis.findings.map(f => consequenceFor(f, b, report));
}
