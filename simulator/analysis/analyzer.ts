// Entry points of the source analysis: analyzeC() for one-shot use (the CLI) and CAnalyzer for an editor
// that re-analyses as the user types, reusing the previous tree through tree.edit().
import type { Edit, Parser, Tree } from 'web-tree-sitter';
import { apiFamily, MM_CALL_HELPERS, MM_CONSTANT_RE } from './apis';
import { checkGetSgtableSharing, checkDomainNeverAllocated, checkOwnDomainWithDmaApi } from './checks-domain';
import { checkErrorPaths, checkMappingErrorUnchecked } from './checks-errors';
import { checkIovaTruncated, checkMmOnIova, checkWrongFree } from './checks-iova';
import { checkMapPerSgEntry, checkUnmapPerSegment } from './checks-loops';
import { checkUnboundedUserCount } from './checks-user';
import { CheckContext } from './context';
import { newCParser, newCQuery } from './parser';
import { preprocessKernelC, type Preprocessed } from './preprocess';
import { collect, UnitCache } from './collect';
import type { Collected } from './syntax';
import { LineIndex } from './text';
import { bracketsTooDeep, treeTooDeep } from './nesting-guard';
import type { Analysis, AnalyzeOptions, ApiCall, FunctionInfo, ParseProblem, SourceFinding } from './types';

const CHECKS = [
  checkMmOnIova, checkIovaTruncated, checkMapPerSgEntry, checkUnmapPerSegment, checkWrongFree, checkUnboundedUserCount,
  checkErrorPaths, checkDomainNeverAllocated, checkGetSgtableSharing, checkOwnDomainWithDmaApi, checkMappingErrorUnchecked,
];

/** A change to the text, as VS Code reports it: offsets into the text before the change. */
export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * The parser one-shot analyses borrow: a parser's first parse pays for growing its buffers, so analyzeC
 * reuses one instead of making one per call. Taken while in use, returned when the analysis ends.
 */
let spareParser: Parser | null = null;

/** Analyse one C file. initParser() must have completed. Never throws on any input text. */
export function analyzeC(text: string, fileName: string, opts: AnalyzeOptions = {}): Analysis {
  const parser = spareParser ?? newCParser();
  spareParser = null;
  const analyzer = new CAnalyzer(fileName, opts, false, parser);
  let done = false;
  try {
    const analysis = analyzer.update(text);
    done = true;
    return analysis;
  } finally {
    analyzer.dispose();
    // a parse that failed leaves the parser in doubt: the next analysis makes a new one
    if (done && !spareParser) spareParser = parser; else parser.delete();
  }
}

export class CAnalyzer {
  private parser: Parser | null = null;
  private tree: Tree | null = null;
  private pre: Preprocessed | null = null;
  /** records of unchanged functions and gaps, reused by the next update */
  private readonly units: UnitCache | null;
  /** a parser lent by the caller, which stays the caller's to delete */
  private readonly lent: Parser | null;

  constructor(readonly fileName: string, private readonly opts: AnalyzeOptions = {}, reuse = true, parser: Parser | null = null) {
    this.units = reuse ? new UnitCache() : null;
    this.lent = parser;
  }

  /**
   * Re-analyse after the text changed. With `changes` (offsets into the previous text, as VS Code's
   * contentChanges give them), the previous tree is edited and reused; without them the text is parsed
   * afresh. The result equals a fresh analysis whenever the new text parses without errors; in text with
   * syntax errors tree-sitter may recover differently when it reuses parts of the old tree.
   */
  update(text: string, changes?: readonly TextChange[]): Analysis {
    const pre = preprocessKernelC(text);
    const tooDeep = bracketsTooDeep(this.fileName, text, pre.tooDeepAt);
    if (tooDeep) return tooDeep;
    const parser = this.lent ?? (this.parser ??= newCParser());
    let tree: Tree | null;
    if (changes && this.tree && this.pre) {
      const edit = envelope(this.pre.text, pre.text, changes);
      if (edit) {
        this.tree.edit(edit);
        tree = parser.parse(pre.text, this.tree);
      } else {
        tree = this.tree;                          // nothing changed
      }
    } else {
      tree = parser.parse(pre.text);
    }
    if (this.tree && this.tree !== tree) this.tree.delete();
    this.tree = tree;
    this.pre = pre;
    if (!tree) throw new Error('tree-sitter returned no tree');
    const deepTree = treeTooDeep(this.fileName, text, tree);
    if (deepTree) return deepTree;
    return buildAnalysis(this.fileName, text, pre, tree, this.opts, this.units);
  }

  /** The current tree (for tests and tools); owned by the analyzer. */
  get currentTree(): Tree | null {
    return this.tree;
  }

  dispose(): void {
    this.tree?.delete();
    this.tree = null;
    this.parser?.delete();
    this.parser = null;
  }
}

/**
 * One tree-sitter edit covering all changes. It is checked against the texts themselves: outside the
 * edited range the old and new (preprocessed) texts must agree, otherwise the exact differing range is
 * used instead, so a stale or mis-ordered change list can never leave the tree out of step with the text.
 */
export function envelope(oldText: string, newText: string, changes: readonly TextChange[]): Edit | null {
  let start = Infinity;
  let oldEnd = -1;
  let delta = 0;
  for (const c of changes) {
    start = Math.min(start, c.rangeOffset);
    oldEnd = Math.max(oldEnd, c.rangeOffset + c.rangeLength);
    delta += c.text.length - c.rangeLength;
  }
  let newEnd = oldEnd + delta;
  const agrees = changes.length > 0 && start >= 0 && oldEnd <= oldText.length && newEnd >= start
    && newText.length === oldText.length + delta
    && oldText.slice(0, start) === newText.slice(0, start) && oldText.slice(oldEnd) === newText.slice(newEnd);
  if (!agrees) {
    if (oldText === newText) return null;
    start = 0;
    while (start < oldText.length && start < newText.length && oldText[start] === newText[start]) start++;
    let suffix = 0;
    while (suffix < oldText.length - start && suffix < newText.length - start
      && oldText[oldText.length - 1 - suffix] === newText[newText.length - 1 - suffix]) suffix++;
    oldEnd = oldText.length - suffix;
    newEnd = newText.length - suffix;
  }
  return {
    startIndex: start, oldEndIndex: oldEnd, newEndIndex: newEnd,
    startPosition: point(oldText, start), oldEndPosition: point(oldText, oldEnd), newEndPosition: point(newText, newEnd),
  };
}

function point(text: string, index: number): { row: number; column: number } {
  let row = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) row++;
  return { row, column: index - (text.lastIndexOf('\n', index - 1) + 1) };
}

function buildAnalysis(fileName: string, text: string, pre: Preprocessed, tree: Tree, opts: AnalyzeOptions, units: UnitCache | null): Analysis {
  const loopMacros = new Map(pre.rewrites.filter(r => r.kind === 'loop').map(r => [r.start, r.macro ?? ''] as [number, string]));
  const collected = collect(tree, text, pre.text, pre.masked, newCQuery, loopMacros, new RegExp(MM_CONSTANT_RE.source, 'g'), units,
    opts.recordStrategy);
  const lines = new LineIndex(text);
  const ctx = new CheckContext(fileName, pre.text, lines, collected);
  const findings: SourceFinding[] = CHECKS.flatMap(check => check(ctx));
  findings.sort((a, b) => a.range.start.index - b.range.start.index || a.code.localeCompare(b.code));
  const { problems, omitted } = parseProblems(collected, lines, opts.maxParseProblems ?? 200);
  return {
    file: fileName,
    lineCount: lines.lineCount,
    functions: functionInfos(ctx),
    calls: apiCalls(ctx, collected),
    parseProblems: problems,
    parseProblemsOmitted: omitted,
    findings,
  };
}

function functionInfos(ctx: CheckContext): FunctionInfo[] {
  return ctx.scopes.map(s => ({
    name: s.name,
    range: ctx.lines.range(s.rec.start, s.rec.end),
    nameRange: ctx.lines.range(s.rec.nameSpan.start, s.rec.nameSpan.end),
    site: `${ctx.baseName}:${s.name}`,
  }));
}

function apiCalls(ctx: CheckContext, collected: Collected): ApiCall[] {
  const out: ApiCall[] = [];
  const order = new Map<string, number>();
  const push = (api: string, fn: string | null, start: number, end: number, args: string[], low: boolean) => {
    const family = apiFamily(api);
    if (!family) return;
    const key = fn ?? '';
    const n = order.get(key) ?? 0;
    order.set(key, n + 1);
    const range = ctx.lines.range(start, end);
    out.push({ api, family, function: fn, line: range.start.line, col: range.start.col, range, args, order: n, lowConfidence: low });
  };
  const records = collected.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.kind === 'call') {
      // the family first: most calls are not of an API, and their arguments need not be split
      if (r.direct && r.intact && apiFamily(r.name)) push(r.name, r.fn?.name ?? null, r.start, r.end, r.args.map(a => a.text), r.inError);
    } else if (r.kind === 'mmconst' && !MM_CALL_HELPERS.has(r.name)) {
      push(r.name, r.fn?.name ?? null, r.start, r.end, r.operand ? [r.operand.text] : [], r.inError);
    }
  }
  return out;
}

function parseProblems(collected: Collected, lines: LineIndex, max: number): { problems: ParseProblem[]; omitted: number } {
  // Nested ERROR nodes describe the same region: keep the outermost.
  const outer = collected.errors.filter(e => !(e.parent && (e.parent.kind === 'error' && !e.parent.missing || e.parent.inError)));
  const problems = outer.slice(0, max).map((e): ParseProblem => {
    const range = lines.range(e.start, e.end);
    const snippet = e.what.split('\n')[0].trim();
    return {
      kind: e.missing ? 'missing' : 'error',
      line: range.start.line, col: range.start.col, range,
      message: e.missing ? `could not parse: expected '${e.what}' here`
        : `could not parse${snippet ? ` '${snippet.length > 30 ? snippet.slice(0, 30) + '…' : snippet}'` : ' this region'}`
          + '; findings in this region may be incomplete',
    };
  });
  return { problems, omitted: Math.max(0, outer.length - max) };
}
