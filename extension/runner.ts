// Loads scenario documents into the store and runs them: single steps, runs to a step or to the end with a
// cancellable progress notification, resets. Logs the run to the "IOMMU Lens" output channel as kernel
// tracepoint lines, so the channel's text is a trace `iommu-lens import-trace` can read back.
import * as vscode from 'vscode';
import { sizeLabel } from '../simulator/core/format';
import type { ErrorReporter } from './errors';
import type { ScenarioDiagnostics } from './scenario/diagnostics';
import { scenarioFileName } from './scenario/documents';
import { currentOverrides, readSettings } from './settings';
import { maxStepsOf } from './settingsModel';
import type { ScenarioSessionStore, ScenarioSource } from './sessionStore';
import { isScenarioError, loadEngine } from './engineLoader';
import type { Session } from './simulatorApi';

/** Runs with more steps left than this show a notification with a Cancel button; shorter ones a status spinner. */
const NOTIFY_ABOVE_STEPS = 50;

export class ScenarioRunner {
  private logged = 0;
  private loggedFindings = 0;
  private loadedVersion: number | undefined;
  private busy = false;

  constructor(
    private readonly store: ScenarioSessionStore,
    private readonly output: vscode.OutputChannel,
    private readonly diagnostics: ScenarioDiagnostics,
    private readonly errors: ErrorReporter,
  ) {}

  get running(): boolean { return this.busy; }

  /** True when the store holds DOC's current text (no edits since it was loaded). */
  isLoaded(doc: vscode.TextDocument): boolean {
    return this.store.source?.uri.toString() === doc.uri.toString() && this.loadedVersion === doc.version;
  }

  /** Loads DOC into the store (nothing run yet). Bad input shows in Problems and a notification; returns undefined. */
  async load(doc: vscode.TextDocument, label?: string): Promise<Session | undefined> {
    let session: Session;
    try {
      session = loadEngine().openSession(doc.getText(), scenarioFileName(doc.uri), currentOverrides());
    } catch (e) {
      if (isScenarioError(e)) this.diagnostics.show(doc, e);
      this.errors.show(e, { action: 'loading the scenario', scenario: scenarioFileName(doc.uri), text: doc.getText() });
      return undefined;
    }
    this.diagnostics.clear(doc.uri);
    const source: ScenarioSource = { uri: doc.uri, label: label ?? scenarioFileName(doc.uri).split('/').pop()!, kind: 'scenario' };
    this.loadedVersion = doc.version;
    this.logged = 0;
    this.loggedFindings = 0;
    const k = session.scenario.kernel;
    this.output.appendLine(`# IOMMU Lens: ${scenarioFileName(doc.uri)} on ${session.scenario.platform.name}` +
      ` (PAGE_SIZE ${sizeLabel(k.page_size)}, ${k.dma_strict ? 'strict' : 'lazy'} invalidation${k.large_iommu_pages ? ', large IOMMU pages series' : ''})`);
    this.output.appendLine('# tracer: nop');
    this.store.load(session, source);
    return session;
  }

  /** Loads DOC unless the store already holds its current text. */
  async ensureLoaded(doc: vscode.TextDocument): Promise<Session | undefined> {
    return this.isLoaded(doc) ? this.store.current : this.load(doc);
  }

  /** Runs the next step. */
  async step(): Promise<void> {
    const s = this.store.current;
    if (!s || this.busy) return;
    if (s.done) {
      void vscode.window.showInformationMessage(`IOMMU Lens: ${this.store.source?.label ?? 'the scenario'} has run all ${s.total} steps; Reset to start again.`);
      return;
    }
    const index = s.cursor;
    try {
      s.step();
    } catch (e) {
      this.failed(e, s, index);
    }
    this.afterRun('step');
  }

  /** Runs until INDEX steps have run (all of them for 'end'), in the background with progress and Cancel. */
  async runTo(target: number | 'end'): Promise<void> {
    const s = this.store.current;
    if (!s || this.busy) return;
    const maxSteps = maxStepsOf(readSettings());
    let goal = target === 'end' ? s.total : Math.min(target, s.total);
    if (goal > maxSteps) {
      goal = maxSteps;
      void vscode.window.showWarningMessage(`IOMMU Lens: stopping after ${maxSteps} steps (iommuLens.maxSteps); the scenario has ${s.total}.`);
    }
    if (goal < s.cursor) s.reset();
    if (goal === s.cursor) { this.afterRun('run'); return; }
    const remaining = goal - s.cursor;
    this.setBusy(true);
    try {
      await vscode.window.withProgress({
        location: remaining > NOTIFY_ABOVE_STEPS ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
        title: `IOMMU Lens: running ${this.store.source?.label ?? 'scenario'}`,
        cancellable: true,
      }, async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        let reported = s.cursor;
        try {
          const opts = {
            signal: abort.signal,
            onProgress: (done: number, total: number) => {
              progress.report({ increment: ((done - reported) / Math.max(total, 1)) * 100, message: `step ${done} of ${total}` });
              reported = done;
            },
          };
          if (goal === s.total) await s.runToEnd(opts); else await s.runTo(goal, opts);
        } catch (e) {
          if (!abort.signal.aborted) this.failed(e, s, s.cursor);
        } finally {
          sub.dispose();
        }
        if (abort.signal.aborted) void vscode.window.showInformationMessage(`IOMMU Lens: run cancelled after step ${s.cursor} of ${s.total}.`);
      });
    } finally {
      this.setBusy(false);
      this.afterRun('run');
    }
  }

  reset(): void {
    const s = this.store.current;
    if (!s || this.busy) return;
    s.reset();
    this.output.appendLine('# reset');
    this.logged = 0;
    this.loggedFindings = 0;
    this.store.changed('reset');
  }

  /** Reloads the current source with the current settings and runs it back to where it was. */
  async reload(): Promise<void> {
    const src = this.store.source;
    const before = this.store.current?.cursor ?? 0;
    if (!src || src.kind !== 'scenario' || this.busy) return;
    const doc = await vscode.workspace.openTextDocument(src.uri);
    if (await this.load(doc, src.label)) await this.runTo(before);
  }

  private failed(e: unknown, s: Session, index: number): void {
    const src = this.store.source;
    const op = s.scenario.steps[index]?.op;
    if (isScenarioError(e) && src) {
      const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === src.uri.toString());
      if (doc) this.diagnostics.show(doc, e);
    }
    this.errors.show(e, { step: index, op, scenario: src ? scenarioFileName(src.uri) : undefined,
      text: src ? vscode.workspace.textDocuments.find(d => d.uri.toString() === src.uri.toString())?.getText() : undefined });
  }

  private afterRun(reason: 'step' | 'run'): void {
    const s = this.store.current;
    if (!s) return;
    try {
      this.store.changed(reason);
    } catch (e) {
      this.errors.internal(e, { step: s.cursor - 1, action: 'building the report' });
      return;
    }
    this.logTrace(s);
  }

  private logTrace(s: Session): void {
    const lines = s.traceLines();
    if (lines.length < this.logged) this.logged = 0;
    for (const l of lines.slice(this.logged)) this.output.appendLine(l);
    this.logged = lines.length;
    const findings = this.store.report?.findings ?? [];
    for (const f of findings.slice(this.loggedFindings)) {
      this.output.appendLine(`# step ${f.step ?? '-'}: ${f.severity}: ${f.message} [${f.code}]${f.site ? ` at ${f.site}` : ''}`);
    }
    this.loggedFindings = findings.length;
  }

  private setBusy(on: boolean): void {
    this.busy = on;
    void vscode.commands.executeCommand('setContext', 'iommuLens.running', on);
  }
}
