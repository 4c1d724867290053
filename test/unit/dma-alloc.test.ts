// DMA allocations: __iommu_dma_alloc_pages' order selection (mainline and the large-page series' spill-over),
// __iommu_dma_alloc_noncontiguous, dma_alloc_coherent on dma-iommu and dma-direct, dma_get_sgtable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocPageList, pageRuns } from '../../simulator/dma/alloc';
import {
  dmaAllocCoherent, dmaAllocNoncontiguous, dmaFreeCoherent, dmaFreeNoncontiguous, dmaGetSgtable,
} from '../../simulator/dma/api-alloc';
import { DMA_BIDIRECTIONAL, devDma } from '../../simulator/dma/state';
import { lastExposure } from '../../simulator/dma/api';
import { codesSince, rig } from './dma-fixtures';

const K = 1024;

test('__iommu_dma_alloc_pages: order_mask {0, 2}, count 7: order_mask &= (2 << __fls(7)) - 1 keeps both; 4 + 1 + 1 + 1 pages', () => {
  const r = rig();
  const free = r.k.mem.buddy.freePages;
  const got = allocPageList(r.k, 7, 0b101, false)!;
  assert.equal(got.pfns.length, 7);
  // the first block is order 2 (4 naturally aligned pages), then single pages
  assert.equal(got.pfns[0] % 4, 0);
  assert.deepEqual(got.pfns.slice(0, 4).map(p => p - got.pfns[0]), [0, 1, 2, 3]);
  assert.equal(got.spill, 0);
  assert.equal(r.k.mem.buddy.freePages, free - 7);
});

test('__iommu_dma_alloc_pages: an order_mask without order 0 and count below its smallest order fails (mainline)', () => {
  const r = rig();
  // 16K-only IOMMU on 4K pages: order_mask = {2}; count 1 clears it: __fls(1) = 0 keeps only order 0
  assert.equal(allocPageList(r.k, 1, 0b100, false), null);
});

test('large-page series: count 5 with order_mask {2}: one order-2 block, then an order-2 block with 3 spill-over pages freed', () => {
  const r = rig();
  const free = r.k.mem.buddy.freePages;
  const got = allocPageList(r.k, 5, 0b100, true)!;
  assert.equal(got.pfns.length, 5);
  assert.equal(got.spill, 3);
  assert.equal(got.pfns[4] % 4, 0);            // the kept page is the first of its 16K block
  assert.equal(r.k.mem.buddy.freePages, free - 5);
});

test('large-page series: min_order is __fls(order_mask) before the MAX_ORDER clip: a 32M size in the mask makes the spill block fail', () => {
  const r = rig();
  // order_mask {2, 13}: __fls = 13 > MAX_ORDER (10 with 4K pages); count 5 -> 4 from order 2, then order 13 for the last page
  assert.equal(allocPageList(r.k, 5, (1 << 2) | (1 << 13), true), null);
});

test('sg_alloc_table_from_pages: physically contiguous pages merge into one entry', () => {
  assert.deepEqual(pageRuns([0x800, 0x801, 0x803, 0x804], 4096),
    [{ paddr: 0x800000, len: 8192 }, { paddr: 0x803000, len: 8192 }]);
});

test('dma_alloc_coherent (dma-iommu): PAGE_ALIGN(6000) = 2 pages at IOVA top - 8K, nothing exposed', () => {
  const r = rig();
  const c = dmaAllocCoherent(r.k, r.dev('plat'), 6000)!;
  assert.equal(c.dma, 0xffffffffe000);
  assert.equal(c.cpu, c.paddr);
  assert.equal(lastExposure(r.k), 0);
  const before = r.k.findings.length;
  dmaFreeCoherent(r.k, r.dev('plat'), 6000, c.cpu, c.dma);
  assert.deepEqual(codesSince(r.k, before), []);
  assert.equal(devDma(r.dev('plat')).live, 0);
});

test('dma_alloc_coherent (dma-direct): one get_order(size) block, dma = phys', () => {
  const r = rig({ devices: '    - { name: nomm, streams: [0] }', steps: '  - probe: nomm' });
  const free = r.k.mem.buddy.freePages;
  const c = dmaAllocCoherent(r.k, r.dev('nomm'), 12 * K)!;
  assert.equal(c.dma, c.paddr);
  assert.equal(r.k.mem.buddy.freePages, free - 4);     // get_order(12K) = 2
  dmaFreeCoherent(r.k, r.dev('nomm'), 12 * K, c.cpu, c.dma);
  assert.equal(r.k.mem.buddy.freePages, free);
});

test('dma_alloc_coherent: the series with size < granule takes one get_order(size) block and maps its whole IOMMU page', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true });
  const c = dmaAllocCoherent(r.k, r.dev('plat'), 4 * K)!;
  // one 4K page (order 0) widened to its 16K IOMMU page: dma keeps the page's offset, 12K of neighbours exposed
  assert.equal(c.dma % (16 * K), c.paddr % (16 * K));
  assert.equal(lastExposure(r.k), 12 * K);
});

test('dma_alloc_coherent: the series aligns untrusted devices\' sizes to the granule (patch 1), so nothing is exposed', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true, devices: '    - { name: tbt, iommu: io0, streams: [5], bus: pci, untrusted: true }', steps: '  - probe: tbt' });
  const c = dmaAllocCoherent(r.k, r.dev('tbt'), 4 * K)!;
  assert.equal(c.paddr % (16 * K), 0);
  assert.equal(lastExposure(r.k), 0);
  dmaFreeCoherent(r.k, r.dev('tbt'), 4 * K, c.cpu, c.dma);
  assert.equal(devDma(r.dev('tbt')).live, 0);
});

test('dma_alloc_noncontiguous (series): 20K = 16K + 4K of a 16K block; the last IOMMU page exposes the 12K freed', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true });
  const live = () => r.k.mem.listBuffers().filter(b => !b.freed && b.kind === 'pages').reduce((n, b) => n + b.size, 0);
  const t = dmaAllocNoncontiguous(r.k, r.dev('plat'), 20 * K, DMA_BIDIRECTIONAL)!;
  // iova_align(20K) = 32K: two IOVA pages, size-aligned, just below the top of the 48-bit space
  assert.deepEqual(t.entries, [{ dma: 0xffffffff8000, len: 32 * K }]);
  assert.equal(lastExposure(r.k), 12 * K);
  assert.equal(live(), 20 * K);                    // 5 pages kept, the 3 spill-over pages went back at once
  dmaFreeNoncontiguous(r.k, r.dev('plat'), 20 * K, t, DMA_BIDIRECTIONAL);
  assert.equal(live(), 0);
});

test('dma_get_sgtable: the series returns -ENXIO when the granule exceeds PAGE_SIZE', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true });
  const c = dmaAllocCoherent(r.k, r.dev('plat'), 16 * K)!;
  assert.equal(dmaGetSgtable(r.k, r.dev('plat'), c.cpu, c.dma, 16 * K), '-ENXIO');
});

test('dma_get_sgtable (mainline): sg_alloc_table_from_pages over size bytes of the allocation\'s pages', () => {
  const r = rig();
  const c = dmaAllocCoherent(r.k, r.dev('plat'), 6000)!;
  assert.deepEqual(dmaGetSgtable(r.k, r.dev('plat'), c.cpu, c.dma, 6000), { nents: 1, orig_nents: 1, sg: [{ paddr: c.paddr, len: 6000 }] });
});
