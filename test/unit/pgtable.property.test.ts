// Property test: >= 100,000 random iommu_map / iommu_unmap / iova_to_phys operations through the public
// core against a reference model (a map of 4K pages), on 4K/2M/1G and 16K/32M domains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadSession } from '../../simulator/session';
import { iommuMap, iommuUnmap, iovaToPhys } from '../../simulator/iommu/map';

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 20261121);
const OPS = 100_000;

function makeDomain(bitmap: string) {
  const s = loadSession(`
platform:
  memory: { base: 0x80000000, size: 64G }
  iommus: [ { name: i0, model: generic, pgsize_bitmap: ${bitmap}, default_domain: identity } ]
  devices: [ { name: dev, iommu: i0, streams: [1] } ]
steps:
  - probe: dev
  - iommu_domain_alloc: { dev: dev }
    as: d
`, 'prop.iommu.yaml', { collectEvents: false });
  s.runAll();
  return { k: s.kernel, d: s.kernel.domains.get('d2')! };
}

const bitmapOf = (granule: number) => granule === 4096 ? [4096, 2 ** 21, 2 ** 30] : [16384, 2 ** 25];

/**
 * Reference model written from the kernel's rules, independent of the page-table code: leaves keyed by
 * IOVA, and the set of next-level tables that exist for each block size (tables are never freed by
 * unmapping leaves, and unmapping a whole table-level size frees the table: io-pgtable-arm).
 */
class RefTables {
  leaves = new Map<number, { paddr: number; size: number }>();
  tables = new Set<string>();          // `${blockSize}:${base}`: a table replaces a block-level entry
  constructor(readonly sizes: number[]) {}
  private pick(iova: number, paddr: number, size: number) {
    let best = 0;
    for (const s of this.sizes) if (s <= size && iova % s === 0 && paddr % s === 0) best = s;
    return best;
  }
  private leafAt(a: number, s: number) {
    const l = this.leaves.get(a - (a % s));
    return l && l.size === s ? l : undefined;
  }
  map(iova: number, paddr: number, size: number): number {
    let done = 0;
    while (done < size) {
      const cur = iova + done, p = this.pick(cur, paddr + done, size - done);
      for (const s of this.sizes) if (s > p && this.leafAt(cur, s)) { this.unmap(iova, done); return -17; }
      if (this.leafAt(cur, p) || this.tables.has(`${p}:${cur}`)) { this.unmap(iova, done); return -17; }
      for (const s of this.sizes) if (s > p) this.tables.add(`${s}:${cur - (cur % s)}`);
      this.leaves.set(cur, { paddr: paddr + done, size: p });
      done += p;
    }
    return 0;
  }
  unmap(iova: number, size: number): number {
    let done = 0;
    outer: while (done < size) {
      const cur = iova + done, p = this.pick(cur, cur, size - done);
      for (const s of [...this.sizes].reverse()) {
        if (s <= p) break;
        const base = cur - (cur % s);
        if (this.leafAt(cur, s)) { this.leaves.delete(base); done += s; continue outer; }
        if (!this.tables.has(`${s}:${base}`)) break outer;
      }
      if (this.leafAt(cur, p)) { this.leaves.delete(cur); done += p; continue; }
      if (!this.tables.has(`${p}:${cur}`)) break;
      this.tables.delete(`${p}:${cur}`);
      for (const [a] of this.leaves) if (a >= cur && a < cur + p) this.leaves.delete(a);
      for (const t of [...this.tables]) { const [ts, b] = t.split(':').map(Number); if (ts < p && b >= cur && b < cur + p) this.tables.delete(t); }
      done += p;
    }
    return done;
  }
  phys(a: number): number {
    for (const s of this.sizes) { const l = this.leafAt(a, s); if (l) return l.paddr + (a % s); }
    return 0;
  }
  sortedLeaves() {
    return [...this.leaves].sort((x, y) => x[0] - y[0]).map(([a, l]) => [a, l.paddr, l.size]);
  }
}

for (const [bitmap, granule] of [['[4K, 2M, 1G]', 4096], ['[16K, 32M]', 16384]] as const) {
  test(`page table agrees with a reference model over ${OPS} random ops (${bitmap}), seed ${SEED}`, () => {
    const big = granule === 4096 ? 2 ** 21 : 2 ** 25;
    // ops on a 64-granule window of a few large-page regions so maps collide, blocks form and split
    const op = fc.record({
      kind: fc.constantFrom('map', 'map', 'unmap', 'phys'),
      region: fc.integer({ min: 0, max: 3 }),
      page: fc.integer({ min: 0, max: 600 }),
      pages: fc.constantFrom(1, 1, 2, 3, 8, big / granule, 2 * big / granule),
      pshift: fc.integer({ min: 0, max: 3 }),
    });
    let count = 0;
    fc.assert(fc.property(fc.array(op, { minLength: 1000, maxLength: 1000 }), ops => {
      // every run starts from an empty domain, so a failing run replays on its own (seed + path)
      const { k, d } = makeDomain(bitmap);
      const ref = new RefTables(bitmapOf(granule));
      for (const o of ops) {
        count++;
        const iova = o.region * 4 * big + o.page * granule;
        const paddr = 0x100000000 + o.pshift * big + o.page * granule;
        const size = o.pages * granule;
        if (o.kind === 'map') {
          const want = ref.map(iova, paddr, size);
          assert.equal(iommuMap(k, d, iova, paddr, size, 3), want === 0 ? 0 : '-EEXIST', `map ${iova.toString(16)} +${size.toString(16)}`);
        } else if (o.kind === 'unmap') {
          assert.equal(iommuUnmap(k, d, iova, size), ref.unmap(iova, size), `unmap ${iova.toString(16)} +${size.toString(16)}`);
        } else {
          assert.equal(iovaToPhys(d, iova + 0x10), ref.phys(iova + 0x10));
          // the descriptor-reading walk (the walk panel) and the lookup agree on whether a leaf translates it
          const w = d.pgtable!.walk(iova + 0x10);
          assert.equal(w[w.length - 1].outcome === 'leaf', d.pgtable!.lookup(iova + 0x10) !== null);
        }
      }
      // and the tables, read back leaf by leaf, hold exactly the model's leaves
      const leaves = [...d.pgtable!.leaves()].map(l => [l.iova, l.paddr, l.size]);
      assert.deepEqual(leaves, ref.sortedLeaves());
    }), { seed: SEED, numRuns: OPS / 1000, endOnFailure: true });
    assert.ok(count >= OPS);
  });
}
