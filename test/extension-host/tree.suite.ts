// The sidebar trees after a run: rows, tooltips, actions (reveal, go to source, copy address, open step).
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TreeNode } from '../../extension/tree/node';
import { api, closeEditors, until, workspaceUri } from './helpers';

const find = (nodes: readonly TreeNode[], id: string): TreeNode | undefined => {
  for (const n of nodes) {
    if (n.id === id) return n;
    const hit = find(n.children, id);
    if (hit) return hit;
  }
  return undefined;
};

export function treeSuite(): void {
  describe('trees after a run', () => {
    const scenario = () => workspaceUri('fixtures/site-demo.iommu.yaml');
    before(async () => {
      await vscode.commands.executeCommand('iommuLens.iommus.focus');
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.runScenario', scenario()), true);
    });
    after(closeEditors);

    it('IOMMUs lists iommu -> group -> device -> domain -> mapping with kernel numbers', async () => {
      const a = await api();
      const roots = a.iommuTree.nodes;
      assert.strictEqual(roots[0].id, 'iommu:iommu0');
      assert.strictEqual(roots[0].description, 'generic · 4K · 48→48-bit');
      const domain = find(roots, 'dev:dma0/domain:d2');
      assert.ok(domain, 'dma0 is attached to its unmanaged domain d2');
      assert.strictEqual(domain.label, 'd2 · UNMANAGED');
      const mapping = find(roots, 'dev:dma0/domain:d2/map:0x100000')!;
      assert.strictEqual(mapping.label, '0x100000-0x101fff → 0x80000000');
      assert.strictEqual(mapping.description, '8K · RW · iommu_map step 3');
      assert.strictEqual(mapping.site, 'demo_dma.c:demo_map_buffer');
      assert.ok(find(roots, 'iommu:iommu0/unattached/domain:d1'), 'the default DMA domain d1 is left unattached');
      const item = a.iommuTree.getTreeItem(mapping);
      assert.ok(item.tooltip instanceof vscode.MarkdownString);
      assert.match((item.tooltip as vscode.MarkdownString).value, /\| physical \| `0x80000000-0x80001fff` \|/);
      assert.match(String(item.contextValue), /\bmappable\b/);
    });

    it('Faults & Findings lists the fault and the unaligned-map finding with its site', async () => {
      const a = await api();
      const roots = a.findingsTree.nodes;
      assert.deepStrictEqual(roots.map(n => n.id), ['faults', 'findings']);
      assert.strictEqual(roots[0].children[0].label, 'translation fault at 0x300000');
      const finding = roots[1].children[0];
      assert.strictEqual(finding.label, 'unaligned-map');
      assert.strictEqual(finding.site, 'demo_dma.c:demo_map_buffer');
      assert.strictEqual(a.findingsTree.getTreeItem(finding).command?.command, 'iommuLens.openNode');
    });

    it('Reveal in Tree selects what the last step touched', async () => {
      const a = await api();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.revealInTree'), true);
      const selected = () => a.iommuTree.view.selection.map(n => n.id).join(',');
      // the last step is a device read at an unmapped IOVA: its domain is revealed
      await until('the domain to be selected', () => selected() === 'dev:dma0/domain:d2');
      await vscode.commands.executeCommand('iommuLens.revealInTree', { domain: 'd2', iova: '0x101000' });
      await until('the mapping to be selected', () => selected() === 'dev:dma0/domain:d2/map:0x100000');
      // what the map sends for a click on a fault marker: the fault is shown in Faults & Findings
      await vscode.commands.executeCommand('iommuLens.revealInTree', { step: 5, domain: 'd2', iova: '0x300000', faultIndex: 0 });
      await until('the fault to be selected', () => a.findingsTree.view.selection.map(n => n.id).join(',') === 'fault:0');
    });

    it('Go to Source opens the driver file at the function definition, not at a call', async () => {
      const a = await api();
      const finding = a.findingsTree.nodes[1].children[0];
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.goToSource', finding), true);
      const editor = vscode.window.activeTextEditor!;
      assert.match(editor.document.uri.path, /fixtures\/drivers\/demo_dma\.c$/);
      const line = editor.document.lineAt(editor.selection.start.line).text;
      assert.ok(line.startsWith('demo_map_buffer('), `selected line: ${line}`);
      assert.strictEqual(editor.document.getText(editor.selection), 'demo_map_buffer');
    });

    it('a fault opens its step in the scenario; Copy Address copies the IOVA', async () => {
      const a = await api();
      const fault = a.findingsTree.nodes[0].children[0];
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.openNode', fault), true);
      const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors.find(e => e.document.uri.path.endsWith('site-demo.iommu.yaml'));
      assert.ok(editor);
      assert.match(editor.document.lineAt(editor.selection.start.line).text, /dma_read/);
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.copyAddress', fault), true);
      assert.strictEqual(await vscode.env.clipboard.readText(), '0x300000');
    });
  });
}
