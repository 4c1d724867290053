// The DMA layer's scenario ops end to end: results, `expect: exposed`, the IOVA allocator ops, the cookie and
// attach rules (mainline BUG, the large-page series' -EFAULT, 4.19's NULL cookie) and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession } from '../../simulator/session';
import { ScenarioError } from '../../simulator/scenario/types';

const PLATFORM = (pgsizes = '[4K, 2M, 1G]') => `
platform:
  memory: { base: 0x800000000, size: 1G }
  iommus:
    - { name: io0, model: generic, pgsize_bitmap: ${pgsizes}, ias: 48, oas: 48 }
  devices:
    - { name: dev0, iommu: io0, streams: [1] }
`;

function run(body: string, kernel = '{ page_size: 4K }', pgsizes?: string) {
  const s = loadSession(`name: t\n${PLATFORM(pgsizes)}kernel: ${kernel}\nsteps:\n${body}`, 't.iommu.yaml');
  s.runAll();
  return s;
}

const results = (s: ReturnType<typeof run>) => s.runs.map(r => r.result);

test('init_iova_domain / alloc_iova / alloc_iova_fast / free_iova_fast: top-down pfns and power-of-two rounding', () => {
  const s = run(`
  - init_iova_domain: { granule: 4K, start_pfn: 1, rcache: true }
    as: d
  - alloc_iova: { iovad: $d, size: 1, limit_pfn: 0xfffff }
  - alloc_iova_fast: { iovad: $d, size: 5, limit_pfn: 0xfffff }
    as: f
  - free_iova_fast: { iovad: $d, pfn: $f, size: 5 }
  - alloc_iova_fast: { iovad: $d, size: 8, limit_pfn: 0xfffff }
  - alloc_iova: { iovad: $d, size: 0x200000, limit_pfn: 0xfffff }
`);
  // 1 page at 0xfffff; 5 -> 8 pages aligned to 8 below it: 0xffff0; freed into the 8-page cache and reused
  assert.deepEqual(results(s), [{ id: 'iovad1', granule: 4096, start_pfn: 1 }, 0xfffff, 0xffff0, null, 0xffff0, null]);
});

test('alloc_iova_fast without rcaches dereferences NULL: oops', () => {
  const s = run(`
  - init_iova_domain: { granule: 4K, start_pfn: 1 }
    as: d
  - alloc_iova_fast: { iovad: $d, size: 1, limit_pfn: 0xfffff }
`);
  assert.match(String(s.oops), /NULL pointer dereference in iova_rcache_get/);
});

test('reserve_iova / find_iova', () => {
  const s = run(`
  - init_iova_domain: { granule: 4K, start_pfn: 1 }
    as: d
  - reserve_iova: { iovad: $d, pfn_lo: 0x8000, pfn_hi: 0x80ff }
  - find_iova: { iovad: $d, pfn: 0x8010 }
  - find_iova: { iovad: $d, pfn: 0x9000 }
`);
  assert.deepEqual(results(s).slice(1), [{ pfn_lo: 0x8000, pfn_hi: 0x80ff }, { pfn_lo: 0x8000, pfn_hi: 0x80ff, fast: false, cached: false }, null]);
});

test('dma_map_single result, expect exposed, dma_mapping_error and dma_set_mask_and_coherent', () => {
  const s = run(`
  - probe: dev0
  - dma_set_mask_and_coherent: { dev: dev0, bits: 32 }
  - dma_map_single: { dev: dev0, paddr: 0x800000100, size: 0x100, dir: to_device }
    as: h
    expect: { result: 0xfffff100, exposed: 0xf00 }
  - dma_mapping_error: { dev: dev0, dma: $h }
`);
  assert.deepEqual(s.expectationFailures(), []);
  assert.deepEqual(results(s).slice(1), [0, 0xfffff100, 0]);
});

test('flush_queue op returns the number of IOVAs it released', () => {
  const s = run(`
  - probe: dev0
  - dma_map_single: { dev: dev0, paddr: 0x800000000, size: 4K, dir: to_device }
    as: a
  - dma_map_single: { dev: dev0, paddr: 0x800001000, size: 4K, dir: to_device }
    as: b
  - dma_unmap_single: { dev: dev0, dma: $a, size: 4K, dir: to_device }
  - dma_unmap_single: { dev: dev0, dma: $b, size: 4K, dir: to_device }
  - flush_queue: { dev: dev0 }
  - flush_queue: { dev: dev0 }
`, '{ page_size: 4K, dma_strict: false }');
  assert.deepEqual(results(s).slice(5), [2, 0]);
});

test('mainline: a DMA domain whose granule exceeds PAGE_SIZE BUG()s in init_iova_domain at probe', () => {
  const s = run('  - probe: dev0\n', '{ page_size: 4K }', '[16K]');
  assert.match(String(s.oops), /kernel BUG at drivers\/iommu\/iova.c: init_iova_domain: granule 0x4000 > PAGE_SIZE 0x1000/);
  assert.deepEqual(s.runs[0].findings.map(i => s.kernel.findings[i].code), ['pagesize-mismatch']);
});

test('large-page series: UNMANAGED domain with 16K pages on 4K: -EFAULT and "IOMMU page size cannot represent CPU pages."', () => {
  const s = run(`
  - probe: dev0
  - iommu_domain_alloc: { dev: dev0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: dev0 }
`, '{ page_size: 4K, large_iommu_pages: true }', '[16K]');
  assert.equal(s.runs[2].result, '-EFAULT');
  assert.ok(s.kernel.dmesg.some(l => l.text === 'IOMMU page size cannot represent CPU pages.'));
  assert.equal(s.kernel.domains.get('d1')!.lp, true);
});

test('4.19: DMA API on a device attached to an UNMANAGED domain dereferences its NULL iova_cookie', () => {
  const s = run(`
  - probe: dev0
  - iommu_domain_alloc: { dev: dev0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: dev0 }
  - dma_map_single: { dev: dev0, paddr: 0x800000000, size: 4K, dir: to_device }
`, '{ page_size: 4K, version: "4.19" }');
  assert.match(String(s.oops), /NULL pointer dereference/);
  assert.ok(s.kernel.findings.some(f => f.code === 'null-iova-cookie'));
});

test('bad input: an object where an address is expected names the argument', () => {
  assert.throws(() => run(`
  - probe: dev0
  - kmalloc: { size: 4K }
    as: b
  - dma_map_single: { dev: dev0, paddr: $b, size: 4K, dir: to_device }
`), (e: unknown) => e instanceof ScenarioError && /t\.iommu\.yaml:\d+:\d+: error: paddr must be an address, got an object/.test(e.format()));
});

test('bad input: dma_free_noncontiguous needs the table from dma_alloc_noncontiguous', () => {
  assert.throws(() => run(`
  - probe: dev0
  - dma_free_noncontiguous: { dev: dev0, size: 4K, sgt: "sgt9", dir: to_device }
`), (e: unknown) => e instanceof ScenarioError && /sgt must be the result of dma_alloc_noncontiguous/.test(e.message));
});

test('bad input: a kernel option of the wrong type is refused, naming the option and the value', () => {
  assert.throws(() => run('  - probe: dev0\n', '{ page_size: 4K, options: { flush_queue_size: big } }'),
    (e: unknown) => e instanceof ScenarioError && e.message === 'kernel options flush_queue_size: expected an integer in 2..1048576, got "big"');
});

test('bad input: free_iova_fast without size, alloc_iova with size 0', () => {
  assert.throws(() => run(`
  - init_iova_domain: { granule: 4K, start_pfn: 1, rcache: true }
    as: d
  - free_iova_fast: { iovad: $d, pfn: 5 }
`), (e: unknown) => e instanceof ScenarioError && /needs size/.test(e.message));
  assert.throws(() => run(`
  - init_iova_domain: { granule: 4K, start_pfn: 1 }
    as: d
  - alloc_iova: { iovad: $d, size: 0, limit_pfn: 0xfffff }
`), (e: unknown) => e instanceof ScenarioError && /size 0 is not a positive whole number of pages/.test(e.message));
});
