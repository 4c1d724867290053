// C source annotations in the real extension host: examples/drivers/apu_gem.c (drivers/apu_gem.c in the test
// workspace) with a run whose steps name its functions. Inline outcomes, Problems entries, hovers, CodeLenses
// and quick fixes are read through the providers VS Code itself calls and through the annotations API.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { IommuLensExports } from '../../extension/extension';
import { closeEditors, EXTENSION_ID, until, workspaceUri } from './helpers';

async function exportsOf(): Promise<IommuLensExports> {
  const ext = vscode.extensions.getExtension<IommuLensExports>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

const hoverText = (hovers: vscode.Hover[]) => hovers.flatMap(h => h.contents.map(c => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');

export function annotationsSuite(): void {
  describe('C source annotations', () => {
    const source = () => workspaceUri('drivers/apu_gem.c');
    const scenario = () => workspaceUri('fixtures/apu-gem-sites.iommu.yaml');
    let doc: vscode.TextDocument;
    const lineOf = (needle: string) => {
      const i = doc.getText().split('\n').findIndex(l => l.includes(needle));
      assert.ok(i >= 0, `'${needle}' is not in apu_gem.c`);
      return i;                                      // 0-based
    };

    before(async () => {
      const x = await exportsOf();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.runScenario', scenario()), true);
      doc = await vscode.workspace.openTextDocument(source());
      await vscode.window.showTextDocument(doc);
      await until('the run bound to apu_gem.c', () => x.annotations.state(source())?.binding?.calls.length, 20000);
      await x.annotations.settled();
    });
    after(async () => {
      const c = vscode.workspace.getConfiguration('iommuLens');
      if (c.inspect('annotations.enabled')?.workspaceValue !== undefined) {
        await c.update('annotations.enabled', undefined, vscode.ConfigurationTarget.Workspace);
      }
      await closeEditors();
    });

    it('shows the outcome after each bound call: results, bytes mapped vs asked, device addresses', async () => {
      const x = await exportsOf();
      const state = x.annotations.state(source())!;
      const map = state.binding!.calls.find(c => c.call.api === 'iommu_map')!;
      assert.strictEqual(map.call.line - 1, lineOf('ret = iommu_map(apu->domain, iova, sg_phys(sg),'));
      assert.deepStrictEqual(map.invocations.map(i => i.step), [5, 6, 7]);
      const item = state.inline.find(i => i.line === map.call.range.end.line)!;
      assert.deepStrictEqual(item, { line: map.call.range.end.line, severity: 'error',
        text: '×3 → -EINVAL, 0 ×2 · mapped 32K of 36K · iova 0x10000–0x24000 · unaligned-map' });
      const unmap = state.inline.find(i => i.line - 1 === lineOf('iommu_unmap(apu->domain, iova, PAGE_ALIGN'))!;
      assert.strictEqual(unmap.text, '→ 0x4000 · iova 0x20000');
      assert.strictEqual(unmap.severity, 'info');
    });

    it('puts the review findings and the simulated faults in Problems, with the consequence on this platform', async () => {
      const x = await exportsOf();
      const diags = vscode.languages.getDiagnostics(source());
      const ours = diags.filter(d => d.source === 'IOMMU Lens');
      for (const f of x.annotations.state(source())!.analysis.findings) {
        assert.ok(ours.some(d => d.code === f.code && d.range.start.line === f.line - 1), `no diagnostic ${f.code} on line ${f.line}`);
      }
      const mm = ours.find(d => d.code === 'mm-pfn-on-iova' && d.range.start.line === lineOf('PAGE_ALIGN(sg->length),'))!;
      assert.strictEqual(mm.severity, vscode.DiagnosticSeverity.Warning);
      assert.match(mm.relatedInformation![0].message,
        /^simulated: on apple-t8103 with 4K pages this size is not a multiple of the 16K granule: iommu_map returns -EINVAL/);
      const fault = ours.find(d => d.code === 'translation-fault')!;
      assert.strictEqual(fault.range.start.line, lineOf('int apu_job_submit('));
      assert.strictEqual(fault.severity, vscode.DiagnosticSeverity.Error);
      assert.match(fault.message, /^simulated: .*translation fault.*\(step 10\)$/);
      const unaligned = ours.find(d => d.code === 'unaligned-map')!;
      assert.strictEqual(unaligned.range.start.line, lineOf('ret = iommu_map(apu->domain, iova, sg_phys(sg),'));
    });

    it('hovers list every call of the run at that site, and explain review findings', async () => {
      const line = lineOf('ret = iommu_map(apu->domain, iova, sg_phys(sg),');
      const call = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', source(), new vscode.Position(line, 12)));
      assert.match(call, /\*\*iommu_map\*\* — 3 calls in this run · site `apu_gem\.c:apu_gem_iommu_map`/);
      assert.match(call, /\*\*step 5\*\* \(scenario line \d+\) → \*\*-EINVAL\*\* · iova 0x10000 · asked 4K · mapped 0\n```text\niommu_map\(domain=d2, iova=0x10000, paddr=0x800010000, size=4096, prot=read\|write\)\n/);
      assert.match(call, /map: IOMMU: iova=0x0000000000020000 - 0x0000000000024000 paddr=0x0000000800010000 size=16384/);
      const free = lineOf('free_iova(&apu->iovad, PHYS_PFN(apu_obj->iova));');
      const review = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', source(), new vscode.Position(free, 3)));
      assert.match(review, /\*\*wrong-free-function\*\* \(error\)/);
      assert.match(review, /\*Simulated on apple-t8103:\* the run reports it at step 9/);
    });

    it('a CodeLens above each function counts calls, faults and findings and reveals them in the tree', async () => {
      const x = await exportsOf();
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', source());
      const at = (needle: string) => lenses.find(l => l.range.start.line === lineOf(needle))?.command;
      const review = (fn: string) => x.annotations.state(source())!.analysis.findings.filter(f => f.function === fn).length;
      const map = at('int apu_gem_iommu_map(')!;
      assert.strictEqual(map.title, `4 calls · ${1 + review('apu_gem_iommu_map')} findings`);
      const submit = at('int apu_job_submit(')!;
      assert.strictEqual(submit.title, `1 call · 1 fault${review('apu_job_submit') ? ` · ${review('apu_job_submit')} finding` : ''}`);
      assert.strictEqual(submit.command, 'iommuLens.revealInTree');
      assert.deepStrictEqual(submit.arguments, [{ step: 10, faultIndex: 0 }]);
      assert.strictEqual(await vscode.commands.executeCommand(submit.command, ...submit.arguments!), true);
      assert.strictEqual(at('static inline struct apu_device *to_apu_device('), undefined, 'untouched functions get no lens');
    });

    it('offers the analysis fixes as Quick Fixes, applies one only when picked, and re-analyses the edit', async () => {
      const x = await exportsOf();
      // the local `u32 iova;` of apu_gem_iommu_map (the struct field of the same name comes earlier)
      const declLine = doc.getText().split('\n').findIndex((l, i) => i > lineOf('int apu_gem_iommu_map(') && l === '\tu32 iova;');
      assert.ok(declLine > 0);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', source(),
        new vscode.Range(declLine, 5, declLine, 5));
      const fix = actions.find(a => a.title === 'Declare \'iova\' as dma_addr_t')!;
      assert.ok(fix, JSON.stringify(actions.map(a => a.title)));
      assert.strictEqual(fix.edit, undefined, 'a fix is a command: nothing is applied before it is picked');
      assert.strictEqual(doc.lineAt(declLine).text, '\tu32 iova;');
      const before = x.annotations.state(source())!.analysis.findings.length;
      assert.strictEqual(await vscode.commands.executeCommand(fix.command!.command, ...fix.command!.arguments!), true);
      assert.strictEqual(doc.lineAt(declLine).text, '\tdma_addr_t iova;');
      const after = await until('the edit re-analysed', () => {
        const s = x.annotations.state(source());
        return s && s.version === doc.version ? s : undefined;
      });
      assert.ok(!after.analysis.findings.some(f => f.code === 'iova-truncated' && f.line === declLine + 1));
      assert.strictEqual(after.analysis.findings.length, before - 1);
      assert.ok(after.binding && after.binding.calls.length > 0, 'the run stays bound after the edit');
      await vscode.commands.executeCommand('workbench.action.files.revert');
      await until('the revert re-analysed', () => x.annotations.state(source())?.analysis.findings.length === before);
    });

    it('follows the run: Reset clears the outcomes, stepping brings them back', async () => {
      const x = await exportsOf();
      await vscode.commands.executeCommand('iommuLens.reset');
      await until('outcomes cleared', () => x.annotations.state(source())?.binding?.calls.length === 0);
      await vscode.commands.executeCommand('iommuLens.runToStep', scenario(), 5);
      const state = await until('the first map bound', () => {
        const s = x.annotations.state(source());
        return s?.binding?.calls.some(c => c.call.api === 'iommu_map') ? s : undefined;
      });
      assert.strictEqual(state.inline.find(i => i.severity === 'error')?.text, '→ -EINVAL · mapped 0 of 4K · iova 0x10000 · unaligned-map');
      await vscode.commands.executeCommand('iommuLens.runToEnd', scenario());
      await until('every step bound again', () => x.annotations.state(source())?.binding?.boundInvocations === 6);
    });

    it('iommuLens.annotations.enabled = false turns every part off, and true brings it back', async () => {
      const x = await exportsOf();
      const c = vscode.workspace.getConfiguration('iommuLens');
      await c.update('annotations.enabled', false, vscode.ConfigurationTarget.Workspace);
      await until('annotations off', () => x.annotations.state(source()) === undefined);
      await until('Problems cleared', () => !vscode.languages.getDiagnostics(source()).some(d => d.source === 'IOMMU Lens'));
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', source());
      assert.deepStrictEqual(lenses.filter(l => l.command?.command === 'iommuLens.revealInTree'), []);
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', source(),
        new vscode.Position(lineOf('ret = iommu_map(apu->domain, iova, sg_phys(sg),'), 12));
      assert.doesNotMatch(hoverText(hovers), /calls in this run/);
      await c.update('annotations.enabled', true, vscode.ConfigurationTarget.Workspace);
      await until('annotations back', () => x.annotations.state(source())?.binding?.calls.length);
      await until('Problems back', () => vscode.languages.getDiagnostics(source()).some(d => d.source === 'IOMMU Lens'));
    });
  });
}
