// Export Report…: the run's JSON report, written atomically (a temporary file beside the target, then a
// rename over it) so a crash never leaves a half-written report, and only to the path the user picked.
import * as vscode from 'vscode';
import type { Report } from '../simulator/report/types';

export async function exportReport(report: Report, suggested: string, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  let uri = target;
  if (!uri) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    uri = await vscode.window.showSaveDialog({
      title: 'IOMMU Lens: Export Report',
      saveLabel: 'Export',
      defaultUri: folder ? vscode.Uri.joinPath(folder, suggested) : undefined,
      filters: { 'JSON report': ['json'] },
    });
  }
  if (!uri) return undefined;
  await writeFileAtomic(uri, new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'));
  return uri;
}

/** Writes BYTES to a temporary sibling of URI and renames it over URI; removes the temporary file on failure. */
export async function writeFileAtomic(uri: vscode.Uri, bytes: Uint8Array): Promise<void> {
  const base = uri.path.split('/').pop() ?? 'report.json';
  const tmp = uri.with({ path: uri.path.replace(/[^/]*$/, `.${base}.${process.pid}-${Date.now().toString(36)}.tmp`) });
  try {
    await vscode.workspace.fs.writeFile(tmp, bytes);
    await vscode.workspace.fs.rename(tmp, uri, { overwrite: true });
  } catch (e) {
    try { await vscode.workspace.fs.delete(tmp); } catch { /* never written */ }
    throw e;
  }
}

/** `m1-xhci.iommu.yaml` -> `m1-xhci.report.json`. */
export function reportFileName(scenarioLabel: string): string {
  const stem = scenarioLabel.replace(/\.iommu\.(ya?ml|json)$/i, '').replace(/[^\w.-]+/g, '-') || 'iommu-lens';
  return `${stem}.report.json`;
}
