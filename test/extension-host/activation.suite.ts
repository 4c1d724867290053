// The extension activates in the real host, registers every command it contributes, and shows its views.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, until } from './helpers';

export function activationSuite(): void {
  describe('activation', () => {
    it('activates and exports the session store and the trees', async () => {
      const a = await api();
      assert.ok(vscode.extensions.getExtension(EXTENSION_ID)!.isActive);
      assert.ok(a.store && a.runner && a.iommuTree && a.findingsTree && a.statusBar);
    });

    it('registers every command it contributes', async () => {
      await api();
      const contributed: Array<{ command: string; title: string; category?: string }> =
        vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands;
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = contributed.map(c => c.command).filter(c => !registered.has(c));
      assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
      for (const c of contributed) assert.strictEqual(c.category, 'IOMMU Lens', `${c.command} has no IOMMU Lens category`);
      const titles = contributed.map(c => c.title);
      for (const t of ['Open Scenario…', 'Run Scenario', 'Step', 'Run to End', 'Reset', 'Choose Platform Preset', 'Set CPU Page Size',
        'Toggle Strict/Lazy Invalidation', 'Show Address Map', 'Import Kernel Trace…', 'Export Report…', 'Reveal in Tree', 'Go to Source']) {
        assert.ok(titles.includes(t), `no command titled ${t}`);
      }
    });

    it('opens its views in the activity bar container', async () => {
      await vscode.commands.executeCommand('iommuLens.iommus.focus');
      const a = await api();
      await until('the IOMMUs view to show', () => a.iommuTree.view.visible);
      await vscode.commands.executeCommand('iommuLens.findings.focus');
      await until('the Faults & Findings view to show', () => a.findingsTree.view.visible);
    });
  });
}
