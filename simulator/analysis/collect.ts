// Collects the records the checks read, querying only the parts of the tree they can need. The text is cut
// into units at top-level function definitions (also inside #if blocks): each function, and the gaps between
// them (declarations, struct fields, globals). A function is queried only when its text can matter to a
// check — it mentions an IOMMU/IOVA/DMA name, an mm page helper, a kernel allocator, `return 0` after a goto
// or break, or (found in later rounds) a wrapper of this file around the mapping calls or the member a
// domain is kept in; the others keep just their function record. Gaps are always queried. An error-free
// unit whose text is unchanged since the previous analysis reuses its records (CAnalyzer.update).
import type { Node, Query, Tree } from 'web-tree-sitter';
import { DOMAIN_USERS, MAP_APIS, UNMAP_APIS } from './apis';
import { functionName } from './parts';
import {
  cachedQuery, link, missingNodes, mmConstantUses, rangeRecords, type Collected, type FunctionRec, type Rec,
} from './syntax';
import { lastMember, normalizeExpr } from './text';
import { cloneRecord } from './clone';

const TOP_QUERY = `
(function_definition declarator: (_) @decl body: (compound_statement) @fbody) @function
[(preproc_if) (preproc_ifdef) (preproc_else) (preproc_elif) (preproc_elifdef) (linkage_specification) (declaration_list)] @container
`;

/**
 * What makes a function matter to some check (see the file comment): a name that holds an IOVA or DMA
 * address (isIovaName: iova, daddr, dma_addr, dma_handle ...), a call of an IOMMU/IOVA/DMA API, an mm page
 * helper or constant, a kernel allocator call.
 */
const IOVA_NAMES = /iova|daddr|dma_?addr|dma\w*handle/i;
const INTEREST = /(?<![\w>.])iommu_\w+\s*\(|\bdma_(?:map|unmap|alloc|free|get_sgtable|sync|mapping_error)|\bP(?:HYS_PFN|FN_|AGE_)|\b(?:k|kv|v)[mzc]alloc\w*\s*\(/;
const RETURN_ZERO = /\breturn\s+0\s*;/;
const JUMP = /\b(?:goto|break)\b/;

interface Unit {
  start: number;
  end: number;
  /** the function record from the top-level query (null for gaps and unnamed functions) */
  fn: FunctionRec | null;
  hasError: boolean;
  /** queried (or reused); a function that is not keeps only `fn` */
  wanted: boolean;
  records: Rec[] | null;
}

/** Records of error-free units by their text, kept from one analysis to the next. */
export class UnitCache {
  private entries = new Map<string, { start: number; records: Rec[] }>();
  private next = new Map<string, { start: number; records: Rec[] }>();

  take(key: string, start: number, nextId: () => number, code: string): Rec[] | null {
    const hit = this.entries.get(key) ?? this.next.get(key);
    if (!hit) return null;
    this.next.set(key, hit);
    const delta = start - hit.start;
    return hit.records.map(r => cloneRecord(r, delta, nextId(), code));
  }

  keep(key: string, start: number, records: Rec[]): void {
    this.next.set(key, { start, records });
  }

  /** Forget what this analysis did not use. */
  rotate(): void {
    this.entries = this.next;
    this.next = new Map();
  }
}

function topUnits(tree: Tree, make: (src: string) => Query, code: string, nextId: () => number): Unit[] {
  const query = cachedQuery(tree, make, TOP_QUERY);
  const units: Unit[] = [];
  const visit = (node: Node) => {
    for (const m of query.matches(node, { maxStartDepth: 1 })) {
      const main = m.captures.find(c => c.name === 'function' || c.name === 'container')!;
      const n = main.node;
      if (main.name === 'container') {
        if (n.id !== node.id) visit(n);
        continue;
      }
      const decl = m.captures.find(c => c.name === 'decl')!.node;
      const body = m.captures.find(c => c.name === 'fbody')!.node;
      const start = n.startIndex;
      const end = n.endIndex;
      const name = functionName(code.slice(decl.startIndex, decl.endIndex), decl.startIndex);
      const fn: FunctionRec | null = name ? { kind: 'function', id: nextId(), start, end, parent: null, fn: null, inError: false,
        name: name.name, nameSpan: name.span, body: { start: body.startIndex, end: body.endIndex } } : null;
      units.push({ start, end, fn, hasError: n.hasError, wanted: false, records: null });
    }
  };
  visit(tree.rootNode);
  units.sort((a, b) => a.start - b.start);
  // the gaps between functions: declarations, struct definitions, globals, preprocessor lines, ERROR regions
  const all: Unit[] = [];
  let at = 0;
  for (const u of units) {
    if (u.start < at) continue;                       // never: functions do not nest at top level
    if (u.start > at) all.push({ start: at, end: u.start, fn: null, hasError: false, wanted: true, records: null });
    all.push(u);
    at = u.end;
  }
  if (at < code.length) all.push({ start: at, end: code.length, fn: null, hasError: false, wanted: true, records: null });
  return all;
}

function initiallyWanted(u: Unit, masked: string): boolean {
  if (!u.fn || u.hasError) return true;           // unnamed or broken: its records place as they always did
  const text = masked.slice(u.start, u.end);
  return IOVA_NAMES.test(text) || INTEREST.test(text) || (RETURN_ZERO.test(text) && JUMP.test(text));
}

/**
 * Names in the collected records that make other functions matter: this file's wrappers around the
 * mapping calls (callers of MAP/UNMAP APIs, transitively) and the members or globals domains are used from.
 * Each unit is read once; `state` carries what earlier rounds found.
 */
interface InterestState { read: Set<Unit>; callers: Map<string, string[]>; wrappers: Set<string>; names: Set<string> }

function growInterest(units: Unit[], st: InterestState): void {
  const fresh: string[] = [];
  for (const u of units) {
    if (!u.records || st.read.has(u)) continue;
    st.read.add(u);
    // functions of the unit, to attribute each call to the innermost one (units with errors can nest them)
    const fns = u.records.filter((r): r is FunctionRec => r.kind === 'function');
    for (const r of u.records) {
      if (r.kind !== 'call') continue;
      let caller: FunctionRec | undefined;
      for (const f of fns) if (f.start <= r.start && r.end <= f.end && (!caller || f.start >= caller.start)) caller = f;
      if (caller) {
        const list = st.callers.get(r.name);
        if (!list) st.callers.set(r.name, [caller.name]); else list.push(caller.name);
        if (MAP_APIS.has(r.name) || UNMAP_APIS.has(r.name) || st.wrappers.has(r.name)) fresh.push(r.name);
      }
      if (DOMAIN_USERS.has(r.name) && r.args[0]) {
        const n = normalizeExpr(r.args[0].text);
        st.names.add(/->|\./.test(n) ? lastMember(n) : n);
      }
    }
  }
  // callers of the APIs and of the wrappers found so far are wrappers too
  while (fresh.length) {
    for (const caller of st.callers.get(fresh.pop()!) ?? []) {
      if (st.wrappers.has(caller)) continue;
      st.wrappers.add(caller);
      st.names.add(caller);
      fresh.push(caller);
    }
  }
}

const IDENTIFIER = /[A-Za-z_]\w*/g;

/** Index in units[lo..hi] (adjacent, sorted) of the unit holding offset `at`. */
function unitAt(units: Unit[], lo: number, hi: number, at: number): number {
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (units[mid].start <= at) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * Collect the records of a tree parsed from `code` (the preprocessed text; `source` is the user's text,
 * `masked` the code with comments and literals blanked). See the file comment for what is queried.
 */
export function collect(tree: Tree, source: string, code: string, masked: string, makeQuery: (src: string) => Query,
                        loopMacros: Map<number, string>, mmConstants: RegExp, cache: UnitCache | null): Collected {
  let id = 0;
  const nextId = () => id++;
  const query = cachedQuery(tree, makeQuery);
  const units = topUnits(tree, makeQuery, code, nextId);
  for (const u of units) if (initiallyWanted(u, masked)) u.wanted = true;
  const keyOf = (u: Unit) => `${source.slice(u.start, u.end)}\0${code.slice(u.start, u.end)}`;

  const fill = () => {
    // reuse what the cache has, then query the rest in runs of adjacent units
    const missing: Unit[] = [];
    for (const u of units) {
      if (!u.wanted || u.records) continue;
      const reused = cache && !u.hasError ? cache.take(keyOf(u), u.start, nextId, code) : null;
      if (reused) u.records = reused; else missing.push(u);
    }
    for (let i = 0; i < missing.length;) {
      let j = i;
      while (j + 1 < missing.length && missing[j + 1].start === missing[j].end) j++;
      const records = rangeRecords(tree, query, code, masked, loopMacros, missing[i].start, missing[j].end, nextId);
      records.push(...mmConstantUses(tree, code, masked, mmConstants, nextId, missing[i].start, missing[j].end));
      for (const u of missing.slice(i, j + 1)) u.records = [];
      for (const r of records) missing[unitAt(missing, i, j, r.start)].records!.push(r);
      for (const u of missing.slice(i, j + 1)) {
        if (cache && !u.hasError && !u.records!.some(r => r.kind === 'error')) cache.keep(keyOf(u), u.start, u.records!);
      }
      i = j + 1;
    }
  };

  fill();
  // later rounds: functions that call this file's wrappers, or assign the members domains are kept in
  const st: InterestState = { read: new Set(), callers: new Map(), wrappers: new Set(), names: new Set() };
  const identifiers = new Map<Unit, Set<string>>();
  for (;;) {
    growInterest(units, st);
    let more = false;
    for (const u of units) {
      if (u.wanted) continue;
      let ids = identifiers.get(u);
      if (!ids) identifiers.set(u, ids = new Set(masked.slice(u.start, u.end).match(IDENTIFIER)));
      for (const id of ids) {
        if (!st.names.has(id)) continue;
        u.wanted = true;
        more = true;
        break;
      }
    }
    if (!more) break;
    fill();
  }
  cache?.rotate();

  const records: Rec[] = [];
  for (const u of units) {
    if (u.records) { for (const r of u.records) records.push(r); } else if (u.fn) records.push(u.fn);
  }
  let brokenCalls = new Set<string>();
  if (tree.rootNode.hasError) {
    const missing = missingNodes(tree.rootNode, nextId);
    records.push(...missing.records);
    brokenCalls = missing.brokenCalls;
  }
  return link(records, brokenCalls);
}
