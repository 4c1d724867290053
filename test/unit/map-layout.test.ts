// Address map, pure parts: viewport arithmetic, level of detail, hit testing, and the model built from a Report.
// Property tests replay with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check prints seed and path on failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addrToX, bandGeometry, clampViewport, fitAll, fitRange, panBy, ticks, xToAddr, zoomAt, type Limits, type Viewport,
} from '../../webview/layout';
import { aggregate, buildRangeIndex, groupPoints, itemAt, type Block, type RangeIndex } from '../../webview/lod';
import { CHUNK } from '../../webview/rangeIndex';
import { lowerBound, upperBound } from '../../webview/search';
import { computeScene, followRange, holeAt, indexModel } from '../../webview/scene';
import { hitTest, pickBlock } from '../../webview/hitTest';
import { buildMapModel, FLAG_BOUNCE, FLAG_EXPOSED, FLAG_FAULTED, FLAG_STALE, stepInfo, stringAt } from '../../webview/model';
import { syntheticReport } from '../../webview/synthetic';
import { smallReport } from './map-fixtures';

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 0x3a9b1e);
const RUNS = { seed: SEED, numRuns: 300 };

const lim48: Limits = { min: 0, max: 2 ** 48, minSpan: 256 };

test('address <-> pixel round-trips exactly, even one page wide in a 48-bit space', () => {
  const v: Viewport = { start: 2 ** 47 + 0x1000, span: 4096, width: 1024 };
  assert.equal(addrToX(v, 2 ** 47 + 0x1800), 512);
  assert.equal(xToAddr(v, 512), 2 ** 47 + 0x1800);
  assert.equal(addrToX(v, v.start + v.span), 1024);
});

test(`zoomAt keeps the address under the cursor fixed unless clamped (seed ${SEED})`, () => {
  fc.assert(fc.property(
    fc.double({ min: 0, max: 2 ** 40, noNaN: true }), fc.double({ min: 2 ** 12, max: 2 ** 40, noNaN: true }),
    fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.25, max: 4, noNaN: true }),
    (start, span, x, factor) => {
      const v = clampViewport({ start, span, width: 1000 }, lim48);
      const before = xToAddr(v, x);
      const z = zoomAt(v, x, factor, lim48);
      assert.ok(z.span >= lim48.minSpan && z.span <= lim48.max - lim48.min);
      assert.ok(z.start >= lim48.min && z.start + z.span <= lim48.max);
      const unclamped = v.span / factor >= lim48.minSpan && before - (x * v.span / factor) / 1000 >= 0;
      if (unclamped) assert.ok(Math.abs(addrToX(z, before) - x) < 1e-3, `anchor moved: ${addrToX(z, before)} vs ${x}`);
    }), RUNS);
});

test('zoom and pan clamp at the aperture edges and at the deepest zoom', () => {
  const lim: Limits = { min: 0x1000, max: 0x100000000, minSpan: 256 };
  const all = fitAll(800, lim);
  assert.deepEqual(all, { start: 0x1000, span: 0x100000000 - 0x1000, width: 800 });
  assert.deepEqual(zoomAt(all, 400, 0.5, lim), all, 'cannot zoom out past the whole range');
  let v = all;
  for (let i = 0; i < 64; i++) v = zoomAt(v, 0, 2, lim);
  assert.equal(v.span, 256);
  assert.equal(v.start, 0x1000, 'zooming at the left edge stays at the edge');
  assert.equal(panBy(v, 10_000, lim).start, 0x1000, 'cannot pan below min');
  assert.equal(panBy(v, -1e12, lim).start, 0x100000000 - 256, 'cannot pan past max');
  assert.equal(panBy(v, -100, lim).start, 0x1000 + 100 * (256 / 800));
});

test('fitRange centres a range with padding', () => {
  const v = fitRange(0x10000, 0x20000, 1000, lim48, 0.5);
  assert.equal(v.span, 0x20000);
  assert.equal(v.start, 0x8000);
});

test('ticks fall on power-of-two boundaries at least minPx apart', () => {
  const v: Viewport = { start: 0xffffc000 - 0x123456, span: 0x1000000, width: 1000 };
  const { step, ticks: t } = ticks(v, 80);
  assert.ok(Number.isInteger(Math.log2(step)));
  assert.ok(step / (v.span / v.width) >= 80 && step / 2 / (v.span / v.width) < 80);
  for (const k of t) {
    assert.equal(k.addr % step, 0);
    assert.ok(k.addr >= v.start && k.addr <= v.start + v.span);
  }
});

const rangeArb = fc.array(fc.record({ start: fc.integer({ min: 0, max: 1 << 20 }), size: fc.integer({ min: 1, max: 1 << 16 }) }),
  { minLength: 0, maxLength: 400 });

test(`level of detail: counts and byte sums per block equal the original ranges (seed ${SEED})`, () => {
  fc.assert(fc.property(rangeArb, fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 64, max: 1 << 21 }),
    fc.integer({ min: 50, max: 900 }), (ranges, vStart, vSpan, width) => {
      const flags = ranges.map((_, i) => 1 << (i % 3));
      const idx = buildRangeIndex(ranges.map(r => r.start), ranges.map(r => r.size), flags);
      const v: Viewport = { start: vStart, span: vSpan, width };
      const lod = aggregate(idx, v, { minItemPx: 3, columnPx: 2 });
      const end = vStart + vSpan;
      const clipped = (r: { start: number; size: number }) => Math.max(0, Math.min(end, r.start + r.size) - Math.max(vStart, r.start));
      const visible = ranges.filter(r => clipped(r) > 0);
      assert.equal(lod.visible, visible.length);
      assert.equal(lod.blocks.reduce((s, b) => s + b.count, 0), visible.length);
      assert.equal(lod.blocks.reduce((s, b) => s + b.bytes, 0), visible.reduce((s, r) => s + clipped(r), 0));
      for (const b of lod.blocks) {
        // Recount each block from its members (sorted positions first..last that are visible and in this block).
        let count = 0, bytes = 0, fl = 0, best = -1;
        for (let p = b.first; p <= b.last; p++) {
          const id = itemAt(idx, p);
          const c = clipped(ranges[id]);
          const wide = (c * width) / vSpan >= 3;
          if (c <= 0 || (b.count > 1 && wide)) continue;
          if (b.count > 1 && Math.floor(((Math.max(vStart, ranges[id].start) - vStart) * width / vSpan) / 2) !== Math.floor(b.x0 / 2)) continue;
          count++; bytes += c; fl |= flags[id];
          if (best < 0 || c > clipped(ranges[best])) best = id;
        }
        assert.equal(count, b.count);
        assert.equal(bytes, b.bytes);
        assert.equal(fl, b.flags);
        assert.equal(clipped(ranges[b.item]), clipped(ranges[best]), 'the drawn item has the most visible bytes');
      }
      const narrowBlocks = lod.blocks.filter(b => b.count > 1).length;
      assert.ok(narrowBlocks <= Math.ceil(width / 2) + 1, `${narrowBlocks} summed columns for ${width}px`);
    }), RUNS);
});

/** The range-by-range sweep the chunked one must equal (the map's LOD before chunk sums), over an index's arrays. */
function referenceAggregate(idx: RangeIndex, v: Viewport, minItemPx: number, columnPx: number): { blocks: Block[]; visible: number; visibleBytes: number } {
  const end = v.start + v.span;
  const scale = v.width / v.span;
  const blocks: Block[] = [];
  let cur: Block | null = null;
  let best = 0;
  let visible = 0;
  let visibleBytes = 0;
  for (let p = upperBound(idx.maxEnd, v.start); p < lowerBound(idx.start, end); p++) {
    const s = idx.start[p];
    const e = s + idx.size[p];
    if (e <= v.start) continue;
    const cs = Math.max(s, v.start);
    const ce = Math.min(e, end);
    const bytes = ce - cs;
    const x0 = (cs - v.start) * scale;
    const x1 = (ce - v.start) * scale;
    const oLo = idx.hasOther ? idx.otherStart[p] : NaN;
    const oHi = idx.hasOther ? oLo + idx.otherSize[p] : NaN;
    const item = itemAt(idx, p);
    visible++;
    visibleBytes += bytes;
    if (x1 - x0 >= minItemPx) {
      blocks.push({ x0, x1, count: 1, bytes, item, first: p, last: p, flags: idx.flags[p], otherLo: oLo, otherHi: oHi });
      continue;
    }
    const col = Math.floor(x0 / columnPx);
    if (cur && Math.floor(cur.x0 / columnPx) === col) {
      cur.count++; cur.bytes += bytes; cur.last = p; cur.flags |= idx.flags[p]; cur.x1 = Math.max(cur.x1, x1);
      if (oLo < cur.otherLo) cur.otherLo = oLo;
      if (oHi > cur.otherHi) cur.otherHi = oHi;
      if (bytes > best) { best = bytes; cur.item = item; }
    } else {
      if (cur) blocks.push(cur);
      cur = { x0, x1, count: 1, bytes, item, first: p, last: p, flags: idx.flags[p], otherLo: oLo, otherHi: oHi };
      best = bytes;
    }
  }
  if (cur) blocks.push(cur);
  return { blocks, visible, visibleBytes };
}

test(`level of detail: whole chunks of narrow ranges give the same blocks as range by range (seed ${SEED})`, () => {
  // dense runs of small ranges, so many chunks of CHUNK fall inside one column, with some wide ones and overlaps between
  const denseArb = fc.array(fc.record({ gap: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 4 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 4096 }) }), size: fc.oneof({ weight: 40, arbitrary: fc.integer({ min: 1, max: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 16 }) }), flag: fc.integer({ min: 0, max: 15 }), phys: fc.integer({ min: 0, max: 1 << 30 }) }),
  { minLength: 0, maxLength: CHUNK * 24, size: 'max' });
  fc.assert(fc.property(denseArb, fc.integer({ min: 0, max: 1 << 12 }), fc.integer({ min: 256, max: 1 << 18 }), fc.integer({ min: 50, max: 1500 }),
    fc.boolean(), (rows, vStart, vSpan, width, other) => {
      let at = 0;
      const starts = Float64Array.from(rows, r => (at += r.gap));
      const sizes = Float64Array.from(rows, r => r.size);
      const flags = Int32Array.from(rows, r => r.flag);
      const phys = { start: Float64Array.from(rows, r => r.phys), size: sizes };
      const idx = buildRangeIndex(starts, sizes, flags, other ? phys : undefined);
      const v: Viewport = { start: vStart, span: vSpan, width };
      const got = aggregate(idx, v, { minItemPx: 3, columnPx: 2 });
      const want = referenceAggregate(idx, v, 3, 2);
      assert.deepEqual(got, want);
    }), RUNS);
});

test('level of detail keeps 100,000 mappings to about one block per two pixels', () => {
  // 16 KiB mappings with a 16 KiB hole every fourth one, as the IOVA allocator leaves them.
  const starts = Array.from({ length: 100_000 }, (_, i) => 0x100000000 + i * 0x4000 + Math.floor(i / 4) * 0x4000);
  const sizes = starts.map(() => 0x4000);
  const idx = buildRangeIndex(starts, sizes);
  const lim: Limits = { min: 0, max: 2 ** 36, minSpan: 256 };
  const all = aggregate(idx, fitAll(1200, lim), { minItemPx: 3, columnPx: 2 });
  assert.equal(all.visible, 100_000);
  assert.ok(all.blocks.length <= 601, `${all.blocks.length} blocks`);
  assert.equal(all.visibleBytes, 100_000 * 0x4000);
  // Zoomed to 64 pages: every mapping is its own block.
  const near = aggregate(idx, { start: starts[5000], span: 64 * 0x4000, width: 1200 }, { minItemPx: 3, columnPx: 2 });
  assert.ok(near.blocks.every(b => b.count === 1));
  assert.equal(near.blocks.length, near.visible);
});

test('the synthetic benchmark report really has the asked number of mappings', () => {
  const m = buildMapModel(syntheticReport({ mappings: 3000, seed: 3 }), 'd1');
  assert.equal(m.mappings.iova.length, 3000);
  assert.ok(m.mappings.flags.some(f => f & FLAG_EXPOSED) && m.faults.length > 0);
  assert.deepEqual(m.problems, []);
});

test('groupPoints: one group per column, counts add up to the points in view', () => {
  const pts = Float64Array.from([0, 1, 2, 100, 101, 5000, 9999, 10000]);
  const g = groupPoints(pts, { start: 0, span: 10000, width: 100 }, 4);
  assert.deepEqual(g.map(x => x.count), [5, 1, 1]);
  assert.equal(g[1].first, 5);
});

test('followRange leaves a far-away bounce slot out of the physical view', () => {
  const blk = (lo: number, bytes: number) => ({ x0: 0, x1: 1, count: 1, bytes, item: 0, first: 0, last: 0, flags: 0, otherLo: lo, otherHi: lo + bytes });
  const blocks = [...Array.from({ length: 40 }, (_, i) => blk(0x810000000 + i * 0x4000, 0x4000)), blk(0x87c000000, 0x4000)];
  assert.deepEqual(followRange(blocks), { lo: 0x810000000, hi: 0x810000000 + 40 * 0x4000 });
  assert.deepEqual(followRange(blocks.slice(39)), { lo: 0x810000000 + 39 * 0x4000, hi: 0x87c004000 }, 'two blocks: both kept');
  assert.equal(followRange([]), null);
});

test('buildMapModel joins mappings with buffers, handles, faults and steps', () => {
  const m = buildMapModel(smallReport(), 'd1');
  const mp = m.mappings;
  assert.deepEqual([...mp.iova], [0xfffe0000, 0xffff0000, 0xffffc000], 'sorted by IOVA, bad entry skipped');
  assert.deepEqual(m.problems, ['domain d1 mapping 3 iova: "zz" is not an exact address']);
  assert.deepEqual(m.domain!.aperture, { start: 0, end: 2 ** 32 }, 'inclusive aperture end becomes exclusive');
  assert.deepEqual(m.reserved, [{ start: 0xfee00000, end: 0xfef00000, why: 'MSI' }]);
  // The exposed mapping: the dma handle 0xffffd000 says which 4 KiB the caller asked for.
  assert.equal(mp.reqOff[2], 0x1000);
  assert.equal(mp.reqLen[2], 4096);
  assert.equal(mp.exposed[2], 12288);
  assert.equal(mp.flags[2], FLAG_EXPOSED);
  assert.equal(stringAt(m, m.buffers.id[mp.buffer[2]]), 'buf');
  assert.equal(stringAt(m, mp.device[2]), 'xhci');
  assert.equal(mp.step[2], 2, 'step from the PTE event');
  assert.deepEqual(stepInfo(m, 2), { op: 'dma_map_single', site: 'xhci-ring.c:xhci_queue_bulk_tx' });
  // The read-only mapping that a write faulted in; its site comes from the driver-model API event.
  assert.equal(mp.flags[1], FLAG_FAULTED);
  assert.equal(mp.step[1], 3);
  assert.deepEqual(stepInfo(m, 3), { op: 'iommu_map', site: 'apu_gem.c:apu_bo_map' });
  assert.equal(stepInfo(m, 99), null);
  assert.equal(stringAt(m, mp.prot[1]), 'read');
  // The stale entry points into a bounce slot.
  assert.equal(mp.flags[0], FLAG_STALE | FLAG_BOUNCE);
  assert.deepEqual(m.faults.map(f => [f.iova, f.mapping]), [[0xffff0100, 1]], 'only faults of the domain devices');
});

test('buildMapModel falls back to the busiest domain and says so; never throws on an empty report', () => {
  const r = smallReport();
  assert.equal(buildMapModel(r, null).domain?.id, 'd1');
  const gone = buildMapModel(r, 'd9');
  assert.equal(gone.domain?.id, 'd1');
  assert.match(gone.problems[0], /d9 is not in this run; showing d1/);
  const empty = buildMapModel({ ...r, domains: [] }, null);
  assert.equal(empty.domain, null);
  assert.match(empty.message ?? '', /no IOMMU domains/);
});

test('hit testing finds the mapping, hole, reserved region, fault and buffer under the pointer', () => {
  const m = buildMapModel(smallReport(), 'd1');
  const idx = indexModel(m);
  const g = bandGeometry(340);
  const iv: Viewport = { start: 0xfffd0000, span: 0x40000, width: 1024 };
  const scene = computeScene(m, idx, iv, fitAll(1024, idx.physLimits), true);
  const xOf = (a: number) => g.gutter + addrToX(iv, a);
  const yIova = g.iova.y + g.iova.h / 2;
  assert.deepEqual(hitTest(scene, g, m, idx, xOf(0xffffe000), yIova), { kind: 'mapping', band: 'iova', item: 2 });
  assert.deepEqual(hitTest(scene, g, m, idx, xOf(0xfffd8000), yIova), { kind: 'hole', start: 0, end: 0xfffe0000 },
    'the hole below the lowest mapping starts at the aperture');
  assert.deepEqual(holeAt(m, idx, 0xffffa000), { start: 0xffff8000, end: 0xffffc000 });
  assert.deepEqual(hitTest(scene, g, m, idx, xOf(0xffffa000), yIova), { kind: 'hole', start: 0xffff8000, end: 0xffffc000 });
  assert.deepEqual(hitTest(scene, g, m, idx, xOf(0xffff0100), g.markers.y + 4), { kind: 'faults', first: 0, count: 1 });
  assert.deepEqual(hitTest(scene, g, m, idx, xOf(0xfffe2000), g.markers.y + 13), { kind: 'mapping', band: 'iova', item: 0 },
    'the stale diamond');
  assert.equal(hitTest(scene, g, m, idx, g.gutter - 5, yIova), null, 'the gutter is not the map');
  const iv2: Viewport = { start: 0xfed00000, span: 0x300000, width: 1024 };
  const s2 = computeScene(m, idx, iv2, scene.physView, true);
  assert.deepEqual(hitTest(s2, g, m, idx, g.gutter + addrToX(iv2, 0xfee80000), yIova), { kind: 'reserved', index: 0 });
  const pv: Viewport = { start: 0x800004000, span: 0x4000, width: 1024 };
  const s3 = computeScene(m, idx, iv, pv, false);
  const bx = g.gutter + addrToX(pv, 0x800005800);
  assert.deepEqual(hitTest(s3, g, m, idx, bx, g.buffers.y + g.buffers.h / 2), { kind: 'buffer', index: [...m.buffers.id].findIndex(i => stringAt(m, i) === 'buf') });
  assert.deepEqual(hitTest(s3, g, m, idx, bx, g.phys.y + g.phys.h / 2), { kind: 'mapping', band: 'phys', item: 2 });
});

test('pickBlock prefers a block containing the pointer, then the narrowest', () => {
  const b = (x0: number, x1: number, item: number) => ({ x0, x1, count: 1, bytes: 1, item, first: 0, last: 0, flags: 0, otherLo: 0, otherHi: 0 });
  assert.equal(pickBlock([b(0, 100, 1), b(40, 42, 2)], 41)?.item, 2);
  assert.equal(pickBlock([b(0, 10, 1), b(12, 13, 2)], 11.5)?.item, 2, 'within the slack the nearest wins');
  assert.equal(pickBlock([b(0, 10, 1), b(5, 6, 2)], 5.5)?.item, 2, 'both contain the pointer: the narrower wins');
  assert.equal(pickBlock([b(0, 10, 1)], 20), null);
  assert.equal(pickBlock([b(10, 10.2, 7)], 12)?.item, 7, 'a sub-pixel block is still hoverable');
});
