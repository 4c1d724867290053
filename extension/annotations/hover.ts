// Hover on a bound call (or on its inline text at the end of the line): every invocation of the run with its
// arguments, result and kernel log lines. Hover on a review finding: what the kernel does, what to write
// instead, and the simulated consequence on the loaded run's platform.
import * as vscode from 'vscode';
import type { SourceRange } from '../../simulator/analysis/types';
import { C_SELECTOR, type AnnotationController } from './controller';
import { callHoverMarkdown, findingHoverMarkdown } from './model';

export function toRange(r: SourceRange): vscode.Range {
  return new vscode.Range(r.start.line - 1, r.start.col - 1, r.end.line - 1, r.end.col - 1);
}

export class OutcomeHoverProvider implements vscode.HoverProvider {
  constructor(private readonly controller: AnnotationController) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const state = this.controller.state(doc.uri);
    if (!state) return undefined;
    const parts: vscode.MarkdownString[] = [];
    let range: vscode.Range | undefined;
    const atLineEnd = pos.character >= doc.lineAt(pos.line).range.end.character;
    for (const c of state.binding?.calls ?? []) {
      const r = toRange(c.call.range);
      if (!r.contains(pos) && !(atLineEnd && r.end.line === pos.line)) continue;
      parts.push(markdown(callHoverMarkdown(c)));
      range = range ? range.union(r) : r;
    }
    state.analysis.findings.forEach((f, i) => {
      const r = toRange(f.range);
      if (!r.contains(pos)) return;
      parts.push(markdown(findingHoverMarkdown(f, state.binding?.consequences[i] ?? null, state.binding?.platform ?? null)));
      range = range ? range.union(r) : r;
    });
    return parts.length ? new vscode.Hover(parts, range) : undefined;
  }
}

function markdown(text: string): vscode.MarkdownString {
  const m = new vscode.MarkdownString(text);
  m.supportHtml = false;
  m.isTrusted = false;
  return m;
}

export function registerOutcomeHover(context: vscode.ExtensionContext, controller: AnnotationController): void {
  context.subscriptions.push(vscode.languages.registerHoverProvider(C_SELECTOR, new OutcomeHoverProvider(controller)));
}
