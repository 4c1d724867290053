// Kernel C is full of macros that a C grammar cannot know. Before parsing, a few well-known ones are
// neutralised *without changing the length of the text*, so every offset, line and column in the tree
// is still an offset, line and column of the user's file:
//   - annotations that expand to nothing or to an attribute (__user, __iomem, __must_check, __init,
//     __aligned(8), __free(kfree) ...) become spaces;
//   - loop macros used as statements (list_for_each_entry(...) { }, for_each_sg(...) stmt;) become
//     `while` followed by spaces, so `while (a, b, c) { }` parses as the loop it is;
//   - a type passed as a macro argument (container_of(p, struct foo, member)) loses its `struct`
//     keyword, so the argument parses as an identifier.
// Anything else is left to tree-sitter, whose ERROR/MISSING regions are reported, not guessed at.

import { LIMITS } from '../limits';

export interface Rewrite {
  start: number;
  end: number;
  kind: 'blank' | 'loop' | 'type-arg';
  /** the original macro name, for loops */
  macro?: string;
}

export interface Preprocessed {
  text: string;
  rewrites: Rewrite[];
  /** `text` with comments and string/char literals blanked (same offsets) */
  masked: string;
  /** offset of the first bracket nested deeper than LIMITS.cNestingDepth, -1 when there is none */
  tooDeepAt: number;
}

const BARE_ANNOTATIONS = [
  '__user', '__iomem', '__force', '__rcu', '__percpu', '__bitwise', '__nocast', '__safe', '__private',
  '__kernel', '__must_check', '__init', '__exit', '__initdata', '__initconst', '__exitdata', '__meminit',
  '__refdata', '__ref', '__devinit', '__read_mostly', '__ro_after_init', '__always_inline', '__maybe_unused',
  '__always_unused', '__cold', '__hot', '__pure', '__weak', '__packed', '__noreturn', '__used', '__visible',
  'noinline', 'notrace', 'noinstr', '__noinstr', 'asmlinkage', '__sched', '__latent_entropy',
  '__randomize_layout', '__no_randomize_layout', '__cacheline_aligned', '__cacheline_aligned_in_smp',
  '____cacheline_aligned', '____cacheline_aligned_in_smp', '__deprecated', '__flatten', '__noclone',
  '__nocfi',
];
const ANNOTATIONS_WITH_ARGS = [
  '__aligned', '__free', '__counted_by', '__printf', '__scanf', '__section', '__acquires', '__releases',
  '__must_hold', '__cond_acquires', '__guarded_by', '__pt_guarded_by', '__alloc_size', '__assume_aligned',
  '__diagnose_as', '__no_sanitize_or_inline',
];

const BARE_RE = new RegExp(`\\b(?:${BARE_ANNOTATIONS.join('|')})\\b(?!\\s*\\()`, 'g');
const WITH_ARGS_RE = new RegExp(`\\b(?:${ANNOTATIONS_WITH_ARGS.join('|')})\\s*\\(`, 'g');
// `\w*for_each\w*` as a regex backtracks at every word of the file; find the fixed part and widen by hand.
const LOOP_CORE_RE = /for_each|scoped_guard|scoped_cond_guard/g;
const TYPE_ARG_RE = /([(,]\s*)(struct|union|enum)(\s+[A-Za-z_]\w*\s*)(?=[,)])/g;
/** how far a macro's argument list is searched for its closing parenthesis */
const MAX_PAREN_SCAN = 20000;

/**
 * The text with comments and string/char literals turned into spaces (newlines kept). A literal ends at its
 * closing quote or before the end of its line (a backslash escapes the next character, a newline too); a
 * block comment that is never closed runs to the end of the text. One pass over the character codes: the
 * text between the blanked parts is copied by slices.
 */
export function maskNoise(text: string): string {
  return maskAndMeasure(text, Infinity).masked;
}

/**
 * maskNoise, and in the same pass the offset of the first bracket ({, ( or [) of the code nested deeper than
 * `maxDepth` (-1 when there is none): what limits.ts cNestingTooDeep finds, which skips comments and literals
 * the same way (a test holds the two together).
 */
export function maskAndMeasure(text: string, maxDepth: number): { masked: string; tooDeepAt: number } {
  const out: string[] = [];
  const n = text.length;
  let copied = 0;
  let depth = 0;
  let tooDeepAt = -1;
  for (let i = 0; i < n;) {
    const c = text.charCodeAt(i);
    let end: number;
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      end = text.indexOf('\n', i + 2);
      if (end < 0) end = n;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      end = text.indexOf('*/', i + 2);
      end = end < 0 ? n : end + 2;
    } else if (c === 34 /* " */ || c === 39 /* ' */) {
      end = i + 1;
      for (;;) {
        const d = text.charCodeAt(end);
        if (d === 92 /* \ */ && end + 1 < n) end += 2;
        else if (end >= n || d === c || d === 10 || d === 92) break;
        else end++;
      }
      if (end < n && text.charCodeAt(end) === c) end++;
    } else {
      if (c === 123 || c === 40 || c === 91) {
        if (++depth > maxDepth && tooDeepAt < 0) tooDeepAt = i;
      } else if ((c === 125 || c === 41 || c === 93) && depth > 0) depth--;
      i++;
      continue;
    }
    if (i > copied) out.push(text.slice(copied, i));
    blankInto(out, text, i, end);
    copied = i = end;
  }
  if (!out.length) return { masked: text, tooDeepAt };
  if (copied < n) out.push(text.slice(copied));
  return { masked: out.join(''), tooDeepAt };
}

let spaces = ' '.repeat(256);

/** Spaces for text[start, end), keeping its newlines. */
function blankInto(out: string[], text: string, start: number, end: number): void {
  for (let at = start; at < end;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0 || nl > end) nl = end;
    if (nl > at) {
      const len = nl - at;
      while (spaces.length < len) spaces += spaces;
      out.push(spaces.slice(0, len));
    }
    if (nl < end) out.push('\n');
    at = nl + 1;
  }
}

/** Index just past the parenthesis matching the one at `open`, or -1. */
export function matchParen(masked: string, open: number): number {
  let depth = 0;
  const limit = Math.min(masked.length, open + MAX_PAREN_SCAN);
  for (let i = open; i < limit; i++) {
    const c = masked.charCodeAt(i);
    if (c === 40) depth++;                       // (
    else if (c === 41 && --depth === 0) return i + 1;   // )
  }
  return -1;
}

function nextCodeChar(masked: string, from: number): string {
  for (let i = from; i < masked.length; i++) {
    const c = masked[i];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '\\') return c;
  }
  return '';
}

/** Whether a statement can start at `at`: after ; { } ) : else do, a directive line, or the file start. */
function atStatementStart(masked: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(masked[i])) i--;
  if (i < 0) return true;
  const c = masked[i];
  if (';{}):'.includes(c)) return true;
  if (/\w/.test(c)) {
    let j = i;
    while (j >= 0 && /\w/.test(masked[j])) j--;
    const word = masked.slice(j + 1, i + 1);
    if (word === 'else' || word === 'do') return true;
    const lineStart = masked.lastIndexOf('\n', j) + 1;
    return masked.slice(lineStart, j + 1).trimStart().startsWith('#');
  }
  return false;
}

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Identifiers containing for_each (or scoped_guard) followed by `(`: name, start, and the `(` offset. */
function* loopMacroCalls(masked: string): Generator<{ name: string; index: number; open: number }> {
  let lastEnd = -1;
  for (const m of masked.matchAll(LOOP_CORE_RE)) {
    let start = m.index;
    let end = m.index + m[0].length;
    if (start < lastEnd) continue;
    while (start > 0 && isWordChar(masked.charCodeAt(start - 1))) start--;
    while (end < masked.length && isWordChar(masked.charCodeAt(end))) end++;
    lastEnd = end;
    let open = end;
    while (open < masked.length && /\s/.test(masked[open])) open++;
    if (masked[open] === '(') yield { name: masked.slice(start, end), index: start, open };
  }
}

export function preprocessKernelC(text: string): Preprocessed {
  const { masked, tooDeepAt } = maskAndMeasure(text, LIMITS.cNestingDepth);
  const rewrites: Rewrite[] = [];

  for (const m of masked.matchAll(BARE_RE)) {
    rewrites.push({ start: m.index, end: m.index + m[0].length, kind: 'blank' });
  }
  for (const m of masked.matchAll(WITH_ARGS_RE)) {
    const close = matchParen(masked, m.index + m[0].length - 1);
    if (close > 0) rewrites.push({ start: m.index, end: close, kind: 'blank' });
  }
  for (const m of loopMacroCalls(masked)) {
    const name = m.name;
    const close = matchParen(masked, m.open);
    if (close < 0 || name.length < 5) continue;
    const after = nextCodeChar(masked, close);
    if (!(after === '{' || /[A-Za-z_*(]/.test(after))) continue;   // a plain call: `f(...);`
    if (!atStatementStart(masked, m.index)) continue;
    rewrites.push({ start: m.index, end: m.index + name.length, kind: 'loop', macro: name });
  }
  for (const m of masked.matchAll(TYPE_ARG_RE)) {
    const close = m.index + m[0].length;
    if (masked[close] === ')' && nextCodeChar(masked, close + 1) === '{') continue;   // (struct foo){ ... }
    const start = m.index + m[1].length;
    rewrites.push({ start, end: start + m[2].length, kind: 'type-arg' });
  }

  rewrites.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Rewrite[] = [];
  const out: string[] = [];
  const outMasked: string[] = [];
  let pos = 0;
  for (const r of rewrites) {
    if (r.start < pos) continue;                 // inside an earlier rewrite (e.g. __aligned(sizeof(struct x)))
    kept.push(r);
    const blank = text.slice(r.start, r.end).replace(/[^\n]/g, ' ');
    const replacement = r.kind === 'loop' ? 'while' + blank.slice(5) : blank;
    out.push(text.slice(pos, r.start), replacement);
    outMasked.push(masked.slice(pos, r.start), replacement);
    pos = r.end;
  }
  out.push(text.slice(pos));
  outMasked.push(masked.slice(pos));
  return { text: out.join(''), rewrites: kept, masked: outMasked.join(''), tooDeepAt };
}
