// Small text helpers shared by the collector and the checks: offsets to 1-based positions, splitting
// argument lists and declarator lists at top-level commas, and name heuristics.
import type { SourcePosition, SourceRange } from './types';

export class LineIndex {
  /** offset of the first character of each line (a typed array: no growth, and nothing for the collector to trace) */
  private readonly starts: Uint32Array;

  constructor(readonly text: string) {
    let lines = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    this.starts = new Uint32Array(lines);
    let line = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts[line++] = i + 1;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(index: number): SourcePosition {
    const at = Math.max(0, Math.min(index, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= at) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: at - this.starts[lo] + 1, index: at };
  }

  range(start: number, end: number): SourceRange {
    return { start: this.position(start), end: this.position(end) };
  }

  lineText(line: number): string {
    const s = this.starts[line - 1] ?? this.text.length;
    const e = this.starts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1);
  }
}

export interface Piece { text: string; start: number; end: number }

/**
 * Whether String.prototype.trim() removes the character code `c`: ECMAScript white space and line
 * terminators (the pieces below are trimmed by offsets, without making the untrimmed strings first).
 */
export function isTrimSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f
    || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * The parts of `code` between `start` and `end` separated by commas outside brackets, strings and comments
 * (a string or comment is never read past `end`), trimmed as String.prototype.trim() would, empty ones left
 * out: as offsets, [start0, end0, start1, end1, ...], appended to `spans`.
 */
export function topLevelSpans(code: string, start: number, end: number, spans: number[] = []): number[] {
  let depth = 0;
  let from = start;
  for (let i = start; i < end; i++) {
    const c = code.charCodeAt(i);
    if (c === 34 || c === 39) {                                          // " '
      for (i++; i < end; i++) {
        const d = code.charCodeAt(i);
        if (d === c || d === 10) break;
        if (d === 92) i++;                                               // \ escapes the next character
      }
    } else if (c === 47 && i + 1 < end && code.charCodeAt(i + 1) === 42) {   // /*
      const close = code.indexOf('*/', i + 2);
      i = close < 0 || close + 2 > end ? end : close + 1;
    } else if (c === 47 && i + 1 < end && code.charCodeAt(i + 1) === 47) {   // //
      const nl = code.indexOf('\n', i);
      i = nl < 0 || nl >= end ? end : nl;
    } else if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) {
      pushTrimmed(code, spans, from, i);
      from = i + 1;
    }
  }
  pushTrimmed(code, spans, from, end);
  return spans;
}

function pushTrimmed(code: string, spans: number[], start: number, end: number): void {
  while (start < end && isTrimSpace(code.charCodeAt(start))) start++;
  while (end > start && isTrimSpace(code.charCodeAt(end - 1))) end--;
  if (start < end) spans.push(start, end);
}

/** topLevelSpans as trimmed pieces; their offsets are those in `code` plus `shift`. */
export function splitTopLevelIn(code: string, start: number, end: number, shift = 0): Piece[] {
  const spans = topLevelSpans(code, start, end);
  const pieces: Piece[] = [];
  for (let k = 0; k < spans.length; k += 2) {
    pieces.push({ text: code.slice(spans[k], spans[k + 1]), start: spans[k] + shift, end: spans[k + 1] + shift });
  }
  return pieces;
}

/** The arguments of the argument list `( ... )` that starts at `open` in `code` and ends before `end`. */
export function argumentsIn(code: string, open: number, end: number): Piece[] {
  const at = code.indexOf('(', open);
  if (at < 0 || at >= end) return [];
  const close = code.lastIndexOf(')', end - 1);
  return splitTopLevelIn(code, at + 1, close > at ? close : end);
}

/** Remove spaces, `&` and redundant parentheses: `&apu->iovad` and `&(apu->iovad)` compare equal. */
const PLAIN_NAME = /^[A-Za-z_]\w*$/;

const NEEDS_NORMALIZING = /\s|^[&(]/;

export function normalizeExpr(text: string): string {
  if (!NEEDS_NORMALIZING.test(text)) return text;
  return text.replace(/\s+/g, '').replace(/^&/, '').replace(/^\((.*)\)$/, '$1').replace(/^&/, '');
}

/** The last member name of an access path, or the variable: `&job->apu->domain` → `domain`. */
const LAST_MEMBER = /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?$/;

export function lastMember(text: string): string {
  if (PLAIN_NAME.test(text)) return text;
  const n = normalizeExpr(text);
  const m = LAST_MEMBER.exec(n);
  return m ? m[1] : n;
}

/** The root variable of an access path: `job->apu->domain` → `job`, `sgl[i].length` → `sgl`. */
export function rootIdentifier(text: string): string | null {
  const m = /^[\s(&*]*([A-Za-z_]\w*)/.exec(text);
  return m ? m[1] : null;
}

const IDENT_RE = /[A-Za-z_]\w*/g;
export function identifiers(text: string): string[] {
  return text.match(IDENT_RE) ?? [];
}

function nameTokens(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/_+/).filter(Boolean);
}

/** tokens that make an iova-looking name a count, size or shift rather than an address */
const NOT_AN_ADDRESS = new Set(['count', 'cnt', 'refcount', 'len', 'length', 'size', 'sz', 'shift', 'order',
  'flags', 'nr', 'num', 'idx', 'index', 'bits', 'granule', 'id', 'mask', 'lock', 'domain', 'iovad']);

const iovaNames = new Map<string, boolean>();

/** Names that hold an IOVA, an IOVA pfn or a DMA address: iova, iova_pfn, dma_addr, daddr, dma_handle ... */
export function isIovaName(name: string): boolean {
  let is = iovaNames.get(name);
  if (is === undefined) {
    is = iovaName(name);
    if (iovaNames.size < 8192) iovaNames.set(name, is);      // the same names come back in every function
  }
  return is;
}

function iovaName(name: string): boolean {
  const t = nameTokens(name);
  if (t.some(x => NOT_AN_ADDRESS.has(x))) return false;
  if (t.some(x => x === 'iova' || x === 'iovas' || x === 'daddr' || x === 'dmaaddr')) return true;
  const d = t.indexOf('dma');
  return d >= 0 && t.slice(d + 1).some(x => x === 'addr' || x === 'address' || x === 'handle');
}

export function isPfnName(name: string): boolean {
  return nameTokens(name).includes('pfn');
}
