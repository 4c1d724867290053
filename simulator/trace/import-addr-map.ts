// A hash table from addresses (integers in [0, 2^53)) to small non-negative integers (a step, a domain's
// index), with open addressing in typed arrays: a trace sets or drops an entry for nearly every event, and a
// JS Map keyed by numbers above 2^31 boxes, hashes and allocates each key.

const EMPTY = -1;
const GONE = -2;                 // a deleted slot: probing goes on past it
const TWO_32 = 2 ** 32;

export class AddrMap {
  private keys = new Float64Array(1024).fill(EMPTY);
  private vals = new Int32Array(1024);
  private mask = 1023;
  private shift = 22;            // 32 - log2(capacity): the slot is the product's top bits
  private used = 0;              // live + deleted slots
  size = 0;

  /** Fibonacci hashing: addresses share their low bits (page, slot alignment), the product's top bits do not. */
  private slot(addr: number): number {
    const lo = addr >>> 0;                          // addr mod 2^32
    const hi = (addr / TWO_32) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding addr, or -1. */
  private find(addr: number): number {
    const keys = this.keys;
    for (let i = this.slot(addr); ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === addr) return i;
      if (k === EMPTY) return -1;
    }
  }

  get(addr: number): number | undefined {
    const i = this.find(addr);
    return i < 0 ? undefined : this.vals[i];
  }

  set(addr: number, v: number): void {
    const keys = this.keys;
    let free = -1;
    let i = this.slot(addr);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === addr) { this.vals[i] = v; return; }
      if (k === EMPTY) break;
      if (k === GONE && free < 0) free = i;
    }
    if (free >= 0) i = free;
    else this.used++;
    keys[i] = addr;
    this.vals[i] = v;
    this.size++;
    if (this.used * 2 > this.mask) this.rehash();
  }

  delete(addr: number): boolean {
    const i = this.find(addr);
    if (i < 0) return false;
    this.keys[i] = GONE;
    this.size--;
    return true;
  }

  /** Every value, in no particular order. */
  values(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] >= 0) out.push(this.vals[i]);
    return out;
  }

  /** Room for twice the live entries (deleted slots are dropped). */
  private rehash(): void {
    const oldKeys = this.keys, oldVals = this.vals;
    let cap = 1024, shift = 22;
    while (cap < this.size * 4) { cap *= 2; shift--; }
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = shift;
    this.used = this.size;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j];
      if (k < 0) continue;
      let i = this.slot(k);
      while (this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.vals[i] = oldVals[j];
    }
  }
}
