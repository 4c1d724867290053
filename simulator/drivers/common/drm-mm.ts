// A drm_mm-style range allocator (drivers/gpu/drm/drm_mm.c) for drivers that own their IOVA space: nodes in
// [start, start + size), inserted best fit (DRM_MM_INSERT_BEST: the smallest hole that fits, at its lowest
// suitably aligned address) or reserved at a fixed address (drm_mm_reserve_node).
export interface MmNode { start: number; size: number }

export class DrmMm {
  /** allocated nodes, sorted by start */
  private readonly nodes: MmNode[] = [];

  constructor(readonly start: number, readonly size: number) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || size <= 0) throw new RangeError(`drm_mm_init(${start}, ${size}): bad range`);
  }

  get end(): number { return this.start + this.size; }

  /** drm_mm_insert_node_generic(size, alignment, DRM_MM_INSERT_BEST); null for -ENOSPC. */
  insert(size: number, alignment: number): MmNode | null {
    if (size <= 0) return null;
    let best: { at: number; hole: number } | null = null;
    let holeStart = this.start;
    for (let i = 0; i <= this.nodes.length; i++) {
      const holeEnd = i < this.nodes.length ? this.nodes[i].start : this.end;
      const at = alignment > 1 ? Math.ceil(holeStart / alignment) * alignment : holeStart;
      const hole = holeEnd - holeStart;
      if (at + size <= holeEnd && (!best || hole < best.hole)) best = { at, hole };
      if (i < this.nodes.length) holeStart = this.nodes[i].start + this.nodes[i].size;
    }
    return best ? this.add({ start: best.at, size }) : null;
  }

  /** drm_mm_reserve_node: a node at a fixed address; null (-ENOSPC) when it is outside or overlaps. */
  reserve(start: number, size: number): MmNode | null {
    if (size <= 0 || start < this.start || start + size > this.end) return null;
    if (this.nodes.some(n => n.start < start + size && start < n.start + n.size)) return null;
    return this.add({ start, size });
  }

  remove(node: MmNode): boolean {
    const i = this.nodes.indexOf(node);
    if (i < 0) return false;
    this.nodes.splice(i, 1);
    return true;
  }

  list(): readonly MmNode[] {
    return this.nodes;
  }

  private add(node: MmNode): MmNode {
    let i = 0;
    while (i < this.nodes.length && this.nodes[i].start < node.start) i++;
    this.nodes.splice(i, 0, node);
    return node;
  }
}
