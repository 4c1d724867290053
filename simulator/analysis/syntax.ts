// Turns a tree-sitter tree into plain JavaScript records the checks can read quickly: functions, calls,
// if/else, loops, returns, gotos, breaks, labels, declarations, assignments, ERROR and MISSING regions,
// each with its span and its enclosing record. One query pass collects them; everything after that is
// JavaScript over strings, which is far cheaper than walking wasm nodes one by one.
import type { Node, Query, Tree } from 'web-tree-sitter';
import {
  assignParts, callParts, doBody, functionName, headedParts, parseDeclarators, piece, trimStatement, type Declarator, type Span,
} from './parts';
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
  kind: 'decl'; decl: 'var' | 'field' | 'param'; typeText: string; typeSpan: Span; declarators: Declarator[];
}
export interface AssignRec extends RecBase { kind: 'assign'; left: Piece; op: string; right: Piece }
export interface UpdateRec extends RecBase { kind: 'update'; arg: Piece }
export interface ErrorRec extends RecBase { kind: 'error'; missing: boolean; what: string }
/** PAGE_SHIFT / PAGE_SIZE / PAGE_MASK used in an expression */
export interface MmConstRec extends RecBase { kind: 'mmconst'; name: string; expr: Span; operand: Piece | null }

export type Rec = FunctionRec | CallRec | IfRec | ElseRec | LoopRec | ReturnRec | GotoRec | BreakRec | LabelRec
  | DeclRec | AssignRec | UpdateRec | ErrorRec | MmConstRec;

// Only declarations and function definitions capture a child (the type, the declarator and body): every
// other part is read from the text of the node (parts.ts), which keeps the query's output small.
const QUERY_SOURCE = `
(function_definition declarator: (_) @decl body: (compound_statement) @fbody) @function
(declaration type: (_) @type) @declaration
(field_declaration type: (_) @type) @field
(parameter_declaration type: (_) @type) @param
[(call_expression) (if_statement) (else_clause) (for_statement) (while_statement) (do_statement) (return_statement)
 (goto_statement) (break_statement) (labeled_statement) (assignment_expression) (update_expression) (ERROR)] @node
`;

export interface Collected {
  records: Rec[];                 // sorted by start, outer before inner
  functions: FunctionRec[];
  calls: CallRec[];
  errors: ErrorRec[];
}

let compiled: { query: Query; language: unknown } | null = null;

function getQuery(tree: Tree, make: (src: string) => Query): Query {
  if (!compiled || compiled.language !== tree.language) compiled = { query: make(QUERY_SOURCE), language: tree.language };
  return compiled.query;
}

const IDENT = /^[A-Za-z_]\w*$/;

/** node types captured as @node, by the name of the record they become */
const NODE_KINDS: Record<string, string> = {
  call_expression: 'call', if_statement: 'if', else_clause: 'else', for_statement: 'for', while_statement: 'while',
  do_statement: 'do', return_statement: 'return', goto_statement: 'goto', break_statement: 'break',
  labeled_statement: 'labeled', assignment_expression: 'assign', update_expression: 'update', ERROR: 'error',
};

/**
 * Collect the records of a tree parsed from `code` (the preprocessed text: same offsets as the user's).
 * `masked` is `code` with comments and literals blanked; `loopMacros` maps the start offset of each
 * rewritten loop macro to its name; `mmConstants` finds PAGE_SHIFT / PAGE_SIZE / PAGE_MASK in `masked`.
 */
export function collect(tree: Tree, code: string, masked: string, makeQuery: (src: string) => Query,
                        loopMacros: Map<number, string>, mmConstants: RegExp): Collected {
  const records: Rec[] = [];
  let id = 0;
  // Records are built as plain literals with the common fields first (no object spread): with ~10^4
  // records per large file, spread copies were the most expensive part of the analysis.
  for (const match of getQuery(tree, makeQuery).matches(tree.rootNode)) {
    const caps = match.captures;
    const main = caps.find(c => c.name !== 'decl' && c.name !== 'fbody' && c.name !== 'type');
    if (!main) continue;
    const node = main.node;
    const start = node.startIndex;
    const end = node.endIndex;
    const kind = main.name === 'node' ? NODE_KINDS[node.type] ?? (node.isError ? 'error' : '') : main.name;
    switch (kind) {
      case 'function': {
        const decl = caps.find(c => c.name === 'decl')!.node;
        const body = caps.find(c => c.name === 'fbody')!.node;
        const fname = functionName(code.slice(decl.startIndex, decl.endIndex), decl.startIndex);
        if (fname) {
          records.push({ kind: 'function', id: id++, start, end, parent: null, fn: null, inError: false,
            name: fname.name, nameSpan: fname.span, body: { start: body.startIndex, end: body.endIndex } });
        }
        break;
      }
      case 'declaration': case 'field': case 'param': {
        const typeEnd = caps.find(c => c.name === 'type')!.node.endIndex;
        records.push({ kind: 'decl', id: id++, start, end, parent: null, fn: null, inError: false,
          decl: kind === 'declaration' ? 'var' : kind === 'field' ? 'field' : 'param',
          typeText: code.slice(start, typeEnd).replace(/\s+/g, ' ').trim(), typeSpan: { start, end: typeEnd },
          declarators: parseDeclarators(code.slice(typeEnd, end), typeEnd) });
        break;
      }
      case 'call': {
        const { callee, args } = callParts(code, masked, start, end);
        records.push({ kind: 'call', id: id++, start, end, parent: null, fn: null, inError: false,
          name: callee.text, direct: IDENT.test(callee.text), nameSpan: callee, args, intact: true });
        break;
      }
      case 'if': {
        const { head, rest } = headedParts(code, masked, start + 2, end);
        records.push({ kind: 'if', id: id++, start, end, parent: null, fn: null, inError: false,
          cond: head, then: { start: rest.start, end: rest.end }, elseSpan: null });
        break;
      }
      case 'else':
        records.push({ kind: 'else', id: id++, start, end, parent: null, fn: null, inError: false });
        break;
      case 'for': case 'while': case 'do': {
        let body: Piece;
        let header: Piece;
        if (kind === 'do') {
          body = doBody(code, masked, start, end);
          header = piece(code, body.end, end);
        } else {
          body = headedParts(code, masked, start, end).rest;
          header = piece(code, start, body.start);
        }
        records.push({ kind: 'loop', id: id++, start, end, parent: null, fn: null, inError: false,
          loop: kind, body, header, macro: loopMacros.get(start) ?? null });
        break;
      }
      case 'return':
        records.push({ kind: 'return', id: id++, start, end, parent: null, fn: null, inError: false,
          value: trimStatement(code.slice(start + 6, end)) });
        break;
      case 'goto':
        records.push({ kind: 'goto', id: id++, start, end, parent: null, fn: null, inError: false,
          label: trimStatement(code.slice(start + 4, end)) });
        break;
      case 'break':
        records.push({ kind: 'break', id: id++, start, end, parent: null, fn: null, inError: false });
        break;
      case 'labeled':
        records.push({ kind: 'label', id: id++, start, end, parent: null, fn: null, inError: false,
          name: /^[A-Za-z_]\w*/.exec(code.slice(start, end))?.[0] ?? '' });
        break;
      case 'assign': {
        const { left, op, right } = assignParts(code, masked, start, end);
        records.push({ kind: 'assign', id: id++, start, end, parent: null, fn: null, inError: false, left, right, op });
        break;
      }
      case 'update': {
        const text = code.slice(start, end);
        const lead = text.startsWith('++') || text.startsWith('--') ? 2 : 0;
        const tail = !lead && (text.endsWith('++') || text.endsWith('--')) ? 2 : 0;
        records.push({ kind: 'update', id: id++, start, end, parent: null, fn: null, inError: false,
          arg: piece(code, start + lead, end - tail) });
        break;
      }
      case 'error':
        records.push({ kind: 'error', id: id++, start, end, parent: null, fn: null, inError: false,
          missing: false, what: code.slice(start, Math.min(end, start + 40)) });
        break;
    }
  }
  const nextId = () => id++;
  let brokenCalls = new Set<string>();
  if (tree.rootNode.hasError) {
    const missing = missingNodes(tree.rootNode, nextId);
    records.push(...missing.records);
    brokenCalls = missing.brokenCalls;
  }
  records.push(...mmConstantUses(tree, code, masked, mmConstants, nextId));
  return link(records, brokenCalls);
}

const STATEMENT_LEVEL = /(_statement|declaration|^translation_unit|^function_definition)$/;

/**
 * MISSING nodes (tokens the parser invented) are found by descending only into subtrees with errors. A
 * call is broken when a MISSING token lies inside it (its closing parenthesis, say).
 */
function missingNodes(root: Node, id: () => number): { records: ErrorRec[]; brokenCalls: Set<string> } {
  const records: ErrorRec[] = [];
  const brokenCalls = new Set<string>();
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.isMissing) {
      records.push({ id: id(), start: n.startIndex, end: n.startIndex, parent: null, fn: null, inError: false,
        kind: 'error', missing: true, what: n.type });
      for (let p = n.parent; p && !STATEMENT_LEVEL.test(p.type); p = p.parent) {
        if (p.type === 'call_expression') brokenCalls.add(`${p.startIndex}:${p.endIndex}`);
      }
      continue;
    }
    for (const c of n.children) if (c && c.hasError) stack.push(c);
  }
  return { records, brokenCalls };
}

function mmConstantUses(tree: Tree, code: string, masked: string, re: RegExp, id: () => number): MmConstRec[] {
  const found: MmConstRec[] = [];
  for (const m of masked.matchAll(re)) {
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
function link(records: Rec[], brokenCalls: Set<string>): Collected {
  records.sort((a, b) => a.start - b.start || b.end - a.end || rank(a) - rank(b));
  const stack: Rec[] = [];
  const functions: FunctionRec[] = [];
  const calls: CallRec[] = [];
  const errors: ErrorRec[] = [];
  for (const r of records) {
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
  for (const e of errors) {
    // A call is intact when no ERROR node lies inside it (MISSING ones were handled above).
    if (!e.missing) for (let p = e.parent; p; p = p.parent) if (p.kind === 'call') p.intact = false;
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
