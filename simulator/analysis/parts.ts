// The parts of a node (a call's callee and arguments, an if's condition and branch, an assignment's
// sides, a declaration's declarators) read from the text inside the node's span. The span comes from
// tree-sitter; reading the parts from the text instead of capturing each child node halves the nodes the
// query hands to JavaScript, which is where most of the analysis time went. `masked` is the code with
// comments and literals blanked, so brackets inside them never count.
import { splitTopLevel, type Piece } from './text';

export interface Span { start: number; end: number }

export interface Declarator { name: string; nameSpan: Span; pointer: boolean; array: boolean; func: boolean; init: Piece | null }

export function piece(code: string, start: number, end: number): Piece {
  while (start < end && isSpace(code.charCodeAt(start))) start++;
  while (end > start && isSpace(code.charCodeAt(end - 1))) end--;
  return { text: code.slice(start, end), start, end };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 92;   // \ continues a line
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

/**
 * `callee(args)`: the argument list is the last parenthesised group of the call. `open` is the offset of its
 * `(` (-1 without one); the arguments are `splitArguments(code.slice(open, end), open)`.
 */
export function callParts(code: string, masked: string, start: number, end: number): { callee: Piece; open: number } {
  let open = -1;
  let close = end;
  while (close > start && isSpace(masked.charCodeAt(close - 1))) close--;
  if (masked.charCodeAt(close - 1) === 41) {
    let depth = 0;
    for (let i = close - 1; i >= start; i--) {
      const c = masked.charCodeAt(i);
      if (c === 41 || c === 93 || c === 125) depth++;
      else if ((c === 40 || c === 91 || c === 123) && --depth === 0) { open = i; break; }
    }
  }
  if (open < 0) open = masked.indexOf('(', start);                 // no closing parenthesis (MISSING)
  if (open < 0 || open >= end) return { callee: piece(code, start, end), open: -1 };
  return { callee: piece(code, start, open), open };
}

/** `if (cond) then`, `while (cond) body`, `for (...) body`, `switch`: the first parenthesised group and the rest. */
export function headedParts(code: string, masked: string, start: number, end: number): { head: Piece; rest: Piece } {
  const open = masked.indexOf('(', start);
  if (open < 0 || open >= end) return { head: piece(code, start, start), rest: piece(code, start, end) };
  const close = forwardMatch(masked, open, end);
  return { head: piece(code, open, close), rest: piece(code, close, end) };
}

/** `do body while (cond);`: the body ends at the `while` before the final parenthesised group. */
export function doBody(code: string, masked: string, start: number, end: number): Piece {
  const w = masked.lastIndexOf('while', end);
  return piece(code, start + 2, w > start ? w : end);
}

const ASSIGN_OPS = ['<<=', '>>=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '='];

/** `left op right` for an assignment expression. */
export function assignParts(code: string, masked: string, start: number, end: number): { left: Piece; op: string; right: Piece } {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = masked.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 61 && depth === 0 && masked.charCodeAt(i + 1) !== 61) {
      const prev = masked[i - 1];
      if (prev === '!' || (prev === '=' )) continue;
      if ((prev === '<' || prev === '>') && masked[i - 2] !== prev) continue;      // <= >= are comparisons
      const op = ASSIGN_OPS.find(o => masked.startsWith(o, i - o.length + 1)) ?? '=';
      const opStart = i - op.length + 1;
      return { left: piece(code, start, opStart), op, right: piece(code, i + 1, end) };
    }
  }
  return { left: piece(code, start, end), op: '=', right: piece(code, end, end) };
}

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', 'struct', 'union', 'enum']);

/** Parse `*a = x, b[4], (*fn)(int)` (the part of a declaration after its type). */
export function parseDeclarators(text: string, base: number): Declarator[] {
  const out: Declarator[] = [];
  const trimmed = text.trimEnd();
  const body = trimmed.endsWith(';') ? trimmed.slice(0, -1) : trimmed;
  for (const p of splitTopLevel(body, base)) {
    let declText = p.text;
    let init: Piece | null = null;
    const eq = topLevelAssign(declText);
    if (eq >= 0) {
      const raw = declText.slice(eq + 1);
      const lead = raw.length - raw.trimStart().length;
      const value = raw.trim();
      init = { text: value, start: p.start + eq + 1 + lead, end: p.start + eq + 1 + lead + value.length };
      declText = declText.slice(0, eq);
    }
    const re = /[A-Za-z_]\w*/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(declText)) && QUALIFIERS.has(m[0])) { /* skip qualifiers */ }
    if (!m) continue;
    const before = declText.slice(0, m.index);
    const after = declText.slice(m.index + m[0].length).trimStart();
    out.push({
      name: m[0],
      nameSpan: { start: p.start + m.index, end: p.start + m.index + m[0].length },
      pointer: before.includes('*'),
      array: after.startsWith('['),
      func: after.startsWith('(') && !before.includes('('),
      init,
    });
  }
  return out;
}

function topLevelAssign(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === '=' && depth === 0 && text[i + 1] !== '=' && !'!<>='.includes(text[i - 1] ?? '')) return i;
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
