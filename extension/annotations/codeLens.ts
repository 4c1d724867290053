// A CodeLens above each C function the run or the review touched: "3 calls · 1 fault · 2 findings". It reveals
// the function's first fault, simulator finding or call in the IOMMU Lens trees; review findings alone open
// the Problems panel, where they are listed.
import * as vscode from 'vscode';
import type { FunctionOutcome } from '../../simulator/analysis/bind-types';
import type { SessionStore } from '../sessionStore';
import { touchedByStep, type TouchedItem } from '../tree/touched';
import { C_SELECTOR, type AnnotationController } from './controller';
import { lensTitle } from './model';

function revealTarget(f: FunctionOutcome, store: SessionStore): Partial<TouchedItem> | undefined {
  const report = store.report;
  if (!report) return undefined;
  if (f.faultIndexes.length) {
    const i = f.faultIndexes[0];
    return { step: report.faults[i]?.step ?? -1, faultIndex: i };
  }
  if (f.findingIndexes.length) {
    const i = f.findingIndexes[0];
    return { step: report.findings[i]?.step ?? -1, findingIndex: i };
  }
  const step = report.steps.find(s => s.index === f.steps[0]);
  if (!step) return undefined;
  const { faultIndex: _f, findingIndex: _g, ...touched } = touchedByStep(report, step);
  return touched;
}

export class FunctionOutcomeLenses implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly controller: AnnotationController, private readonly store: SessionStore) {}

  refresh(): void { this.changed.fire(); }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const state = this.controller.state(doc.uri);
    if (!state) return [];
    const outcomes: FunctionOutcome[] = state.binding?.functions ?? state.analysis.functions.map(fn => ({
      function: fn, calls: 0, faults: 0, simFindings: 0, faultIndexes: [], findingIndexes: [], steps: [],
      reviewFindings: state.analysis.findings.filter(f => f.function === fn.name).length,
    }));
    const lenses: vscode.CodeLens[] = [];
    for (const f of outcomes) {
      const title = lensTitle(f, state.binding !== null);
      if (!title) continue;
      const line = f.function.range.start.line - 1;
      if (line >= doc.lineCount) continue;
      const range = new vscode.Range(line, 0, line, 0);
      const target = revealTarget(f, this.store);
      lenses.push(new vscode.CodeLens(range, target
        ? { title, command: 'iommuLens.revealInTree', arguments: [target], tooltip: `Reveal ${f.function.name}'s outcome in the IOMMU Lens tree` }
        : { title, command: 'workbench.actions.view.problems', tooltip: 'Show the review findings in the Problems panel' }));
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerFunctionLenses(context: vscode.ExtensionContext, controller: AnnotationController, store: SessionStore): FunctionOutcomeLenses {
  const provider = new FunctionOutcomeLenses(controller, store);
  context.subscriptions.push(
    provider,
    vscode.languages.registerCodeLensProvider(C_SELECTOR, provider),
    controller.onDidUpdate(() => provider.refresh()),
  );
  return provider;
}
