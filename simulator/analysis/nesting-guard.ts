// C text nested deeper than LIMITS.cNestingDepth is not handed to tree-sitter: about 2500 nested initialiser
// lists overrun tree-sitter's wasm heap ("memory access out of bounds"), and every later parse in the same
// process then fails too. Such a file gets one parse problem at the bracket that went too deep instead.
import { LIMITS, LIMITS_DOC, cNestingTooDeep } from '../limits';
import { LineIndex } from './text';
import type { Analysis } from './types';

/** An analysis with nothing in it but the reason, or null when the text may be parsed. */
export function tooDeeplyNested(fileName: string, text: string): Analysis | null {
  const at = cNestingTooDeep(text);
  if (at < 0) return null;
  const lines = new LineIndex(text);
  const start = lines.position(at);
  return {
    file: fileName, lineCount: lines.lineCount, functions: [], calls: [], findings: [], parseProblemsOmitted: 0,
    parseProblems: [{
      kind: 'error', line: start.line, col: start.col, range: { start, end: lines.position(at + 1) },
      message: `brackets nested more than ${LIMITS.cNestingDepth} levels deep: the file is not analysed (simulator limit cNestingDepth; see ${LIMITS_DOC})`,
    }],
  };
}
