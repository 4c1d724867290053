// Export Report… writes the JSON report atomically to the chosen path.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, readText, workspaceUri } from './helpers';

export function exportSuite(): void {
  describe('Export Report', () => {
    it('writes the report of the run as JSON, replacing an existing file, leaving no temporary file', async () => {
      const a = await api();
      await vscode.commands.executeCommand('iommuLens.runScenario', workspaceUri('default.iommu.yaml'));
      const target = workspaceUri('out', 'default.report.json');
      await vscode.workspace.fs.createDirectory(workspaceUri('out'));
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode('not json, an older export'));
      const written = await vscode.commands.executeCommand<vscode.Uri>('iommuLens.exportReport', target);
      assert.strictEqual(written?.toString(), target.toString());
      const parsed = JSON.parse(await readText(target));
      assert.deepStrictEqual(parsed, JSON.parse(JSON.stringify(a.store.report)));
      assert.strictEqual(parsed.scenario, a.store.report!.scenario);
      const left = (await vscode.workspace.fs.readDirectory(workspaceUri('out'))).map(([name]) => name);
      assert.deepStrictEqual(left, ['default.report.json']);
    });
  });
}
