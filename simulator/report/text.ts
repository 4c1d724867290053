// The CLI's default output: the run as aligned tables a kernel developer can read at a glance.
import { sizeLabel } from '../core/format';
import type { Report } from './types';
import { showResult } from '../runner/expect';
import { isVoidOp } from '../scenario/opspec';

export function table(head: string[], rows: string[][], indent = '  '): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)));
  const fmt = (r: string[]) => indent + r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

const hexEnd = (start: string, size: number) => '0x' + (parseInt(start, 16) + size - 1).toString(16);

export function formatTextReport(r: Report, opts: { maxSteps?: number; maxMappings?: number } = {}): string {
  const maxSteps = opts.maxSteps ?? 200;
  const maxMappings = opts.maxMappings ?? 64;
  const out: string[] = [];
  const mode = r.kernel.dma_strict ? 'strict' : 'lazy';
  out.push(`${r.scenario}`);
  out.push(`  platform ${r.platform?.name ?? '?'}, PAGE_SIZE ${sizeLabel(r.kernel.page_size)}, ${mode} invalidation` +
    `${r.kernel.large_iommu_pages ? ', large-page series on' : ''}${r.kernel.version ? `, Linux ${r.kernel.version}` : ''}`);
  if (r.platform?.iommus.length) {
    out.push('', 'IOMMUs');
    out.push(...table(['NAME', 'MODEL', 'PAGE SIZES', 'IAS', 'OAS', 'BYPASS'],
      r.platform.iommus.map(i => [i.name, i.model, i.pgsize_bitmap.map(sizeLabel).join(' '), String(i.ias), String(i.oas), i.bypass ? 'yes' : 'no'])));
  }
  out.push('', 'Groups');
  out.push(...(r.groups.length ? table(['ID', 'IOMMU', 'DEVICES', 'DEFAULT', 'CURRENT'],
    r.groups.map(g => [String(g.id), g.iommu, g.devices.join(' ') || '-', g.default_domain ?? '-', g.domain ?? '-'])) : ['  (none)']));
  out.push('', 'Domains');
  out.push(...(r.domains.length ? table(['ID', 'TYPE', 'IOMMU', 'GRANULE', 'PAGE SIZES', 'FORMAT', 'DEVICES', 'MAPPINGS'],
    r.domains.map(d => [d.id, d.type, d.iommu, d.granule ? sizeLabel(d.granule) : '-', d.pgsize_bitmap.map(sizeLabel).join(' ') || '-',
      d.format ?? '-', d.devices.join(' ') || '-', String(d.mappings.length)])) : ['  (none)']));
  for (const d of r.domains) {
    if (!d.mappings.length) continue;
    out.push('', `Mappings of ${d.id} (${d.type} on ${d.iommu})`);
    const rows = d.mappings.slice(0, maxMappings).map(m => [
      `${m.iova}-${hexEnd(m.iova, m.size)}`, '->', `${m.paddr}-${hexEnd(m.paddr, m.size)}`, sizeLabel(m.size), m.prot.join(','),
      [m.stale ? 'STALE (still in IOTLB)' : '', m.owner ?? '', m.exposed ? `exposes ${sizeLabel(m.exposed)}` : ''].filter(Boolean).join('; '),
    ]);
    out.push(...table(['IOVA', '', 'PHYS', 'SIZE', 'PROT', 'NOTES'], rows));
    if (d.mappings.length > maxMappings) out.push(`  ... ${d.mappings.length - maxMappings} more`);
  }
  out.push('', 'Steps');
  const steps = r.steps.slice(0, maxSteps).map(s => [
    String(s.index), s.op + (s.as ? ` → $${s.as}` : ''), isVoidOp(s.op) && s.result === null ? '—' : showResult(s.result),
    s.expectFailures ? 'FAILED: ' + s.expectFailures.join('; ') : s.findings.length ? s.findings.map(f => f.code).join(', ') : '',
  ]);
  out.push(...(steps.length ? table(['#', 'OP', 'RESULT', 'NOTES'], steps) : ['  (none)']));
  const total = r.steps_total ?? r.steps.length;
  if (total > maxSteps) out.push(`  ... ${total - maxSteps} more steps`);
  out.push('', `Faults (${r.faults.length})`);
  out.push(...(r.faults.length ? table(['STEP', 'DEVICE', 'STREAM', 'IOVA', 'KIND', 'MESSAGE'],
    r.faults.slice(0, 50).map(f => [String(f.step), f.dev, '0x' + f.stream.toString(16), f.iova, f.kind, f.message])) : ['  (none)']));
  out.push('', `Findings (${r.findings.length})`);
  out.push(...(r.findings.length ? table(['STEP', 'SEVERITY', 'CODE', 'MESSAGE'],
    r.findings.slice(0, 100).map(f => [String(f.step ?? '-'), f.severity, f.code, f.message + (f.site ? ` [${f.site}]` : '')])) : ['  (none)']));
  if (r.oops) out.push('', `Kernel oops: ${r.oops}`);
  const e = r.expectations;
  if (e && e.checked) out.push('', e.failed ? `Expectations: ${e.failed} of ${e.checked} FAILED` : `Expectations: all ${e.checked} held`);
  return out.join('\n') + '\n';
}
