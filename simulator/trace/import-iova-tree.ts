// Live mappings of one domain, keyed by IOVA: an AVL tree of non-overlapping [iova, end) ranges.
// Insert, remove and neighbour lookups are O(log n); removing a range costs O(log n) per mapping it touches
// (splitting a mapping a partial unmap cuts through).
// Nodes live in typed arrays indexed by node number rather than as objects: a big trace's heap holds a
// million report objects, and walking tree nodes scattered among them cost more in cache misses than
// the walk itself.

export interface LiveMapping {
  iova: number;
  end: number;              // exclusive
  paddr: number;
  line: number;             // trace line of the map event that created it
  ownerStep: number;        // step of the DMA call that made it, -1 for a direct iommu_map
  ownerDev: string | null;  // that call's device
  requested?: number;       // bytes the DMA API caller asked for
}

/** Node 0 is the empty tree: a sentinel of height 0, never handed out, so height[] needs no test for it. */
const NIL = 0;

export class IovaTree {
  private iova = new Float64Array(16);
  private end = new Float64Array(16);
  private paddr = new Float64Array(16);
  private left = new Int32Array(16);
  private right = new Int32Array(16);
  private height = new Int32Array(16);
  private line = new Int32Array(16);
  private ownerStep = new Int32Array(16);
  private ownerDev: Array<string | null> = [];
  private requested: Array<number | undefined> = [];
  private root = NIL;
  private freeList = NIL;          // released slots, chained through `left`
  private used = 1;                // slots ever handed out (and the sentinel)
  private count = 0;
  private lastMin = NIL;
  /** bytes currently mapped */
  bytes = 0;

  get size(): number { return this.count; }

  private grow(): void {
    const cap = this.iova.length * 2;
    const f64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const i32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    this.iova = f64(this.iova); this.end = f64(this.end); this.paddr = f64(this.paddr);
    this.left = i32(this.left); this.right = i32(this.right); this.height = i32(this.height);
    this.line = i32(this.line); this.ownerStep = i32(this.ownerStep);
  }

  private alloc(): number {
    if (this.freeList !== NIL) {
      const i = this.freeList;
      this.freeList = this.left[i];
      return i;
    }
    if (this.used === this.iova.length) this.grow();
    return this.used++;
  }

  private release(i: number): void {
    this.left[i] = this.freeList;
    this.freeList = i;
    this.ownerDev[i] = null;
    this.requested[i] = undefined;
  }

  private h(i: number): number { return this.height[i]; }
  private fix(i: number): void { this.height[i] = Math.max(this.h(this.left[i]), this.h(this.right[i])) + 1; }
  private rotateRight(i: number): number {
    const l = this.left[i];
    this.left[i] = this.right[l];
    this.right[l] = i;
    this.fix(i);
    this.fix(l);
    return l;
  }
  private rotateLeft(i: number): number {
    const r = this.right[i];
    this.right[i] = this.left[r];
    this.left[r] = i;
    this.fix(i);
    this.fix(r);
    return r;
  }
  private balance(i: number): number {
    this.fix(i);
    const bf = this.h(this.left[i]) - this.h(this.right[i]);
    if (bf > 1) {
      const l = this.left[i];
      if (this.h(this.left[l]) < this.h(this.right[l])) this.left[i] = this.rotateLeft(l);
      return this.rotateRight(i);
    }
    if (bf < -1) {
      const r = this.right[i];
      if (this.h(this.right[r]) < this.h(this.left[r])) this.right[i] = this.rotateRight(r);
      return this.rotateLeft(i);
    }
    return i;
  }

  /** Inserts node k, whose iova is `key`, below i; the new root of that subtree. */
  private insertAt(i: number, k: number, key: number): number {
    if (i === NIL) return k;
    const at = this.iova[i];
    if (key < at) this.left[i] = this.insertAt(this.left[i], k, key);
    else if (key > at) this.right[i] = this.insertAt(this.right[i], k, key);
    else throw new Error(`IovaTree: duplicate key 0x${key.toString(16)}`);   // callers remove overlaps first
    return this.balance(i);
  }

  private removeMinAt(i: number): number {
    if (this.left[i] === NIL) {
      this.lastMin = i;
      return this.right[i];
    }
    this.left[i] = this.removeMinAt(this.left[i]);
    return this.balance(i);
  }

  private removeAt(i: number, key: number): number {
    if (i === NIL) return NIL;
    if (key < this.iova[i]) this.left[i] = this.removeAt(this.left[i], key);
    else if (key > this.iova[i]) this.right[i] = this.removeAt(this.right[i], key);
    else {
      const l = this.left[i];
      const r = this.right[i];
      this.release(i);
      if (l === NIL) return r;
      if (r === NIL) return l;
      const rest = this.removeMinAt(r);
      const m = this.lastMin;
      this.left[m] = l;
      this.right[m] = rest;
      return this.balance(m);
    }
    return this.balance(i);
  }

  /** Node with the greatest iova <= x, or NIL. */
  private floorNode(x: number): number {
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      if (this.iova[n] <= x) { best = n; n = this.right[n]; } else n = this.left[n];
    }
    return best;
  }

  /** Node with the smallest iova >= x, or NIL. */
  private ceilingNode(x: number): number {
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      if (this.iova[n] >= x) { best = n; n = this.left[n]; } else n = this.right[n];
    }
    return best;
  }

  private mapping(i: number): LiveMapping {
    const m: LiveMapping = {
      iova: this.iova[i], end: this.end[i], paddr: this.paddr[i], line: this.line[i],
      ownerStep: this.ownerStep[i], ownerDev: this.ownerDev[i],
    };
    const req = this.requested[i];
    if (req !== undefined) m.requested = req;
    return m;
  }

  /** Whether x is mapped. */
  contains(x: number): boolean {
    const f = this.floorNode(x);
    return f !== NIL && this.end[f] > x;
  }

  /** The mapping containing x, if any. */
  find(x: number): LiveMapping | null {
    const f = this.floorNode(x);
    return f !== NIL && this.end[f] > x ? this.mapping(f) : null;
  }

  /** Whether anything is mapped in [lo, hi): one descent finds both neighbours of lo. */
  overlaps(lo: number, hi: number): boolean {
    let n = this.root;
    let below = NIL;
    let above = NIL;
    while (n !== NIL) {
      const k = this.iova[n];
      if (k === lo) return true;
      if (k < lo) { below = n; n = this.right[n]; } else { above = n; n = this.left[n]; }
    }
    return (below !== NIL && this.end[below] > lo) || (above !== NIL && this.iova[above] < hi);
  }

  /** Adds a mapping; the caller has removed anything it overlaps. */
  insert(iova: number, end: number, paddr: number, line: number, ownerStep: number, ownerDev: string | null, requested?: number): void {
    const k = this.alloc();
    this.iova[k] = iova;
    this.end[k] = end;
    this.paddr[k] = paddr;
    this.line[k] = line;
    this.ownerStep[k] = ownerStep;
    this.ownerDev[k] = ownerDev;
    this.requested[k] = requested;
    this.left[k] = NIL;
    this.right[k] = NIL;
    this.height[k] = 1;
    this.root = this.insertAt(this.root, k, iova);
    this.count++;
    this.bytes += end - iova;
  }

  /** Nodes overlapping [lo, hi), in IOVA order. */
  private overlappingNodes(lo: number, hi: number): number[] {
    const out: number[] = [];
    const first = this.floorNode(lo);
    let cur = first !== NIL && this.end[first] > lo ? first : this.ceilingNode(lo);
    while (cur !== NIL && this.iova[cur] < hi) {
      out.push(cur);
      cur = this.ceilingNode(this.iova[cur] + 1);
    }
    return out;
  }

  /** Mappings overlapping [lo, hi), in IOVA order. */
  overlapping(lo: number, hi: number): LiveMapping[] {
    return this.overlappingNodes(lo, hi).map(i => this.mapping(i));
  }

  /**
   * Removes [lo, hi) from whatever mappings it covers, keeping the pieces outside it (a partial unmap
   * splits a mapping). Returns the bytes that were mapped in the range.
   */
  removeRange(lo: number, hi: number): number {
    const exact = this.floorNode(lo);
    if (exact !== NIL && this.iova[exact] === lo && this.end[exact] === hi) {   // the common case
      this.root = this.removeAt(this.root, lo);
      this.count--;
      this.bytes -= hi - lo;
      return hi - lo;
    }
    let removed = 0;
    // one overlapping node at a time, in IOVA order: the pieces put back lie outside [lo, hi)
    const first = this.floorNode(lo);
    let cur = first !== NIL && this.end[first] > lo ? first : this.ceilingNode(lo);
    while (cur !== NIL && this.iova[cur] < hi) {
      const iova = this.iova[cur], end = this.end[cur], paddr = this.paddr[cur];
      const line = this.line[cur], ownerStep = this.ownerStep[cur], ownerDev = this.ownerDev[cur];
      this.root = this.removeAt(this.root, iova);
      this.count--;
      this.bytes -= end - iova;
      removed += Math.min(end, hi) - Math.max(iova, lo);
      if (iova < lo) this.insert(iova, lo, paddr, line, ownerStep, ownerDev);
      if (end > hi) this.insert(hi, end, paddr + (hi - iova), line, ownerStep, ownerDev);
      cur = this.ceilingNode(iova + 1);
    }
    return removed;
  }

  /** All mappings in IOVA order. */
  toArray(): LiveMapping[] {
    const out: LiveMapping[] = [];
    const stack: number[] = [];
    let n = this.root;
    while (n !== NIL || stack.length) {
      while (n !== NIL) { stack.push(n); n = this.left[n]; }
      n = stack.pop()!;
      out.push(this.mapping(n));
      n = this.right[n];
    }
    return out;
  }
}
