// IOMMU Lens: the extension host side. Builds the session store, the sidebar trees, the status bar, the
// scenario-file support (diagnostics, CodeLens), the C source annotations and the commands; the address map
// registers itself on the store. This is the glue bundle (dist/extension.js): the simulator, yaml and tree-sitter
// are in dist/engine.js, which ./engineLoader.ts requires on first use, so activation stays small.
import * as vscode from 'vscode';
import { registerAddressMap, type AddressMapApi } from './map/mapPanel';
import { openDefaultScenario, wantsDefaultOnStart } from './openDefault';
import { registerScenarioCommands } from './commands/scenarioCommands';
import { registerTraceCommands } from './commands/traceCommands';
import { registerViewCommands } from './commands/viewCommands';
import { ErrorReporter } from './errors';
import type { ExtensionParts, IommuLensApi } from './parts';
import { ScenarioRunner } from './runner';
import { ScenarioCodeLenses } from './scenario/codeLens';
import { ScenarioDiagnostics } from './scenario/diagnostics';
import { SCENARIO_SELECTOR, VirtualScenarios } from './scenario/documents';
import { ScenarioParseCache } from './scenario/parseCache';
import { KERNEL_SETTINGS } from './settings';
import { ScenarioSessionStore, SessionStore } from './sessionStore';
import { RunStatusBar } from './statusBar';
import { loadEngine } from './engineLoader';
import { ModelTreeProvider } from './tree/provider';
import { registerAnnotations, type AnnotationController } from './annotations';

/** What the extension exports: its parts for tests, the address map's panel and message loop, the C annotations. */
export type IommuLensExports = IommuLensApi & { addressMap: AddressMapApi | undefined; annotations: AnnotationController };

export function activate(context: vscode.ExtensionContext): IommuLensExports {
  const output = vscode.window.createOutputChannel('IOMMU Lens');
  const errors = new ErrorReporter(output, String(context.extension.packageJSON.version ?? ''));
  const store = new ScenarioSessionStore();
  const parser = new ScenarioParseCache();
  const diagnostics = new ScenarioDiagnostics(parser);
  const virtual = new VirtualScenarios();
  const runner = new ScenarioRunner(store, output, diagnostics, errors);
  // the trees show their welcome content until a report exists; the builders live in the engine
  const iommuTree = new ModelTreeProvider(store, { viewId: 'iommuLens.iommus', build: r => loadEngine().buildIommuTree(r),
    nodeForTouched: (roots, t) => (roots.length ? loadEngine().iommuNodeForTouched(roots, t) : undefined) });
  const findingsTree = new ModelTreeProvider(store, { viewId: 'iommuLens.findings', build: r => loadEngine().buildFindingsTree(r),
    nodeForTouched: (roots, t) => (roots.length ? loadEngine().findingsNodeForTouched(roots, t) : undefined) });
  const statusBar = new RunStatusBar(store);
  const codeLenses = new ScenarioCodeLenses(store, parser);
  const parts: ExtensionParts = { context, store, runner, errors, diagnostics, virtual, iommuTree, findingsTree, statusBar, output };

  context.subscriptions.push(
    output, store, parser, diagnostics, virtual, iommuTree, findingsTree, statusBar, codeLenses,
    vscode.languages.registerCodeLensProvider(SCENARIO_SELECTOR, codeLenses),
    ...registerScenarioCommands(parts),
    ...registerViewCommands(parts),
    ...registerTraceCommands(parts),
    vscode.workspace.onDidChangeConfiguration(e => {
      if (!KERNEL_SETTINGS.some(k => e.affectsConfiguration(k))) return;
      diagnostics.revalidateAll();
      runner.reload().catch(err => errors.show(err, { action: 'applying the new settings' }));
    }),
  );
  void vscode.commands.executeCommand('setContext', 'iommuLens.sessionLoaded', false);
  const addressMap = startAddressMap(context, store, errors);
  const annotations = registerAnnotations(context, store, errors);
  // `npm start` asks for the default scenario through the extension host's environment
  if (wantsDefaultOnStart()) void openDefaultScenario(parts);
  return { store, runner, iommuTree, findingsTree, statusBar, diagnostics, addressMap, annotations };
}

export function deactivate(): void {}

/** The address map (./map) registers `iommuLens.showMap` itself; a failure there must not take the trees down. */
function startAddressMap(context: vscode.ExtensionContext, store: SessionStore, errors: ErrorReporter): AddressMapApi | undefined {
  try {
    return registerAddressMap(context, store);
  } catch (e) {
    errors.internal(e, { action: 'starting the address map' });
    return undefined;
  }
}
