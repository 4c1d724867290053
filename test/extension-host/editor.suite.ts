// Scenario files in the editor: Problems diagnostics at line/col, re-validated on edit; CodeLenses per step.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, closeEditors, until, workspaceUri } from './helpers';

export function editorSuite(): void {
  describe('scenario files in the editor', () => {
    after(closeEditors);

    it('a misspelled op shows in Problems at its line and column, and clears once fixed', async () => {
      await api();
      const uri = workspaceUri('fixtures/broken-op.iommu.yaml');
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const diags = await until('a diagnostic', () => { const d = vscode.languages.getDiagnostics(uri); return d.length ? d : undefined; });
      assert.strictEqual(diags.length, 1);
      assert.strictEqual(diags[0].severity, vscode.DiagnosticSeverity.Error);
      assert.deepStrictEqual([diags[0].range.start.line, diags[0].range.start.character], [7, 4]);
      assert.strictEqual(doc.getText(diags[0].range), 'iommu_mapp');
      assert.match(diags[0].message, /did you mean 'iommu_map'/);
      const fix = new vscode.WorkspaceEdit();
      fix.replace(uri, diags[0].range, 'iommu_map');
      assert.ok(await vscode.workspace.applyEdit(fix));
      await until('diagnostics to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    });

    it('CodeLens: Run scenario on top and Run to here on every step line', async () => {
      const a = await api();
      const uri = workspaceUri('fixtures/site-demo.iommu.yaml');
      const doc = await vscode.workspace.openTextDocument(uri);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      const titles = lenses.map(l => l.command?.title ?? '');
      assert.ok(titles.includes('▶ Run scenario'), JSON.stringify(titles));
      const runTo = lenses.filter(l => l.command?.command === 'iommuLens.runToStep');
      const stepLines = doc.getText().split('\n').map((l, i) => (/^  - \w/.test(l) ? i : -1)).filter(i => i >= 0);
      assert.deepStrictEqual(runTo.map(l => l.range.start.line), stepLines);
      const third = runTo[2].command!;
      await vscode.commands.executeCommand(third.command, ...(third.arguments ?? []));
      assert.strictEqual(a.store.current!.cursor, 3);
      assert.strictEqual(a.store.source!.uri.toString(), uri.toString());
    });

    it('Open Scenario lists the workspace scenarios and the built-ins', async () => {
      // the quick pick itself needs a user; check the sources it lists instead
      const files = await vscode.workspace.findFiles('**/*.iommu.{yaml,yml,json}', '**/node_modules/**');
      assert.ok(files.some(f => f.path.endsWith('/default.iommu.yaml')));
      assert.ok(files.some(f => f.path.endsWith('/fixtures/site-demo.iommu.yaml')));
    });
  });
}
