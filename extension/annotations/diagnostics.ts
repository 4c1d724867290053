// Problems-panel entries for C files: the review findings (source "IOMMU Lens", code = the check's code, the
// simulated consequence as related information), the simulator's findings and faults bound to the file,
// events that named the file but fit no call, and the regions tree-sitter could not parse.
import * as vscode from 'vscode';
import type { Severity } from '../../simulator/analysis/types';
import type { AnnotationController, AnnotationState } from './controller';
import { toRange } from './hover';
import { consequenceLine } from './model';

export const DIAGNOSTIC_SOURCE = 'IOMMU Lens';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error, warning: vscode.DiagnosticSeverity.Warning, info: vscode.DiagnosticSeverity.Information,
};

function diagnostic(range: vscode.Range, message: string, severity: vscode.DiagnosticSeverity, code: string): vscode.Diagnostic {
  const d = new vscode.Diagnostic(range, message, severity);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = code;
  return d;
}

export function diagnosticsOf(state: AnnotationState): vscode.Diagnostic[] {
  const { analysis, binding, uri } = state;
  const out: vscode.Diagnostic[] = [];
  analysis.findings.forEach((f, i) => {
    const d = diagnostic(toRange(f.range), f.message, SEVERITY[f.severity], f.code);
    const related = (f.related ?? []).map(r => new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toRange(r.range)), r.message));
    const consequence = binding?.consequences[i];
    if (consequence) {
      related.unshift(new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toRange(f.range)),
        consequenceLine(consequence.text, binding!.platform)));
    }
    if (related.length) d.relatedInformation = related;
    out.push(d);
  });
  for (const s of binding?.diagnostics ?? []) {
    if (s.sameAsReview) continue;        // shown as the consequence of the review finding on that line
    out.push(diagnostic(toRange(s.range), `simulated: ${s.message}`, SEVERITY[s.severity], s.code));
  }
  for (const u of binding?.unmatched ?? []) {
    const range = u.range ? toRange(u.range) : new vscode.Range(0, 0, 0, 0);
    out.push(diagnostic(range, `step ${u.step}${u.scenarioLine ? ` (scenario line ${u.scenarioLine})` : ''}: ${u.name} at ${u.site} `
      + `is not bound to a call: ${u.reason}`, vscode.DiagnosticSeverity.Information, 'unbound-event'));
  }
  for (const p of analysis.parseProblems) {
    out.push(diagnostic(toRange(p.range), p.message, vscode.DiagnosticSeverity.Information, 'could-not-parse'));
  }
  return out;
}

export function registerSourceDiagnostics(context: vscode.ExtensionContext, controller: AnnotationController): vscode.DiagnosticCollection {
  const collection = vscode.languages.createDiagnosticCollection('iommu-lens-source');
  const refresh = (uri?: vscode.Uri) => {
    if (uri) {
      const state = controller.state(uri);
      if (state) collection.set(uri, diagnosticsOf(state)); else collection.delete(uri);
      return;
    }
    collection.clear();
    for (const state of controller.states()) collection.set(state.uri, diagnosticsOf(state));
  };
  context.subscriptions.push(collection, controller.onDidUpdate(uri => refresh(uri)));
  refresh();
  return collection;
}
