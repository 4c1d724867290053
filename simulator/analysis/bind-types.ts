// Shapes of a run's outcomes bound to the call sites of one C file (bind.ts). Shared by the CLI
// (`iommu-lens annotate FILE.c --scenario S`) and the editor's decorations, hovers, CodeLenses and
// diagnostics. Lines and columns are 1-based, as in the analysis.
import type { Finding } from '../core/events';
import type { ReportEvent } from '../report/types';
import type { ApiCall, FunctionInfo, Severity, SourceFinding, SourceRange } from './types';

/** What one invocation did, in the numbers a driver developer checks first. */
export interface InvocationSummary {
  /** the result as the kernel would print it: 0, -EINVAL, 0xffffd000, pfn 0xffffc, nents 2 ... */
  result: string;
  failed: boolean;
  errno?: string;
  /** the device address (IOVA or DMA address) the call mapped, unmapped or returned */
  address?: string;
  /** bytes the caller asked for and bytes the IOMMU actually mapped or unmapped */
  asked?: number;
  mapped?: number;
  /** bytes made device-visible beyond what was asked (the DMA layer's exposure finding) */
  exposed?: number;
  faults: number;
  /** codes of the simulator findings the invocation raised */
  findings: string[];
}

/** One kernel call of the run (an api event, or an imported tracepoint), with what happened during it. */
export interface BoundInvocation {
  step: number;
  /** 1-based line of the step in the scenario file, when known */
  scenarioLine?: number;
  /** API name (iommu_map), driver op (apu.gem_iommu_map) or tracepoint name for imported traces */
  name: string;
  args: Record<string, unknown>;
  result: unknown;
  site: string;
  source: 'api' | 'trace';
  /** the events the call produced: tracepoints, findings, faults, printk lines, PTE writes ... */
  events: ReportEvent[];
  summary: InvocationSummary;
}

/** A call site of the file and every invocation of the run bound to it. */
export interface CallOutcome {
  call: ApiCall;
  invocations: BoundInvocation[];
  /** short text for the inline decoration: "→ 0 · mapped 16K at iova 0x20000" */
  text: string;
  /** one line for the CLI: "iommu_map → 0, mapped 16K at iova 0x20000" */
  message: string;
  /** error when a call failed or faulted, warning for exposure or findings, info otherwise */
  severity: Severity;
}

export interface FunctionOutcome {
  function: FunctionInfo;
  /** invocations bound to the function's calls, plus driver ops and events placed on the function */
  calls: number;
  faults: number;
  /** simulator findings whose site is this function */
  simFindings: number;
  /** review findings of the analysis in this function */
  reviewFindings: number;
  /** indexes into report.faults and report.findings, for Reveal in Tree */
  faultIndexes: number[];
  findingIndexes: number[];
  steps: number[];
}

/** A simulator finding or fault placed on the file: on the bound call when known, else on the function. */
export interface OutcomeDiagnostic {
  kind: 'finding' | 'fault';
  /** index into report.findings or report.faults */
  index: number;
  step: number | null;
  severity: Severity;
  code: string;
  message: string;
  site: string;
  function: string;
  range: SourceRange;
  /** true when the range is the bound call, false when it is the function's name */
  onCall: boolean;
  /** a review finding of the same code sits on the same line: it carries this one as its consequence */
  sameAsReview: boolean;
}

/** An event that names this file (or one of its functions) but could not be placed on a call. */
export interface UnmatchedEvent {
  step: number;
  scenarioLine?: number;
  name: string;
  site: string;
  reason: string;
  /** the function's name when the function exists in the file */
  range: SourceRange | null;
}

/** The simulated consequence of a review finding on the platform of the loaded run. */
export interface Consequence {
  text: string;
  /** computed from the run's numbers (false: the finding's code has no run-specific reading) */
  specific: boolean;
}

export interface Binding {
  file: string;
  /** platform name and CPU page size of the run */
  platform: string;
  pageSize: number;
  calls: CallOutcome[];
  functions: FunctionOutcome[];
  diagnostics: OutcomeDiagnostic[];
  unmatched: UnmatchedEvent[];
  /** parallel to analysis.findings: the consequence for each review finding, or null */
  consequences: Array<Consequence | null>;
  /** invocations bound to this file, and api/trace events of the run that name other files */
  boundInvocations: number;
  otherFiles: number;
}

export type { ApiCall, Finding, FunctionInfo, SourceFinding };
