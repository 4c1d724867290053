// What every check reads: the collected records grouped per function, variable declarations, the file's
// own wrappers around the mapping APIs, and a factory that turns a span into a SourceFinding.
// Loops over records and scopes here and in the checks index their arrays instead of using for...of: a file is
// analysed once, mostly before the JIT has optimised this code, and unoptimised for...of allocates an
// iterator result per element (about 1.5 MB per analysis of a 20,000-line file).
import path from 'node:path';
import { MAP_APIS, UNMAP_APIS } from './apis';
import { REVIEW_CHECKS } from './explain';
import type {
  AssignRec, CallRec, Collected, DeclRec, Declarator, FunctionRec, GotoRec, IfRec, LabelRec, LoopRec, MmConstRec,
  Rec, ReturnRec, Span, BreakRec, UpdateRec,
} from './syntax';
import { LineIndex, isIovaName, lastMember, normalizeExpr } from './text';
import type { QuickFix, ReviewCode, SourceFinding } from './types';

export interface VarInfo {
  name: string;
  typeText: string;
  pointer: boolean;
  array: boolean;
  decl: DeclRec;
  declarator: Declarator;
}

export interface FunctionScope {
  rec: FunctionRec;
  name: string;
  calls: CallRec[];              // intact calls, source order
  ifs: IfRec[];
  loops: LoopRec[];
  returns: ReturnRec[];
  gotos: GotoRec[];
  breaks: BreakRec[];
  labels: LabelRec[];
  decls: DeclRec[];              // parameters and locals
  assigns: AssignRec[];
  updates: UpdateRec[];
  mmconsts: MmConstRec[];
  vars: Map<string, VarInfo>;
}

export interface FindingExtras {
  fixes?: QuickFix[];
  related?: Array<{ span: Span; message: string }>;
  lowConfidence?: boolean;
}

/** A function's records; its variables are built from its declarations on first use. */
class Scope implements FunctionScope {
  readonly name: string;
  readonly calls: CallRec[] = [];
  readonly ifs: IfRec[] = [];
  readonly loops: LoopRec[] = [];
  readonly returns: ReturnRec[] = [];
  readonly gotos: GotoRec[] = [];
  readonly breaks: BreakRec[] = [];
  readonly labels: LabelRec[] = [];
  readonly decls: DeclRec[] = [];
  readonly assigns: AssignRec[] = [];
  readonly updates: UpdateRec[] = [];
  readonly mmconsts: MmConstRec[] = [];
  private built: Map<string, VarInfo> | null = null;

  constructor(readonly rec: FunctionRec) {
    this.name = rec.name;
  }

  get vars(): Map<string, VarInfo> {
    if (!this.built) {
      this.built = new Map();
      for (let i = 0; i < this.decls.length; i++) {
        const r = this.decls[i];
        const ds = r.declarators;
        for (let k = 0; k < ds.length; k++) if (!ds[k].func) this.built.set(ds[k].name, varInfo(r, ds[k]));
      }
    }
    return this.built;
  }
}

const STORAGE_WORDS = /^(?:(?:static|extern|register|const|volatile|inline)\s+)+/;

const bareTypes = new Map<string, string>();

/** The type without storage class and qualifiers: `static const u32` → `u32`. */
export function bareType(typeText: string): string {
  let bare = bareTypes.get(typeText);
  if (bare === undefined) {
    bare = typeText.replace(STORAGE_WORDS, '').replace(/\b(?:const|volatile)\b/g, '').replace(/\s+/g, ' ').trim();
    if (bareTypes.size < 4096) bareTypes.set(typeText, bare);
  }
  return bare;
}

export class CheckContext {
  readonly scopes: FunctionScope[] = [];
  /** declarations outside any function: struct fields and globals */
  readonly fileDecls: DeclRec[] = [];
  private fileVars: { fields: Map<string, VarInfo[]>; globals: Map<string, VarInfo> } | null = null;
  readonly mapWrappers = new Set<string>();
  readonly unmapWrappers = new Set<string>();
  private readonly scopeById = new Map<number, FunctionScope>();
  readonly baseName: string;

  constructor(readonly file: string, readonly code: string, readonly lines: LineIndex, readonly collected: Collected) {
    this.baseName = path.basename(file);
    const functions = collected.functions;
    for (let i = 0; i < functions.length; i++) {
      const scope = new Scope(functions[i]);
      this.scopes.push(scope);
      this.scopeById.set(functions[i].id, scope);
    }
    const records = collected.records;
    for (let i = 0; i < records.length; i++) this.place(records[i]);
    this.findWrappers();
  }

  /** struct fields by member name, and global variables: built from the file-level declarations when first asked */
  get fields(): Map<string, VarInfo[]> { return (this.fileVars ??= this.buildFileVars()).fields; }
  get globals(): Map<string, VarInfo> { return (this.fileVars ??= this.buildFileVars()).globals; }

  private buildFileVars(): { fields: Map<string, VarInfo[]>; globals: Map<string, VarInfo> } {
    const fields = new Map<string, VarInfo[]>();
    const globals = new Map<string, VarInfo>();
    for (let i = 0; i < this.fileDecls.length; i++) {
      const r = this.fileDecls[i];
      for (let dIndex = 0; dIndex < r.declarators.length; dIndex++) {
        const d = r.declarators[dIndex];
        const info = varInfo(r, d);
        if (r.decl === 'field') {
          const list = fields.get(d.name);
          if (list) list.push(info); else fields.set(d.name, [info]);
        } else if (!d.func) globals.set(d.name, info);
      }
    }
    return { fields, globals };
  }

  private place(r: Rec): void {
    const scope = r.fn ? this.scopeById.get(r.fn.id) : undefined;
    if (!scope) {
      if (r.kind === 'decl' && r.decl !== 'param') this.fileDecls.push(r);
      return;
    }
    switch (r.kind) {
      case 'call': if (r.intact) scope.calls.push(r); break;
      case 'if': scope.ifs.push(r); break;
      case 'loop': scope.loops.push(r); break;
      case 'return': scope.returns.push(r); break;
      case 'goto': scope.gotos.push(r); break;
      case 'break': scope.breaks.push(r); break;
      case 'label': scope.labels.push(r); break;
      case 'assign': scope.assigns.push(r); break;
      case 'update': scope.updates.push(r); break;
      case 'mmconst': scope.mmconsts.push(r); break;
      case 'decl':
        // parameters of a function-pointer declaration inside the body are not the function's own
        if (r.decl === 'param' && r.parent?.kind !== 'function') break;
        scope.decls.push(r);            // its variables are read from the declarators when first asked (Scope.vars)
        break;
    }
  }

  /** Functions of this file that (directly or through each other) map or unmap. */
  private findWrappers(): void {
    // who calls each name, then a worklist from the API names up through the callers (only the APIs and
    // this file's functions can be on that list: calls of anything else need not be counted)
    const callers = new Map<string, string[]>();
    const own = new Set<string>();
    for (let i = 0; i < this.scopes.length; i++) own.add(this.scopes[i].name);
    for (let i = 0; i < this.scopes.length; i++) {
      const s = this.scopes[i];
      for (let k = 0; k < s.calls.length; k++) {
        const name = s.calls[k].name;
        if (!own.has(name) && !MAP_APIS.has(name) && !UNMAP_APIS.has(name)) continue;
        const list = callers.get(name);
        if (!list) callers.set(name, [s.name]);
        else if (list[list.length - 1] !== s.name) list.push(s.name);
      }
    }
    const grow = (apis: Set<string>, into: Set<string>) => {
      const work = [...apis];
      while (work.length) {
        for (const caller of callers.get(work.pop()!) ?? []) {
          if (into.has(caller)) continue;
          into.add(caller);
          work.push(caller);
        }
      }
    };
    grow(MAP_APIS, this.mapWrappers);
    grow(UNMAP_APIS, this.unmapWrappers);
  }

  scopeOf(r: Rec): FunctionScope | null {
    return r.fn ? this.scopeById.get(r.fn.id) ?? null : null;
  }

  /** A variable visible in the scope: local or parameter first, then a global. */
  variable(scope: FunctionScope | null, name: string): VarInfo | undefined {
    return scope?.vars.get(name) ?? this.globals.get(name);
  }

  /** The declared type of an lvalue: a variable, or a struct field by its member name. */
  lvalueType(scope: FunctionScope | null, lvalue: string): VarInfo | undefined {
    const n = normalizeExpr(lvalue);
    if (/^[A-Za-z_]\w*$/.test(n)) return this.variable(scope, n);
    const fields = this.fields.get(lastMember(n));
    return fields && fields.length === 1 ? fields[0] : undefined;
  }

  /** An lvalue that holds an IOVA or DMA address by its name or its dma_addr_t type. */
  isIovaLvalue(scope: FunctionScope | null, lvalue: string): boolean {
    if (isIovaName(lastMember(lvalue))) return true;
    return /\bdma_addr_t\b/.test(this.lvalueType(scope, lvalue)?.typeText ?? '');
  }

  isMapCall(c: CallRec): boolean { return MAP_APIS.has(c.name) || this.mapWrappers.has(c.name); }
  isUnmapCall(c: CallRec): boolean { return UNMAP_APIS.has(c.name) || this.unmapWrappers.has(c.name); }

  text(span: Span): string {
    return this.code.slice(span.start, span.end);
  }

  line(index: number): number {
    return this.lines.position(index).line;
  }

  finding(code: ReviewCode, span: Span, message: string, scope: FunctionScope | null, extras: FindingExtras = {}): SourceFinding {
    const range = this.lines.range(span.start, span.end);
    const spec = REVIEW_CHECKS[code];
    return {
      code, severity: spec.severity, message, file: this.file, line: range.start.line, col: range.start.col, range,
      function: scope?.name ?? null, site: scope ? `${this.baseName}:${scope.name}` : null, explain: spec.explain,
      fixes: extras.fixes ?? [], confidence: extras.lowConfidence ? 'low' : 'high',
      ...(extras.related?.length
        ? { related: extras.related.map(r => ({ range: this.lines.range(r.span.start, r.span.end), message: r.message })) }
        : {}),
    };
  }

  fix(title: string, span: Span, newText: string): QuickFix {
    return { title, range: this.lines.range(span.start, span.end), newText };
  }
}

function varInfo(decl: DeclRec, d: Declarator): VarInfo {
  return { name: d.name, typeText: decl.typeText, pointer: d.pointer, array: d.array, decl, declarator: d };
}

/** Whether `inner` lies within `outer`. */
export function within(inner: Span, outer: Span): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** Enclosing records of `r`, innermost first, up to (not including) its function. */
export function ancestors(r: Rec): Rec[] {
  const out: Rec[] = [];
  for (let p = r.parent; p && p.kind !== 'function'; p = p.parent) out.push(p);
  return out;
}

/** The variable a call's result is stored in: `x = f()`, `T x = f()`, or null. */
export function resultTarget(call: CallRec): { text: string; span: Span } | null {
  const p = call.parent;
  if (p?.kind === 'assign' && p.right.start === call.start && p.right.end === call.end) return { text: p.left.text, span: p.left };
  if (p?.kind === 'decl') {
    for (let dIndex = 0; dIndex < p.declarators.length; dIndex++) {
      const d = p.declarators[dIndex];
      if (d.init && d.init.start === call.start && d.init.end === call.end) return { text: d.name, span: d.nameSpan };
    }
  }
  return null;
}
