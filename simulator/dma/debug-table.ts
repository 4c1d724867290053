// dma-debug's table of one device's live entries, keyed by DMA address, with the behaviour of a Map
// (get / set / delete / values() in insertion order) but without a Map's cost under churn: a driver maps and
// unmaps the same few addresses over and over (the IOVA caches hand them back), and deleting a key from a
// JS Map and adding it again makes the Map rebuild its storage every few calls. Here each address keeps a
// bucket that stays in the index while empty and is reused when the address is mapped again; empty buckets
// are swept once they outnumber the live ones.
import type { DmaEntry } from './state';

interface Bucket {
  /** the first live entry at this address (entries chain through DmaEntry.next); null while empty */
  head: DmaEntry | null;
  /** neighbours in insertion order, while not empty */
  prev: Bucket | null;
  next: Bucket | null;
}

/** Empty buckets kept before a sweep is considered. */
const SWEEP_SLACK = 64;

export class DmaEntryTable {
  private readonly index = new Map<number, Bucket>();
  private first: Bucket | null = null;
  private last: Bucket | null = null;
  private live = 0;
  private empty = 0;
  /** the bucket looked up last (an unmap finds its entry, then removes it; the next map reuses the address) */
  private lastDma = NaN;
  private lastBucket: Bucket | null = null;

  private bucket(dma: number): Bucket | undefined {
    if (dma === this.lastDma) return this.lastBucket!;
    const b = this.index.get(dma);
    if (b !== undefined) { this.lastDma = dma; this.lastBucket = b; }
    return b;
  }

  /** addresses with live entries */
  get size(): number { return this.live; }

  /** The first live entry at dma. */
  get(dma: number): DmaEntry | undefined {
    const b = this.bucket(dma);
    return b === undefined || b.head === null ? undefined : b.head;
  }

  /** Makes e the first entry at dma: a new address goes last in the order, a known one keeps its place. */
  set(dma: number, e: DmaEntry): this {
    this.filled(dma).head = e;
    return this;
  }

  /** Drops every entry at dma; true when there were some. */
  delete(dma: number): boolean {
    const b = this.bucket(dma);
    if (b === undefined || b.head === null) return false;
    this.emptied(b);
    return true;
  }

  /** add_dma_entry: e goes last in the chain of its address (e.dma). */
  add(e: DmaEntry): void {
    const b = this.filled(e.dma);
    if (b.head === null) { b.head = e; return; }
    let last = b.head;
    while (last.next) last = last.next;
    last.next = e;
  }

  /** Takes a live entry out of its address's chain. */
  remove(e: DmaEntry): void {
    const b = this.bucket(e.dma);
    if (b === undefined || b.head === null) return;
    if (b.head === e) {
      if (e.next) b.head = e.next; else this.emptied(b);
    } else {
      let p = b.head;
      while (p.next !== null && p.next !== e) p = p.next;
      if (p.next === e) p.next = e.next;
    }
    e.next = null;
  }

  /** The bucket of dma, in the order (with a null head when it was empty: the caller fills it). */
  private filled(dma: number): Bucket {
    let b = this.bucket(dma);
    if (b === undefined) {
      b = { head: null, prev: null, next: null };
      this.index.set(dma, b);
      this.lastDma = dma;
      this.lastBucket = b;
      this.empty++;
    }
    if (b.head === null) {
      b.prev = this.last;
      if (this.last !== null) this.last.next = b; else this.first = b;
      this.last = b;
      this.live++;
      this.empty--;
    }
    return b;
  }

  private emptied(b: Bucket): void {
    b.head = null;
    if (b.prev !== null) b.prev.next = b.next; else this.first = b.next;
    if (b.next !== null) b.next.prev = b.prev; else this.last = b.prev;
    b.prev = b.next = null;
    this.live--;
    this.empty++;
    if (this.empty > SWEEP_SLACK && this.empty > this.live) this.sweep();
  }

  /** The first live entry of each address, in insertion order. */
  *values(): Generator<DmaEntry> {
    for (let b = this.first; b !== null; b = b.next) yield b.head!;
  }

  private sweep(): void {
    for (const [dma, b] of this.index) if (b.head === null) this.index.delete(dma);
    this.empty = 0;
    this.lastDma = NaN;
    this.lastBucket = null;
  }
}
