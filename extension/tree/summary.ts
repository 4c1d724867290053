// The status-bar summary of a run: platform, page sizes, mappings, faults, findings. Pure: no vscode.
import { sizeLabel } from '../../simulator/core/format';
import type { Report } from '../../simulator/report/types';

export interface StatusSummary {
  /** status-bar text, with codicons */
  text: string;
  /** Markdown */
  tooltip: string;
  mappings: number;
  faults: number;
  findings: number;
  /** true when any error-severity finding, fault or oops is present */
  bad: boolean;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

export function statusSummary(report: Report, progress?: { cursor: number; total: number }): StatusSummary {
  const mappings = report.domains.reduce((a, d) => a + d.mappings.length, 0);
  const faults = report.faults.length;
  const findings = report.findings.length;
  const platform = report.platform?.name ?? 'inline';
  const granules = [...new Set(report.domains.filter(d => d.type !== 'BLOCKED' && d.type !== 'IDENTITY' && d.granule > 0)
    .map(d => d.granule))];
  if (!granules.length) {
    for (const i of report.platform?.iommus ?? []) if (i.pgsize_bitmap.length) granules.push(Math.min(...i.pgsize_bitmap));
  }
  const iommuPages = [...new Set(granules)].sort((a, b) => a - b).map(sizeLabel).join(',') || '-';
  const pages = `${sizeLabel(report.kernel.page_size)}/${iommuPages}`;
  const bad = faults > 0 || !!report.oops || report.findings.some(f => f.severity === 'error');
  const icon = report.oops ? '$(flame)' : bad ? '$(error)' : findings ? '$(warning)' : '$(circuit-board)';
  const step = progress && progress.cursor < progress.total ? ` · step ${progress.cursor}/${progress.total}` : '';
  const text = `${icon} ${platform} · ${pages} · ${plural(mappings, 'mapping')} · ${plural(faults, 'fault')} · ${plural(findings, 'finding')}${step}`;
  const tooltip = [
    `**IOMMU Lens** — ${report.scenario}`, '',
    `| | |`, `|---|---|`,
    `| platform | \`${platform}\` |`,
    `| CPU PAGE_SIZE | ${sizeLabel(report.kernel.page_size)} |`,
    `| IOMMU granule | ${iommuPages} |`,
    `| invalidation | ${report.kernel.dma_strict ? 'strict' : 'lazy (flush queue)'} |`,
    `| large IOMMU pages series | ${report.kernel.large_iommu_pages ? 'applied' : 'not applied (mainline)'} |`,
    `| mappings | ${mappings} |`, `| faults | ${faults} |`, `| findings | ${findings} |`,
    ...(progress ? [`| steps run | ${progress.cursor} of ${progress.total} |`] : []),
    ...(report.expectations ? [`| expect: blocks | ${report.expectations.checked} checked, ${report.expectations.failed} failed |`] : []),
    ...(report.oops ? [`| oops | ${report.oops.replace(/\|/g, '\\|')} |`] : []),
    '', 'Click to open the address map.',
  ].join('\n');
  return { text, tooltip, mappings, faults, findings, bad };
}
