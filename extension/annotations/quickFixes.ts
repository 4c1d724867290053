// Quick Fixes from the analysis' mechanical rewrites (free_iova → free_iova_fast, u32 → dma_addr_t ...). A fix is
// a command, so nothing is ever applied without the user picking it, and it checks that the text it replaces
// is still the text the analysis saw; if the document moved on, it asks for a fresh look instead.
import * as vscode from 'vscode';
import type { QuickFix } from '../../simulator/analysis/types';
import { C_SELECTOR, type AnnotationController } from './controller';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { toRange } from './hover';

export const APPLY_FIX_COMMAND = 'iommuLens.applySourceFix';

export class SourceFixProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly controller: AnnotationController) {}

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const state = this.controller.state(doc.uri);
    if (!state) return [];
    const actions: vscode.CodeAction[] = [];
    for (const f of state.analysis.findings) {
      const r = toRange(f.range);
      if (!f.fixes.length || !r.intersection(range)) continue;
      const diags = ctx.diagnostics.filter(d => d.source === DIAGNOSTIC_SOURCE && d.code === f.code && d.range.isEqual(r));
      for (const fix of f.fixes) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = diags;
        a.command = { title: fix.title, command: APPLY_FIX_COMMAND, arguments: [doc.uri, fix, doc.getText(toRange(fix.range))] };
        actions.push(a);
      }
    }
    return actions;
  }
}

/** Applies one fix if the text it replaces is unchanged; true when the edit was made. */
export async function applySourceFix(uri: vscode.Uri, fix: QuickFix, expected: string): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const range = toRange(fix.range);
  if (doc.getText(range) !== expected) {
    void vscode.window.showWarningMessage(`IOMMU Lens: the code changed since "${fix.title}" was offered; try the quick fix again.`);
    return false;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, range, fix.newText);
  return vscode.workspace.applyEdit(edit);
}

export function registerSourceFixes(context: vscode.ExtensionContext, controller: AnnotationController): void {
  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(C_SELECTOR, new SourceFixProvider(controller), { providedCodeActionKinds: SourceFixProvider.kinds }),
    vscode.commands.registerCommand(APPLY_FIX_COMMAND, (uri: vscode.Uri, fix: QuickFix, expected: string) => applySourceFix(uri, fix, expected)),
  );
}
