// Commands on the views: Reveal in Tree, Go to Source, Reveal in Map, Copy Address, open a fault/finding at its
// step, Export Report…, and the kernel-option commands (page size, strict/lazy).
import * as vscode from 'vscode';
import { exportReport, reportFileName } from '../exportReport';
import type { ExtensionParts } from '../parts';
import { readSettings, updateSetting } from '../settings';
import { findFunctionLine, parseSite, rankSiteFiles } from '../sourceNav';
import type { TreeNode } from '../tree/node';
import type { TouchedItem } from '../tree/touched';

export function registerViewCommands(p: ExtensionParts): vscode.Disposable[] {
  const cmd = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, p.errors.guard(id, fn));
  return [
    cmd('iommuLens.revealInTree', async (arg?: TreeNode | Partial<TouchedItem>) => revealInTree(p, arg)),
    cmd('iommuLens.goToSource', async (arg?: TreeNode | string | { site?: string }) => {
      const site = typeof arg === 'string' ? arg : arg?.site ?? stepSite(p);
      if (!site) {
        void vscode.window.showInformationMessage('IOMMU Lens: this item has no source site (add `site: FILE.c:FUNCTION` to the step).');
        return false;
      }
      return goToSource(site);
    }),
    cmd('iommuLens.revealInMap', async (node?: TreeNode) => {
      const all = await vscode.commands.getCommands(true);
      if (!all.includes('iommuLens.showMap')) {
        void vscode.window.showWarningMessage('IOMMU Lens: the address map is not available in this build.');
        return false;
      }
      await vscode.commands.executeCommand('iommuLens.showMap', node?.mapFocus);
      return true;
    }),
    cmd('iommuLens.copyAddress', async (node?: TreeNode) => {
      if (!node?.address) return false;
      await vscode.env.clipboard.writeText(node.address);
      vscode.window.setStatusBarMessage(`IOMMU Lens: copied ${node.address}`, 3000);
      return true;
    }),
    cmd('iommuLens.openNode', async (node?: TreeNode) => {
      const src = p.store.source;
      if (node?.scenarioLine !== undefined && src) {
        const line = Math.max(0, node.scenarioLine - 1);
        const editor = await vscode.window.showTextDocument(src.uri, { preview: true, preserveFocus: true });
        const range = editor.document.lineAt(Math.min(line, editor.document.lineCount - 1)).range;
        editor.selection = new vscode.Selection(range.start, range.end);
        editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return true;
      }
      return node?.site ? goToSource(node.site) : false;
    }),
    cmd('iommuLens.exportReport', async (target?: vscode.Uri) => {
      const report = p.store.report;
      if (!report) {
        void vscode.window.showWarningMessage('IOMMU Lens: run a scenario first; there is no report to export.');
        return undefined;
      }
      const uri = await exportReport(report, reportFileName(p.store.source?.label ?? report.scenario), target instanceof vscode.Uri ? target : undefined);
      if (uri && !(target instanceof vscode.Uri)) void vscode.window.showInformationMessage(`IOMMU Lens: report written to ${vscode.workspace.asRelativePath(uri)}`);
      return uri;
    }),
    cmd('iommuLens.setCpuPageSize', async (value?: string) => {
      const current = readSettings().cpuPageSize;
      const options = ['scenario', '4K', '16K', '64K'];
      const pick = typeof value === 'string' ? value : (await vscode.window.showQuickPick(options.map(o => ({
        label: o === 'scenario' ? 'From the scenario' : o, value: o, description: o === current ? 'current' : undefined,
        detail: o === 'scenario' ? 'use the kernel: page_size of each scenario file (default 4K)' : `CPU PAGE_SIZE = ${o}`,
      })), { title: 'IOMMU Lens: Set CPU Page Size' }))?.value;
      if (!pick) return false;
      await updateSetting('cpuPageSize', pick);
      return true;
    }),
    cmd('iommuLens.toggleStrict', async () => {
      const s = readSettings().dmaStrict;
      const strictNow = p.store.report?.kernel.dma_strict ?? s !== 'lazy';
      const next = strictNow ? 'lazy' : 'strict';
      await updateSetting('dmaStrict', next);
      vscode.window.setStatusBarMessage(next === 'lazy' ? 'IOMMU Lens: lazy invalidation (DMA_FQ flush queue)'
        : 'IOMMU Lens: strict invalidation (IOTLB flushed on every unmap)', 4000);
      return next;
    }),
  ];
}

function stepSite(p: ExtensionParts): string | undefined {
  const t = p.store.lastTouched;
  return t ? p.store.report?.steps[t.step]?.site ?? undefined : undefined;
}

async function revealInTree(p: ExtensionParts, arg?: TreeNode | Partial<TouchedItem>): Promise<boolean> {
  let target: TouchedItem | undefined;
  if (arg && 'kind' in arg && 'children' in arg) {
    const n = arg as TreeNode;
    target = { step: n.step ?? -1, op: '', dev: n.ref?.dev ?? n.mapFocus?.dev, domain: n.ref?.domain ?? n.mapFocus?.domain,
      iova: n.ref?.iova ?? n.mapFocus?.iova };
    if (!target.domain && target.dev) target.domain = p.store.report?.devices.find(d => d.name === target!.dev)?.domain ?? undefined;
  } else if (arg) {
    target = { step: -1, op: '', ...arg };
  } else {
    target = p.store.lastTouched;
  }
  if (!target) {
    void vscode.window.showInformationMessage('IOMMU Lens: nothing to reveal yet; run a step first.');
    return false;
  }
  const reveal = async (view: 'iommus' | 'findings') => {
    const tree = view === 'iommus' ? p.iommuTree : p.findingsTree;
    if (!tree.hasNodeFor(target!)) return false;
    await vscode.commands.executeCommand(`iommuLens.${view}.focus`);
    return tree.revealTouched(target, true);
  };
  // a fault or finding asked for explicitly (the map's fault marker) is shown in its own view first
  const explicitProblem = arg !== undefined && (target.faultIndex !== undefined || target.findingIndex !== undefined);
  return explicitProblem ? (await reveal('findings')) || reveal('iommus') : (await reveal('iommus')) || reveal('findings');
}

/** Opens FILE.c from a `FILE.c:FUNCTION` site in the workspace at the function's definition. */
export async function goToSource(site: string): Promise<boolean> {
  const parsed = parseSite(site);
  if (!parsed) {
    void vscode.window.showWarningMessage(`IOMMU Lens: "${site}" is not a source site (expected FILE.c:FUNCTION).`);
    return false;
  }
  const found = await vscode.workspace.findFiles(`**/${parsed.base}`, '**/node_modules/**', 50);
  if (!found.length) {
    void vscode.window.showWarningMessage(`IOMMU Lens: ${parsed.file} is not in the workspace (site ${site}).`);
    return false;
  }
  const byPath = new Map(found.map(u => [vscode.workspace.asRelativePath(u, false), u]));
  const ranked = rankSiteFiles([...byPath.keys()], parsed);
  let chosen = ranked[0];
  if (ranked.length > 1 && !('/' + ranked[0]).endsWith('/' + parsed.file)) {
    const pick = await vscode.window.showQuickPick(ranked, { title: `IOMMU Lens: which ${parsed.base}?` });
    if (!pick) return false;
    chosen = pick;
  }
  const doc = await vscode.workspace.openTextDocument(byPath.get(chosen)!);
  const line = parsed.line !== undefined ? parsed.line - 1 : parsed.func ? findFunctionLine(doc.getText(), parsed.func) : undefined;
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  if (line !== undefined && line < doc.lineCount) {
    const text = doc.lineAt(line).text;
    const col = parsed.func ? Math.max(0, text.indexOf(parsed.func)) : 0;
    const end = parsed.func && text.includes(parsed.func) ? col + parsed.func.length : text.length;
    editor.selection = new vscode.Selection(line, col, line, end);
    editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenter);
  }
  return true;
}
