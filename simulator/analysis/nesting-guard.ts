// C text nested deeper than LIMITS.cNestingDepth is not analysed: tree-sitter's wasm code recurses, and about
// 2500 nested initialiser lists (while parsing), Node.parent on a node some 340 levels down
// (ts_node_child_with_descendant) or toString on a 700-level tree overrun its stack into the heap ("memory
// access out of bounds"); every later parse in the process then fails too. Such a file gets one parse problem
// where it went too deep instead of an analysis.
import type { Tree, TreeCursor } from 'web-tree-sitter';
import { LIMITS, LIMITS_DOC } from '../limits';
import { LineIndex } from './text';
import type { Analysis } from './types';

/**
 * Before parsing: brackets nested too deep, at `at` (as cNestingTooDeep in limits.ts finds it; preprocessKernelC
 * finds it while it masks the text). An analysis holding only the reason, or null when `at` is -1.
 */
export function bracketsTooDeep(fileName: string, text: string, at: number): Analysis | null {
  return at < 0 ? null : notAnalysed(fileName, text, at, `brackets nested more than ${LIMITS.cNestingDepth} levels deep`);
}

/**
 * After parsing: a syntax tree deeper than the limit (error recovery on garbage builds such trees). Depth
 * counts visible nodes, as a TreeCursor walks them. A subtree can only reach past the limit if it has more
 * descendants than the depth still allowed: the others are skipped, so an ordinary file costs a few wasm
 * calls per top-level item and per statement of a long function instead of one per node. The node reported
 * is the first one past the limit in document order, as a full walk would find it.
 *
 * The walk uses cursors only (no Node objects, no Node.parent, which is what overruns the wasm stack on deep
 * trees): a subtree's size is the difference between the descendant indexes of its node and of the node
 * after it, which a second cursor reads one sibling ahead.
 */
export function treeTooDeep(fileName: string, text: string, tree: Tree): Analysis | null {
  const limit = LIMITS.cNestingDepth;
  const total = tree.rootNode.descendantCount;          // includes the root itself
  if (total - 1 <= limit) return null;
  const walker = tree.walk();
  const scouts: TreeCursor[] = [];
  try {
    const at = deepest(walker, scouts, 0, 0, total, limit);
    return at < 0 ? null : notAnalysed(fileName, text, at, `a syntax tree more than ${limit} levels deep`);
  } finally {
    walker.delete();
    for (const s of scouts) s.delete();
  }
}

/**
 * `walker` is on a node at `depth` whose subtree (descendant index `index`, `count` nodes with itself) may
 * reach past `limit`. The offset of the first node past the limit in it, or -1; `walker` ends where it began.
 */
function deepest(walker: TreeCursor, scouts: TreeCursor[], depth: number, index: number, count: number, limit: number): number {
  if (!walker.gotoFirstChild()) return -1;
  if (depth + 1 > limit) {
    const at = walker.startIndex;
    walker.gotoParent();
    return at;
  }
  const scout = scouts[depth] ??= walker.copy();
  scout.resetTo(walker);
  let child = index + 1;                               // the first child follows its parent in document order
  for (;;) {
    const more = scout.gotoNextSibling();
    const next = more ? scout.currentDescendantIndex : index + count;
    // a subtree of n nodes is at most n - 1 levels deeper than its root
    if (next - child - 1 > limit - (depth + 1)) {
      const at = deepest(walker, scouts, depth + 1, child, next - child, limit);
      if (at >= 0) {
        walker.gotoParent();
        return at;
      }
    }
    if (!more) break;
    walker.gotoNextSibling();
    child = next;
  }
  walker.gotoParent();
  return -1;
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
