// C text nested deeper than LIMITS.cNestingDepth is not analysed: tree-sitter's wasm code recurses, and about
// 2500 nested initialiser lists (while parsing), Node.parent on a node some 340 levels down
// (ts_node_child_with_descendant) or toString on a 700-level tree overrun its stack into the heap ("memory
// access out of bounds"); every later parse in the process then fails too. Such a file gets one parse problem
// where it went too deep instead of an analysis.
import type { Node, Tree } from 'web-tree-sitter';
import { LIMITS, LIMITS_DOC, cNestingTooDeep } from '../limits';
import { LineIndex } from './text';
import type { Analysis } from './types';

/** Before parsing: brackets nested too deep. An analysis holding only the reason, or null. */
export function bracketsTooDeep(fileName: string, text: string): Analysis | null {
  const at = cNestingTooDeep(text);
  return at < 0 ? null : notAnalysed(fileName, text, at, `brackets nested more than ${LIMITS.cNestingDepth} levels deep`);
}

/**
 * After parsing: a syntax tree deeper than the limit (error recovery on garbage builds such trees). Depth
 * counts visible nodes, as a TreeCursor walks them. A subtree can only reach past the limit if it has more
 * descendants than the depth still allowed (descendantCount is kept in the tree): the others are skipped,
 * so an ordinary file costs a few wasm calls per top-level item instead of one per node. The node reported
 * is the first one past the limit in document order, as a full walk would find it.
 */
export function treeTooDeep(fileName: string, text: string, tree: Tree): Analysis | null {
  const limit = LIMITS.cNestingDepth;
  const stack: Array<{ node: Node; depth: number }> = [{ node: tree.rootNode, depth: 0 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (depth > limit) return notAnalysed(fileName, text, node.startIndex, `a syntax tree more than ${limit} levels deep`);
    // descendantCount includes the node itself: its deepest descendant is at most count - 1 levels below
    if (node.descendantCount - 1 <= limit - depth) continue;
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push({ node: child, depth: depth + 1 });
    }
  }
  return null;
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
