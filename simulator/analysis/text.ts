// Small text helpers shared by the collector and the checks: offsets to 1-based positions, splitting
// argument lists and declarator lists at top-level commas, and name heuristics.
import type { SourcePosition, SourceRange } from './types';

export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
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
 * Split `text` (starting at absolute offset `base`) at commas outside brackets, strings and comments.
 * Pieces are trimmed; their offsets are absolute.
 */
export function splitTopLevel(text: string, base: number): Piece[] {
  const pieces: Piece[] = [];
  let depth = 0;
  let from = 0;
  const push = (to: number) => {
    const raw = text.slice(from, to);
    const lead = raw.length - raw.trimStart().length;
    const t = raw.trim();
    if (t) pieces.push({ text: t, start: base + from + lead, end: base + from + lead + t.length });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === '\'') {
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) { push(i); from = i + 1; }
  }
  push(text.length);
  return pieces;
}

/** The arguments of an argument_list node's text `( ... )`, with absolute offsets. */
export function splitArguments(argListText: string, argListStart: number): Piece[] {
  const open = argListText.indexOf('(');
  const close = argListText.lastIndexOf(')');
  if (open < 0) return [];
  const inner = argListText.slice(open + 1, close > open ? close : argListText.length);
  return splitTopLevel(inner, argListStart + open + 1);
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
