// Keeps one analysis per open C document and binds the store's run to it. Documents are analysed when first
// shown in an editor (the tree-sitter wasm is loaded then, once), re-analysed incrementally from VS Code's
// content changes, and rebound when the run changes; both are debounced. The features (decorations, hover,
// CodeLens, diagnostics, quick fixes) read `state()` and redraw on `onDidUpdate`. The analyser and tree-sitter
// come from the engine bundle, loaded by the first analysis (never at activation).
import * as vscode from 'vscode';
import type { CAnalyzer } from '../../simulator/analysis/analyzer';
import type { Binding } from '../../simulator/analysis/bind-types';
import type { Analysis } from '../../simulator/analysis/types';
import { loadEngine } from '../engineLoader';
import type { ErrorReporter } from '../errors';
import type { SessionStore } from '../sessionStore';
import { envelopeChange, foldChange, inlineItems, type Envelope, type InlineItem } from './model';

export const ANNOTATIONS_SETTING = 'iommuLens.annotations.enabled';
/** Quiet time after an edit or a run change before the annotations are recomputed. */
export const DEBOUNCE_MS = 150;
/** Files larger than this are not analysed in the extension host (the CLI still can). */
const MAX_CHARS = 8_000_000;

export const C_SELECTOR: vscode.DocumentSelector = [
  { language: 'c', scheme: 'file' }, { pattern: '**/*.{c,h}', scheme: 'file' },
  { language: 'c', scheme: 'untitled' },
];

export function isCDocument(doc: vscode.TextDocument): boolean {
  return (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled') && (doc.languageId === 'c' || /\.[ch]$/i.test(doc.fileName));
}

/** What the features show for one document. */
export interface AnnotationState {
  uri: vscode.Uri;
  /** document version the analysis was computed from */
  version: number;
  analysis: Analysis;
  /** the run bound to the analysis; null when no run is loaded */
  binding: Binding | null;
  inline: InlineItem[];
}

interface DocEntry {
  /** created by the first analysis */
  analyzer: CAnalyzer | undefined;
  /** changes since the analysed version, folded into one edit */
  envelope: Envelope | null;
  /** the analysed text's version, or -1 before the first analysis */
  analysedVersion: number;
  state: AnnotationState | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class AnnotationController implements vscode.Disposable {
  private readonly docs = new Map<string, DocEntry>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri | undefined>();
  /** fired after a document's annotations changed (undefined: all of them) */
  readonly onDidUpdate = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[] = [this.emitter];
  private parser: Promise<void> | null = null;
  private rebindTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** documents whose analysis failed once already (reported once, not on every keystroke) */
  private readonly reported = new Set<string>();
  private on = true;

  constructor(private readonly wasmDir: string, private readonly store: SessionStore, private readonly errors?: ErrorReporter) {
    this.on = vscode.workspace.getConfiguration().get<boolean>(ANNOTATIONS_SETTING, true);
    this.subscriptions.push(
      vscode.window.onDidChangeVisibleTextEditors(editors => { for (const e of editors) this.track(e.document); }),
      vscode.workspace.onDidChangeTextDocument(e => this.changed(e)),
      vscode.workspace.onDidCloseTextDocument(doc => this.forget(doc.uri)),
      store.onDidChange(() => this.scheduleRebind()),
      vscode.workspace.onDidChangeConfiguration(e => {
        if (!e.affectsConfiguration(ANNOTATIONS_SETTING)) return;
        this.on = vscode.workspace.getConfiguration().get<boolean>(ANNOTATIONS_SETTING, true);
        if (this.on) this.trackVisible();
        else for (const uri of [...this.docs.keys()]) this.forget(vscode.Uri.parse(uri));
        this.emitter.fire(undefined);
      }),
    );
    this.trackVisible();
  }

  get enabled(): boolean { return this.on; }

  /** The current annotations of a document (undefined: not a C document, not shown yet, or turned off). */
  state(uri: vscode.Uri): AnnotationState | undefined {
    return this.on ? this.docs.get(uri.toString())?.state : undefined;
  }

  /** Every document with annotations. */
  states(): AnnotationState[] {
    return this.on ? [...this.docs.values()].flatMap(d => (d.state ? [d.state] : [])) : [];
  }

  /** Resolves once no analysis or rebinding is scheduled or running (tests, commands that need fresh data). */
  async settled(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const timers = [...this.docs.values()].some(d => d.timer !== undefined) || this.rebindTimer !== undefined;
      if (!timers && !this.pending.size) return;
      await Promise.all([...this.pending, new Promise(r => setTimeout(r, DEBOUNCE_MS))]);
    }
  }

  /** Analyse a shown C document now (the first time) and keep it analysed. */
  track(doc: vscode.TextDocument): void {
    if (!this.on || !isCDocument(doc)) return;
    const key = doc.uri.toString();
    if (this.docs.has(key)) return;
    this.docs.set(key, { analyzer: undefined, envelope: null, analysedVersion: -1, state: undefined, timer: undefined });
    this.schedule(doc, 0);
  }

  private trackVisible(): void {
    for (const e of vscode.window.visibleTextEditors) this.track(e.document);
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    const entry = this.docs.get(e.document.uri.toString());
    if (!entry || !e.contentChanges.length) return;
    if (entry.analysedVersion >= 0) {
      for (const c of e.contentChanges) entry.envelope = foldChange(entry.envelope, c);
    }
    this.schedule(e.document, DEBOUNCE_MS);
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    const entry = this.docs.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.analyzer?.dispose();
    this.docs.delete(key);
    this.emitter.fire(uri);
  }

  private schedule(doc: vscode.TextDocument, ms: number): void {
    const entry = this.docs.get(doc.uri.toString());
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.keep(this.analyse(doc, entry));
    }, ms);
  }

  private keep(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async analyse(doc: vscode.TextDocument, entry: DocEntry): Promise<void> {
    try {
      const engine = loadEngine();
      this.parser ??= engine.initParser({ wasmDir: this.wasmDir }).then(() => undefined);
      await this.parser;
      if (this.docs.get(doc.uri.toString()) !== entry || doc.isClosed) return;
      entry.analyzer ??= new engine.CAnalyzer(doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.path);
      const text = doc.getText();
      if (text.length > MAX_CHARS) return;
      const version = doc.version;
      // the envelope is in the coordinates of the analysed text; without one the text is parsed afresh
      const changes = entry.envelope && entry.analysedVersion >= 0 ? [envelopeChange(entry.envelope, text)] : undefined;
      const analysis = entry.analyzer.update(text, changes);
      entry.envelope = null;
      entry.analysedVersion = version;
      const binding = this.bind(analysis);
      entry.state = { uri: doc.uri, version, analysis, binding, inline: inlineItems(binding) };
      this.emitter.fire(doc.uri);
    } catch (e) {
      this.parser = null;             // a failed wasm load is retried next time
      entry.envelope = null;
      entry.analysedVersion = -1;     // and the document parsed afresh
      if (!this.reported.has(doc.uri.toString())) {
        this.reported.add(doc.uri.toString());
        this.errors?.internal(e, { action: `analysing ${vscode.workspace.asRelativePath(doc.uri)}` });
      }
    }
  }

  private bind(analysis: Analysis): Binding | null {
    const report = this.store.report;
    return report ? loadEngine().bindOutcomes(analysis, report) : null;
  }

  private scheduleRebind(): void {
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.rebindTimer = setTimeout(() => {
      this.rebindTimer = undefined;
      if (!this.on) return;
      try {
        for (const entry of this.docs.values()) {
          const s = entry.state;
          if (!s) continue;
          const binding = this.bind(s.analysis);
          entry.state = { ...s, binding, inline: inlineItems(binding) };
        }
        this.emitter.fire(undefined);
      } catch (e) {
        this.errors?.internal(e, { action: 'binding the run to the C sources' });
      }
    }, DEBOUNCE_MS);
  }

  dispose(): void {
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    for (const uri of [...this.docs.keys()]) this.forget(vscode.Uri.parse(uri));
    for (const s of this.subscriptions) s.dispose();
  }
}
