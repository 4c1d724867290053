// Inline text after each bound call: result, device address, bytes mapped vs asked, exposure, errno. Three
// decoration types (created once) carry the theme colours: failures in the error colour, exposure and
// findings in the warning colour, plain outcomes in the description colour.
import * as vscode from 'vscode';
import type { Severity } from '../../simulator/analysis/types';
import type { AnnotationController } from './controller';

const COLORS: Record<Severity, string> = { error: 'errorForeground', warning: 'editorWarning.foreground', info: 'descriptionForeground' };

function decorationType(severity: Severity): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor(COLORS[severity]), margin: '0 0 0 1.5em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
}

export function registerInlineOutcomes(context: vscode.ExtensionContext, controller: AnnotationController): void {
  const types: Record<Severity, vscode.TextEditorDecorationType> = {
    error: decorationType('error'), warning: decorationType('warning'), info: decorationType('info'),
  };
  const paint = (editor: vscode.TextEditor) => {
    const state = controller.state(editor.document.uri);
    const doc = editor.document;
    const items: Record<Severity, vscode.DecorationOptions[]> = { error: [], warning: [], info: [] };
    // a stale state (the document changed since) still paints: its lines are at most one debounce behind
    for (const item of state?.inline ?? []) {
      if (item.line > doc.lineCount) continue;
      const end = doc.lineAt(item.line - 1).range.end;
      items[item.severity].push({
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: item.text } },
      });
    }
    for (const s of Object.keys(types) as Severity[]) editor.setDecorations(types[s], items[s]);
  };
  const paintAll = (uri?: vscode.Uri) => {
    for (const e of vscode.window.visibleTextEditors) if (!uri || e.document.uri.toString() === uri.toString()) paint(e);
  };
  context.subscriptions.push(
    ...Object.values(types),
    controller.onDidUpdate(uri => paintAll(uri)),
    vscode.window.onDidChangeVisibleTextEditors(() => paintAll()),
  );
}
