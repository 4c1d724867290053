// Unit tests for the IOVA allocator (simulator/dma/iova*.ts). Every expected value is worked out by hand
// from drivers/iommu/iova.c; the comment above each assertion gives the reasoning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initIovaDomain, isIovaRefusal, IovaArgumentError, type IovaDomain, type IovaDomainOptions } from '../../simulator/dma/iova';
import { IOVA_MAG_SIZE, iovaRcacheRange, orderBase2 } from '../../simulator/dma/iova-rcache';
import { IovaTree, NIL } from '../../simulator/dma/iova-tree';

const PAGE = 4096;
const opts: IovaDomainOptions = { pageSize: PAGE, largePages: false };

function domain(startPfn = 1, o: Partial<IovaDomainOptions> = {}, rcaches = true): IovaDomain {
  const d = initIovaDomain(PAGE, startPfn, { ...opts, ...o });
  if (isIovaRefusal(d)) throw new Error(d.message);
  if (rcaches) d.initRcaches();
  return d;
}

const codes = (fs: readonly { code: string }[]) => fs.map(f => f.code);

test('init_iova_domain: granule must be a power of two (BUG_ON), the refusal names the value', () => {
  const r = initIovaDomain(0x3000, 1, opts);
  assert.ok(isIovaRefusal(r));
  assert.equal(r.bug, true);
  assert.match(r.message, /granule 0x3000 is not a power of two/);
});

test('init_iova_domain: mainline BUGs on granule > PAGE_SIZE unless the large-page series is on', () => {
  const r = initIovaDomain(0x4000, 1, opts);
  assert.ok(isIovaRefusal(r));
  assert.equal(r.bug, true);
  assert.match(r.message, /granule 0x4000 > PAGE_SIZE 0x1000/);
  const lp = initIovaDomain(0x4000, 1, { pageSize: PAGE, largePages: true });
  assert.ok(!isIovaRefusal(lp));
  // dma_32bit_pfn = 1 << (32 - iova_shift) = 1 << (32 - 14)
  assert.equal(lp.dma32bitPfn, 0x40000);
});

test('init_iova_domain: dma_32bit_pfn is 1 << (32 - shift) and max32_alloc_size starts there', () => {
  const d = domain();
  assert.equal(d.dma32bitPfn, 0x100000);
  assert.deepEqual(d.cursorState(), { cachedNode: null, cached32Node: null, max32AllocSize: 0x100000, dma32bitPfn: 0x100000 });
});

test('alloc_iova top-down: first 1-page alloc below limit 0xfffff returns pfn 0xfffff', () => {
  const d = domain();
  // walk starts at the anchor: high = limit_pfn + 1 = 0x100000, new_pfn = high - 1
  assert.deepEqual(d.allocIova(1, 0xfffff, false), { pfnLo: 0xfffff, pfnHi: 0xfffff });
  // pfn_hi < dma_32bit_pfn, so the new node becomes cached32_node
  assert.deepEqual(d.cursorState().cached32Node, { pfnLo: 0xfffff, pfnHi: 0xfffff });
});

test('alloc_iova size_aligned: a 5-page alloc is aligned to roundup_pow_of_two(5) = 8 (align_mask = ~0 << fls(4))', () => {
  const d = domain();
  d.allocIova(1, 0xfffff, false);
  // high = 0xfffff (cached node's pfn_lo), (0xfffff - 5) & ~7 = 0xffff8
  assert.deepEqual(d.allocIova(5, 0xfffff, true), { pfnLo: 0xffff8, pfnHi: 0xffffc });
  // unaligned: right below the last range, 0xffff8 - 5
  assert.deepEqual(d.allocIova(5, 0xfffff, false), { pfnLo: 0xffff3, pfnHi: 0xffff7 });
});

test('alloc_iova: a limit above 32 bits uses cached_node, a 32-bit limit uses cached32_node', () => {
  const d = domain();
  assert.deepEqual(d.allocIova(1, 0xfffff, false), { pfnLo: 0xfffff, pfnHi: 0xfffff });
  // limit 0x1fffff + 1 > dma_32bit_pfn: start from cached_node (still the anchor)
  assert.deepEqual(d.allocIova(2, 0x1fffff, false), { pfnLo: 0x1ffffe, pfnHi: 0x1fffff });
  assert.deepEqual(d.cursorState().cachedNode, { pfnLo: 0x1ffffe, pfnHi: 0x1fffff });
  // the 32-bit walk carries on below cached32_node
  assert.deepEqual(d.allocIova(1, 0xfffff, false), { pfnLo: 0xffffe, pfnHi: 0xffffe });
});

test('alloc_iova retry pass: when nothing fits below the cached node, search (cached pfn_hi, limit] again', () => {
  const d = domain(0xffff0);
  assert.deepEqual(d.allocIova(4, 0xfffff, false), { pfnLo: 0xffffc, pfnHi: 0xfffff });
  // a lower limit lands below a gap and becomes cached32_node
  assert.deepEqual(d.allocIova(1, 0xffff3, false), { pfnLo: 0xffff3, pfnHi: 0xffff3 });
  // first pass: right below cached32_node, down to start_pfn
  assert.deepEqual(d.allocIova(3, 0xfffff, false), { pfnLo: 0xffff0, pfnHi: 0xffff2 });
  // 8 pages: the first pass hits start_pfn; the retry pass over (0xffff2, 0xfffff] finds the gap
  assert.deepEqual(d.allocIova(8, 0xfffff, false), { pfnLo: 0xffff4, pfnHi: 0xffffb });
  // full: both passes fail and max32_alloc_size records the failed size
  assert.equal(d.allocIova(1, 0xfffff, false), null);
  assert.equal(d.max32AllocSize, 1);
});

test('__cached_rbnode_delete_update: freeing a range at or above cached32_node moves it to rb_next', () => {
  const d = domain();
  const a = d.allocIova(4, 0xfffff, false)!;           // [0xffffc, 0xfffff]
  const b = d.allocIova(4, 0xfffff, false)!;           // [0xffff8, 0xffffb], cached32_node
  const c = d.allocIova(4, 0xfffff, false)!;           // [0xffff4, 0xffff7], cached32_node
  d.freeIova(b.pfnLo);                                 // above cached32 (c): cached32 = rb_next(b) = a
  assert.deepEqual(d.cursorState().cached32Node, a);
  // so the next walk starts at a and reuses b's space first
  assert.deepEqual(d.allocIova(4, 0xfffff, false), b);
  d.freeIova(c.pfnLo);                                 // c is below cached32 (b now): cached32 stays
  assert.deepEqual(d.cursorState().cached32Node, b);
});

test('alloc_iova 32-bit fast-fail: after a failed size, 32-bit requests of that size fail without a search', () => {
  const d = domain();
  d.reserveIova(0x100000, 0x100000);
  // aligned 0xc0000 pages (alignment 0x100000) below 0x1fffff: only pfn 0x100000 (taken) or 0 (< start_pfn)
  assert.equal(d.allocIova(0xc0000, 0x1fffff, true), null);
  assert.equal(d.max32AllocSize, 0xc0000);
  // pfns 1..0xfffff are all free, but size >= max32_alloc_size and the limit is 32-bit: fail fast
  assert.equal(d.allocIova(0xc0000, 0xfffff, false), null);
  // a free below dma_32bit_pfn resets max32_alloc_size, after which the same request fits
  d.reserveIova(5, 5);
  d.freeIova(5);
  assert.equal(d.max32AllocSize, 0x100000);
  assert.deepEqual(d.allocIova(0xc0000, 0xfffff, false), { pfnLo: 0x40000, pfnHi: 0xfffff });
});

test('alloc_iova: nothing is placed below start_pfn', () => {
  const d = domain(0x10);
  assert.deepEqual(d.allocIova(0x10, 0x1f, false), { pfnLo: 0x10, pfnHi: 0x1f });
  assert.equal(d.allocIova(1, 0x1f, false), null);
  assert.equal(d.allocIova(0x21, 0x30, false), null);   // high_pfn < size
});

test('find_iova: the range containing the pfn', () => {
  const d = domain();
  d.allocIova(8, 0xfffff, true);
  assert.deepEqual(d.findIova(0xffffa), { pfnLo: 0xffff8, pfnHi: 0xfffff, fast: false, cached: false, reserved: false });
  assert.equal(d.findIova(0xffff7), null);
});

test('reserve_iova merges like the kernel: overlapped ranges are stretched down, the rest becomes a new node', () => {
  const d = domain();
  assert.deepEqual(d.reserveIova(10, 20), { pfnLo: 10, pfnHi: 20 });
  // [15, 30] overlaps [10, 20]: the part above 20 is inserted as [21, 30]
  assert.deepEqual(d.reserveIova(15, 30), { pfnLo: 21, pfnHi: 30 });
  // [5, 25]: [10, 20] is stretched down to 5, and [21, 30] already covers the rest
  assert.deepEqual(d.reserveIova(5, 25), { pfnLo: 21, pfnHi: 30 });
  assert.deepEqual(d.ranges().map(r => [r.pfnLo, r.pfnHi, r.reserved]), [[5, 20, true], [21, 30, true]]);
  // a reservation over an allocated range stretches that range (it stays an alloc_iova range)
  d.allocIova(1, 0xfffff, false);
  assert.deepEqual(d.reserveIova(0xffff0, 0xfffff), { pfnLo: 0xffff0, pfnHi: 0xfffff });
  assert.deepEqual(d.findIova(0xffff0), { pfnLo: 0xffff0, pfnHi: 0xfffff, fast: false, cached: false, reserved: false });
  assert.throws(() => d.reserveIova(9, 8), IovaArgumentError);
});

test('alloc_iova_fast(5) reserves 8 pages, size-aligned', () => {
  const d = domain();
  const r = d.allocIovaFast(5, 0xfffff, true);
  assert.deepEqual({ pfn: r.pfn, pages: r.pages, fromCache: r.fromCache }, { pfn: 0xffff8, pages: 8, fromCache: false });
  assert.deepEqual(d.ranges(), [{ pfnLo: 0xffff8, pfnHi: 0xfffff, fast: true, cached: false, reserved: false }]);
  // 40 pages is above the cached sizes: not rounded, only aligned to 64
  const big = d.allocIovaFast(40, 0xfffff, true);
  assert.equal(big.pages, 40);
  assert.equal(big.pfn, 0xfffc0);   // (0xffff8 - 40) & ~63
});

test('rcache round trip: free_iova_fast then alloc_iova_fast of the same size returns the same pfn', () => {
  const d = domain();
  const a = d.allocIovaFast(3, 0xfffff, true);       // 4 pages at 0xffffc
  const free = d.freeIovaFast(a.pfn!, 3);
  assert.equal(free.cached, true);
  assert.deepEqual(free.findings, []);
  // cached ranges stay allocated in the tree
  assert.deepEqual(d.ranges(), [{ pfnLo: 0xffffc, pfnHi: 0xfffff, fast: true, cached: true, reserved: false }]);
  assert.deepEqual(d.rcacheState()![2].cpus[0].loaded, [0xffffc]);
  const b = d.allocIovaFast(4, 0xfffff, true);
  assert.deepEqual({ pfn: b.pfn, fromCache: b.fromCache }, { pfn: 0xffffc, fromCache: true });
  assert.equal(d.ranges()[0].cached, false);
});

test('rcache: a cached pfn must end at or below limit_pfn (the magazine is searched for one below it)', () => {
  const d = domain();
  const hi = d.allocIovaFast(1, 0x1fffff, true).pfn!;     // 0x1fffff
  const lo = d.allocIovaFast(1, 0xfffff, true).pfn!;      // 0xfffff
  d.freeIovaFast(lo, 1);
  d.freeIovaFast(hi, 1);                                   // top of the magazine
  // limit 0xfffff: the top entry 0x1fffff is too high, the one below it fits
  assert.equal(d.allocIovaFast(1, 0xfffff, true).pfn, 0xfffff);
  // nothing fits now: fall back to the tree (below cached32_node 0xfffff)
  const r = d.allocIovaFast(1, 0xfffff, true);
  assert.deepEqual({ pfn: r.pfn, fromCache: r.fromCache }, { pfn: 0xffffe, fromCache: false });
});

test('alloc_iova_fast flush-and-retry: on failure with flush_rcache every cached range is freed and the alloc retried once', () => {
  const d = domain(0xffff0);
  for (let i = 0; i < 16; i++) assert.equal(d.allocIovaFast(1, 0xfffff, true).pfn, 0xfffff - i);
  d.freeIovaFast(0xffff4, 1);
  d.freeIovaFast(0xffff5, 1);
  // the 2-page class is empty and the tree is full: without flush_rcache it fails
  const noFlush = d.allocIovaFast(2, 0xfffff, false);
  assert.deepEqual({ pfn: noFlush.pfn, flushed: noFlush.flushed }, { pfn: null, flushed: false });
  assert.equal(d.max32AllocSize, 2);
  // with it, 0xffff4 and 0xffff5 go back to the tree (max32_alloc_size resets) and the retry takes both
  const r = d.allocIovaFast(2, 0xfffff, true);
  assert.deepEqual({ pfn: r.pfn, flushed: r.flushed, findings: r.findings }, { pfn: 0xffff4, flushed: true, findings: [] });
  assert.deepEqual(d.rcacheState()![0].cpus[0].loaded, []);
});

test('free_iova_fast: sizes above 32 pages are not cached and go straight to free_iova', () => {
  const d = domain();
  const a = d.allocIovaFast(33, 0xfffff, true);
  assert.equal(orderBase2(33), 6);
  const f = d.freeIovaFast(a.pfn!, 33);
  assert.deepEqual({ cached: f.cached, freed: f.freed }, { cached: false, freed: { pfnLo: a.pfn!, pfnHi: a.pfn! + 32 } });
  assert.equal(d.rangeCount, 0);
  assert.equal(iovaRcacheRange(PAGE), 32 * PAGE);
});

test('rcache per CPU: a range freed on CPU 1 is not found by CPU 0', () => {
  const d = domain(1, { cpus: 2 });
  const a = d.allocIovaFast(1, 0xfffff, true).pfn!;
  d.setCpu(1);
  d.freeIovaFast(a, 1);
  d.setCpu(0);
  assert.equal(d.allocIovaFast(1, 0xfffff, true).pfn, 0xffffe);
  d.setCpu(1);
  assert.equal(d.allocIovaFast(1, 0xfffff, true).pfn, a);
  assert.throws(() => d.setCpu(2), /CPU 2 does not exist/);
});

test(`rcache depot: full magazines (${IOVA_MAG_SIZE} pfns) go to the depot; the depot work trims it to one per CPU`, () => {
  const d = domain();
  const n = 3 * IOVA_MAG_SIZE + 1;                    // fills loaded, prev, two depot magazines, one more
  for (let k = 1; k <= n; k++) assert.equal(d.allocIovaFast(1, 0xfffff, true).pfn, 0x100000 - k);
  for (let k = 1; k <= n; k++) d.freeIovaFast(0x100000 - k, 1);
  const s = d.rcacheState()![0];
  // frees 1..127 fill A; 128 swaps in B (128..254); 255 pushes B to the depot, C takes 255..381; 382 pushes C
  assert.equal(s.depot.length, 2);
  assert.deepEqual(s.depot[0][0], 0x100000 - 255);   // head of the depot: C
  assert.deepEqual(s.cpus[0].loaded, [0x100000 - n]);
  assert.equal(d.depotWorkPending, true);
  assert.deepEqual(d.runDepotWork(), []);             // depot 2 > 1 online CPU: free C's 127 ranges
  assert.equal(d.rangeCount, n - IOVA_MAG_SIZE);
  assert.equal(d.findIova(0x100000 - 300), null);
  assert.equal(d.depotWorkPending, true);
  d.runDepotWork();                                    // depot 1 <= 1: nothing to do, the work stops
  assert.equal(d.depotWorkPending, false);
  assert.equal(d.rangeCount, n - IOVA_MAG_SIZE);
});

test('misuse wrong-free-function: free_iova on an alloc_iova_fast range works but bypasses the rcache', () => {
  const d = domain();
  const a = d.allocIovaFast(1, 0xfffff, true).pfn!;
  const f = d.freeIova(a);
  assert.deepEqual(codes(f.findings), ['wrong-free-function']);
  assert.equal(f.findings[0].severity, 'warning');
  assert.match(f.findings[0].message, /alloc_iova_fast; free it with free_iova_fast/);
  assert.equal(d.rangeCount, 0);
  assert.deepEqual(d.rcacheState()![0].cpus[0].loaded, []);
});

test('misuse wrong-free-function: free_iova_fast on an alloc_iova range, and on a reserve_iova window (error)', () => {
  const d = domain();
  const a = d.allocIova(1, 0xfffff, false)!;
  assert.deepEqual(codes(d.freeIovaFast(a.pfnLo, 1).findings), ['wrong-free-function']);
  d.reserveIova(0x8000, 0x8000);
  const f = d.freeIovaFast(0x8000, 1);
  assert.deepEqual([f.findings[0].code, f.findings[0].severity], ['wrong-free-function', 'error']);
});

test('misuse double-free: free_iova_fast twice puts the pfn in the cache twice; it is then handed out twice', () => {
  const d = domain();
  const a = d.allocIovaFast(1, 0xfffff, true).pfn!;
  assert.deepEqual(codes(d.freeIovaFast(a, 1).findings), []);
  assert.deepEqual(codes(d.freeIovaFast(a, 1).findings), ['double-free']);
  assert.deepEqual(codes(d.allocIovaFast(1, 0xfffff, true).findings), []);
  const second = d.allocIovaFast(1, 0xfffff, true);
  assert.equal(second.pfn, a);
  assert.deepEqual(codes(second.findings), ['rcache-corruption']);
});

test('misuse double-free: free_iova twice on an alloc_iova range (the kernel ignores the second)', () => {
  const d = domain();
  const a = d.allocIova(2, 0xfffff, false)!;
  assert.deepEqual(codes(d.freeIova(a.pfnLo).findings), []);
  const f = d.freeIova(a.pfnLo);
  assert.deepEqual([codes(f.findings), f.freed], [['double-free'], null]);
  assert.match(f.findings[0].message, /already freed \(range \[0xffffe-0xfffff\]\)/);
});

test('misuse double-free: free_iova on a cached range removes its node; the rcache flush later WARNs', () => {
  const d = domain();
  const a = d.allocIovaFast(1, 0xfffff, true).pfn!;
  d.freeIovaFast(a, 1);
  const f = d.freeIova(a);
  assert.deepEqual(codes(f.findings), ['double-free']);
  assert.equal(d.rangeCount, 0);
  // the cpu-dead path empties the magazines: WARN_ON(!iova) in iova_magazine_free_pfns
  const warn = d.cpuDead(0);
  assert.deepEqual(codes(warn), ['double-free']);
  assert.match(warn[0].message, /^WARNING: .*iova_magazine_free_pfns: cached pfn 0xfffff has no IOVA range/);
});

test('misuse free-unmapped: free_iova / free_iova_fast of a pfn in no range', () => {
  const d = domain();
  const f = d.freeIova(0x1234);
  assert.deepEqual([codes(f.findings), f.freed], [['free-unmapped'], null]);
  assert.match(f.findings[0].message, /pfn 0x1234 is not in any IOVA range/);
  // free_iova_fast caches it anyway: the bogus pfn is then handed out as free space
  const g = d.freeIovaFast(0x1234, 1);
  assert.deepEqual([codes(g.findings), g.cached], [['free-unmapped'], true]);
  const h = d.allocIovaFast(1, 0xfffff, true);
  assert.deepEqual([h.pfn, codes(h.findings)], [0x1234, ['rcache-corruption']]);
  // a pfn inside a range but not its first page
  const a = d.allocIovaFast(4, 0xfffff, true).pfn!;
  assert.deepEqual(codes(d.freeIovaFast(a + 1, 4).findings), ['free-unmapped']);
});

test('misuse wrong-size-free: free_iova_fast size must round to the allocated size', () => {
  const d = domain();
  const a = d.allocIovaFast(5, 0xfffff, true).pfn!;    // 8 pages
  // 6 rounds to 8 as well: fine (the order of the unadjusted size still matches)
  assert.deepEqual(codes(d.freeIovaFast(a, 6).findings), []);
  const b = d.allocIovaFast(4, 0xfffff, true).pfn!;    // 4 pages
  const f = d.freeIovaFast(b, 8);
  assert.deepEqual([f.findings[0].code, f.findings[0].severity], ['wrong-size-free', 'error']);
  // the 8-page cache now hands out b, whose range is only 4 pages
  const c = d.allocIovaFast(8, 0xfffff, true);
  assert.equal(c.pfn, b);
  assert.deepEqual(codes(c.findings), ['rcache-corruption']);
});

test('alloc_iova_fast without iova_domain_init_rcaches dereferences NULL rcaches (oops) for cached sizes', () => {
  const d = domain(1, {}, false);
  assert.match(d.allocIovaFast(1, 0xfffff, true).oops ?? '', /NULL pointer dereference in iova_rcache_get/);
  assert.match(d.freeIovaFast(5, 1).oops ?? '', /NULL pointer dereference in iova_rcache_insert/);
  // 64 pages are not cached: the rcache is never touched
  const big = d.allocIovaFast(64, 0xfffff, true);
  assert.deepEqual([big.pfn, big.oops], [0xfffc0, undefined]);
});

test('bad arguments are refused with the function and value named', () => {
  const d = domain();
  assert.throws(() => d.allocIova(0, 0xfffff, false), /alloc_iova: size 0 is not a positive whole number of pages/);
  assert.throws(() => d.allocIovaFast(1.5, 0xfffff, false), /alloc_iova_fast: size 1.5/);
  assert.throws(() => d.freeIova(-1), /free_iova: pfn -1 is not a whole pfn/);
  assert.throws(() => d.allocIova(1, 2 ** 53, false), /limit_pfn 9007199254740992/);
});

test('red-black tree stays balanced and ordered through many inserts and erases', () => {
  const d = domain();
  const live: number[] = [];
  for (let i = 0; i < 3000; i++) live.push(d.allocIova(1 + (i % 7), 0xfffff, i % 3 === 0)!.pfnLo);
  for (let i = 0; i < live.length; i += 2) d.freeIova(live[i]);
  assert.equal(d.verifyTree(), null);
  assert.equal(d.rangeCount, 1500);
});

test('iova_rcache_get: limit_pfn + 1 - size is unsigned, so a limit below the size accepts any cached pfn', () => {
  const d = domain();
  const a = d.allocIovaFast(4, 0xfffff, true).pfn!;          // 0xffffc
  d.freeIovaFast(a, 4);
  // limit 2 with 4 pages: 2 + 1 - 4 wraps round to ULONG_MAX - 0, and the cached 0xffffc is handed out
  const r = d.allocIovaFast(4, 2, false);
  assert.deepEqual([r.pfn, r.fromCache], [0xffffc, true]);
  // the tree refuses the same request: high_pfn 3 < size 4
  assert.equal(d.allocIovaFast(4, 2, false).pfn, null);
});

test('ranges / rangesIn / put_iova_domain', () => {
  const d = domain();
  for (let i = 0; i < 10; i++) d.allocIova(2, 0xfffff, false);   // [0xffffe-0xfffff] down to [0xfffec-0xfffed]
  assert.deepEqual(d.rangesIn(0xffff1, 0xffff4).map(r => r.pfnLo), [0xffff0, 0xffff2, 0xffff4]);
  assert.equal(d.rangesIn(0, 0xfffff, 4).length, 4);
  d.put();
  assert.deepEqual([d.rangeCount, d.hasRcaches, d.cursorState().cached32Node], [0, false, null]);
});

test('IovaTree: random inserts and erases keep order, balance, find, prev/next and lower bounds right', () => {
  const t = new IovaTree(4);
  const model = new Map<number, number>();                  // pfn_lo -> node
  let x = 7;
  const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % n; };
  for (let i = 0; i < 20000; i++) {
    const lo = rnd(5000) * 4;
    if (model.has(lo)) {
      if (rnd(3) !== 0) { t.remove(model.get(lo)!); model.delete(lo); }
      continue;
    }
    model.set(lo, t.insert(lo, lo + rnd(4), 0));
    if (i % 2000 === 0) assert.equal(t.verify(), null);
  }
  assert.equal(t.verify(), null);
  const los = [...model.keys()].sort((a, b) => a - b);
  const walked: number[] = [];
  for (let n = t.first(); n !== NIL; n = t.next(n)) walked.push(t.lo[n]);
  assert.deepEqual(walked, los);
  for (let i = 1; i < los.length; i++) assert.equal(t.prev(model.get(los[i])!), model.get(los[i - 1]));
  for (let q = 0; q < 20000; q += 7) {
    const containing = los.find(lo => lo <= q && q <= t.hi[model.get(lo)!]);
    assert.equal(t.find(q), containing === undefined ? NIL : model.get(containing));
    const lb = los.find(lo => t.hi[model.get(lo)!] >= q);
    assert.equal(t.lowerBoundHi(q), lb === undefined ? NIL : model.get(lb));
  }
});
