// Checks on loops around the IOMMU API: one iommu_map() per scatterlist entry where iommu_map_sg() fits,
// and one iommu_unmap() per segment of what is a single IOVA-contiguous range.
import { SG_LOOP_MACRO_RE } from './apis';
import { type CheckContext, type FunctionScope, within } from './context';
import type { CallRec, LoopRec } from './syntax';
import { identifiers } from './text';
import type { SourceFinding } from './types';

/** The innermost loop whose body contains the record (calls in a loop header do not count). */
export function enclosingLoop(r: CallRec): LoopRec | null {
  for (let p = r.parent; p && p.kind !== 'function'; p = p.parent) {
    if (p.kind === 'loop' && within(r, p.body)) return p;
  }
  return null;
}

/** A loop that walks a scatterlist: for_each_sg()-style macros, or a for over ->nents / sg_next(). */
export function isSgLoop(ctx: CheckContext, loop: LoopRec): boolean {
  if (loop.macro && SG_LOOP_MACRO_RE.test(loop.macro)) return true;
  if (/\b(?:orig_)?nents\b|\bsg_next\s*\(/.test(loop.header.text)) return true;
  const body = ctx.text(loop.body);
  return /\bsgl?\s*\[[^\]]+\]\s*\.|\bsg_next\s*\(/.test(body);
}

export function checkMapPerSgEntry(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (c.name !== 'iommu_map') continue;
      const loop = enclosingLoop(c);
      if (!loop || !isSgLoop(ctx, loop)) continue;
      out.push(ctx.finding('map-per-sg-entry', c.nameSpan,
        `iommu_map() is called once per scatterlist entry in the loop at line ${ctx.line(loop.start)}: `
        + 'iommu_map_sg()/iommu_map_sgtable() maps the whole list at one IOVA and undoes it on failure',
        scope, { lowConfidence: c.inError, related: [{ span: loop.header, message: 'loop over the scatterlist' }] }));
    }
  }
  return out;
}

export function checkUnmapPerSegment(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (c.name !== 'iommu_unmap' && c.name !== 'iommu_unmap_fast') continue;
      const loop = enclosingLoop(c);
      if (!loop) continue;
      const sg = isSgLoop(ctx, loop);
      if (!sg && !iovaAdvancesIn(scope, loop, c)) continue;
      out.push(ctx.finding('unmap-per-segment', c.nameSpan,
        `${c.name}() is called per ${sg ? 'scatterlist segment' : 'step of an advancing IOVA'} in the loop at line `
        + `${ctx.line(loop.start)}: an IOVA-contiguous range is unmapped with one call for its total size`,
        scope, { lowConfidence: c.inError, related: [{ span: loop.header, message: 'the loop' }] }));
    }
  }
  return out;
}

/** The unmap's IOVA argument is a variable that the loop body moves forward. */
function iovaAdvancesIn(scope: FunctionScope, loop: LoopRec, call: CallRec): boolean {
  const arg = call.args[1]?.text ?? '';
  const vars = new Set(identifiers(arg).filter(id => !/^[A-Z0-9_]+$/.test(id)));
  const moved = (lvalue: string) => vars.has(lvalue.trim());
  return scope.assigns.some(a => within(a, loop.body) && (a.op === '+=' || a.op === '-=' || (a.op === '=' && /[+-]/.test(a.right.text)))
      && moved(a.left.text))
    || scope.updates.some(u => within(u, loop.body) && moved(u.arg.text));
}
