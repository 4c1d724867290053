// A Binding as `iommu-lens annotate FILE.c --scenario S` prints it: simulator findings and faults as
// compiler-style diagnostics on the bound call (or the function), one `note:` per call site with its
// outcome, one per event that could not be bound, and the consequences of the review findings.
import type { Binding, BoundInvocation } from './bind-types';
import type { Analysis, BoundOutcomes, SourceFinding, SourceNote } from './types';

function invocationJson(i: BoundInvocation): Record<string, unknown> {
  return {
    step: i.step, ...(i.scenarioLine ? { scenarioLine: i.scenarioLine } : {}), name: i.name, site: i.site, source: i.source,
    args: i.args, result: i.result, summary: i.summary,
  };
}

export function bindingOutput(analysis: Analysis, b: Binding): BoundOutcomes {
  // a simulator finding on the line of a review finding of the same code is printed as that finding's note
  const findings: SourceFinding[] = b.diagnostics.filter(d => !d.sameAsReview).map(d => ({
    code: d.code, severity: d.severity, message: d.message, file: analysis.file,
    line: d.range.start.line, col: d.range.start.col, range: d.range, function: d.function, site: d.site,
    explain: d.kind === 'fault'
      ? `The simulated IOMMU raised this fault during step ${d.step} of the scenario.`
      : `The simulated kernel reported this during step ${d.step} of the scenario.`,
    fixes: [], confidence: 'high',
  }));
  const notes: SourceNote[] = b.calls.map(c => ({
    file: analysis.file, line: c.call.line, col: c.call.col, message: c.message, code: 'outcome',
  }));
  for (const u of b.unmatched) {
    notes.push({
      file: analysis.file, line: u.range?.start.line ?? 1, col: u.range?.start.col ?? 1, code: 'unbound-event',
      message: `step ${u.step}${u.scenarioLine ? ` (scenario line ${u.scenarioLine})` : ''}: ${u.name} at ${u.site} is not bound to a call: ${u.reason}`,
    });
  }
  return {
    findings,
    consequences: b.consequences.map(c => c?.text ?? null),
    notes,
    json: {
      platform: b.platform,
      page_size: b.pageSize,
      outcomes: b.calls.map(c => ({
        line: c.call.line, col: c.call.col, api: c.call.api, function: c.call.function, text: c.text, message: c.message,
        severity: c.severity, invocations: c.invocations.map(invocationJson),
      })),
      functionOutcomes: b.functions.filter(f => f.calls || f.faults || f.simFindings).map(f => ({
        name: f.function.name, line: f.function.nameRange.start.line, calls: f.calls, faults: f.faults,
        simFindings: f.simFindings, reviewFindings: f.reviewFindings, steps: f.steps,
      })),
      unmatched: b.unmatched,
      boundInvocations: b.boundInvocations,
    },
  };
}
