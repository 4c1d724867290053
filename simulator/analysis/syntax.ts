// Turns a tree-sitter tree into plain JavaScript records the checks can read quickly: functions, calls,
// if/else, loops, returns, gotos, breaks, labels, declarations, assignments, ERROR and MISSING regions,
// each with its span and its enclosing record. The nodes come out of wasm in bulk (one walk, or one query
// per range; collect.ts decides which parts of the file are read); everything after that is JavaScript over
// strings, which is far cheaper than walking wasm nodes one by one.
import type { Node, Query, Tree } from 'web-tree-sitter';
import { recordBuilder } from './records';
import type { Declarator, Span } from './parts';
import type { Piece } from './text';

export type { Declarator, Span };

interface RecBase extends Span {
  id: number;
  parent: Rec | null;
  fn: FunctionRec | null;
  /** inside a region tree-sitter could not parse */
  inError: boolean;
}

export interface FunctionRec extends RecBase { kind: 'function'; name: string; nameSpan: Span; body: Span }
export interface CallRec extends RecBase {
  kind: 'call';
  name: string;                    // callee text: an identifier for direct calls
  direct: boolean;
  nameSpan: Span;
  args: Piece[];
  /** no ERROR or MISSING node inside the call */
  intact: boolean;
}
export interface IfRec extends RecBase { kind: 'if'; cond: Piece; then: Span; elseSpan: Span | null }
export interface ElseRec extends RecBase { kind: 'else' }
export interface LoopRec extends RecBase {
  kind: 'loop'; loop: 'for' | 'while' | 'do'; body: Span; header: Piece; macro: string | null;
}
export interface ReturnRec extends RecBase { kind: 'return'; value: string }
export interface GotoRec extends RecBase { kind: 'goto'; label: string }
export interface BreakRec extends RecBase { kind: 'break' }
export interface LabelRec extends RecBase { kind: 'label'; name: string }
export interface DeclRec extends RecBase {
  kind: 'decl'; decl: 'var' | 'field' | 'param'; typeText: string; typeSpan: Span; typeEnd: number; declarators: Declarator[];
}
export interface AssignRec extends RecBase { kind: 'assign'; left: Piece; op: string; right: Piece }
export interface UpdateRec extends RecBase { kind: 'update'; arg: Piece }
export interface ErrorRec extends RecBase { kind: 'error'; missing: boolean; what: string }
/** PAGE_SHIFT / PAGE_SIZE / PAGE_MASK used in an expression */
export interface MmConstRec extends RecBase { kind: 'mmconst'; name: string; expr: Span; operand: Piece | null }

export type Rec = FunctionRec | CallRec | IfRec | ElseRec | LoopRec | ReturnRec | GotoRec | BreakRec | LabelRec
  | DeclRec | AssignRec | UpdateRec | ErrorRec | MmConstRec;

export interface Collected {
  records: Rec[];                 // sorted by start, outer before inner
  functions: FunctionRec[];
  calls: CallRec[];
  errors: ErrorRec[];
}

/** The node types that become records, by the name record() knows them by. */
const RECORD_KINDS: Record<string, string> = {
  function_definition: 'function', declaration: 'declaration', field_declaration: 'field', parameter_declaration: 'param',
  call_expression: 'call', if_statement: 'if', else_clause: 'else', for_statement: 'for', while_statement: 'while',
  do_statement: 'do', return_statement: 'return', goto_statement: 'goto', break_statement: 'break',
  labeled_statement: 'labeled', assignment_expression: 'assign', update_expression: 'update',
};
const RECORD_TYPES = Object.keys(RECORD_KINDS);

const kindTables = new WeakMap<object, Array<string | undefined>>();

/** Record kind by node symbol id, for one language. */
function kindTable(tree: Tree): Array<string | undefined> {
  let table = kindTables.get(tree.language);
  if (!table) {
    table = tree.language.types.map(t => RECORD_KINDS[t]);
    kindTables.set(tree.language, table);
  }
  return table;
}

const compiled = new Map<string, { query: Query; language: unknown }>();

/** A query compiled once per language. */
export function cachedQuery(tree: Tree, make: (src: string) => Query, source: string): Query {
  const hit = compiled.get(source);
  if (hit && hit.language === tree.language) return hit.query;
  const query = make(source);
  compiled.set(source, { query, language: tree.language });
  return query;
}

/**
 * Records of a tree parsed from `code` (the preprocessed text: same offsets as the user's). `masked` is `code`
 * with comments and literals blanked; `loopMacros` maps the start offset of each rewritten loop macro to its
 * name. ERROR regions are not here (errorRecords finds them).
 */
export interface RecordReader {
  /**
   * The records of the whole tree in one walk, in document order (outer before inner). `sink(start)` gives
   * the list a record starting there goes to, or null to skip it; it is asked with non-decreasing offsets.
   */
  walk(sink: (start: number) => Rec[] | null): void;
  /** the records of the nodes in [start, end); ranges are cut only at top-level function boundaries */
  range(start: number, end: number): Rec[];
}

const QUERY_SOURCE = Object.keys(RECORD_KINDS).map(t => `(${t}) @${RECORD_KINDS[t]}`).join('\n');

export function recordReader(tree: Tree, make: (src: string) => Query, code: string, masked: string,
                             loopMacros: Map<number, string>, nextId: () => number): RecordReader {
  const build = recordBuilder(tree, code, masked, loopMacros, nextId);
  return {
    // One descendantsOfType walk in wasm is the cheapest way through web-tree-sitter's API to every node of
    // these types: it walks in C and returns only the matches. A TreeCursor walk from JavaScript costs two
    // wasm calls per node (about 2.5 times as much on a 20,000-line driver) and a query over the same nodes
    // about 1.4 times as much. Each node's kind is its symbol. (ERROR is not asked for: web-tree-sitter 0.25
    // puts its symbol first in a list it binary-searches.)
    walk(sink) {
      const kinds = kindTable(tree);
      const nodes = tree.rootNode.descendantsOfType(RECORD_TYPES);
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i];
        // let go of each node once read: a young-generation collection during the walk then copies only
        // the nodes still ahead (15,000 of them on a 20,000-line file)
        nodes[i] = null;
        if (!node) continue;
        const start = node.startIndex;
        const out = sink(start);
        if (!out) continue;
        const kind = kinds[node.typeId];
        const r = kind ? build(kind, start, node) : null;
        if (r) out.push(r);
      }
    },
    // A query limited to a byte range skips what lies outside it cheaply: the choice for a few functions.
    range(start, end) {
      const out: Rec[] = [];
      for (const m of cachedQuery(tree, make, QUERY_SOURCE).matches(tree.rootNode, charRange(start, end))) {
        const { name, node } = m.captures[0];
        const at = node.startIndex;
        if (at < start || at >= end) continue;
        const r = build(name, at, node);
        if (r) out.push(r);
      }
      return out;
    },
  };
}

/**
 * Query options for the characters [start, end) of the text. web-tree-sitter hands JavaScript strings to
 * tree-sitter as UTF-16 and converts columns of a query range, but not byte indexes: the byte range tree-sitter
 * wants is twice the string range. A test pins this (analysis-perf.test.ts).
 */
export function charRange(start: number, end: number): { startIndex: number; endIndex: number } {
  return { startIndex: 2 * start, endIndex: 2 * end };
}

const STATEMENT_LEVEL = /(_statement|declaration|^translation_unit|^function_definition)$/;

/**
 * ERROR regions and MISSING nodes (tokens the parser invented), found by descending only into subtrees with
 * errors. A call is broken when a MISSING token lies inside it (its closing parenthesis, say). The walk keeps
 * the path it came down by, so finding the calls around a MISSING token needs no Node.parent (which overruns
 * tree-sitter's wasm stack on deep trees).
 */
export function errorRecords(root: Node, code: string, id: () => number): { records: ErrorRec[]; brokenCalls: Set<string> } {
  const records: ErrorRec[] = [];
  const brokenCalls = new Set<string>();
  // nodes still to visit, each with the index in `path` of its parent
  const stack: Array<{ node: Node; parent: number }> = [{ node: root, parent: -1 }];
  const path: Array<{ node: Node; parent: number }> = [];
  while (stack.length) {
    const entry = stack.pop()!;
    const n = entry.node;
    if (n.isMissing) {
      records.push({ id: id(), start: n.startIndex, end: n.startIndex, parent: null, fn: null, inError: false,
        kind: 'error', missing: true, what: n.type });
      for (let p = entry.parent; p >= 0 && !STATEMENT_LEVEL.test(path[p].node.type); p = path[p].parent) {
        const call = path[p].node;
        if (call.type === 'call_expression') brokenCalls.add(`${call.startIndex}:${call.endIndex}`);
      }
      continue;
    }
    if (n.isError) {
      const start = n.startIndex;
      const end = n.endIndex;
      records.push({ id: id(), start, end, parent: null, fn: null, inError: false,
        kind: 'error', missing: false, what: code.slice(start, Math.min(end, start + 40)) });
    }
    const self = path.length;
    path.push(entry);
    for (const c of n.children) if (c && c.hasError) stack.push({ node: c, parent: self });
  }
  return { records, brokenCalls };
}

/** PAGE_SHIFT / PAGE_SIZE / PAGE_MASK used in [start, end) of the text (`re` is a global regex). */
export function mmConstantUses(tree: Tree, code: string, masked: string, re: RegExp, id: () => number,
                               start = 0, end = masked.length): MmConstRec[] {
  const found: MmConstRec[] = [];
  re.lastIndex = start;
  for (let m = re.exec(masked); m && m.index < end; m = re.exec(masked)) {
    const node = tree.rootNode.descendantForIndex(m.index, m.index + m[0].length);
    if (!node || node.type !== 'identifier') continue;
    const parent = node.parent;
    let expr: Span = { start: node.startIndex, end: node.endIndex };
    let operand: Piece | null = null;
    if (parent && parent.type === 'binary_expression') {
      const other = parent.childForFieldName(node.startIndex === parent.startIndex ? 'right' : 'left');
      expr = { start: parent.startIndex, end: parent.endIndex };
      if (other) operand = { text: code.slice(other.startIndex, other.endIndex), start: other.startIndex, end: other.endIndex };
    }
    found.push({ id: id(), start: node.startIndex, end: node.endIndex, parent: null, fn: null, inError: false,
      kind: 'mmconst', name: m[0], expr, operand });
  }
  return found;
}

/** Sort, then give each record its innermost enclosing record, function and error flag. */
export function link(records: Rec[], brokenCalls: Set<string>): Collected {
  records.sort((a, b) => a.start - b.start || b.end - a.end || rank(a) - rank(b));
  const stack: Rec[] = [];
  const functions: FunctionRec[] = [];
  const calls: CallRec[] = [];
  const errors: ErrorRec[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    while (stack.length && !encloses(stack[stack.length - 1], r)) stack.pop();
    const parent = stack.length ? stack[stack.length - 1] : null;
    r.parent = parent;
    r.fn = parent ? (parent.kind === 'function' ? parent : parent.fn) : null;
    r.inError = parent ? (parent.kind === 'error' && !parent.missing) || parent.inError : false;
    if (r.kind === 'function') functions.push(r);
    else if (r.kind === 'call') {
      calls.push(r);
      if (brokenCalls.size && brokenCalls.has(`${r.start}:${r.end}`)) r.intact = false;
    }
    else if (r.kind === 'error') errors.push(r);
    else if (r.kind === 'else' && parent?.kind === 'if') {
      parent.elseSpan = { start: r.start, end: r.end };
      // the branch taken when the condition holds stops where `else` begins
      parent.then = { start: parent.then.start, end: Math.min(parent.then.end, r.start) };
    }
    if (r.start !== r.end) stack.push(r);
  }
  for (let i = 0; i < errors.length; i++) {
    // A call is intact when no ERROR node lies inside it (MISSING ones were handled above).
    if (!errors[i].missing) for (let p = errors[i].parent; p; p = p.parent) if (p.kind === 'call') p.intact = false;
  }
  return { records, functions, calls, errors };
}

function encloses(outer: Rec, inner: Rec): boolean {
  if (inner.start === inner.end) return outer.start < inner.start && inner.start <= outer.end;
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** Among records with the same span, statements enclose expressions (an if holds its else, a label its stmt). */
const RANK: Record<Rec['kind'], number> = {
  function: 0, error: 1, label: 2, if: 3, loop: 4, else: 5, decl: 6, return: 7, goto: 8, break: 9, assign: 10,
  update: 11, call: 12, mmconst: 13,
};
function rank(r: Rec): number {
  return RANK[r.kind];
}
