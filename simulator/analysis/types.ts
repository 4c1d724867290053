// Public shapes of the driver-source analysis. Shared by the CLI (`iommu-lens annotate`) and the
// extension's diagnostics, hovers and code actions. Lines and columns are 1-based; columns and indices
// count UTF-16 code units, as JavaScript strings and VS Code do.
import type { Severity } from '../core/events';
import type { ApiFamily } from './apis';

export type { Severity };

export interface SourcePosition {
  line: number;                  // 1-based
  col: number;                   // 1-based
  index: number;                 // 0-based offset into the text
}

export interface SourceRange {
  start: SourcePosition;
  end: SourcePosition;           // exclusive
}

export interface FunctionInfo {
  name: string;
  range: SourceRange;            // the whole definition
  nameRange: SourceRange;
  /** `FILE.c:FUNCTION`, the form scenario steps use in `site:` */
  site: string;
}

export interface ArgumentText {
  text: string;
  range: SourceRange;
}

/** One call of an IOMMU / IOVA / DMA API, or one use of an mm-layer helper on an address. */
export interface ApiCall {
  api: string;                   // iommu_map, alloc_iova_fast, PHYS_PFN, PAGE_SHIFT ...
  family: ApiFamily;
  function: string | null;       // enclosing function definition
  line: number;
  col: number;
  range: SourceRange;            // the call expression (for PAGE_SHIFT/PAGE_SIZE: the identifier)
  args: string[];                // argument texts; for PAGE_SHIFT/PAGE_SIZE the other operand, if any
  /** 0-based order among the recorded calls of the same function, in source order */
  order: number;
  /** the call sits inside a region tree-sitter could not parse, though the call itself is intact */
  lowConfidence: boolean;
}

/** A region tree-sitter marked ERROR (could not parse) or MISSING (a token it had to invent). */
export interface ParseProblem {
  kind: 'error' | 'missing';
  line: number;
  col: number;
  range: SourceRange;
  message: string;
}

export type ReviewCode =
  | 'mm-pfn-on-iova'
  | 'iova-truncated'
  | 'map-per-sg-entry'
  | 'unmap-per-segment'
  | 'wrong-free-function'
  | 'unbounded-user-count'
  | 'error-path-leak'
  | 'error-return-zero'
  | 'domain-never-allocated'
  | 'dma-get-sgtable-sharing'
  | 'own-domain-with-dma-api'
  | 'mapping-error-unchecked';

/** A suggested edit. Never applied by the analysis; the editor or the user decides. */
export interface QuickFix {
  title: string;
  range: SourceRange;
  newText: string;
}

export interface SourceFinding {
  /** a ReviewCode from the source checks; outcomes bound from a scenario run keep the run's codes */
  code: ReviewCode | (string & {});
  severity: Severity;
  message: string;
  file: string;
  line: number;
  col: number;
  range: SourceRange;
  function: string | null;
  site: string | null;           // FILE.c:FUNCTION when inside a function
  /** longer text for hovers: what the kernel does and what to write instead */
  explain: string;
  fixes: QuickFix[];
  /** low when the construct sits in a region tree-sitter could not parse */
  confidence: 'high' | 'low';
  /** other places that make the finding (the alloc for a wrong free, the attach for a DMA-API call ...) */
  related?: Array<{ range: SourceRange; message: string }>;
  /** with a scenario run: what the finding does on that run's platform (bind-consequence.ts) */
  consequence?: string;
}

/** A line of context for the CLI: a simulated outcome bound to a call, or an event left unbound. */
export interface SourceNote {
  file: string;
  line: number;
  col: number;
  message: string;
  /** outcome, unbound-event ... */
  code: string;
}

/** What `--scenario` adds to the analysis of a file. */
export interface BoundOutcomes {
  /** simulator findings and faults placed on this file's calls and functions */
  findings: SourceFinding[];
  /** parallel to the analysis' findings: the simulated consequence of each review finding, or null */
  consequences?: Array<string | null>;
  /** outcome lines, printed after the findings */
  notes: SourceNote[];
  /** extra members of the --json output */
  json?: Record<string, unknown>;
}

export interface Analysis {
  file: string;
  lineCount: number;
  functions: FunctionInfo[];
  calls: ApiCall[];
  parseProblems: ParseProblem[];
  /** more ERROR/MISSING regions existed than are listed */
  parseProblemsOmitted: number;
  findings: SourceFinding[];
}

export interface AnalyzeOptions {
  /** limit of ParseProblem entries listed (the rest are counted in parseProblemsOmitted); default 200 */
  maxParseProblems?: number;
  /**
   * How the syntax records are read (collect.ts): `walk` the whole tree once, query function `range`s, or
   * `auto` (default: a walk when most of the file needs reading). Both give the same analysis; tests pin that.
   */
  recordStrategy?: 'auto' | 'walk' | 'range';
}

/**
 * Hook for `iommu-lens annotate FILE.c --scenario S`: run scenario S and turn its outcomes (findings,
 * faults, the calls it made) whose `site:` names this file into source findings and notes. The CLI
 * supplies it (simulator/cli.ts); the annotate command works without it.
 */
export type BindOutcomes = (analysis: Analysis, scenarioPath: string, scenarioText: string) =>
  Promise<SourceFinding[] | BoundOutcomes> | SourceFinding[] | BoundOutcomes;
