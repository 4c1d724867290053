// Property test: dma-debug's entry table (reused buckets, swept when mostly empty) behaves as the JS Map of
// entry chains it replaces: the same first entry per address, the same chains, the same insertion order of
// addresses (values()), through random add / remove / set / delete sequences, including address churn large
// enough to sweep.
// Replay a failure with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check also prints the seed and path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DmaEntryTable } from '../../simulator/dma/debug-table';
import { DEBUG_SINGLE, DMA_TO_DEVICE, DmaEntry, MapRecord } from '../../simulator/dma/state';
import type { Device } from '../../simulator/iommu/device';

const rec = new MapRecord('dma_map_single', {} as Device, 0, null, 0, 4096, 0, 4096, 0);
const entry = (dma: number, size: number) => new DmaEntry(rec, DEBUG_SINGLE, dma, size, DMA_TO_DEVICE, 0, 0, 0);

/**
 * The Map-based table: add appends to the chain at the address, remove unlinks (the first gives way to the
 * next). It keeps its own chain links (`next` here), so the two tables never share state.
 */
class RefTable {
  readonly map = new Map<number, DmaEntry>();
  readonly next = new Map<DmaEntry, DmaEntry | null>();
  add(e: DmaEntry): void {
    this.next.set(e, null);
    const first = this.map.get(e.dma);
    if (!first) { this.map.set(e.dma, e); return; }
    let last = first;
    while (this.next.get(last)) last = this.next.get(last)!;
    this.next.set(last, e);
  }
  remove(e: DmaEntry): void {
    const first = this.map.get(e.dma)!;
    const after = this.next.get(e) ?? null;
    if (first === e) {
      if (after) this.map.set(e.dma, after); else this.map.delete(e.dma);
    } else {
      let p = first;
      while (this.next.get(p) !== e) p = this.next.get(p)!;
      this.next.set(p, after);
    }
    this.next.delete(e);
  }
}

function chains(values: Iterable<DmaEntry>, next: (e: DmaEntry) => DmaEntry | null | undefined): number[][] {
  const out: number[][] = [];
  for (const first of values) {
    const c: number[] = [];
    for (let e: DmaEntry | null | undefined = first; e; e = next(e)) c.push(e.dma * 1000 + e.size);
    out.push(c);
  }
  return out;
}

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 0xdeb7ab);

test(`dma-debug entry table agrees with a Map of chains: order, chains, get (seed ${SEED})`, () => {
  assert.ok(Number.isSafeInteger(SEED), `IOMMU_LENS_FUZZ_SEED must be an integer, got ${process.env.IOMMU_LENS_FUZZ_SEED}`);
  let ops = 0;
  const op = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), slot: fc.nat(), size: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), slot: fc.nat() }) },
  );
  // few addresses (chains, reuse) or many (churn through sweeps); addresses past 2^32 like dma-iommu's
  const prop = fc.property(fc.constantFrom(4, 40, 400), fc.array(op, { minLength: 200, maxLength: 600 }), (spread, seq) => {
    const t = new DmaEntryTable();
    const ref = new RefTable();
    const live: DmaEntry[] = [];
    const addr = (slot: number) => 0xffff0000 + (slot % spread) * 0x4000;
    for (const o of seq) {
      ops++;
      if (o.kind === 'add') {
        const e = entry(addr(o.slot), o.size);
        t.add(e);
        ref.add(e);
        live.push(e);
      } else if (o.kind === 'remove') {
        if (live.length === 0) continue;
        const [e] = live.splice(o.pick % live.length, 1);
        t.remove(e);
        ref.remove(e);
      } else {
        assert.equal(t.get(addr(o.slot)), ref.map.get(addr(o.slot)));
      }
      assert.equal(t.size, ref.map.size);
      assert.deepEqual(chains(t.values(), e => e.next), chains(ref.map.values(), e => ref.next.get(e)));
    }
  });
  try {
    fc.assert(prop, { seed: SEED, numRuns: 60, includeErrorInReport: true });
  } catch (e) {
    throw new Error(`entry table property failed; replay with IOMMU_LENS_FUZZ_SEED=${SEED}\n${(e as Error).message}`);
  }
  assert.ok(ops >= 10_000, `only ${ops} operations ran`);
});

test('dma-debug entry table: set keeps a known address in place, delete drops the whole chain, sweeps keep order', () => {
  const t = new DmaEntryTable();
  const a = entry(0x1000, 1), b = entry(0x2000, 1), c = entry(0x1000, 2);
  t.set(0x1000, a);
  t.set(0x2000, b);
  t.set(0x1000, c);                       // replaces the first entry, keeps 0x1000 before 0x2000
  assert.deepEqual([...t.values()], [c, b]);
  assert.equal(t.delete(0x1000), true);
  assert.equal(t.delete(0x1000), false);
  assert.equal(t.get(0x1000), undefined);
  // churn through 1000 addresses (sweeps run), then the survivors come out in the order they were added
  for (let i = 0; i < 1000; i++) { const e = entry(0x100000 + i * 0x1000, 1); t.add(e); t.remove(e); }
  const d = entry(0x1000, 3);
  t.add(d);
  assert.deepEqual([...t.values()], [b, d]);
  assert.equal(t.size, 2);
});

test('dma-debug entry table: an address mapped again right after the sweep its unmap caused stays findable', () => {
  const t = new DmaEntryTable();
  const keep = entry(0x1000, 1);
  t.add(keep);
  // the 65th empty bucket (one live) triggers a sweep inside that remove
  let last = 0;
  for (let i = 0; i <= 64; i++) { last = 0x200000 + i * 0x1000; const e = entry(last, 1); t.add(e); t.remove(e); }
  const again = entry(last, 2);
  t.add(again);
  assert.equal(t.get(0x1000), keep);            // another address: the table looks elsewhere
  assert.equal(t.get(last), again);
  assert.deepEqual([...t.values()], [keep, again]);
});
