// The parts of a node (a do loop's body, a declaration's declarators, a function's name) read from the text
// inside the node's span. The span comes from tree-sitter; reading the parts from the text instead of asking
// for each child node keeps the nodes handed to JavaScript few (records.ts reads the other parts the same
// way). `masked` is the code with comments and literals blanked, so brackets inside them never count.
import { isTrimSpace, topLevelSpans, type Piece } from './text';

export interface Span { start: number; end: number }

export interface Declarator { name: string; nameSpan: Span; pointer: boolean; array: boolean; func: boolean; init: Piece | null }

export function piece(code: string, start: number, end: number): Piece {
  while (start < end && isSpace(code.charCodeAt(start))) start++;
  while (end > start && isSpace(code.charCodeAt(end - 1))) end--;
  return { text: code.slice(start, end), start, end };
}

/** Spaces, tabs, line breaks, form feeds and backslashes (a backslash at a line end continues the line). */
export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 92;
}

/** `do body while (cond);`: the body ends at the `while` before the final parenthesised group. */
export function doBody(code: string, masked: string, start: number, end: number): Piece {
  const w = masked.lastIndexOf('while', end);
  return piece(code, start + 2, w > start ? w : end);
}

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', 'struct', 'union', 'enum']);

/** reused by declaratorsIn, which does not call itself */
const spans: number[] = [];

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);

/**
 * Parse `*a = x, b[4], (*fn)(int)`: the part of a declaration after its type, [start, end) of `code`. Each
 * declarator's name is its first identifier that is not a qualifier; an initializer follows the first `=`
 * outside brackets.
 */
export function declaratorsIn(code: string, start: number, end: number): Declarator[] {
  const out: Declarator[] = [];
  while (end > start && isTrimSpace(code.charCodeAt(end - 1))) end--;
  if (end > start && code.charCodeAt(end - 1) === 59) end--;                 // ;
  spans.length = 0;
  topLevelSpans(code, start, end, spans);
  for (let k = 0; k < spans.length; k += 2) {
    const pieceStart = spans[k];
    const pieceEnd = spans[k + 1];
    let declEnd = pieceEnd;
    let init: Piece | null = null;
    const eq = topLevelAssign(code, pieceStart, pieceEnd);
    if (eq >= 0) {
      let v = eq + 1;
      while (v < pieceEnd && isTrimSpace(code.charCodeAt(v))) v++;
      init = { text: code.slice(v, pieceEnd), start: v, end: pieceEnd };
      declEnd = eq;
    }
    // the first identifier that is not a qualifier
    let nameStart = -1;
    let nameEnd = -1;
    let name = '';
    for (let i = pieceStart; i < declEnd;) {
      if (!isIdentStart(code.charCodeAt(i))) { i++; continue; }
      let j = i + 1;
      while (j < declEnd && isIdentPart(code.charCodeAt(j))) j++;
      const word = code.slice(i, j);
      if (!QUALIFIERS.has(word)) { nameStart = i; nameEnd = j; name = word; break; }
      i = j;
    }
    if (nameStart < 0) continue;
    let pointer = false;
    let paren = false;
    for (let i = pieceStart; i < nameStart; i++) {
      const c = code.charCodeAt(i);
      if (c === 42) pointer = true;
      else if (c === 40) paren = true;
    }
    let after = nameEnd;
    while (after < declEnd && isTrimSpace(code.charCodeAt(after))) after++;
    const next = after < declEnd ? code.charCodeAt(after) : -1;
    out.push({
      name,
      nameSpan: { start: nameStart, end: nameEnd },
      pointer,
      array: next === 91,
      func: next === 40 && !paren,
      init,
    });
  }
  return out;
}

/** The first `=` of [start, end) outside brackets that is not part of `==`, `!=`, `<=`, `>=` (never the first character). */
function topLevelAssign(code: string, start: number, end: number): number {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = code.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 61 && depth === 0 && i > start && (i + 1 >= end || code.charCodeAt(i + 1) !== 61)) {
      const prev = code.charCodeAt(i - 1);
      if (prev !== 33 && prev !== 60 && prev !== 62 && prev !== 61) return i;
    }
  }
  return -1;
}

/** The identifier right before the parameter list: `*apu_get_sgt(struct drm_gem_object *obj)`. */
export function functionName(declText: string, declStart: number): { name: string; span: Span } | null {
  const m = /([A-Za-z_]\w*)\s*\(/.exec(declText);
  if (!m) return null;
  return { name: m[1], span: { start: declStart + m.index, end: declStart + m.index + m[1].length } };
}

export function trimStatement(text: string): string {
  const t = text.trim();
  return t.endsWith(';') ? t.slice(0, -1).trim() : t;
}
