// Property test: the IOTLB (per-domain, per-page-size maps with a fill-order list) against a reference model
// with the straightforward layout — one insertion-ordered Map keyed by "domain:size:iova", FIFO eviction of
// its first key, invalidation by scanning every entry. Random fills (some unaligned, some refills), lookups,
// range and domain invalidations and stale marking; after every operation the entries, their order and their
// stale flags must agree, and so must every lookup.
// Replay a failure with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check also prints the seed and path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventBus } from '../../simulator/core/events';
import { Iotlb, IotlbEntry } from '../../simulator/iommu/iotlb';

class RefIotlb {
  readonly entries = new Map<string, IotlbEntry>();
  constructor(readonly capacity: number) {}
  lookup(domain: string, iova: number, sizes: readonly number[]): IotlbEntry | undefined {
    for (const s of sizes) {
      const e = this.entries.get(`${domain}:${s}:${iova - (iova % s)}`);
      if (e) return e;
    }
    return undefined;
  }
  fill(e: Omit<IotlbEntry, 'stale'>): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(`${e.domain}:${e.size}:${e.iova}`, { ...e, stale: false });
  }
  private overlapping(domain: string, iova: number, size: number): Array<[string, IotlbEntry]> {
    return [...this.entries].filter(([, e]) => e.domain === domain && e.iova < iova + size && e.iova + e.size > iova);
  }
  invalidateRange(domain: string, iova: number, size: number): void {
    for (const [k] of this.overlapping(domain, iova, size)) this.entries.delete(k);
  }
  invalidateDomain(domain: string): void {
    for (const [k, e] of [...this.entries]) if (e.domain === domain) this.entries.delete(k);
  }
  markStale(domain: string, iova: number, size: number): void {
    for (const [, e] of this.overlapping(domain, iova, size)) e.stale = true;
  }
}

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 0x10715b);
const K4 = 4096;
const M2 = 2 ** 21;
const SIZES = [K4, 4 * K4, M2];
const DOMAINS = ['d1', 'd2', 'd3'];
/** IOVAs near 2^32 (past the 31-bit range) and near 0, so ranges overlap and collide often. */
const BASES = [0, 0xffe00000, 0x7ffff000 * 2];

const iovaArb = fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: 0, max: 1200 })).map(([b, k]) => b + k * K4);
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('fill' as const), domain: fc.constantFrom(...DOMAINS), iova: iovaArb,
    size: fc.constantFrom(...SIZES), aligned: fc.boolean(), paddr: fc.integer({ min: 0, max: 2 ** 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('range' as const), domain: fc.constantFrom(...DOMAINS), iova: iovaArb,
    size: fc.oneof(fc.constantFrom(K4, 3 * K4, M2, 2 * M2, 2 ** 33), fc.integer({ min: 1, max: 64 }).map(n => n * K4)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stale' as const), domain: fc.constantFrom(...DOMAINS), iova: iovaArb,
    size: fc.constantFrom(K4, 5 * K4, M2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('domain' as const), domain: fc.constantFrom(...DOMAINS) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lookup' as const), domain: fc.constantFrom(...DOMAINS), iova: iovaArb }) },
);

test(`IOTLB: fills, lookups, range and domain invalidation, stale marks agree with the reference (seed ${SEED})`, () => {
  assert.ok(Number.isSafeInteger(SEED), `IOMMU_LENS_FUZZ_SEED must be an integer, got ${process.env.IOMMU_LENS_FUZZ_SEED}`);
  let ops = 0;
  const prop = fc.property(fc.constantFrom(0, 1, 8, 64), fc.array(op, { minLength: 100, maxLength: 300 }), (capacity, seq) => {
    const bus = new EventBus();
    const tlb = new Iotlb('i0', capacity, bus);
    const ref = new RefIotlb(capacity);
    for (const o of seq) {
      ops++;
      if (o.kind === 'fill') {
        const iova = o.aligned ? o.iova - (o.iova % o.size) : o.iova;
        const e = { domain: o.domain, iova, size: o.size, paddr: o.paddr, prot: 3 };
        tlb.fill(e);
        ref.fill(e);
      } else if (o.kind === 'range') {
        tlb.invalidateRange(o.domain, o.iova, o.size, 'test');
        ref.invalidateRange(o.domain, o.iova, o.size);
      } else if (o.kind === 'stale') {
        tlb.markStale(o.domain, o.iova, o.size);
        ref.markStale(o.domain, o.iova, o.size);
      } else if (o.kind === 'domain') {
        tlb.invalidateDomain(o.domain, 'test');
        ref.invalidateDomain(o.domain);
      } else {
        assert.deepEqual(tlb.lookup(o.domain, o.iova, SIZES), ref.lookup(o.domain, o.iova, SIZES), `lookup ${o.domain} 0x${o.iova.toString(16)}`);
      }
      assert.deepEqual(tlb.list(), [...ref.entries.values()]);
    }
  });
  try {
    fc.assert(prop, { seed: SEED, numRuns: 200, includeErrorInReport: true });
  } catch (e) {
    throw new Error(`IOTLB property failed; replay with IOMMU_LENS_FUZZ_SEED=${SEED}\n${(e as Error).message}`);
  }
  assert.ok(ops >= 20_000, `only ${ops} operations ran`);
});

test('IOTLB: a refill keeps its place in the replacement order; a full IOTLB evicts the oldest fill first', () => {
  const tlb = new Iotlb('i0', 2, new EventBus());
  tlb.fill({ domain: 'd1', iova: 0x1000, size: K4, paddr: 0xa000, prot: 1 });
  tlb.fill({ domain: 'd1', iova: 0x2000, size: K4, paddr: 0xb000, prot: 1 });
  // full: the oldest (0x1000) goes before the refill of 0x2000, which keeps its slot
  tlb.fill({ domain: 'd1', iova: 0x2000, size: K4, paddr: 0xc000, prot: 3 });
  assert.deepEqual(tlb.list().map(e => [e.iova, e.paddr]), [[0x2000, 0xc000]]);
  tlb.fill({ domain: 'd2', iova: 0x1000, size: K4, paddr: 0xd000, prot: 1 });
  tlb.fill({ domain: 'd2', iova: 0x3000, size: K4, paddr: 0xe000, prot: 1 });
  assert.deepEqual(tlb.list().map(e => `${e.domain}:${e.iova.toString(16)}`), ['d2:1000', 'd2:3000']);
  assert.equal(tlb.lookup('d1', 0x2000, [K4]), undefined);
  assert.equal(tlb.lookup('d2', 0x3fff, [K4])?.paddr, 0xe000);
});
