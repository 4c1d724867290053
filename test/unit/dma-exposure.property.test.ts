// Property test of exposure accounting: random buffer offsets and sizes mapped with dma_map_single on 4K, 16K
// and 64K IOMMU granules (4K CPU pages, large-page series on), interleaved with unmaps, each checked against a
// direct calculation from the kernel's rule: the device sees iova_align(iova_off + size) bytes from
// phys - iova_off, so exposed = iova_align(iova_off + size) - size and dma & (granule - 1) == iova_off.
// A second property checks the interval arithmetic (exposedBytes) against a byte-by-byte count.
// Replay a failure with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check also prints the seed and path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dmaMapSingle, dmaUnmapSingle, lastExposure } from '../../simulator/dma/api';
import { DMA_TO_DEVICE, devDma } from '../../simulator/dma/state';
import { exposedBytes } from '../../simulator/dma/exposure';
import { deviceAccess } from '../../simulator/iommu/access';
import { rig } from './dma-fixtures';

const GRANULES = [0x1000, 0x4000, 0x10000];
const MEM_BASE = 0x800000000;
const MEM_SIZE = 0x40000000;

type Op = { k: 'map'; where: number; size: number } | { k: 'unmap'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('map' as const), where: fc.integer({ min: 0, max: MEM_SIZE - 0x40000 }),
    size: fc.oneof(fc.integer({ min: 1, max: 0x100 }), fc.integer({ min: 1, max: 0x30000 })) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('unmap' as const), pick: fc.nat() }), weight: 2 },
);

function run(granule: number, ops: Op[]): void {
  const r = rig({ pgsizes: `[${granule / 1024}K]`, largePages: true });
  const dev = r.dev('plat');
  const live: Array<{ dma: number; size: number }> = [];
  for (const op of ops) {
    if (op.k === 'unmap') {
      if (!live.length) continue;
      const [m] = live.splice(op.pick % live.length, 1);
      dmaUnmapSingle(r.k, dev, m.dma, m.size, DMA_TO_DEVICE);
      assert.equal(deviceAccess(r.k, dev, m.dma, 1, 'read', undefined, false).ok, false, 'unmapped (strict) must fault');
      continue;
    }
    const phys = MEM_BASE + op.where;
    const off = phys % granule;
    const expected = Math.ceil((off + op.size) / granule) * granule - op.size;
    const dma = dmaMapSingle(r.k, dev, phys, op.size, DMA_TO_DEVICE);
    assert.equal(typeof dma, 'number', `map of ${op.size} at ${phys.toString(16)} failed`);
    const d = dma as number;
    assert.equal(d % granule, off, 'dma keeps iova_offset(phys)');
    assert.equal(lastExposure(r.k), expected, `exposure of ${op.size} bytes at offset ${off} on ${granule}`);
    assert.equal(devDma(dev).entries.get(d)!.rec.exposed, expected);
    const first = deviceAccess(r.k, dev, d, 1, 'read', undefined, false);
    const last = deviceAccess(r.k, dev, d + op.size - 1, 1, 'read', undefined, false);
    assert.ok(first.ok && first.paddr === phys && last.ok && last.paddr === phys + op.size - 1, 'translation of the buffer');
    // the bytes just outside the exposed window are not reachable (when not covered by another mapping)
    live.push({ dma: d, size: op.size });
  }
  for (const m of live) dmaUnmapSingle(r.k, dev, m.dma, m.size, DMA_TO_DEVICE);
  assert.equal(devDma(dev).live, 0);
}

const MAX_OPS_PER_CASE = 2000;               // lengths are uniform in 1..2000 so a failure can shrink
const CASES_PER_SEED = 140;                   // about 140,000 operations; at least 100,000 is checked
const MIN_OPS_PER_SEED = 100_000;
const seeds = [0xd3a5eed];
if (process.env.IOMMU_LENS_FUZZ_SEED) seeds.push(Number(process.env.IOMMU_LENS_FUZZ_SEED));

for (const seed of seeds) {
  test(`dma_map_single exposure = iova_align(iova_off + size) - size on 4K/16K/64K granules (seed ${seed}, >= ${MIN_OPS_PER_SEED} ops)`, () => {
    assert.ok(Number.isSafeInteger(seed), `IOMMU_LENS_FUZZ_SEED must be an integer, got ${process.env.IOMMU_LENS_FUZZ_SEED}`);
    let executed = 0;
    const prop = fc.property(fc.constantFrom(...GRANULES), fc.array(opArb, { minLength: 1, maxLength: MAX_OPS_PER_CASE, size: 'max' }),
      (granule, ops) => {
        executed += ops.length;
        run(granule, ops);
      });
    try {
      fc.assert(prop, { seed, numRuns: CASES_PER_SEED, includeErrorInReport: true });
    } catch (e) {
      throw new Error(`exposure property failed; replay with IOMMU_LENS_FUZZ_SEED=${seed}\n${(e as Error).message}`);
    }
    if (seed === seeds[0]) assert.ok(executed >= MIN_OPS_PER_SEED, `only ${executed} operations ran`);
  });
}

const rangeArb = fc.record({ paddr: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 0, max: 60 }) });

test('exposedBytes: bytes of the visible ranges outside the own ranges, counted byte by byte (seed 0x5eed)', () => {
  fc.assert(fc.property(fc.array(rangeArb, { maxLength: 5 }), fc.array(rangeArb, { maxLength: 5 }), (visible, own) => {
    const seen = new Uint8Array(300);
    for (const v of visible) for (let b = v.paddr; b < v.paddr + v.len; b++) seen[b] = 1;
    for (const o of own) for (let b = o.paddr; b < o.paddr + o.len; b++) seen[b] = 0;
    const pieces: Array<{ paddr: number; len: number }> = [];
    const n = exposedBytes(visible, own, pieces);
    assert.equal(n, seen.reduce((a, x) => a + x, 0));
    assert.equal(pieces.reduce((a, p) => a + p.len, 0), n);
    for (const p of pieces) for (let b = p.paddr; b < p.paddr + p.len; b++) assert.equal(seen[b], 1);
  }), { seed: 0x5eed, numRuns: 2000 });
});
