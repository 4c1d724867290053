// Copies of records moved by `delta` characters, for units whose text did not change but moved (an edit
// above them). Written out per kind: this runs for every reused record on every keystroke, and literal
// objects are several times faster than a generic deep copy. The copy is unlinked (no parent, no function,
// not in an error region, calls intact, no else branch yet): link() sets those again. Calls and
// declarations read their lazy parts from `code`, the text the copy now belongs to.
import type { CallRecord, DeclRecord } from './records';
import type { Piece } from './text';
import type { Rec, Span } from './syntax';

const span = (s: Span, d: number): Span => ({ start: s.start + d, end: s.end + d });
const pieceAt = (p: Piece, d: number): Piece => ({ text: p.text, start: p.start + d, end: p.end + d });

export function cloneRecord(r: Rec, d: number, id: number, code: string): Rec {
  const start = r.start + d;
  const end = r.end + d;
  switch (r.kind) {
    case 'function':
      return { kind: 'function', id, start, end, parent: null, fn: null, inError: false, name: r.name,
        nameSpan: span(r.nameSpan, d), body: span(r.body, d) };
    case 'call':
      return (r as CallRecord).moved(d, id, code);
    case 'if':
      // link() cut `then` at the else branch; the cut is idempotent, so the moved span is reused as is
      return { kind: 'if', id, start, end, parent: null, fn: null, inError: false, cond: pieceAt(r.cond, d),
        then: span(r.then, d), elseSpan: null };
    case 'else':
      return { kind: 'else', id, start, end, parent: null, fn: null, inError: false };
    case 'loop':
      return { kind: 'loop', id, start, end, parent: null, fn: null, inError: false, loop: r.loop,
        body: span(r.body, d), header: pieceAt(r.header, d), macro: r.macro };
    case 'return':
      return { kind: 'return', id, start, end, parent: null, fn: null, inError: false, value: r.value };
    case 'goto':
      return { kind: 'goto', id, start, end, parent: null, fn: null, inError: false, label: r.label };
    case 'break':
      return { kind: 'break', id, start, end, parent: null, fn: null, inError: false };
    case 'label':
      return { kind: 'label', id, start, end, parent: null, fn: null, inError: false, name: r.name };
    case 'decl':
      return (r as DeclRecord).moved(d, id, code);
    case 'assign':
      return { kind: 'assign', id, start, end, parent: null, fn: null, inError: false, left: pieceAt(r.left, d), op: r.op,
        right: pieceAt(r.right, d) };
    case 'update':
      return { kind: 'update', id, start, end, parent: null, fn: null, inError: false, arg: pieceAt(r.arg, d) };
    case 'error':
      return { kind: 'error', id, start, end, parent: null, fn: null, inError: false, missing: r.missing, what: r.what };
    case 'mmconst':
      return { kind: 'mmconst', id, start, end, parent: null, fn: null, inError: false, name: r.name, expr: span(r.expr, d),
        operand: r.operand && pieceAt(r.operand, d) };
  }
}
