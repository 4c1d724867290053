// Property test for the IOVA allocator: random alloc/free/rcache sequences (>= 100,000 operations per seed)
// against a deliberately naive reference model. The model does not replay the kernel's tree walk: it
// predicts each placement from the rule the walk implements ("the highest free, aligned slot below the
// cached node, else the highest one between the cached node and the limit"), over a plain sorted array.
// Checked on every step: results, findings, no overlap, bounds, alignment; periodically the whole range list,
// the magazines, the cursors and the red-black invariants.
// Replay a failure with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check also prints the seed and path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initIovaDomain, isIovaRefusal, type IovaDomain } from '../../simulator/dma/iova';
import { IOVA_MAG_SIZE } from '../../simulator/dma/iova-rcache';

interface Config { name: string; granule: number; start: number; limits: number[]; reserved: Array<[number, number]> }
const CONFIGS: Config[] = [
  // 4 KiB granule: 256 pfns below 4 GiB (dma_32bit_pfn 0x100000) and 256 above
  { name: '4k-edge', granule: 0x1000, start: 0xfff00, limits: [0xfff7f, 0xfffbf, 0xfffff, 0x10003f, 0x1000ff], reserved: [[0xfff40, 0xfff43], [0x100000, 0x100003]] },
  // 16 MiB granule (large-page series): dma_32bit_pfn is 0x100
  { name: '16m-small', granule: 0x1000000, start: 1, limits: [0x3f, 0x7f, 0xff, 0x17f, 0x1ff], reserved: [[0x80, 0x80]] },
  // a larger space so magazines fill up and reach the depot
  { name: '4k-wide', granule: 0x1000, start: 0xff000, limits: [0xfffff, 0x100fff], reserved: [] },
];

type Op =
  | { k: 'alloc'; size: number; limit: number; aligned: boolean }
  | { k: 'fast'; size: number; limit: number; flush: boolean }
  | { k: 'free'; pick: number; interior: boolean }
  | { k: 'freeFast'; pick: number; shrink: number; viaFreeIova: boolean }
  | { k: 'roundTrip'; pick: number }
  | { k: 'cpu'; cpu: number }
  | { k: 'depot' }
  | { k: 'cpuDead'; cpu: number }
  | { k: 'burst'; n: number; limit: number };   // n one-page alloc_iova_fast, then free_iova_fast of them all

const sizeArb = fc.oneof(
  { arbitrary: fc.constant(1), weight: 5 },
  { arbitrary: fc.integer({ min: 2, max: 8 }), weight: 3 },
  { arbitrary: fc.integer({ min: 9, max: 32 }), weight: 2 },
  { arbitrary: fc.integer({ min: 33, max: 70 }), weight: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('alloc' as const), size: sizeArb, limit: fc.nat(9), aligned: fc.boolean() }), weight: 50 },
  { arbitrary: fc.record({ k: fc.constant('fast' as const), size: sizeArb, limit: fc.nat(9), flush: fc.boolean() }), weight: 80 },
  { arbitrary: fc.record({ k: fc.constant('free' as const), pick: fc.nat(), interior: fc.boolean() }), weight: 40 },
  { arbitrary: fc.record({ k: fc.constant('freeFast' as const), pick: fc.nat(), shrink: fc.nat(31),
    viaFreeIova: fc.nat(9).map(n => n === 0) }), weight: 70 },
  { arbitrary: fc.record({ k: fc.constant('roundTrip' as const), pick: fc.nat() }), weight: 20 },
  { arbitrary: fc.record({ k: fc.constant('cpu' as const), cpu: fc.nat(2) }), weight: 10 },
  { arbitrary: fc.constant({ k: 'depot' as const }), weight: 10 },
  { arbitrary: fc.record({ k: fc.constant('cpuDead' as const), cpu: fc.nat(2) }), weight: 10 },
  { arbitrary: fc.record({ k: fc.constant('burst' as const), n: fc.integer({ min: 130, max: 400 }), limit: fc.nat(9) }), weight: 2 });

// ---------------------------------------------------------------- reference model

interface MRange { lo: number; hi: number; fast: boolean; cached: boolean; reserved: boolean; owned: number }
const ANCHOR: MRange = { lo: Infinity, hi: Infinity, fast: false, cached: false, reserved: false, owned: -1 };
const pow2ceil = (n: number) => { let p = 1; while (p < n) p *= 2; return p; };
const order = (n: number) => Math.log2(pow2ceil(n));

class Model {
  ranges: MRange[] = [];                       // sorted by lo, anchor not included
  /** ranges a caller holds (not cached, not reserved): from alloc_iova and from alloc_iova_fast */
  slow: MRange[] = [];
  fast: MRange[] = [];
  cached = ANCHOR;
  cached32 = ANCHOR;
  max32: number;
  readonly dma32: number;
  mags: Array<{ cpus: Array<{ loaded: number[]; prev: number[] }>; depot: number[][]; pending: boolean }> = [];
  cpu = 0;

  constructor(readonly start: number, granule: number, readonly cpus: number) {
    this.dma32 = 2 ** (32 - Math.log2(granule));
    this.max32 = this.dma32;
    for (let i = 0; i < 6; i++) {
      this.mags.push({ cpus: Array.from({ length: cpus }, () => ({ loaded: [], prev: [] })), depot: [], pending: false });
    }
  }

  private index(pfn: number): number {        // first range with lo >= pfn
    let a = 0, b = this.ranges.length;
    while (a < b) { const m = (a + b) >> 1; if (this.ranges[m].lo < pfn) a = m + 1; else b = m; }
    return a;
  }
  find(pfn: number): MRange | undefined {
    const i = this.index(pfn + 1) - 1;
    const r = this.ranges[i];
    return r && r.lo <= pfn && pfn <= r.hi ? r : undefined;
  }
  at(r: MRange): number { return this.index(r.lo); }

  /** Highest slot [p, p+size) with p aligned, inside [low, highExcl) and clear of every range. */
  highestFit(size: number, align: number, low: number, highExcl: number): number | null {
    let i = this.index(highExcl) - 1;          // ranges below highExcl, from the top
    let top = highExcl;                          // exclusive top of the current gap
    for (;;) {
      const r = this.ranges[i];
      if (r && r.hi >= top) { top = Math.min(top, r.lo); i--; continue; }
      const bottom = Math.max(low, r ? r.hi + 1 : -Infinity);
      const p = Math.floor((top - size) / align) * align;
      if (p >= bottom) return p;
      if (!r || r.hi + 1 <= low) return null;
      top = r.lo;
      i--;
    }
  }

  treeAlloc(size: number, limitExcl: number, aligned: boolean, fast: boolean): MRange | null {
    if (limitExcl <= this.dma32 && size >= this.max32) return null;
    const cur = limitExcl <= this.dma32 ? this.cached32 : this.cached;
    const align = aligned ? pow2ceil(size) : 1;
    let p = this.highestFit(size, align, this.start, Math.min(limitExcl, cur.lo));
    if (p === null && cur.hi < limitExcl) p = this.highestFit(size, align, cur.hi + 1, limitExcl);
    if (p === null) { this.max32 = size; return null; }
    const r: MRange = { lo: p, hi: p + size - 1, fast, cached: false, reserved: false, owned: -1 };
    this.ranges.splice(this.index(p), 0, r);
    if (r.hi < this.dma32) this.cached32 = r; else this.cached = r;
    this.own(r);
    return r;
  }

  own(r: MRange): void { const list = r.fast ? this.fast : this.slow; r.owned = list.length; list.push(r); }
  disown(r: MRange): void {
    if (r.owned < 0) return;
    const list = r.fast ? this.fast : this.slow;
    const last = list.pop()!;
    if (last !== r) { list[r.owned] = last; last.owned = r.owned; }
    r.owned = -1;
  }

  remove(r: MRange): void {
    const i = this.at(r);
    const nx = this.ranges[i + 1] ?? ANCHOR;
    if (r === this.cached32 || (r.hi < this.dma32 && r.lo >= this.cached32.lo)) this.cached32 = nx;
    if (r.lo < this.dma32) this.max32 = this.dma32;
    if (r.lo >= this.cached.lo) this.cached = nx;
    this.ranges.splice(i, 1);
    this.disown(r);
  }

  cacheInsert(pfn: number, size: number): boolean {
    const o = order(size);
    if (o >= 6) return false;
    const c = this.mags[o];
    const m = c.cpus[this.cpu];
    if (m.loaded.length === IOVA_MAG_SIZE) {
      if (m.prev.length < IOVA_MAG_SIZE) [m.loaded, m.prev] = [m.prev, m.loaded];
      else { c.depot.push(m.loaded); c.pending = true; m.loaded = []; }
    }
    m.loaded.push(pfn);
    const r = this.find(pfn)!;
    r.cached = true;
    this.disown(r);
    return true;
  }

  cacheGet(pages: number, maxPfn: number): number | null {
    const c = this.mags[order(pages)];
    const m = c.cpus[this.cpu];
    if (m.loaded.length === 0) {
      if (m.prev.length) [m.loaded, m.prev] = [m.prev, m.loaded];
      else if (c.depot.length) m.loaded = c.depot.pop()!;
      else return null;
    }
    for (let i = m.loaded.length - 1; i >= 0; i--) {
      if (m.loaded[i] <= maxPfn) {
        const pfn = m.loaded[i];
        m.loaded[i] = m.loaded[m.loaded.length - 1];
        m.loaded.pop();
        const r = this.find(pfn)!;
        r.cached = false;
        r.fast = true;
        this.own(r);
        return pfn;
      }
    }
    return null;
  }

  drain(pfns: number[]): void { for (const p of pfns) this.remove(this.find(p)!); pfns.length = 0; }
  flushCpu(cpu: number): void { for (const c of this.mags) { this.drain(c.cpus[cpu].loaded); this.drain(c.cpus[cpu].prev); } }
  flushAll(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) this.flushCpu(cpu);
    for (const c of this.mags) while (c.depot.length) this.drain(c.depot.pop()!);
  }
  depotWork(): void {
    for (const c of this.mags) {
      if (!c.pending) continue;
      if (c.depot.length > this.cpus) this.drain(c.depot.pop()!); else c.pending = false;
    }
  }
}

// ---------------------------------------------------------------- the run

function run(cfg: Config, cpus: number, ops: Op[]): void {
  const d0 = initIovaDomain(cfg.granule, cfg.start, { pageSize: 0x1000, largePages: true, cpus });
  if (isIovaRefusal(d0)) throw new Error(d0.message);
  const d: IovaDomain = d0;
  d.initRcaches();
  const m = new Model(cfg.start, cfg.granule, cpus);
  for (const [lo, hi] of cfg.reserved) {
    d.reserveIova(lo, hi);
    m.ranges.push({ lo, hi, fast: false, cached: false, reserved: true, owned: -1 });
  }
  const noFindings = (fs: readonly { code: string }[], what: string) => assert.deepEqual(fs.map(f => f.code), [], what);

  const checkPlacement = (r: MRange, limit: number, align: number, what: string) => {
    assert.ok(r.lo >= cfg.start && r.hi <= limit, `${what}: [${r.lo}, ${r.hi}] outside [start_pfn, limit_pfn ${limit}]`);
    assert.equal(r.lo % align, 0, `${what}: pfn ${r.lo} not aligned to ${align}`);
    const i = m.at(r);
    assert.ok((m.ranges[i - 1]?.hi ?? -1) < r.lo && (m.ranges[i + 1]?.lo ?? Infinity) > r.hi, `${what}: overlap`);
  };

  const freeFastRange = (r: MRange, shrink: number, what: string) => {
    const pages = r.hi - r.lo + 1;
    // any size in (pages/2, pages] rounds back to the allocation for cached sizes
    const size = pages <= 32 ? Math.max(1, pages - (shrink % Math.ceil(pages / 2))) : pages;
    const got = d.freeIovaFast(r.lo, size);
    noFindings(got.findings, what);
    const cached = m.cacheInsert(r.lo, size);
    if (!cached) m.remove(r);
    assert.deepEqual([got.cached, got.freed], [cached, cached ? null : { pfnLo: r.lo, pfnHi: r.hi }], what);
  };

  /** Applies one operation to both sides and compares; returns the pfn of an alloc_iova_fast. */
  const apply = (op: Op, what: string): number | null => {
    switch (op.k) {
      case 'alloc': {
        const limit = cfg.limits[op.limit % cfg.limits.length];
        const got = d.allocIova(op.size, limit, op.aligned);
        const want = m.treeAlloc(op.size, limit + 1, op.aligned, false);
        assert.deepEqual(got, want && { pfnLo: want.lo, pfnHi: want.hi }, what);
        if (want) checkPlacement(want, limit, op.aligned ? pow2ceil(op.size) : 1, what);
        break;
      }
      case 'fast': {
        const limit = cfg.limits[op.limit % cfg.limits.length];
        const pages = op.size < 32 ? pow2ceil(op.size) : op.size;
        const got = d.allocIovaFast(op.size, limit, op.flush);
        noFindings(got.findings, what);
        let want = order(pages) < 6 ? m.cacheGet(pages, limit + 1 - pages) : null;
        const fromCache = want !== null;
        let flushed = false;
        if (want === null) {
          let r = m.treeAlloc(pages, limit + 1, true, true);
          if (!r && op.flush) { flushed = true; m.flushAll(); r = m.treeAlloc(pages, limit + 1, true, true); }
          if (r) checkPlacement(r, limit, pow2ceil(pages), what);
          want = r && r.lo;
        }
        assert.deepEqual([got.pfn, got.pages, got.fromCache, got.flushed], [want, pages, fromCache, flushed], what);
        if (want !== null) assert.ok(want + pages - 1 <= limit, `${what}: cached range above the limit`);
        return want;
      }
      case 'free': {
        if (!m.slow.length) break;
        const r = m.slow[op.pick % m.slow.length];
        const pfn = op.interior ? r.hi : r.lo;        // free_iova takes any pfn in the range
        const got = d.freeIova(pfn);
        noFindings(got.findings, what);
        assert.deepEqual(got.freed, { pfnLo: r.lo, pfnHi: r.hi }, what);
        m.remove(r);
        break;
      }
      case 'freeFast': {
        if (!m.fast.length) break;
        const r = m.fast[op.pick % m.fast.length];
        if (op.viaFreeIova) {
          const got = d.freeIova(r.lo);
          assert.deepEqual(got.findings.map(f => f.code), ['wrong-free-function'], what);
          m.remove(r);
        } else {
          freeFastRange(r, op.shrink, what);
        }
        break;
      }
      case 'roundTrip': {
        if (!m.fast.length) break;
        const r = m.fast[op.pick % m.fast.length];
        const pages = r.hi - r.lo + 1;
        if (pages > 32) break;
        noFindings(d.freeIovaFast(r.lo, pages).findings, what);
        m.cacheInsert(r.lo, pages);
        const again = d.allocIovaFast(pages, r.hi, false);     // the just-freed pfn is on top of the magazine
        assert.deepEqual([again.pfn, again.fromCache], [r.lo, true], `${what}: rcache round trip`);
        assert.equal(m.cacheGet(pages, r.lo), r.lo);
        break;
      }
      case 'cpu':
        d.setCpu(op.cpu % cpus); m.cpu = op.cpu % cpus;
        break;
      case 'depot':
        noFindings(d.runDepotWork(), what); m.depotWork();
        break;
      case 'cpuDead':
        noFindings(d.cpuDead(op.cpu % cpus), what); m.flushCpu(op.cpu % cpus);
        break;
      case 'burst': {
        const pfns: number[] = [];
        for (let i = 0; i < op.n; i++) {
          const pfn = apply({ k: 'fast', size: 1, limit: op.limit, flush: false }, `${what} alloc #${i}`);
          if (pfn !== null) pfns.push(pfn);
        }
        for (const pfn of pfns) freeFastRange(m.find(pfn)!, 0, `${what} free ${pfn}`);
        break;
      }
    }
    return null;
  };

  ops.forEach((op, step) => {
    const what = `step ${step} ${JSON.stringify(op)}`;
    apply(op, what);
    if (step % 250 === 249 || step === ops.length - 1) compareAll(d, m, what);
  });
}

function compareAll(d: IovaDomain, m: Model, what: string): void {
  assert.equal(d.verifyTree(), null, what);
  assert.deepEqual(d.ranges(), m.ranges.map(r => ({ pfnLo: r.lo, pfnHi: r.hi, fast: r.fast, cached: r.cached, reserved: r.reserved })), what);
  const at = (r: MRange) => r === ANCHOR ? null : { pfnLo: r.lo, pfnHi: r.hi };
  assert.deepEqual(d.cursorState(), { cachedNode: at(m.cached), cached32Node: at(m.cached32), max32AllocSize: m.max32, dma32bitPfn: m.dma32 }, what);
  const s = d.rcacheState()!;
  assert.deepEqual(s.map(c => ({ cpus: c.cpus, depot: c.depot, pending: c.depotWorkPending })),
    m.mags.map(c => ({ cpus: c.cpus, depot: [...c.depot].reverse(), pending: c.pending })), what);
}

const MAX_OPS_PER_CASE = 2000;                 // lengths are uniform in 1..2000 so a failure can shrink
const CASES_PER_SEED = 130;                    // about 130,000 operations; at least 100,000 is checked
const MIN_OPS_PER_SEED = 100_000;
const seeds = [0x10a5eed];
if (process.env.IOMMU_LENS_FUZZ_SEED) seeds.push(Number(process.env.IOMMU_LENS_FUZZ_SEED));

for (const seed of seeds) {
  test(`alloc_iova / alloc_iova_fast / free_iova(_fast) match the reference model (seed ${seed}, >= ${MIN_OPS_PER_SEED} ops)`, () => {
    assert.ok(Number.isSafeInteger(seed), `IOMMU_LENS_FUZZ_SEED must be an integer, got ${process.env.IOMMU_LENS_FUZZ_SEED}`);
    const prop = fc.property(fc.constantFrom(...CONFIGS), fc.integer({ min: 1, max: 3 }),
      fc.array(opArb, { minLength: 1, maxLength: MAX_OPS_PER_CASE, size: 'max' }), (cfg, cpus, ops) => {
        executed += ops.length;
        run(cfg, cpus, ops);
      });
    let executed = 0;
    try {
      fc.assert(prop, { seed, numRuns: CASES_PER_SEED, includeErrorInReport: true });
    } catch (e) {
      throw new Error(`IOVA property failed; replay with IOMMU_LENS_FUZZ_SEED=${seed}\n${(e as Error).message}`);
    }
    assert.ok(executed >= MIN_OPS_PER_SEED, `only ${executed} operations ran for seed ${seed}`);
  });
}
