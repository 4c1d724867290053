// Problems-panel diagnostics for scenario files: the loader's ScenarioError (FILE:LINE:COL) on open and,
// debounced, on every change; run-time errors (a reference that does not resolve) from the runner.
import * as vscode from 'vscode';
import { isScenarioError } from '../engineLoader';
import type { ScenarioError } from '../simulatorApi';
import { isScenarioUri, scenarioFileName } from './documents';
import type { ScenarioParseCache } from './parseCache';

const DEBOUNCE_MS = 300;

export class ScenarioDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('iommu-lens');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly subscriptions: vscode.Disposable[] = [this.collection];
  private readonly initial: ReturnType<typeof setTimeout>;

  constructor(private readonly parser: ScenarioParseCache) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument(d => this.validate(d)),
      vscode.workspace.onDidChangeTextDocument(e => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument(d => {
        this.cancel(d.uri);
        if (isScenarioUri(d.uri)) this.collection.delete(d.uri);
      }),
    );
    // scenarios already open are validated just after activation, not during it: validating loads the engine
    this.initial = setTimeout(() => this.revalidateAll(), 0);
  }

  /** Re-validates every open scenario (after a settings change). */
  revalidateAll(): void {
    for (const d of vscode.workspace.textDocuments) this.validate(d);
  }

  schedule(doc: vscode.TextDocument): void {
    if (!isScenarioUri(doc.uri)) return;
    this.cancel(doc.uri);
    this.timers.set(doc.uri.toString(), setTimeout(() => this.validate(doc), DEBOUNCE_MS));
  }

  validate(doc: vscode.TextDocument): void {
    if (!isScenarioUri(doc.uri) || doc.isClosed) return;
    this.cancel(doc.uri);
    const parsed = this.parser.parse(doc);
    if (parsed.ok) {
      this.collection.delete(doc.uri);
    } else if (isScenarioError(parsed.error)) {
      this.show(doc, parsed.error);
    } else {
      // a bad iommuLens.* setting, or a loader bug: still say so where the user is looking
      const msg = parsed.error instanceof Error ? parsed.error.message : String(parsed.error);
      this.collection.set(doc.uri, [new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), msg, vscode.DiagnosticSeverity.Error)]);
    }
  }

  /** Shows a ScenarioError on DOC: at its line/col, or at the top when it points into another file (a preset). */
  show(doc: vscode.TextDocument, e: ScenarioError): void {
    this.collection.set(doc.uri, [toDiagnostic(doc, e)]);
  }

  /** Lines an imported kernel trace skipped, as warnings at their line (and column when known). */
  showTraceSkips(uri: vscode.Uri, skipped: Array<{ line: number; col?: number; reason: string }>): void {
    this.collection.set(uri, skipped.map(s => {
      const start = Math.max(0, (s.col ?? 1) - 1);
      const d = new vscode.Diagnostic(new vscode.Range(s.line - 1, start, s.line - 1, 100000), `line skipped: ${s.reason}`,
        vscode.DiagnosticSeverity.Warning);
      d.source = 'iommu-lens import-trace';
      return d;
    }));
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  private cancel(uri: vscode.Uri): void {
    const t = this.timers.get(uri.toString());
    if (t) clearTimeout(t);
    this.timers.delete(uri.toString());
  }

  dispose(): void {
    clearTimeout(this.initial);
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
  }
}

export function toDiagnostic(doc: vscode.TextDocument, e: ScenarioError): vscode.Diagnostic {
  const ownFile = e.pos.file === scenarioFileName(doc.uri);
  let range: vscode.Range;
  if (ownFile && e.pos.line >= 1 && e.pos.line <= doc.lineCount) {
    const line = doc.lineAt(e.pos.line - 1);
    const col = Math.min(Math.max(e.pos.col - 1, 0), line.text.length);
    const start = new vscode.Position(line.lineNumber, col);
    range = doc.getWordRangeAtPosition(start, /[^\s:,{}[\]"']+/) ?? new vscode.Range(start, start.translate(0, line.text.length > col ? 1 : 0));
  } else {
    // the error is in a preset or an included file: point at the `platform:` key that brought it in
    const idx = doc.getText().search(/^platform\s*:/m);
    const pos = idx >= 0 ? doc.positionAt(idx) : new vscode.Position(0, 0);
    range = new vscode.Range(pos, pos.translate(0, idx >= 0 ? 'platform'.length : 0));
  }
  const d = new vscode.Diagnostic(range, ownFile ? e.message : e.format(), vscode.DiagnosticSeverity.Error);
  d.source = 'iommu-lens';
  return d;
}
