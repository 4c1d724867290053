// Import Kernel Trace…: a /sys/kernel/tracing/trace capture (or `trace-cmd report` output) rebuilt into the
// same report a simulated run gives, shown in the trees, the status bar and the map. Skipped lines go to Problems.
import * as vscode from 'vscode';
import { loadEngine } from '../engineLoader';
import type { ExtensionParts } from '../parts';

export function registerTraceCommands(p: ExtensionParts): vscode.Disposable[] {
  return [vscode.commands.registerCommand('iommuLens.importTrace', p.errors.guard('iommuLens.importTrace', async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : (await vscode.window.showOpenDialog({
      title: 'IOMMU Lens: Import Kernel Trace', openLabel: 'Import', canSelectMany: false,
      filters: { 'Kernel trace (text)': ['txt', 'trace', 'log'], 'All files': ['*'] },
    }))?.[0];
    if (!uri) return undefined;
    const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    const name = vscode.workspace.asRelativePath(uri, false);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `IOMMU Lens: importing ${name}` },
      async () => loadEngine().importTrace(text, name));
    p.store.loadReport(result.report, { uri, label: uri.path.split('/').pop() ?? name, kind: 'trace' });
    p.diagnostics.showTraceSkips(uri, result.skipped);
    const notes = [
      result.skippedCount ? `${result.skippedCount} line${result.skippedCount === 1 ? '' : 's'} skipped` : undefined,
      result.lost ? `${result.lost} events lost by the ring buffer: the state may be incomplete` : undefined,
    ].filter(Boolean);
    p.output.appendLine(`# IOMMU Lens: imported ${name} (${result.format}): ${result.events} IOMMU/DMA events of ${result.lines} lines` +
      (notes.length ? `; ${notes.join('; ')}` : ''));
    const msg = `IOMMU Lens: imported ${result.events} events from ${name}${notes.length ? ` (${notes.join('; ')})` : ''}.`;
    if (result.skippedCount) {
      void vscode.window.showWarningMessage(msg, 'Show Problems').then(pick => {
        if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
    } else {
      void vscode.window.showInformationMessage(msg);
    }
    return result.report;
  }))];
}
