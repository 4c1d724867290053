// Checks on error handling: error paths that leave mappings behind, error paths that end in `return 0`,
// and single-address DMA mappings whose result never goes through dma_mapping_error().
import { CHECKED_DMA_MAPS } from './apis';
import { ancestors, type CheckContext, type FunctionScope, resultTarget, within } from './context';
import type { BreakRec, CallRec, GotoRec, IfRec, Rec, ReturnRec, Span } from './syntax';
import { normalizeExpr } from './text';
import type { SourceFinding } from './types';

type Exit = ReturnRec | GotoRec | BreakRec;

const ERROR_VAR_TEST = /^\(?\s*(?:unlikely\s*\(\s*)?(ret|err|rc|error|status|res|r)\s*(?:<\s*0|!=\s*0)?\s*\)?\s*\)?$/;
const ERROR_CALL_TEST = /^\(?\s*(?:unlikely\s*\(\s*)?!?\s*(?:IS_ERR|IS_ERR_OR_NULL|dma_mapping_error|WARN_ON|WARN_ON_ONCE|copy_to_user|copy_from_user|__copy_to_user|__copy_from_user)\s*\(/;
const ERROR_VALUE = /^(?:-E[A-Z0-9]+|PTR_ERR\s*\(|ERR_PTR\s*\(|ERR_CAST\s*\(|-\d)/;

/** An if whose branch leaves (return/goto/break) because something failed. */
interface ErrorBranch { ifRec: IfRec; exit: Exit; strong: boolean }

function errorBranches(scope: FunctionScope): ErrorBranch[] {
  const out: ErrorBranch[] = [];
  if (!scope.ifs.length) return out;
  const exits: Exit[] = [...scope.returns, ...scope.gotos, ...scope.breaks];
  for (let ifRecIndex = 0; ifRecIndex < scope.ifs.length; ifRecIndex++) {
    const ifRec = scope.ifs[ifRecIndex];
    const setsError = scope.assigns.some(a => within(a, ifRec.then) && a.op === '=' && ERROR_VALUE.test(a.right.text));
    const cond = ifRec.cond.text;
    const testsErrorVar = ERROR_VAR_TEST.test(cond);
    const errorCond = testsErrorVar || ERROR_CALL_TEST.test(cond) || /^\(\s*!/.test(cond) || /<\s*0\s*\)$/.test(cond);
    for (let exitIndex = 0; exitIndex < exits.length; exitIndex++) {
      const exit = exits[exitIndex];
      if (exit.parent !== ifRec || !within(exit, ifRec.then)) continue;
      const failing = exit.kind === 'return'
        ? /^(?:-?E[A-Z0-9]+|-\w+|ret|err|rc|error|status|res|PTR_ERR\s*\(.*|ERR_PTR\s*\(.*|ERR_CAST\s*\(.*|NULL)$/.test(exit.value.replace(/^-\s*/, '-'))
        : errorCond || setsError;
      if (failing) out.push({ ifRec, exit, strong: setsError || testsErrorVar });
    }
  }
  return out;
}

/** The first return reached by falling through from `from`, skipping returns inside later branches. */
function fallthroughReturn(scope: FunctionScope, from: number): ReturnRec | null {
  for (let rIndex = 0; rIndex < scope.returns.length; rIndex++) {
    const r = scope.returns[rIndex];
    if (r.start < from) continue;
    const nested = ancestors(r).some(a => (a.kind === 'if' || a.kind === 'else' || a.kind === 'loop') && a.start >= from);
    if (!nested) return r;
  }
  return null;
}

/** Spans executed on the way out of an error branch: the branch itself, then the code it jumps to. */
function exitPath(scope: FunctionScope, b: ErrorBranch): { spans: Span[]; ret: ReturnRec | null; how: string } {
  const spans: Span[] = [b.ifRec.then];
  const { exit } = b;
  if (exit.kind === 'return') return { spans, ret: exit, how: 'returns' };
  let from: number;
  let how: string;
  if (exit.kind === 'goto') {
    const label = scope.labels.find(l => l.name === exit.label);
    from = label ? label.start : scope.rec.body.end;
    how = `jumps to '${exit.label}'`;
  } else {
    let loop: Rec | null = exit.parent;
    while (loop && loop.kind !== 'loop') loop = loop.parent;
    from = loop ? loop.end : exit.end;
    how = 'breaks out of the loop';
  }
  const ret = fallthroughReturn(scope, from);
  spans.push({ start: from, end: ret ? ret.end : scope.rec.body.end });
  return { spans, ret, how };
}

function loopsAround(scope: FunctionScope, r: Span): Span[] {
  return scope.loops.filter(l => within(r, l.body)).map(l => l.body);
}

/** Map calls (API or this file's wrappers) still in effect when the branch runs. */
function liveMaps(ctx: CheckContext, scope: FunctionScope, b: ErrorBranch): CallRec[] {
  const ifRec = b.ifRec;
  const maps = scope.calls.filter(c => ctx.isMapCall(c) && (c.end <= ifRec.start || within(c, ifRec.cond)));
  if (!maps.length) return [];
  const sharesLoop = (m: CallRec) => loopsAround(scope, m).some(l => within(ifRec, l));
  const last = maps[maps.length - 1];
  const target = resultTarget(last);
  const testsLast = within(last, ifRec.cond)
    || (target !== null && new RegExp(`\\b${escapeRe(normalizeExpr(target.text))}\\b`).test(normalizeExpr(ifRec.cond.text)));
  const unmaps = scope.calls.filter(c => ctx.isUnmapCall(c) && c.end <= ifRec.start);
  return maps.filter(m => {
    if (m === last && testsLast && !sharesLoop(m)) return false;          // this map is the one that failed
    if (unmaps.some(u => u.start > m.end && !sharesLoop(m))) return false; // already undone
    // mapped inside an earlier branch that itself left the function
    return !ancestors(m).some(a => a.kind === 'if' && a.end <= ifRec.start && within(m, a.then)
      && [...scope.returns, ...scope.gotos].some(x => within(x, a.then) && x.start > m.end));
  });
}

export function checkErrorPaths(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    const branches = errorBranches(scope);
    if (!branches.length) continue;
    const zeroReturns = new Map<ReturnRec, ErrorBranch[]>();
    for (const b of branches) {
      const path = exitPath(scope, b);
      const live = liveMaps(ctx, scope, b);
      const unmapped = scope.calls.some(c => ctx.isUnmapCall(c) && path.spans.some(s => within(c, s)));
      if (live.length && !unmapped) {
        const m = live[live.length - 1];
        const iter = sharesLoopWith(scope, m, b.ifRec) ? ' (earlier iterations of the loop)' : '';
        out.push(ctx.finding('error-path-leak', b.exit,
          `error path ${path.how} without unmapping what ${m.name}() mapped at line ${ctx.line(m.start)}${iter}`,
          scope, { lowConfidence: b.exit.inError, related: live.map(x => ({ span: x as Span, message: `${x.name}() mapped here` })) }));
      }
      if (b.exit.kind !== 'return' && b.strong && path.ret && path.ret.value === '0') {
        zeroReturns.set(path.ret, [...(zeroReturns.get(path.ret) ?? []), b]);
      }
    }
    for (const [ret, branches] of zeroReturns) {
      const first = branches[0];
      out.push(ctx.finding('error-return-zero', ret,
        `returns 0 after the failure handled at line ${ctx.line(first.ifRec.start)} reaches it: the caller is told it succeeded`,
        scope, { lowConfidence: ret.inError,
          related: branches.map(b => ({ span: b.exit as Span, message: `error path: ${ctx.text(b.ifRec.cond)}` })) }));
    }
  }
  return out;
}

function sharesLoopWith(scope: FunctionScope, m: CallRec, r: Span): boolean {
  return loopsAround(scope, m).some(l => within(r, l));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function checkMappingErrorUnchecked(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (!CHECKED_DMA_MAPS.has(c.name)) continue;
      const around = ancestors(c);
      if (around.some(a => a.kind === 'call' && a.name === 'dma_mapping_error')) continue;
      if (around[0]?.kind === 'return') continue;                     // handed to the caller to check
      const target = resultTarget(c);
      if (target) {
        const t = normalizeExpr(target.text);
        const checked = scope.calls.some(k => k.name === 'dma_mapping_error' && k.start > c.end
          && k.args.some(a => normalizeExpr(a.text) === t));
        if (checked) continue;
      }
      out.push(ctx.finding('mapping-error-unchecked', c.nameSpan,
        target ? `the address ${c.name}() stores in '${normalizeExpr(target.text)}' is never tested with dma_mapping_error()`
          : `the result of ${c.name}() is used without dma_mapping_error()`,
        scope, { lowConfidence: c.inError }));
    }
  }
  return out;
}
