// One parse per document version, shared by the diagnostics and the CodeLenses (a large scenario is loaded
// once per edit, not once per feature). The runner loads its own fresh Session: it mutates it.
import * as vscode from 'vscode';
import { currentOverrides } from '../settings';
import { loadEngine } from '../engineLoader';
import type { Session } from '../simulatorApi';
import { scenarioFileName } from './documents';

export type ParseResult = { ok: true; session: Session } | { ok: false; error: unknown };

export class ScenarioParseCache implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; result: ParseResult }>();
  private readonly subscriptions = [
    vscode.workspace.onDidCloseTextDocument(d => this.cache.delete(d.uri.toString())),
    // the iommuLens.* kernel settings change what loads (a page size the platform cannot use)
    vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration('iommuLens')) this.cache.clear(); }),
  ];

  parse(doc: vscode.TextDocument): ParseResult {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.result;
    let result: ParseResult;
    try {
      result = { ok: true, session: loadEngine().openSession(doc.getText(), scenarioFileName(doc.uri), currentOverrides()) };
    } catch (error) {
      result = { ok: false, error };
    }
    this.cache.set(key, { version: doc.version, result });
    return result;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.cache.clear();
  }
}
