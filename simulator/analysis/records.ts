// Builds one record from one syntax node. Calls and declarations are the most numerous records and most of
// them are never looked at closely (mutex_lock(), `int i;`): their argument list and declarators are split
// from the text only when a check first reads them.
import type { Node } from 'web-tree-sitter';
import {
  assignParts, callParts, doBody, functionName, headedParts, parseDeclarators, piece, trimStatement, type Declarator, type Span,
} from './parts';
import type { CallRec, DeclRec, FunctionRec, Rec } from './syntax';
import { splitArguments, type Piece } from './text';

const IDENT = /^[A-Za-z_]\w*$/;
const SPACES = /[^\S ]|\s{2}/;

/** A call; `args` are read from `code` between `open` (its argument list) and `end` on first use. */
export class CallRecord implements CallRec {
  readonly kind = 'call' as const;
  parent: Rec | null = null;
  fn: FunctionRec | null = null;
  inError = false;
  intact = true;
  private parsed: Piece[] | null = null;

  constructor(readonly id: number, readonly start: number, readonly end: number, readonly name: string, readonly direct: boolean,
              readonly nameSpan: Piece, private readonly code: string, private readonly open: number) {}

  get args(): Piece[] {
    return this.parsed ??= this.open < 0 ? [] : splitArguments(this.code.slice(this.open, this.end), this.open);
  }

  /** The same call `delta` characters further in `code` (a text with the same call there). */
  moved(delta: number, id: number, code: string): CallRecord {
    const n = this.nameSpan;
    return new CallRecord(id, this.start + delta, this.end + delta, this.name, this.direct,
      { text: n.text, start: n.start + delta, end: n.end + delta }, code, this.open < 0 ? -1 : this.open + delta);
  }
}

/** A declaration; `declarators` are parsed from `code` after the type on first use. */
export class DeclRecord implements DeclRec {
  readonly kind = 'decl' as const;
  parent: Rec | null = null;
  fn: FunctionRec | null = null;
  inError = false;
  private parsed: Declarator[] | null = null;

  constructor(readonly id: number, readonly start: number, readonly end: number, readonly decl: DeclRec['decl'],
              readonly typeText: string, readonly typeSpan: Span, private readonly code: string) {}

  get declarators(): Declarator[] {
    return this.parsed ??= parseDeclarators(this.code.slice(this.typeSpan.end, this.end), this.typeSpan.end);
  }

  moved(delta: number, id: number, code: string): DeclRecord {
    return new DeclRecord(id, this.start + delta, this.end + delta, this.decl, this.typeText,
      { start: this.typeSpan.start + delta, end: this.typeSpan.end + delta }, code);
  }
}

/** The function record of a function_definition node, or null without a name or a compound body. */
export function functionRecord(node: Node, code: string, id: number): FunctionRec | null {
  const decl = node.childForFieldName('declarator');
  const body = node.childForFieldName('body');
  if (!decl || !body || body.type !== 'compound_statement') return null;
  const fname = functionName(code.slice(decl.startIndex, decl.endIndex), decl.startIndex);
  if (!fname) return null;
  return { kind: 'function', id, start: node.startIndex, end: node.endIndex, parent: null, fn: null, inError: false,
    name: fname.name, nameSpan: fname.span, body: { start: body.startIndex, end: body.endIndex } };
}

/** The record of one node of a RECORD_KINDS type (syntax.ts), or null when the node lacks a part it needs. */
export function record(kind: string, start: number, end: number, node: Node, code: string, masked: string,
                       loopMacros: Map<number, string>, nextId: () => number): Rec | null {
  switch (kind) {
    case 'function':
      return functionRecord(node, code, nextId());
    case 'declaration': case 'field': case 'param': {
      const type = node.childForFieldName('type');
      if (!type) return null;
      const typeEnd = type.endIndex;
      const raw = code.slice(start, typeEnd);
      const typeText = SPACES.test(raw) ? raw.replace(/\s+/g, ' ').trim() : raw.trim();
      return new DeclRecord(nextId(), start, end, kind === 'declaration' ? 'var' : kind === 'field' ? 'field' : 'param',
        typeText, { start, end: typeEnd }, code);
    }
    case 'call': {
      const { callee, open } = callParts(code, masked, start, end);
      return new CallRecord(nextId(), start, end, callee.text, IDENT.test(callee.text), callee, code, open);
    }
    case 'if': {
      const { head, rest } = headedParts(code, masked, start + 2, end);
      return { kind: 'if', id: nextId(), start, end, parent: null, fn: null, inError: false,
        cond: head, then: { start: rest.start, end: rest.end }, elseSpan: null };
    }
    case 'else':
      return { kind: 'else', id: nextId(), start, end, parent: null, fn: null, inError: false };
    case 'for': case 'while': case 'do': {
      let body: Piece;
      let header: Piece;
      if (kind === 'do') {
        body = doBody(code, masked, start, end);
        header = piece(code, body.end, end);
      } else {
        body = headedParts(code, masked, start, end).rest;
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
    case 'assign': {
      const { left, op, right } = assignParts(code, masked, start, end);
      return { kind: 'assign', id: nextId(), start, end, parent: null, fn: null, inError: false, left, right, op };
    }
    case 'update': {
      const text = code.slice(start, end);
      const lead = text.startsWith('++') || text.startsWith('--') ? 2 : 0;
      const tail = !lead && (text.endsWith('++') || text.endsWith('--')) ? 2 : 0;
      return { kind: 'update', id: nextId(), start, end, parent: null, fn: null, inError: false,
        arg: piece(code, start + lead, end - tail) };
    }
    case 'error':
      return { kind: 'error', id: nextId(), start, end, parent: null, fn: null, inError: false,
        missing: false, what: code.slice(start, Math.min(end, start + 40)) };
  }
  return null;
}
