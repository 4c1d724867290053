// C text nested deeper than LIMITS.cNestingDepth is not analysed: tree-sitter's wasm code recurses, and about
// 2500 nested initialiser lists (while parsing) or a syntax tree some 700 levels deep (when it is walked or
// printed) overrun its heap ("memory access out of bounds"); every later parse in the process then fails
// too. Such a file gets one parse problem where it went too deep instead of an analysis.
import type { Tree } from 'web-tree-sitter';
import { LIMITS, LIMITS_DOC, cNestingTooDeep } from '../limits';
import { LineIndex } from './text';
import type { Analysis } from './types';

/** Before parsing: brackets nested too deep. An analysis holding only the reason, or null. */
export function bracketsTooDeep(fileName: string, text: string): Analysis | null {
  const at = cNestingTooDeep(text);
  return at < 0 ? null : notAnalysed(fileName, text, at, `brackets nested more than ${LIMITS.cNestingDepth} levels deep`);
}

/** After parsing: a syntax tree deeper than the limit (error recovery on garbage builds such trees). */
export function treeTooDeep(fileName: string, text: string, tree: Tree): Analysis | null {
  const c = tree.walk();
  let depth = 0;
  try {
    for (;;) {
      if (c.gotoFirstChild()) {
        if (++depth > LIMITS.cNestingDepth) {
          return notAnalysed(fileName, text, c.startIndex, `a syntax tree more than ${LIMITS.cNestingDepth} levels deep`);
        }
        continue;
      }
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent()) return null;
        depth--;
      }
    }
  } finally {
    c.delete();
  }
}

function notAnalysed(fileName: string, text: string, at: number, what: string): Analysis {
  const lines = new LineIndex(text);
  const start = lines.position(at);
  return {
    file: fileName, lineCount: lines.lineCount, functions: [], calls: [], findings: [], parseProblemsOmitted: 0,
    parseProblems: [{
      kind: 'error', line: start.line, col: start.col, range: { start, end: lines.position(at + 1) },
      message: `${what}: the file is not analysed (simulator limit cNestingDepth; see ${LIMITS_DOC})`,
    }],
  };
}
