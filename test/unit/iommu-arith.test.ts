// The map/unmap paths' remainder (simulator/iommu/arith.ts) gives exactly what `%` gives, for addresses past
// 2^31 and 2^32, page sizes that are and are not powers of two, and the values its fast path must leave to `%`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { alignDown, modulo } from '../../simulator/iommu/arith';
import { IotlbGather, releaseGather, takeGather } from '../../simulator/iommu/map';

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

test('modulo(x, m) is x % m for edge values (negative, -0, NaN, Infinity, 2^53, fractions, m <= 0)', () => {
  const xs = [0, -0, 1, 4095, 4096, 0xffffc000, 0xffffc123, 2 ** 32, 2 ** 48 + 12345, 2 ** 53 - 1, 2 ** 53, 2 ** 60, -1, -4097,
    -(2 ** 40) - 3, 1.5, 4096.25, NaN, Infinity, -Infinity];
  const ms = [1, 3, 4096, 16384, 2 ** 21, 2 ** 30, 2 ** 32, 2 ** 52, 6000, 0.5, 1.5, 0, -4096, NaN, Infinity];
  for (const x of xs) for (const m of ms) {
    assert.ok(same(modulo(x, m), x % m), `modulo(${x}, ${m}) = ${modulo(x, m)}, % gives ${x % m}`);
    assert.ok(same(alignDown(x, m), x - (x % m)), `alignDown(${x}, ${m})`);
  }
});

test('modulo(x, m) is x % m for random integers below 2^53 and random divisors (seed 0xa217)', () => {
  fc.assert(fc.property(fc.maxSafeNat(), fc.oneof(fc.integer({ min: 0, max: 52 }).map(b => 2 ** b), fc.integer({ min: 1, max: 2 ** 40 })),
    (x, m) => same(modulo(x, m), x % m)), { seed: 0xa217, numRuns: 20_000 });
});

test('iommu_iotlb_gather: contiguous ranges merge, others stay apart in order; a released gather comes back empty', () => {
  const g = takeGather();
  g.add(0x10000, 0x1000);
  g.add(0x11000, 0x1000);          // contiguous: merged
  g.add(0x20000, 0x200000);        // a gap: a second range
  g.add(0x220000, 0x1000);         // contiguous with the second
  g.add(0x1000, 0x1000);           // below: a third, not merged backwards
  assert.deepEqual(Array.from({ length: g.count }, (_, i) => [g.start(i), g.size(i)]),
    [[0x10000, 0x2000], [0x20000, 0x201000], [0x1000, 0x1000]]);
  releaseGather(g);
  const again = takeGather();
  assert.equal(again.count, 0);
  assert.ok(again instanceof IotlbGather);
  releaseGather(again);
});
