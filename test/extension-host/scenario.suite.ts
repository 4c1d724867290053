// Scenarios loaded and run through the commands, checked against the simulator run directly.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { loadSession } from '../../simulator/session';
import { api, closeEditors, nextChange, readText, workspaceUri } from './helpers';

export function scenarioSuite(): void {
  describe('running scenarios through commands', () => {
    const example = () => workspaceUri('default.iommu.yaml');
    afterEach(async () => {
      const c = vscode.workspace.getConfiguration('iommuLens');
      for (const k of ['cpuPageSize', 'dmaStrict']) {
        if (c.inspect(k)?.workspaceValue !== undefined) await c.update(k, undefined, vscode.ConfigurationTarget.Workspace);
      }
    });
    after(closeEditors);

    it('Run Scenario runs the example to the end, the same run as the simulator', async () => {
      const a = await api();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.runScenario', example()), true);
      const s = a.store.current!;
      assert.ok(s.done, 'the session should have run every step');
      assert.strictEqual(a.store.source?.kind, 'scenario');
      const direct = loadSession(await readText(example()), 'default.iommu.yaml');
      await direct.runToEnd();
      const want = direct.snapshot(), got = a.store.report!;
      assert.deepStrictEqual(got.domains, want.domains);
      assert.deepStrictEqual(got.faults, want.faults);
      assert.deepStrictEqual(got.findings, want.findings);
      assert.strictEqual(got.steps.length, want.steps.length);
      assert.strictEqual(a.store.lastTouched?.step, want.steps.length - 1);
    });

    it('Step, Run to here, Reset and Run to End move the cursor', async () => {
      const a = await api();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.reset'), true);
      assert.strictEqual(a.store.current!.cursor, 0);
      assert.strictEqual(a.store.report!.steps.length, 0);
      await vscode.commands.executeCommand('iommuLens.step', example());
      assert.strictEqual(a.store.current!.cursor, 1);
      assert.strictEqual(a.store.lastTouched?.dev, 'pl330', 'probe touched its device');
      await vscode.commands.executeCommand('iommuLens.runToStep', example(), 4);
      assert.strictEqual(a.store.current!.cursor, 5, 'Run to here on step 4 runs steps 0-4');
      assert.strictEqual(a.store.lastTouched?.domain, 'd2');
      assert.strictEqual(a.store.lastTouched?.iova, '0x40000000');
      await vscode.commands.executeCommand('iommuLens.runToStep', example(), 1);
      assert.strictEqual(a.store.current!.cursor, 2, 'running to an earlier step starts over');
      await vscode.commands.executeCommand('iommuLens.runToEnd', example());
      assert.ok(a.store.current!.done);
    });

    it('Set CPU Page Size and Toggle Strict/Lazy re-run the scenario with the new kernel', async () => {
      const a = await api();
      await vscode.commands.executeCommand('iommuLens.runScenario', example());
      assert.strictEqual(a.store.report!.kernel.page_size, 4096);
      const rerun = nextChange(a, c => c.reason === 'run');
      await vscode.commands.executeCommand('iommuLens.setCpuPageSize', '16K');
      await rerun;
      assert.strictEqual(a.store.report!.kernel.page_size, 16384);
      assert.ok(a.store.current!.done, 'the re-run goes back to where the run was');
      const strict = a.store.report!.kernel.dma_strict;
      const toggled = nextChange(a, c => c.reason === 'run');
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.toggleStrict'), strict ? 'lazy' : 'strict');
      await toggled;
      assert.strictEqual(a.store.report!.kernel.dma_strict, !strict);
    });

    it('Choose Platform Preset runs a generated scenario on the preset', async () => {
      const a = await api();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.choosePreset', 'generic-4k'), true);
      const r = a.store.report!;
      assert.strictEqual(r.platform?.name, 'generic-4k');
      assert.strictEqual(a.store.source?.uri.scheme, 'iommu-lens');
      assert.ok(a.store.current!.done);
      assert.ok(r.devices.every(d => d.probed !== false), 'every device of the preset is probed');
      assert.ok(r.faults.length >= 1, 'the read after unmap faults in strict mode');
      const shown = vscode.window.visibleTextEditors.find(e => e.document.uri.toString() === a.store.source!.uri.toString());
      assert.ok(shown, 'the generated scenario is shown');
      assert.match(shown.document.getText(), /platform: "generic-4k"/);
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.choosePreset', 'no-such-preset'), false);
    });

    it('a missing scenario file is an error message, and the loaded run stays', async () => {
      const a = await api();
      await vscode.commands.executeCommand('iommuLens.runScenario', example());
      const before = a.store.source!.uri.toString();
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.runScenario', workspaceUri('no-such.iommu.yaml')), undefined);
      assert.strictEqual(a.store.source!.uri.toString(), before);
      assert.ok(a.store.current!.done);
    });

    it('Import Kernel Trace rebuilds the mappings of a simulated run from its trace', async () => {
      const a = await api();
      await vscode.commands.executeCommand('iommuLens.runScenario', workspaceUri('fixtures/site-demo.iommu.yaml'));
      const simulated = a.store.report!;
      const trace = workspaceUri('fixtures/site-demo.trace');
      await vscode.workspace.fs.writeFile(trace, new TextEncoder().encode(a.store.current!.traceLines().join('\n') + '\n'));
      await vscode.commands.executeCommand('iommuLens.importTrace', trace);
      assert.strictEqual(a.store.current, undefined, 'an imported trace has no session');
      assert.strictEqual(a.store.source?.kind, 'trace');
      const mappings = (r: typeof simulated) => r.domains.flatMap(d => d.mappings.map(m => `${m.iova}+${m.size}->${m.paddr}`)).sort();
      assert.deepStrictEqual(mappings(a.store.report!), mappings(simulated));
      assert.strictEqual(a.store.report!.faults.length, simulated.faults.length);
      assert.strictEqual(await vscode.commands.executeCommand('iommuLens.reset'), false, 'a trace cannot be reset');
    });
  });
}
