// Builds one record from one syntax node. Calls and declarations are the most numerous records and most of
// them are never looked at closely (mutex_lock(), `int i;`): their argument list and declarators are split
// from the text only when a check first reads them. A record holds numbers and the strings the checks read;
// the spans few of them need (a call's name, a declaration's type) are made when asked for. Records of a
// 20,000-line file are alive through the whole analysis, so each object saved is copied by the young-generation
// collector less often.
import type { Node, Tree } from 'web-tree-sitter';
import { declaratorsIn, doBody, functionName, isSpace, piece, trimStatement, type Declarator, type Span } from './parts';
import type { CallRec, DeclRec, FunctionRec, Rec } from './syntax';
import { argumentsIn, type Piece } from './text';

const IDENT = /^[A-Za-z_]\w*$/;
const SPACES = /[^\S ]|\s{2}/;

/** A call; `args` are read from `code` between `open` (its argument list) and `end` on first use. */
export class CallRecord implements CallRec {
  readonly kind: 'call';
  parent: Rec | null;
  fn: FunctionRec | null;
  inError: boolean;
  intact: boolean;
  private parsed: Piece[] | null;

  /** `name` is the callee text, which spans [nameStart, nameEnd) of `code`. */
  constructor(readonly id: number, readonly start: number, readonly end: number, readonly name: string, readonly direct: boolean,
              private readonly nameStart: number, private readonly code: string, private readonly open: number) {
    this.kind = 'call';
    this.parent = null;
    this.fn = null;
    this.inError = false;
    this.intact = true;
    this.parsed = null;
  }

  get nameSpan(): Piece {
    return { text: this.name, start: this.nameStart, end: this.nameStart + this.name.length };
  }

  get args(): Piece[] {
    return this.parsed ??= this.open < 0 ? [] : argumentsIn(this.code, this.open, this.end);
  }

  /** The same call `delta` characters further in `code` (a text with the same call there). */
  moved(delta: number, id: number, code: string): CallRecord {
    return new CallRecord(id, this.start + delta, this.end + delta, this.name, this.direct, this.nameStart + delta, code,
      this.open < 0 ? -1 : this.open + delta);
  }
}

/** A declaration; `declarators` are parsed from `code` after the type (which ends at `typeEnd`) on first use. */
export class DeclRecord implements DeclRec {
  readonly kind: 'decl';
  parent: Rec | null;
  fn: FunctionRec | null;
  inError: boolean;
  private parsed: Declarator[] | null;

  constructor(readonly id: number, readonly start: number, readonly end: number, readonly decl: DeclRec['decl'],
              readonly typeText: string, readonly typeEnd: number, private readonly code: string) {
    this.kind = 'decl';
    this.parent = null;
    this.fn = null;
    this.inError = false;
    this.parsed = null;
  }

  get typeSpan(): Span {
    return { start: this.start, end: this.typeEnd };
  }

  get declarators(): Declarator[] {
    return this.parsed ??= declaratorsIn(this.code, this.typeEnd, this.end);
  }

  moved(delta: number, id: number, code: string): DeclRecord {
    return new DeclRecord(id, this.start + delta, this.end + delta, this.decl, this.typeText, this.typeEnd + delta, code);
  }
}

/** Field ids looked up once per language. */
interface Grammar { declarator: number; body: number; type: number; types: string[] }
const grammars = new WeakMap<object, Grammar>();

function grammar(tree: Tree): Grammar {
  const lang = tree.language;
  let g = grammars.get(lang);
  if (!g) {
    const field = (name: string) => lang.fields.indexOf(name);
    g = { declarator: field('declarator'), body: field('body'), type: field('type'), types: lang.types };
    grammars.set(lang, g);
  }
  return g;
}

/** The function record of a function_definition node, or null without a name or a compound body. */
export function functionRecord(node: Node, code: string, id: number): FunctionRec | null {
  return functionOf(grammar(node.tree), node, node.startIndex, code, () => id);
}

function functionOf(g: Grammar, node: Node, start: number, code: string, nextId: () => number): FunctionRec | null {
  const decl = g.declarator < 0 ? null : node.childForFieldId(g.declarator);
  const body = g.body < 0 ? null : node.childForFieldId(g.body);
  if (!decl || !body || g.types[body.typeId] !== 'compound_statement') return null;
  const declStart = decl.startIndex;
  const fname = functionName(code.slice(declStart, decl.endIndex), declStart);
  if (!fname) return null;
  return { kind: 'function', id: nextId(), start, end: node.endIndex, parent: null, fn: null, inError: false,
    name: fname.name, nameSpan: fname.span, body: { start: body.startIndex, end: body.endIndex } };
}

/**
 * The builder of records for one tree: `build(kind, start, node)` gives the record of a node of a
 * RECORD_KINDS type (syntax.ts) starting at `start`, or null when the node lacks a part it needs.
 */
export function recordBuilder(tree: Tree, code: string, masked: string, loopMacros: Map<number, string>,
                              nextId: () => number): (kind: string, start: number, node: Node) => Rec | null {
  const g = grammar(tree);
  return (kind, start, node) => {
    switch (kind) {
      case 'function':
        return functionOf(g, node, start, code, nextId);
      case 'declaration': case 'field': case 'param': {
        const type = g.type < 0 ? null : node.childForFieldId(g.type);
        if (!type) return null;
        const typeEnd = type.endIndex;
        const raw = code.slice(start, typeEnd);
        const typeText = SPACES.test(raw) ? raw.replace(/\s+/g, ' ').trim() : raw.trim();
        return new DeclRecord(nextId(), start, node.endIndex, kind === 'declaration' ? 'var' : kind === 'field' ? 'field' : 'param',
          typeText, typeEnd, code);
      }
    }
    return plainRecord(kind, start, node.endIndex, code, masked, loopMacros, nextId);
  };
}

/** The offset of the `(` of a call's argument list: its last parenthesised group (-1 without one). */
function argumentsOpen(masked: string, start: number, end: number): number {
  let close = end;
  while (close > start && isSpace(masked.charCodeAt(close - 1))) close--;
  if (masked.charCodeAt(close - 1) === 41) {
    let depth = 0;
    for (let i = close - 1; i >= start; i--) {
      const c = masked.charCodeAt(i);
      if (c === 41 || c === 93 || c === 125) depth++;
      else if ((c === 40 || c === 91 || c === 123) && --depth === 0) return i;
    }
  }
  const open = masked.indexOf('(', start);                    // no closing parenthesis (MISSING)
  return open < end ? open : -1;
}

/** Index just past the bracket matching the one at `open` (forward), or `limit` when unbalanced. */
function forwardMatch(masked: string, open: number, limit: number): number {
  let depth = 0;
  for (let i = open; i < limit; i++) {
    const c = masked.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if ((c === 41 || c === 93 || c === 125) && --depth === 0) return i + 1;
  }
  return limit;
}

/** Where the rest after the first parenthesised group from `from` begins: `if (cond) then`, `for (...) body`. */
function afterHead(masked: string, from: number, end: number): number {
  const open = masked.indexOf('(', from);
  return open < 0 || open >= end ? -1 : forwardMatch(masked, open, end);
}

/** [start, end) without the spaces around it, as a span. */
function trimmedSpan(code: string, start: number, end: number): Span {
  while (start < end && isSpace(code.charCodeAt(start))) start++;
  while (end > start && isSpace(code.charCodeAt(end - 1))) end--;
  return { start, end };
}

const ASSIGN_OPS = ['<<=', '>>=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '='];

/** A record read from its span and the text alone. */
function plainRecord(kind: string, start: number, end: number, code: string, masked: string,
                     loopMacros: Map<number, string>, nextId: () => number): Rec | null {
  switch (kind) {
    case 'call': {
      const open = argumentsOpen(masked, start, end);
      let s = start;
      let e = open < 0 ? end : open;
      while (s < e && isSpace(code.charCodeAt(s))) s++;
      while (e > s && isSpace(code.charCodeAt(e - 1))) e--;
      const name = code.slice(s, e);
      return new CallRecord(nextId(), start, end, name, IDENT.test(name), s, code, open);
    }
    case 'if': {
      const close = afterHead(masked, start + 2, end);
      return { kind: 'if', id: nextId(), start, end, parent: null, fn: null, inError: false,
        cond: close < 0 ? piece(code, start + 2, start + 2) : piece(code, masked.indexOf('(', start + 2), close),
        then: trimmedSpan(code, close < 0 ? start + 2 : close, end), elseSpan: null };
    }
    case 'else':
      return { kind: 'else', id: nextId(), start, end, parent: null, fn: null, inError: false };
    case 'for': case 'while': case 'do': {
      let body: Span;
      let header: Piece;
      if (kind === 'do') {
        const b = doBody(code, masked, start, end);
        body = { start: b.start, end: b.end };
        header = piece(code, body.end, end);
      } else {
        const close = afterHead(masked, start, end);
        body = trimmedSpan(code, close < 0 ? start : close, end);
        header = piece(code, start, body.start);
      }
      return { kind: 'loop', id: nextId(), start, end, parent: null, fn: null, inError: false,
        loop: kind, body, header, macro: loopMacros.get(start) ?? null };
    }
    case 'return':
      return { kind: 'return', id: nextId(), start, end, parent: null, fn: null, inError: false,
        value: trimStatement(code.slice(start + 6, end)) };
    case 'goto':
      return { kind: 'goto', id: nextId(), start, end, parent: null, fn: null, inError: false,
        label: trimStatement(code.slice(start + 4, end)) };
    case 'break':
      return { kind: 'break', id: nextId(), start, end, parent: null, fn: null, inError: false };
    case 'labeled':
      return { kind: 'label', id: nextId(), start, end, parent: null, fn: null, inError: false,
        name: /^[A-Za-z_]\w*/.exec(code.slice(start, end))?.[0] ?? '' };
    case 'assign':
      return assignRecord(nextId(), start, end, code, masked);
    case 'update': {
      const lead = end - start >= 2 && (code.startsWith('++', start) || code.startsWith('--', start)) ? 2 : 0;
      const tail = !lead && end - start >= 2 && (code.startsWith('++', end - 2) || code.startsWith('--', end - 2)) ? 2 : 0;
      return { kind: 'update', id: nextId(), start, end, parent: null, fn: null, inError: false,
        arg: piece(code, start + lead, end - tail) };
    }
  }
  return null;
}

/** `left op right` for an assignment expression: the first `=` outside brackets that is not a comparison. */
function assignRecord(id: number, start: number, end: number, code: string, masked: string): Rec {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = masked.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 61 && depth === 0 && masked.charCodeAt(i + 1) !== 61) {
      const prev = masked.charCodeAt(i - 1);
      if (prev === 33 || prev === 61) continue;                                      // != ==
      if ((prev === 60 || prev === 62) && masked.charCodeAt(i - 2) !== prev) continue; // <= >= are comparisons
      let op = '=';
      for (let k = 0; k < ASSIGN_OPS.length; k++) {
        if (masked.startsWith(ASSIGN_OPS[k], i - ASSIGN_OPS[k].length + 1)) { op = ASSIGN_OPS[k]; break; }
      }
      return { kind: 'assign', id, start, end, parent: null, fn: null, inError: false,
        left: piece(code, start, i - op.length + 1), op, right: piece(code, i + 1, end) };
    }
  }
  return { kind: 'assign', id, start, end, parent: null, fn: null, inError: false,
    left: piece(code, start, end), op: '=', right: piece(code, end, end) };
}
