// The "Faults & Findings" tree as plain nodes: a kernel oops, IOMMU faults, analysis findings and failed
// `expect:` blocks. Pure: no vscode.
import { hex } from '../../simulator/core/format';
import type { Report } from '../../simulator/report/types';
import { code, dataValue, md, mdTable, tags, TreeNode, findNode } from './node';
import type { TouchedItem } from './touched';

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };
const SEVERITY_ICON: Record<string, [string, string]> = {
  error: ['error', 'problemsErrorIcon.foreground'],
  warning: ['warning', 'problemsWarningIcon.foreground'],
  info: ['info', 'problemsInfoIcon.foreground'],
};

export function buildFindingsTree(report: Report): TreeNode[] {
  const roots: TreeNode[] = [];
  const stepLine = (i: number | null | undefined) => (i === null || i === undefined ? undefined : report.steps[i]?.line);
  if (report.oops) {
    const last = report.steps[report.steps.length - 1];
    roots.push({
      id: 'oops', kind: 'oops', label: 'Kernel oops', description: report.oops, icon: 'flame',
      iconColor: 'problemsErrorIcon.foreground', contextValue: tags('oops', { hasSite: !!last?.site }), children: [],
      step: last?.index, site: last?.site ?? undefined, scenarioLine: last?.line,
      tooltip: mdTable('Kernel oops: the run stopped', [['step', last ? `${last.index} (${code(last.op)})` : undefined],
        ['site', last?.site ? code(last.site) : undefined]], '```\n' + report.oops + '\n```'),
    });
  }
  if (report.faults.length) {
    roots.push({
      id: 'faults', kind: 'folder', label: 'Faults', description: `${report.faults.length}`, icon: 'zap',
      contextValue: 'folder', expanded: true, tooltip: 'IOMMU faults raised by device accesses',
      children: report.faults.map((f, i): TreeNode => {
        const site = report.steps[f.step]?.site ?? undefined;
        return {
          id: `fault:${i}`, kind: 'fault', label: `${f.kind} fault at ${f.iova}`,
          description: [f.dev, f.access, f.pasid !== undefined ? `PASID ${f.pasid}` : undefined, `step ${f.step}`].filter(Boolean).join(' · '),
          icon: 'zap', iconColor: 'problemsErrorIcon.foreground', children: [],
          contextValue: tags('fault', { copyable: true, mappable: true, hasSite: !!site }),
          address: f.iova, step: f.step, site, scenarioLine: stepLine(f.step),
          mapFocus: { dev: f.dev, iova: f.iova }, ref: { dev: f.dev, iova: f.iova, faultIndex: i },
          tooltip: mdTable(`${md(f.kind)} fault`, [
            ['device', code(f.dev)], ['stream ID', `${code(hex(f.stream))}`], ['IOMMU', f.iommu ? code(f.iommu) : undefined],
            ['IOVA', code(f.iova)], ['access', f.access], ['PASID', f.pasid === undefined ? undefined : `${f.pasid}`],
            ['step', `${f.step}${report.steps[f.step] ? ` (${code(report.steps[f.step].op)})` : ''}`],
            ['site', site ? code(site) : undefined],
          ], '```\n' + f.message + '\n```'),
        };
      }),
    });
  }
  if (report.findings.length) {
    const order = report.findings.map((f, i) => ({ f, i }))
      .sort((a, b) => (SEVERITY_ORDER[a.f.severity] ?? 3) - (SEVERITY_ORDER[b.f.severity] ?? 3)
        || (a.f.step ?? -1) - (b.f.step ?? -1) || a.i - b.i);
    const counts = ['error', 'warning', 'info'].map(s => [s, report.findings.filter(f => f.severity === s).length] as const)
      .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}${n === 1 ? '' : 's'}`);
    roots.push({
      id: 'findings', kind: 'folder', label: 'Findings', description: counts.join(', '), icon: 'checklist',
      contextValue: 'folder', expanded: true, tooltip: 'What the analysis found in this run (dma-debug, IOMMU core, driver review)',
      children: order.map(({ f, i }): TreeNode => {
        const [icon, color] = SEVERITY_ICON[f.severity] ?? ['question', undefined];
        const data = Object.entries(f.data ?? {});
        return {
          id: `finding:${i}`, kind: 'finding', label: f.code, description: `${f.step !== null ? `step ${f.step} · ` : ''}${f.message}`,
          icon, iconColor: color, children: [], step: f.step ?? undefined, site: f.site ?? undefined,
          scenarioLine: stepLine(f.step), contextValue: tags('finding', { hasSite: !!f.site }),
          ref: { findingIndex: i },
          tooltip: mdTable(`${md(f.severity)}: ${md(f.code)}`, [
            ['step', f.step === null ? undefined : `${f.step}${report.steps[f.step] ? ` (${code(report.steps[f.step].op)})` : ''}`],
            ['site', f.site ? code(f.site) : undefined],
            ...data.map(([k, v]) => [md(k), dataValue(k, v)] as [string, string]),
          ], md(f.message)),
        };
      }),
    });
  }
  const failed = report.steps.flatMap(s => (s.expectFailures ?? []).map((msg, j) => ({ s, msg, j })));
  if (failed.length) {
    roots.push({
      id: 'expectations', kind: 'folder', label: 'Failed expectations', description: `${failed.length}`, icon: 'beaker',
      contextValue: 'folder', expanded: true, tooltip: 'expect: blocks in the scenario that did not hold',
      children: failed.map(({ s, msg, j }): TreeNode => ({
        id: `expect:${s.index}:${j}`, kind: 'expectation', label: msg, description: `step ${s.index} · ${s.op}`,
        icon: 'close', iconColor: 'problemsErrorIcon.foreground', children: [], step: s.index,
        scenarioLine: s.line, site: s.site ?? undefined, contextValue: tags('expectation', { hasSite: !!s.site }),
        tooltip: mdTable('expectation failed', [['step', `${s.index} (${code(s.op)})`],
          ['line', s.line === undefined ? undefined : `${s.line}`]], md(msg)),
      })),
    });
  }
  return roots;
}

/** The fault or finding the last step raised, for reveal. */
export function findingsNodeForTouched(roots: TreeNode[], t: TouchedItem): TreeNode | undefined {
  if (t.faultIndex !== undefined) return findNode(roots, n => n.id === `fault:${t.faultIndex}`);
  if (t.findingIndex !== undefined) return findNode(roots, n => n.id === `finding:${t.findingIndex}`);
  return undefined;
}
