// dma_map_sg / dma_unmap_sg on dma-iommu (iommu_dma_map_sg, __finalise_sg) and dma-direct. Values follow the
// kernel's layout rules: each segment takes iova_align(len + off) of IOVA, pad_len = (mask - iova_len + 1) & mask
// is added to the previous segment when the next one would cross the boundary, and DMA segments merge when the
// previous ended on a granule boundary, the next starts on one, is not on a segment boundary and fits max_seg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finaliseSg } from '../../simulator/dma/iommu-sg';
import { dmaMapSg, dmaUnmapSg } from '../../simulator/dma/api';
import { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, devDma } from '../../simulator/dma/state';
import { deviceAccess } from '../../simulator/iommu/access';
import { codesSince, rig } from './dma-fixtures';

const K = 1024;

test('__finalise_sg: page-aligned whole pages merge into one DMA segment', () => {
  const sg = [{ paddr: 0x1000, len: 4 * K }, { paddr: 0x9000, len: 4 * K }, { paddr: 0x20000, len: 4 * K }];
  assert.deepEqual(finaliseSg(sg, [0, 0, 0], [4 * K, 4 * K, 4 * K], 0x10000, Infinity, 64 * K), [{ dma: 0x10000, len: 12 * K }]);
});

test('__finalise_sg: a segment with an offset starts a new DMA segment at iova + s_iova_off', () => {
  const sg = [{ paddr: 0x1000, len: 4 * K }, { paddr: 0x2200, len: 512 }];
  assert.deepEqual(finaliseSg(sg, [0, 0x200], [4 * K, 4 * K], 0x10000, Infinity, 64 * K),
    [{ dma: 0x10000, len: 4 * K }, { dma: 0x11200, len: 512 }]);
});

test('__finalise_sg: a segment ending short of its IOVA page (s_length + s_iova_off < s_iova_len) ends the DMA segment', () => {
  const sg = [{ paddr: 0x1000, len: 2 * K }, { paddr: 0x3000, len: 4 * K }];
  assert.deepEqual(finaliseSg(sg, [0, 0], [4 * K, 4 * K], 0x10000, Infinity, 64 * K),
    [{ dma: 0x10000, len: 2 * K }, { dma: 0x11000, len: 4 * K }]);
});

test('__finalise_sg: max_seg_size - cur_len must hold the next segment, else a new DMA segment starts', () => {
  const sg = [0, 1, 2].map(i => ({ paddr: 0x100000 + i * 8 * K, len: 8 * K }));
  assert.deepEqual(finaliseSg(sg, [0, 0, 0], [8 * K, 8 * K, 8 * K], 0x40000, Infinity, 16 * K),
    [{ dma: 0x40000, len: 16 * K }, { dma: 0x44000, len: 8 * K }]);
});

test('__finalise_sg: no merging into a segment that starts on a segment boundary ((dma_addr & seg_mask) == 0)', () => {
  const sg = [{ paddr: 0x1000, len: 4 * K }, { paddr: 0x2000, len: 4 * K }];
  // the second segment's IOVA 0x11000 is 4K-boundary aligned with a 4K boundary
  assert.deepEqual(finaliseSg(sg, [0, 0], [4 * K, 4 * K], 0x10000, 4 * K, 64 * K),
    [{ dma: 0x10000, len: 4 * K }, { dma: 0x11000, len: 4 * K }]);
});

test('iommu_dma_map_sg: one IOVA allocation for all segments; 16K granule widens each to 16K (iova_len 32K)', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true });
  const res = dmaMapSg(r.k, r.dev('plat'), [{ paddr: 0x800008000, len: 4 * K }, { paddr: 0x800011000, len: 4 * K }], DMA_BIDIRECTIONAL);
  // 32K top-down, aligned to 2 pages: 0xffffffff8000; second segment: 0xffffffff8000 + 16K + 0x1000
  assert.deepEqual(res.entries, [{ dma: 0xffffffff8000, len: 4 * K }, { dma: 0xffffffffd000, len: 4 * K }]);
  assert.equal(res.nents, 2);
});

test('iommu_dma_map_sg: pad_len = 16K - 4K lengthens the first segment so the 16K second one does not cross a 16K boundary', () => {
  const r = rig();
  const dev = r.dev('plat');
  devDma(dev).segBoundary = 16 * K;
  const res = dmaMapSg(r.k, dev, [{ paddr: 0x800001000, len: 4 * K }, { paddr: 0x800010000, len: 16 * K }], DMA_TO_DEVICE);
  // iova_len = 4K + 12K pad + 16K = 32K at 0xffffffff8000; the second segment starts at +16K
  assert.deepEqual(res.entries, [{ dma: 0xffffffff8000, len: 4 * K }, { dma: 0xffffffffc000, len: 16 * K }]);
  // the padding maps real memory: 12K after the first segment are device-visible
  const t = deviceAccess(r.k, dev, 0xffffffff8000 + 0x3000, 4, 'read');
  assert.ok(t.ok && t.paddr === 0x800004000);
});

test('iommu_dma_map_sg: no padding when the next segment ends exactly on the boundary (pad_len < s_length - 1 fails)', () => {
  const r = rig();
  const dev = r.dev('plat');
  devDma(dev).segBoundary = 16 * K;
  const res = dmaMapSg(r.k, dev, [{ paddr: 0x800001000, len: 4 * K }, { paddr: 0x800010000, len: 12 * K }], DMA_TO_DEVICE);
  assert.deepEqual(res.entries, [{ dma: 0xffffffffc000, len: 16 * K }]);
});

test('dma_unmap_sg: one __iommu_dma_unmap from the first DMA segment to the end of the last', () => {
  const r = rig();
  const dev = r.dev('plat');
  const sg = [{ paddr: 0x800001000, len: 4 * K }, { paddr: 0x800003000, len: 4 * K }];
  const res = dmaMapSg(r.k, dev, sg, DMA_TO_DEVICE);
  const before = r.k.findings.length;
  dmaUnmapSg(r.k, dev, sg, res.entries, 2, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, before), []);
  assert.equal(deviceAccess(r.k, dev, res.entries[0].dma, 4, 'read').ok, false);
  assert.equal(devDma(dev).live, 0);
});

test('dma_map_sg on an untrusted device: entry by entry through iommu_dma_map_page, each bounced if unaligned', () => {
  const r = rig({ devices: '    - { name: tbt, iommu: io0, streams: [5], bus: pci, untrusted: true }', steps: '  - probe: tbt' });
  const dev = r.dev('tbt');
  const res = dmaMapSg(r.k, dev, [{ paddr: 0x800001000, len: 4 * K }, { paddr: 0x800002100, len: 256 }], DMA_TO_DEVICE);
  assert.equal(res.nents, 2);
  // two separate IOVA allocations (no merging); the second is a bounce slot, so nothing else is exposed
  assert.notEqual(res.entries[1].dma, res.entries[0].dma + 4 * K);
  const t = deviceAccess(r.k, dev, res.entries[1].dma, 4, 'read');
  assert.ok(t.ok && t.paddr !== 0x800002100);
  dmaUnmapSg(r.k, dev, res.sg, res.entries, 2, DMA_TO_DEVICE);
  assert.equal(devDma(dev).live, 0);
});

test('dma-direct map_sg: dma = phys for every entry, no merging', () => {
  const r = rig({ devices: '    - { name: nomm, streams: [0] }', steps: '  - probe: nomm' });
  const res = dmaMapSg(r.k, r.dev('nomm'), [{ paddr: 0x800001000, len: 4 * K }, { paddr: 0x800002000, len: 4 * K }], DMA_TO_DEVICE);
  assert.deepEqual(res.entries, [{ dma: 0x800001000, len: 4 * K }, { dma: 0x800002000, len: 4 * K }]);
});
