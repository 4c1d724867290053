// Checks on IOVA arithmetic and storage: CPU-page helpers applied to IOVA space, IOVAs kept in 32-bit
// types, and IOVA ranges freed with a function that does not match their allocator.
import { IOVA_ARG_SLOTS, IOVA_RETURNING, MM_CALL_HELPERS } from './apis';
import { ancestors, bareType, type CheckContext, type FunctionScope, type VarInfo, within } from './context';
import type { CallRec, DeclRec, MmConstRec, Span } from './syntax';
import { identifiers, isIovaName, isPfnName, lastMember, normalizeExpr, rootIdentifier } from './text';
import type { SourceFinding } from './types';

const NARROW_TYPES = /^(?:u32|__u32|s32|__s32|uint32_t|int32_t|int|signed|signed int|unsigned|unsigned int|__le32|__be32|u16|__u16|s16|uint16_t|int16_t|short|unsigned short|u8|__u8|uint8_t|char|unsigned char)$/;

const narrow = new Map<string, boolean>();

export function isNarrowType(typeText: string): boolean {
  let is = narrow.get(typeText);
  if (is === undefined) {
    is = NARROW_TYPES.test(bareType(typeText));
    if (narrow.size < 4096) narrow.set(typeText, is);
  }
  return is;
}

/** An expression that names an IOVA: an iova-looking variable or field, or a dma_addr_t variable. */
function mentionsIova(ctx: CheckContext, scope: FunctionScope | null, text: string): string | null {
  const re = /[A-Za-z_]\w*/g;
  // variables are only looked up where some declaration has the type (no declarator parsing otherwise)
  const typed = declaresDmaAddr(ctx, scope);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (/^\s*\(/.test(text.slice(m.index + m[0].length))) continue;          // a function name
    if (isIovaName(m[0])) return m[0];
    const v = typed ? ctx.variable(scope, m[0]) : undefined;
    if (v && DMA_ADDR_T.test(v.typeText) && !v.pointer) return m[0];
  }
  return null;
}

const DMA_ADDR_T = /\bdma_addr_t\b/;
const dmaAddrScopes = new WeakMap<object, boolean>();

/** Whether a dma_addr_t is declared in the scope (parameters, locals) or at file level. */
function declaresDmaAddr(ctx: CheckContext, scope: FunctionScope | null): boolean {
  const has = (key: object, decls: DeclRec[]) => {
    let v = dmaAddrScopes.get(key);
    if (v === undefined) dmaAddrScopes.set(key, v = decls.some(d => DMA_ADDR_T.test(d.typeText)));
    return v;
  };
  return (scope !== null && has(scope, scope.decls)) || has(ctx, ctx.fileDecls);
}

const HELPER_ADVICE: Record<string, string> = {
  PHYS_PFN: 'IOVA pfns count IOVA granules, not CPU pages: use iova_pfn(iovad, iova)',
  PFN_DOWN: 'IOVA pfns count IOVA granules, not CPU pages: use iova_pfn(iovad, iova)',
  PFN_PHYS: 'an IOVA pfn is in IOVA granules: use iova_dma_addr(iovad, iova) or pfn << iova_shift(iovad)',
  PFN_UP: 'round with iova_align(iovad, size) and shift with iova_shift(iovad)',
  PAGE_ALIGN: 'the IOMMU granule may be larger than PAGE_SIZE: use iova_align(iovad, size)',
  PAGE_ALIGN_DOWN: 'use iova_align_down(iovad, size) for the IOMMU granule',
  PAGE_SHIFT: 'IOVA sizes and pfns are in granules: use iova_shift(iovad)',
  PAGE_SIZE: 'the IOVA granule is the IOMMU\'s smallest page size (iovad->granule), not PAGE_SIZE',
  PAGE_MASK: 'use iova_offset(iovad, iova) / iova_align() for the IOMMU granule',
};

interface MmUse { name: string; span: Span; expr: Span; operand: string; rec: CallRec | MmConstRec; scope: FunctionScope }

export function checkMmOnIova(ctx: CheckContext): SourceFinding[] {
  const uses: MmUse[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (MM_CALL_HELPERS.has(c.name)) uses.push({ name: c.name, span: c.nameSpan, expr: c, operand: c.args.map(a => a.text).join(', '), rec: c, scope });
    }
    for (const k of scope.mmconsts) uses.push({ name: k.name, span: k, expr: k.expr, operand: k.operand?.text ?? '', rec: k, scope });
  }
  const out: SourceFinding[] = [];
  let flagged: Array<{ use: MmUse; why: string }> = [];
  const flush = () => {
    // Report the outermost helper of a nest: PHYS_PFN(PAGE_ALIGN(len)) is one finding.
    const nested = (f: MmUse, g: MmUse) => g !== f && within(f.expr, g.expr) && (g.expr.start !== f.expr.start || g.expr.end !== f.expr.end);
    for (const { use, why } of flagged) {
      if (flagged.some(g => nested(use, g.use))) continue;
      out.push(ctx.finding('mm-pfn-on-iova', use.span,
        `${use.name}${MM_CALL_HELPERS.has(use.name) ? '()' : ''} ${why}; ${HELPER_ADVICE[use.name] ?? 'use the iova_*() helpers'}`,
        use.scope, { lowConfidence: use.rec.inError }));
    }
    flagged = [];
  };
  let scope: FunctionScope | null = null;
  for (let useIndex = 0; useIndex < uses.length; useIndex++) {
    const use = uses[useIndex];
    if (use.scope !== scope) { flush(); scope = use.scope; }
    const why = mmUseOnIova(ctx, use);
    if (why) flagged.push({ use, why });
  }
  flush();
  return out.sort((a, b) => a.range.start.index - b.range.start.index);
}

function mmUseOnIova(ctx: CheckContext, use: MmUse): string | null {
  const iova = mentionsIova(ctx, use.scope, use.operand);
  if (iova) return `applied to the IOVA '${use.operand.length <= 48 ? normalizeExpr(use.operand) : iova}'`;
  for (const a of ancestors(use.rec)) {
    if (a.kind === 'call' && !MM_CALL_HELPERS.has(a.name)) {
      const slots = IOVA_ARG_SLOTS[a.name];
      const k = a.args.findIndex(arg => within(use.expr, arg));
      if (slots && k >= 0 && slots.includes(k)) return `computes argument ${k + 1} of ${a.name}() in CPU pages`;
      return null;                                   // inside some other call: not IOVA arithmetic we know of
    }
    if (a.kind === 'assign' && within(use.expr, a.right) && ctx.isIovaLvalue(use.scope, a.left.text)) {
      return `computes the IOVA '${normalizeExpr(a.left.text)}' in CPU pages`;
    }
    if (a.kind === 'decl') {
      const d = a.declarators.find(x => x.init && within(use.expr, x.init));
      if (d && (isIovaName(d.name) || /\bdma_addr_t\b/.test(a.typeText))) return `computes the IOVA '${d.name}' in CPU pages`;
    }
  }
  return null;
}

/** Locals, parameters and struct fields declared narrower than 64 bits that hold IOVAs. */
export function checkIovaTruncated(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  const reported = new Set<string>();
  const report = (v: VarInfo, scope: FunctionScope | null, why: string, assignedAt?: Span) => {
    const key = `${v.declarator.nameSpan.start}`;
    if (reported.has(key)) return;
    reported.add(key);
    const bare = bareType(v.typeText);
    const wanted = bare.startsWith('__') ? '__u64' : isPfnName(v.name) ? 'unsigned long' : 'dma_addr_t';
    const fixes = v.decl.declarators.length === 1
      ? [ctx.fix(`Declare '${v.name}' as ${wanted}`, typeWordSpan(ctx, v.decl), wanted)] : [];
    const what = v.decl.decl === 'field' ? 'field' : v.decl.decl === 'param' ? 'parameter' : 'variable';
    out.push(ctx.finding('iova-truncated', v.declarator.nameSpan,
      `${what} '${v.name}' ${why} but is declared '${bare}': IOVAs and DMA addresses need 64 bits (${wanted})`,
      scope, { fixes, lowConfidence: v.decl.inError,
        related: assignedAt ? [{ span: assignedAt, message: 'the IOVA is stored here' }] : [] }));
  };
  const consider = (decl: DeclRec, scope: FunctionScope | null) => {
    if (!isNarrowType(decl.typeText)) return;
    for (let dIndex = 0; dIndex < decl.declarators.length; dIndex++) {
      const d = decl.declarators[dIndex];
      if (d.pointer || d.func || !isIovaName(d.name)) continue;
      const v = (scope ? scope.vars.get(d.name) : undefined) ?? { name: d.name, typeText: decl.typeText, pointer: false, array: d.array, decl, declarator: d };
      report(v, scope, 'holds an IOVA');
    }
  };
  for (let declIndex = 0; declIndex < ctx.fileDecls.length; declIndex++) consider(ctx.fileDecls[declIndex], null);
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let declIndex = 0; declIndex < scope.decls.length; declIndex++) consider(scope.decls[declIndex], scope);
  }

  // Stores of IOVA-returning calls into narrow variables or fields, whatever their names.
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    const store = (lvalue: string, callee: string, at: Span, decl?: () => VarInfo | undefined) => {
      const v = decl?.() ?? ctx.lvalueType(scope, lvalue);
      if (v && !v.pointer && isNarrowType(v.typeText)) report(v, v.decl.decl === 'field' ? null : scope, `stores the result of ${callee}()`, at);
    };
    for (let aIndex = 0; aIndex < scope.assigns.length; aIndex++) {
      const a = scope.assigns[aIndex];
      const callee = a.op === '=' ? iovaReturningCallee(a.right.text) : null;
      if (callee) store(a.left.text, callee, a);
    }
    for (let declIndex = 0; declIndex < scope.decls.length; declIndex++) {
      const decl = scope.decls[declIndex];
      // only a declaration with an initializer that calls something can store such a result
      const eq = ctx.code.indexOf('=', decl.typeEnd);
      if (eq < 0 || eq >= decl.end) continue;
      const paren = ctx.code.indexOf('(', decl.typeEnd);
      if (paren < 0 || paren >= decl.end) continue;
      for (let dIndex = 0; dIndex < decl.declarators.length; dIndex++) {
        const d = decl.declarators[dIndex];
        const callee = d.init ? iovaReturningCallee(d.init.text) : null;
        if (callee) store(d.name, callee, d.init!, () => scope.vars.get(d.name));
      }
    }
  }
  return out;
}

const CALLEE = /^\(?\s*([A-Za-z_]\w*)\s*\(/;

/** The callee when `rhs` is a call of a function that returns an IOVA or DMA address. */
function iovaReturningCallee(rhs: string): string | null {
  if (!rhs.includes('(')) return null;
  const callee = CALLEE.exec(rhs)?.[1];
  return callee && IOVA_RETURNING.has(callee) ? callee : null;
}

/** The type words of a declaration without storage class or qualifiers: the part a fix replaces. */
function typeWordSpan(ctx: CheckContext, decl: DeclRec): Span {
  const text = ctx.text(decl.typeSpan);
  const lead = /^(?:\s*(?:static|extern|register|const|volatile)\b)*\s*/.exec(text)?.[0].length ?? 0;
  return { start: decl.typeSpan.start + lead, end: decl.typeSpan.end };
}

/** alloc_iova_fast() ranges freed with free_iova(), and alloc_iova() ranges freed with free_iova_fast(). */
export function checkWrongFree(ctx: CheckContext): SourceFinding[] {
  // Calls of the four functions, grouped by the iova_domain they work on (its member name).
  type Site = { c: CallRec; s: FunctionScope };
  const byDomain = new Map<string, Record<string, Site[]>>();
  for (let sIndex = 0; sIndex < ctx.scopes.length; sIndex++) {
    const s = ctx.scopes[sIndex];
    for (let cIndex = 0; cIndex < s.calls.length; cIndex++) {
      const c = s.calls[cIndex];
      if (c.name !== 'alloc_iova' && c.name !== 'alloc_iova_fast' && c.name !== 'free_iova' && c.name !== 'free_iova_fast') continue;
      const key = c.args[0] ? lastMember(c.args[0].text) : '?';
      let group = byDomain.get(key);
      if (!group) byDomain.set(key, group = {});
      (group[c.name] ??= []).push({ c, s });
    }
  }
  const out: SourceFinding[] = [];
  for (const [key, g] of byDomain) {
    const fast = g.alloc_iova_fast ?? [];
    const slow = g.alloc_iova ?? [];
    if (fast.length && !slow.length) {
      const alloc = fast[0].c;
      const sizeArg = alloc.args[1]?.text;
      for (const { c, s } of g.free_iova ?? []) {
        const fixes = fast.length === 1 && sizeArg && c.args.length === 2 && visibleIn(ctx, s, sizeArg)
          ? [ctx.fix(`Use free_iova_fast() with the size given to alloc_iova_fast() (${sizeArg})`, { start: c.start, end: c.end },
            `free_iova_fast(${c.args[0].text}, ${c.args[1].text}, ${sizeArg})`)]
          : [];
        out.push(ctx.finding('wrong-free-function', c.nameSpan,
          `free_iova() releases a range from alloc_iova_fast() (line ${ctx.line(alloc.start)}) on '${key}': `
          + 'ranges from the rcache allocator go back with free_iova_fast(iovad, pfn, size)',
          s, { fixes, lowConfidence: c.inError, related: [{ span: alloc, message: 'allocated with alloc_iova_fast() here' }] }));
      }
    }
    if (slow.length && !fast.length) {
      for (const { c, s } of g.free_iova_fast ?? []) {
        const fixes = c.args.length >= 2
          ? [ctx.fix('Use free_iova()', { start: c.start, end: c.end }, `free_iova(${c.args[0].text}, ${c.args[1].text})`)] : [];
        out.push(ctx.finding('wrong-free-function', c.nameSpan,
          `free_iova_fast() releases a range from alloc_iova() (line ${ctx.line(slow[0].c.start)}) on '${key}': `
          + 'it was not size-rounded for the rcache; free it with free_iova()',
          s, { fixes, lowConfidence: c.inError, related: [{ span: slow[0].c, message: 'allocated with alloc_iova() here' }] }));
      }
    }
  }
  return out;
}

/** Whether every variable an expression starts from is declared in the scope (or is a macro/global). */
function visibleIn(ctx: CheckContext, scope: FunctionScope, expr: string): boolean {
  const roots = identifiers(expr.replace(/(->|\.)\s*[A-Za-z_]\w*/g, ''));
  return roots.every(id => /^[A-Z0-9_]+$/.test(id) || ctx.variable(scope, id) !== undefined || id === 'sizeof')
    && rootIdentifier(expr) !== null;
}
