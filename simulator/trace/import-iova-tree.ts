// Live mappings of one domain, keyed by IOVA: an AVL tree of non-overlapping [iova, end) ranges.
// Insert, remove and neighbour lookups are O(log n); removing a range costs O(log n) per mapping it touches
// (splitting a mapping a partial unmap cuts through).

export interface LiveMapping {
  iova: number;
  end: number;              // exclusive
  paddr: number;
  line: number;             // trace line of the map event that created it
  ownerStep: number;        // step of the DMA call that made it, -1 for a direct iommu_map
  ownerDev: string | null;  // that call's device
  requested?: number;       // bytes the DMA API caller asked for
}

/** A tree node is the mapping itself (one object per live mapping). */
interface Node extends LiveMapping {
  left: Node | null;
  right: Node | null;
  height: number;
}

const h = (n: Node | null) => (n ? n.height : 0);
function fix(n: Node): Node {
  n.height = Math.max(h(n.left), h(n.right)) + 1;
  return n;
}
function rotateRight(n: Node): Node {
  const l = n.left!;
  n.left = l.right;
  l.right = fix(n);
  return fix(l);
}
function rotateLeft(n: Node): Node {
  const r = n.right!;
  n.right = r.left;
  r.left = fix(n);
  return fix(r);
}
function balance(n: Node): Node {
  fix(n);
  const bf = h(n.left) - h(n.right);
  if (bf > 1) {
    if (h(n.left!.left) < h(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (h(n.right!.right) < h(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

function insertNode(n: Node | null, m: Node): Node {
  if (!n) return m;
  if (m.iova < n.iova) n.left = insertNode(n.left, m);
  else if (m.iova > n.iova) n.right = insertNode(n.right, m);
  else throw new Error(`IovaTree: duplicate key 0x${m.iova.toString(16)}`);   // callers remove overlaps first
  return balance(n);
}

function removeMin(n: Node): { rest: Node | null; min: Node } {
  if (!n.left) return { rest: n.right, min: n };
  const r = removeMin(n.left);
  n.left = r.rest;
  return { rest: balance(n), min: r.min };
}

function removeNode(n: Node | null, iova: number): Node | null {
  if (!n) return null;
  if (iova < n.iova) n.left = removeNode(n.left, iova);
  else if (iova > n.iova) n.right = removeNode(n.right, iova);
  else {
    if (!n.left || !n.right) return n.left ?? n.right;
    const { rest, min } = removeMin(n.right);
    min.right = rest;
    min.left = n.left;
    return balance(min);
  }
  return balance(n);
}

export class IovaTree {
  private root: Node | null = null;
  private count = 0;
  /** bytes currently mapped */
  bytes = 0;

  get size(): number { return this.count; }

  /** The mapping with the greatest iova <= x. */
  floor(x: number): LiveMapping | null {
    let n = this.root;
    let best: Node | null = null;
    while (n) {
      if (n.iova <= x) { best = n; n = n.right; } else n = n.left;
    }
    return best ? best : null;
  }

  /** The mapping with the smallest iova >= x. */
  ceiling(x: number): LiveMapping | null {
    let n = this.root;
    let best: Node | null = null;
    while (n) {
      if (n.iova >= x) { best = n; n = n.left; } else n = n.right;
    }
    return best ? best : null;
  }

  /** The mapping containing x, if any. */
  find(x: number): LiveMapping | null {
    const m = this.floor(x);
    return m && m.end > x ? m : null;
  }

  /** Adds a mapping; the caller has removed anything it overlaps. */
  insert(iova: number, end: number, paddr: number, line: number, ownerStep: number, ownerDev: string | null, requested?: number): void {
    const node: Node = { iova, end, paddr, line, ownerStep, ownerDev, requested, left: null, right: null, height: 1 };
    this.root = insertNode(this.root, node);
    this.count++;
    this.bytes += end - iova;
  }

  /** Whether anything is mapped in [lo, hi): one descent finds both neighbours of lo. */
  overlaps(lo: number, hi: number): boolean {
    let n = this.root;
    let below: Node | null = null;
    let above: Node | null = null;
    while (n) {
      if (n.iova === lo) return true;
      if (n.iova < lo) { below = n; n = n.right; } else { above = n; n = n.left; }
    }
    return (below !== null && below.end > lo) || (above !== null && above.iova < hi);
  }

  /** Mappings overlapping [lo, hi), in IOVA order. */
  overlapping(lo: number, hi: number): LiveMapping[] {
    const out: LiveMapping[] = [];
    const first = this.floor(lo);
    let cur = first && first.end > lo ? first : this.ceiling(lo);
    while (cur && cur.iova < hi) {
      out.push(cur);
      cur = this.ceiling(cur.iova + 1);
    }
    return out;
  }

  /**
   * Removes [lo, hi) from whatever mappings it covers, keeping the pieces outside it (a partial unmap
   * splits a mapping). Returns the bytes that were mapped in the range.
   */
  removeRange(lo: number, hi: number): number {
    const exact = this.floor(lo);
    if (exact && exact.iova === lo && exact.end === hi) {       // the common case: unmap what was mapped
      this.root = removeNode(this.root, lo);
      this.count--;
      this.bytes -= hi - lo;
      return hi - lo;
    }
    let removed = 0;
    for (const m of this.overlapping(lo, hi)) {
      this.root = removeNode(this.root, m.iova);
      this.count--;
      this.bytes -= m.end - m.iova;
      removed += Math.min(m.end, hi) - Math.max(m.iova, lo);
      if (m.iova < lo) this.insert(m.iova, lo, m.paddr, m.line, m.ownerStep, m.ownerDev);
      if (m.end > hi) this.insert(hi, m.end, m.paddr + (hi - m.iova), m.line, m.ownerStep, m.ownerDev);
    }
    return removed;
  }

  /** All mappings in IOVA order. */
  toArray(): LiveMapping[] {
    const out: LiveMapping[] = [];
    const stack: Node[] = [];
    let n = this.root;
    while (n || stack.length) {
      while (n) { stack.push(n); n = n.left; }
      n = stack.pop()!;
      out.push(n);
      n = n.right;
    }
    return out;
  }
}
