// The IOVA domain's range tree: a red-black tree keyed by pfn_lo, like the kernel's rb-tree of struct iova.
// Nodes live in typed arrays (about 30 bytes a range) and are named by a stable integer index, so the
// allocator can keep "cached node" handles across inserts and erases exactly as iova.c keeps rb_node
// pointers. Erasing follows the textbook scheme that relinks nodes instead of copying keys, which is what
// keeps those handles valid. Index 0 is the black sentinel (NIL).
//
// pfns are JS numbers below 2^53 (the anchor uses +Infinity); nothing here uses 32-bit bit operators on them.

import { modulo } from '../iommu/arith';

export const NIL = 0;

/** Per-range flags: how the range came to be and where it is now. */
export const RANGE_FAST = 1;       // allocated by alloc_iova_fast
export const RANGE_CACHED = 2;     // freed by free_iova_fast: still in the tree, its pfn sits in an rcache magazine
export const RANGE_RESERVED = 4;   // inserted by reserve_iova
export const RANGE_ANCHOR = 8;     // the permanent node above the usable space

/** Slots of the direct-mapped "node starting at pfn" hint table that keeps hot-path lookups O(1). */
const HINT_SLOTS = 4096;

export class IovaTree {
  lo: Float64Array;
  hi: Float64Array;
  private left: Int32Array;
  private right: Int32Array;
  private parent: Int32Array;
  private red: Uint8Array;
  flags: Uint8Array;
  /** pfn % HINT_SLOTS -> a node that started at some pfn with that residue; checked, never trusted */
  private readonly hint = new Int32Array(HINT_SLOTS);
  private root = NIL;
  private freeList = NIL;          // erased nodes, chained through `right`
  private used = 1;                // slots handed out so far (slot 0 is NIL)
  /** number of nodes in the tree (anchor included) */
  count = 0;

  constructor(initialCapacity = 64) {
    const cap = Math.max(2, initialCapacity);
    this.lo = new Float64Array(cap);
    this.hi = new Float64Array(cap);
    this.left = new Int32Array(cap);
    this.right = new Int32Array(cap);
    this.parent = new Int32Array(cap);
    this.red = new Uint8Array(cap);
    this.flags = new Uint8Array(cap);
    this.lo[NIL] = NaN;               // erased and sentinel nodes never match a pfn (see find)
  }

  /** Bytes held by the node arrays (for memory reports). */
  get byteLength(): number {
    return this.lo.length * (8 + 8 + 4 + 4 + 4 + 1 + 1);
  }

  private grow(): void {
    const cap = this.lo.length * 2;
    const f64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const i32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    const u8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    this.lo = f64(this.lo);
    this.hi = f64(this.hi);
    this.left = i32(this.left);
    this.right = i32(this.right);
    this.parent = i32(this.parent);
    this.red = u8(this.red);
    this.flags = u8(this.flags);
  }

  private newNode(): number {
    if (this.freeList !== NIL) {
      const n = this.freeList;
      this.freeList = this.right[n];
      return n;
    }
    if (this.used === this.lo.length) this.grow();
    return this.used++;
  }

  /** Inserts [lo, hi]; returns the node, or NIL when a node already starts at lo (the kernel WARNs and gives up). */
  insert(lo: number, hi: number, flags: number): number {
    let y = NIL;
    let x = this.root;
    while (x !== NIL) {
      y = x;
      if (lo < this.lo[x]) x = this.left[x];
      else if (lo > this.lo[x]) x = this.right[x];
      else return NIL;
    }
    const z = this.newNode();
    this.lo[z] = lo;
    this.hi[z] = hi;
    this.flags[z] = flags;
    this.left[z] = NIL;
    this.right[z] = NIL;
    this.parent[z] = y;
    this.red[z] = 1;
    if (y === NIL) this.root = z;
    else if (lo < this.lo[y]) this.left[y] = z;
    else this.right[y] = z;
    this.count++;
    if (lo !== Infinity) this.hint[modulo(lo, HINT_SLOTS)] = z;
    this.insertFixup(z);
    return z;
  }

  private rotateLeft(x: number): void {
    const y = this.right[x];
    this.right[x] = this.left[y];
    if (this.left[y] !== NIL) this.parent[this.left[y]] = x;
    this.parent[y] = this.parent[x];
    const p = this.parent[x];
    if (p === NIL) this.root = y;
    else if (x === this.left[p]) this.left[p] = y;
    else this.right[p] = y;
    this.left[y] = x;
    this.parent[x] = y;
  }

  private rotateRight(x: number): void {
    const y = this.left[x];
    this.left[x] = this.right[y];
    if (this.right[y] !== NIL) this.parent[this.right[y]] = x;
    this.parent[y] = this.parent[x];
    const p = this.parent[x];
    if (p === NIL) this.root = y;
    else if (x === this.right[p]) this.right[p] = y;
    else this.left[p] = y;
    this.right[y] = x;
    this.parent[x] = y;
  }

  private insertFixup(z: number): void {
    const red = this.red;
    while (red[this.parent[z]] === 1) {
      const p = this.parent[z];
      const g = this.parent[p];
      if (p === this.left[g]) {
        const uncle = this.right[g];
        if (red[uncle] === 1) {
          red[p] = 0; red[uncle] = 0; red[g] = 1;
          z = g;
        } else {
          if (z === this.right[p]) { z = p; this.rotateLeft(z); }
          red[this.parent[z]] = 0;
          red[this.parent[this.parent[z]]] = 1;
          this.rotateRight(this.parent[this.parent[z]]);
        }
      } else {
        const uncle = this.left[g];
        if (red[uncle] === 1) {
          red[p] = 0; red[uncle] = 0; red[g] = 1;
          z = g;
        } else {
          if (z === this.left[p]) { z = p; this.rotateRight(z); }
          red[this.parent[z]] = 0;
          red[this.parent[this.parent[z]]] = 1;
          this.rotateLeft(this.parent[this.parent[z]]);
        }
      }
    }
    red[this.root] = 0;
  }

  private transplant(u: number, v: number): void {
    const p = this.parent[u];
    if (p === NIL) this.root = v;
    else if (u === this.left[p]) this.left[p] = v;
    else this.right[p] = v;
    this.parent[v] = p;               // may write the sentinel's parent; the fixup relies on it
  }

  private minimum(x: number): number {
    while (this.left[x] !== NIL) x = this.left[x];
    return x;
  }

  private maximum(x: number): number {
    while (this.right[x] !== NIL) x = this.right[x];
    return x;
  }

  /** Erases node z; its index becomes free for reuse. */
  remove(z: number): void {
    let y = z;
    let yWasRed = this.red[y];
    let x: number;
    if (this.left[z] === NIL) {
      x = this.right[z];
      this.transplant(z, x);
    } else if (this.right[z] === NIL) {
      x = this.left[z];
      this.transplant(z, x);
    } else {
      y = this.minimum(this.right[z]);
      yWasRed = this.red[y];
      x = this.right[y];
      if (this.parent[y] === z) {
        this.parent[x] = y;
      } else {
        this.transplant(y, x);
        this.right[y] = this.right[z];
        this.parent[this.right[y]] = y;
      }
      this.transplant(z, y);
      this.left[y] = this.left[z];
      this.parent[this.left[y]] = y;
      this.red[y] = this.red[z];
    }
    if (yWasRed === 0) this.removeFixup(x);
    this.red[NIL] = 0;
    this.flags[z] = 0;
    this.lo[z] = NaN;
    this.right[z] = this.freeList;
    this.freeList = z;
    this.count--;
  }

  private removeFixup(x: number): void {
    const red = this.red;
    while (x !== this.root && red[x] === 0) {
      const p = this.parent[x];
      if (x === this.left[p]) {
        let w = this.right[p];
        if (red[w] === 1) {
          red[w] = 0; red[p] = 1;
          this.rotateLeft(p);
          w = this.right[this.parent[x]];
        }
        if (red[this.left[w]] === 0 && red[this.right[w]] === 0) {
          red[w] = 1;
          x = this.parent[x];
        } else {
          if (red[this.right[w]] === 0) {
            red[this.left[w]] = 0; red[w] = 1;
            this.rotateRight(w);
            w = this.right[this.parent[x]];
          }
          red[w] = red[this.parent[x]];
          red[this.parent[x]] = 0;
          red[this.right[w]] = 0;
          this.rotateLeft(this.parent[x]);
          x = this.root;
        }
      } else {
        let w = this.left[p];
        if (red[w] === 1) {
          red[w] = 0; red[p] = 1;
          this.rotateRight(p);
          w = this.left[this.parent[x]];
        }
        if (red[this.right[w]] === 0 && red[this.left[w]] === 0) {
          red[w] = 1;
          x = this.parent[x];
        } else {
          if (red[this.left[w]] === 0) {
            red[this.right[w]] = 0; red[w] = 1;
            this.rotateLeft(w);
            w = this.left[this.parent[x]];
          }
          red[w] = red[this.parent[x]];
          red[this.parent[x]] = 0;
          red[this.left[w]] = 0;
          this.rotateRight(this.parent[x]);
          x = this.root;
        }
      }
    }
    red[x] = 0;
  }

  /**
   * The node whose range contains pfn (private_find_iova), or NIL. Most lookups are for the first pfn of a
   * range just handed out; the hint table answers those without a descent (a live node starting at pfn is
   * the only node containing it, and erased nodes have pfn_lo NaN).
   */
  find(pfn: number): number {
    const slot = modulo(pfn, HINT_SLOTS);
    const h = this.hint[slot];
    if (this.lo[h] === pfn) return h;
    let x = this.root;
    while (x !== NIL) {
      if (pfn < this.lo[x]) x = this.left[x];
      else if (pfn > this.hi[x]) x = this.right[x];
      else {
        if (this.lo[x] === pfn) this.hint[slot] = x;
        return x;
      }
    }
    return NIL;
  }

  /** The lowest node with pfn_hi >= pfn, or NIL. */
  lowerBoundHi(pfn: number): number {
    let x = this.root;
    let best = NIL;
    while (x !== NIL) {
      if (this.hi[x] >= pfn) { best = x; x = this.left[x]; } else x = this.right[x];
    }
    return best;
  }

  first(): number {
    return this.root === NIL ? NIL : this.minimum(this.root);
  }

  /** rb_next */
  next(x: number): number {
    if (this.right[x] !== NIL) return this.minimum(this.right[x]);
    let p = this.parent[x];
    while (p !== NIL && x === this.right[p]) { x = p; p = this.parent[p]; }
    return p;
  }

  /** rb_prev */
  prev(x: number): number {
    if (this.left[x] !== NIL) return this.maximum(this.left[x]);
    let p = this.parent[x];
    while (p !== NIL && x === this.left[p]) { x = p; p = this.parent[p]; }
    return p;
  }

  /** Checks the red-black invariants, parent links and in-order ordering (no overlaps); returns the first
   *  violation found, or null. For tests. */
  verify(): string | null {
    if (this.red[this.root] === 1) return 'red root';
    let problem: string | null = null;
    let nodes = 0;
    const blackHeight = (x: number): number => {
      if (x === NIL) return 1;
      nodes++;
      if (this.red[x] === 1 && (this.red[this.left[x]] === 1 || this.red[this.right[x]] === 1)) problem ??= `red node ${x} has a red child`;
      if (this.left[x] !== NIL && this.parent[this.left[x]] !== x) problem ??= `bad parent link under ${x}`;
      if (this.right[x] !== NIL && this.parent[this.right[x]] !== x) problem ??= `bad parent link under ${x}`;
      const bl = blackHeight(this.left[x]);
      const br = blackHeight(this.right[x]);
      if (bl !== br) problem ??= `black height differs under ${x}`;
      return bl + (this.red[x] === 1 ? 0 : 1);
    };
    blackHeight(this.root);
    if (nodes !== this.count) problem ??= `count ${this.count} but ${nodes} nodes reachable`;
    let prevHi = -Infinity;
    for (let x = this.first(); x !== NIL; x = this.next(x)) {
      if (this.hi[x] < this.lo[x]) problem ??= `node [${this.lo[x]}, ${this.hi[x]}] has pfn_hi < pfn_lo`;
      if (this.lo[x] <= prevHi) problem ??= `node [${this.lo[x]}, ${this.hi[x]}] overlaps or precedes the one before it`;
      prevHi = this.hi[x];
    }
    return problem;
  }
}
