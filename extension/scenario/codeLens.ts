// CodeLenses in scenario files: "▶ Run scenario" (plus Step / Reset when this file is loaded) at the top, and
// "Run to here" above every step, at the line the loader recorded for it.
import * as vscode from 'vscode';
import type { SessionStore } from '../sessionStore';
import type { ScenarioParseCache } from './parseCache';

/** "Run to here" lenses beyond this many steps would only slow the editor down. */
export const MAX_STEP_LENSES = 2000;

export class ScenarioCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly store: SessionStore, private readonly parser: ScenarioParseCache) {
    this.subscriptions = [
      store.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration('iommuLens')) this.changed.fire(); }),
    ];
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [new vscode.CodeLens(top, { title: '▶ Run scenario', command: 'iommuLens.runScenario', arguments: [doc.uri],
      tooltip: 'Run every step (IOMMU Lens: Run Scenario)' })];
    const loaded = this.store.source?.uri.toString() === doc.uri.toString() ? this.store.current : undefined;
    if (loaded) {
      lenses.push(
        new vscode.CodeLens(top, { title: loaded.done ? (loaded.cursor < loaded.total ? `$(flame) stopped at step ${loaded.cursor - 1} (oops)` : `$(check) ran ${loaded.total} steps`) : `$(debug-step-over) Step (${loaded.cursor}/${loaded.total})`,
          command: loaded.done ? '' : 'iommuLens.step', tooltip: 'Run the next step' }),
        new vscode.CodeLens(top, { title: '$(debug-restart) Reset', command: 'iommuLens.reset', tooltip: 'Back to before the first step' }),
      );
    }
    const parsed = this.parser.parse(doc);
    // while the file does not load, the diagnostics say why and only the top lens shows
    const steps = parsed.ok ? parsed.session.scenario.steps.slice(0, MAX_STEP_LENSES) : [];
    for (const s of steps) {
      const line = Math.max(0, s.pos.line - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const ran = loaded && s.index < loaded.cursor;
      const next = loaded && s.index === loaded.cursor && !loaded.done;
      lenses.push(new vscode.CodeLens(range, {
        title: `${ran ? '$(pass) ' : next ? '$(arrow-right) ' : ''}Run to here`,
        command: 'iommuLens.runToStep', arguments: [doc.uri, s.index],
        tooltip: `Run steps 0-${s.index} (${s.op})`,
      }));
    }
    return lenses;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.changed.dispose();
  }
}
