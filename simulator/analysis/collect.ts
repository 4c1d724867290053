// Collects the records the checks read, reading only the parts of the tree they can need. The text is cut
// into units at top-level function definitions (also inside #if blocks): each function, and the gaps between
// them (declarations, struct fields, globals). A function is read only when its text can matter to a check —
// it mentions an IOMMU/IOVA/DMA name, an mm page helper, a kernel allocator, `return 0` after a goto or
// break, or (found in later rounds) a wrapper of this file around the mapping calls or the member a domain is
// kept in; the others keep just their function record. Gaps are always read. When most of the file is to be
// read anyway, all of it is, in one walk. An error-free unit whose text is unchanged since the previous
// analysis reuses its records (CAnalyzer.update).
import type { Node, Query, Tree } from 'web-tree-sitter';
import { DOMAIN_USERS, MAP_APIS, UNMAP_APIS } from './apis';
import { cloneRecord } from './clone';
import { functionRecord } from './records';
import {
  errorRecords, link, mmConstantUses, recordReader, type Collected, type ErrorRec, type FunctionRec, type Rec,
} from './syntax';
import { lastMember, normalizeExpr } from './text';

/** How records are read: `auto` walks the whole tree once when most of it is wanted, else queries ranges. */
export type RecordStrategy = 'auto' | 'walk' | 'range';

const CONTAINERS = ['preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list'];
const FUNCTION = 1;
const CONTAINER = 2;
const topKindTables = new WeakMap<object, Uint8Array>();

/** FUNCTION or CONTAINER by node symbol, for one language. */
function topKinds(tree: Tree): Uint8Array {
  let table = topKindTables.get(tree.language);
  if (!table) {
    const types = tree.language.types;
    table = new Uint8Array(types.length + 1);
    for (let i = 0; i < types.length; i++) {
      table[i] = types[i] === 'function_definition' ? FUNCTION : CONTAINERS.includes(types[i]) ? CONTAINER : 0;
    }
    topKindTables.set(tree.language, table);
  }
  return table;
}

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
  /** the function_definition node (null for gaps); its record is made only when the function is not read */
  node: Node | null;
  hasError: boolean;
  /** read (or reused from the cache); a function that is not keeps only its function record */
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

function topUnits(tree: Tree, code: string): Unit[] {
  const kinds = topKinds(tree);
  const units: Unit[] = [];
  // the function definitions among the children of the root and of preprocessor blocks (read with a
  // cursor: two wasm calls per top-level item, and a Node only for functions)
  const cursor = tree.walk();
  const visitChildren = () => {
    if (!cursor.gotoFirstChild()) return;
    do {
      const kind = kinds[cursor.nodeTypeId];
      if (kind === FUNCTION) {
        const n = cursor.currentNode;
        units.push({ start: n.startIndex, end: n.endIndex, node: n, hasError: n.hasError, wanted: false, records: null });
      } else if (kind === CONTAINER) visitChildren();
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
  };
  try {
    visitChildren();
  } finally {
    cursor.delete();
  }
  units.sort((a, b) => a.start - b.start);
  // the gaps between functions: declarations, struct definitions, globals, preprocessor lines, ERROR regions
  const all: Unit[] = [];
  let at = 0;
  for (const u of units) {
    if (u.start < at) continue;                       // never: functions do not nest at top level
    if (u.start > at) all.push({ start: at, end: u.start, node: null, hasError: false, wanted: true, records: null });
    all.push(u);
    at = u.end;
  }
  if (at < code.length) all.push({ start: at, end: code.length, node: null, hasError: false, wanted: true, records: null });
  return all;
}

function initiallyWanted(u: Unit, masked: string): boolean {
  if (!u.node || u.hasError) return true;         // a gap, or broken: its records place as they always did
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
 * `masked` the code with comments and literals blanked). See the file comment for what is read.
 */
export function collect(tree: Tree, source: string, code: string, masked: string, makeQuery: (src: string) => Query,
                        loopMacros: Map<number, string>, mmConstants: RegExp, cache: UnitCache | null,
                        strategy: RecordStrategy = 'auto'): Collected {
  let id = 0;
  const nextId = () => id++;
  const units = topUnits(tree, code);
  // 'walk' reads everything, and so does 'auto' once most of the text is wanted: the rest need not be tested
  let wantedSize = 0;
  let readAll = strategy === 'walk';
  for (let i = 0; i < units.length && !readAll; i++) {
    const u = units[i];
    if (!initiallyWanted(u, masked)) continue;
    u.wanted = true;
    wantedSize += u.end - u.start;
    if (strategy === 'auto' && wantedSize * 2 >= code.length) readAll = true;
  }
  // ERROR and MISSING nodes anywhere; a unit holding one is never taken from or kept in the cache
  const errors = tree.rootNode.hasError ? errorRecords(tree.rootNode, code, nextId) : { records: [] as ErrorRec[], brokenCalls: new Set<string>() };
  if (units.length) for (const e of errors.records) units[unitAt(units, 0, units.length - 1, e.start)].hasError = true;
  const keyOf = (u: Unit) => `${source.slice(u.start, u.end)}\0${code.slice(u.start, u.end)}`;
  const reader = recordReader(tree, makeQuery, code, masked, loopMacros, nextId);

  // When most of the text is wanted anyway, all of it is read in one walk: skipping the rest would save less
  // than the range queries the later rounds would need.
  if (readAll) for (let i = 0; i < units.length; i++) units[i].wanted = true;
  // a function not read keeps its record; one without a name (or a compound body) is read after all, so
  // that what it holds is placed as it always was (its declarations become file-level ones)
  const skippedFn = new Map<Unit, FunctionRec>();
  for (let i = 0; i < units.length; i++) {
    const u = units[i];
    if (u.wanted || !u.node) continue;
    const fn = functionRecord(u.node, code, nextId());
    if (fn) skippedFn.set(u, fn); else u.wanted = true;
  }

  const fill = () => {
    // reuse what the cache has, then read the rest: in one walk when it is most of the text, else range by range
    const missing: Unit[] = [];
    let size = 0;
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      if (!u.wanted || u.records) continue;
      const reused = cache && !u.hasError ? cache.take(keyOf(u), u.start, nextId, code) : null;
      if (reused) { u.records = reused; continue; }
      missing.push(u);
      u.records = [];
      size += u.end - u.start;
    }
    if (!missing.length) return;
    const wholeWalk = strategy === 'walk' || (strategy === 'auto' && size * 2 >= code.length);
    if (wholeWalk) {
      // nodes come in document order, so the unit holding each one only moves forward
      const reading = new Set(missing);
      let at = 0;
      reader.walk(start => {
        if (start < units[at].start) at = unitAt(units, 0, at, start);
        while (at + 1 < units.length && units[at + 1].start <= start) at++;
        return reading.has(units[at]) ? units[at].records : null;
      });
    }
    for (let i = 0; i < missing.length;) {
      let j = i;
      while (j + 1 < missing.length && missing[j + 1].start === missing[j].end) j++;
      const records = wholeWalk ? [] : reader.range(missing[i].start, missing[j].end);
      const uses = mmConstantUses(tree, code, masked, mmConstants, nextId, missing[i].start, missing[j].end);
      for (let k = 0; k < uses.length; k++) records.push(uses[k]);
      for (let k = 0; k < records.length; k++) missing[unitAt(missing, i, j, records[k].start)].records!.push(records[k]);
      i = j + 1;
    }
    if (cache) for (const u of missing) if (!u.hasError) cache.keep(keyOf(u), u.start, u.records!);
  };

  fill();
  // later rounds: functions that call this file's wrappers, or assign the members domains are kept in
  const st: InterestState = { read: new Set(), callers: new Map(), wrappers: new Set(), names: new Set() };
  const identifiers = new Map<Unit, Set<string>>();
  while (units.some(u => !u.wanted)) {
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
  for (let i = 0; i < units.length; i++) {
    const own = units[i].records;
    if (own) { for (let k = 0; k < own.length; k++) records.push(own[k]); } else records.push(skippedFn.get(units[i])!);
  }
  for (let i = 0; i < errors.records.length; i++) records.push(errors.records[i]);
  return link(records, errors.brokenCalls);
}
