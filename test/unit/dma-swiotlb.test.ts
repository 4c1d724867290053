// swiotlb bounce buffering: dma-iommu for untrusted devices (iommu_dma_map_page bounces when
// iova_offset(phys | size) != 0, slot aligned to iova_mask) and dma-direct beyond the DMA mask
// (dma_capable(): dma + size - 1 <= mask). Also the v2 large-page series' 4K-aligned 16K slot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmaMapSingle, dmaUnmapSingle, lastExposure } from '../../simulator/dma/api';
import { DMA_TO_DEVICE } from '../../simulator/dma/state';
import { DMA_MAPPING_ERROR } from '../../simulator/runner/ops';
import { deviceAccess } from '../../simulator/iommu/access';
import { swiotlbPool } from '../../simulator/dma/swiotlb';
import { codesSince, logged, rig } from './dma-fixtures';

const K = 1024;
const TBT = '    - { name: tbt, iommu: io0, streams: [5], bus: pci, untrusted: true }';

test('untrusted: iova_offset(phys | size) != 0 bounces; the slot is granule aligned so nothing else is exposed', () => {
  const r = rig({ devices: TBT, steps: '  - probe: tbt' });
  const dev = r.dev('tbt');
  const dma = dmaMapSingle(r.k, dev, 0x800002100, 256, DMA_TO_DEVICE) as number;
  assert.equal(lastExposure(r.k), 0);
  const pool = swiotlbPool(r.k)!;
  const t = deviceAccess(r.k, dev, dma, 4, 'read');
  assert.ok(t.ok && pool.contains(t.paddr) && t.paddr % 4096 === 0);
  assert.equal(pool.usedSlots, 2);                     // iova_align(256) = 4K = two 2K slots
  dmaUnmapSingle(r.k, dev, dma, 256, DMA_TO_DEVICE);
  assert.equal(pool.usedSlots, 0);
});

test('untrusted: an aligned page needs no bounce (iova_offset(phys | size) == 0)', () => {
  const r = rig({ devices: TBT, steps: '  - probe: tbt' });
  const dma = dmaMapSingle(r.k, r.dev('tbt'), 0x800003000, 4096, DMA_TO_DEVICE) as number;
  const t = deviceAccess(r.k, r.dev('tbt'), dma, 4, 'read');
  assert.ok(t.ok && t.paddr === 0x800003000);
});

test('untrusted with swiotlb off: DMA_MAPPING_ERROR and "DMA bounce buffers are inactive" (dev_warn_once)', () => {
  const r = rig({ swiotlb: false, devices: TBT, steps: '  - probe: tbt' });
  assert.equal(dmaMapSingle(r.k, r.dev('tbt'), 0x800002100, 256, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.equal(dmaMapSingle(r.k, r.dev('tbt'), 0x800002100, 256, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.deepEqual(logged(r.k, 'bounce buffers'), ['tbt: DMA bounce buffers are inactive, unable to map unaligned transaction.']);
});

test('untrusted on 16K pages (series): iova_align(2K) = 16K slot, 16K aligned: exposed 0', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true, devices: TBT, steps: '  - probe: tbt' });
  const dma = dmaMapSingle(r.k, r.dev('tbt'), 0x800002000, 2 * K, DMA_TO_DEVICE) as number;
  assert.equal(dma % (16 * K), 0);
  assert.equal(lastExposure(r.k), 0);
});

test('v2 series slot (swiotlb_v2_misaligned_slot): a 16K slot 4K into an IOMMU page maps 32K, 16K of it other slots', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true, options: 'swiotlb_v2_misaligned_slot: true', devices: TBT, steps: '  - probe: tbt' });
  const dev = r.dev('tbt');
  const before = r.k.findings.length;
  const dma = dmaMapSingle(r.k, dev, 0x800002000, 2 * K, DMA_TO_DEVICE) as number;
  // __iommu_dma_map(phys = slot, size = 16K): iova_off = 4K, iova_align(16K + 4K) = 32K
  assert.equal(dma % (16 * K), 4 * K);
  assert.equal(lastExposure(r.k), 16 * K);
  assert.deepEqual(codesSince(r.k, before), ['exposure']);
});

test("v2 series slot with 'warn': the series' patch 2 WARN_ON(iova_off) refuses the mapping", () => {
  const r = rig({ pgsizes: '[16K]', largePages: true, options: "swiotlb_v2_misaligned_slot: 'warn'", devices: TBT, steps: '  - probe: tbt' });
  assert.equal(dmaMapSingle(r.k, r.dev('tbt'), 0x800002000, 2 * K, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.equal(logged(r.k, 'WARN_ON(iova_off)').length, 1);
  assert.equal(swiotlbPool(r.k)!.usedSlots, 0);        // the slot was released again
});

test('dma-direct: dma_capable fails for a 32-bit device above 4G; swiotlb_map bounces into the (reachable) pool', () => {
  const r = rig({
    memory: '{ base: 0x80000000, size: 4G }',
    devices: '    - { name: d32, streams: [0], dma_mask: 32 }', steps: '  - probe: d32',
  });
  const dma = dmaMapSingle(r.k, r.dev('d32'), 0x100000000, 4096, DMA_TO_DEVICE) as number;
  assert.ok(dma + 4095 <= 0xffffffff && swiotlbPool(r.k)!.contains(dma));
  assert.equal(dmaMapSingle(r.k, r.dev('d32'), 0x80000000, 4096, DMA_TO_DEVICE), 0x80000000);
});

test('dma-direct: the pool itself beyond the mask: "swiotlb addr %pad+%zu overflow (mask %llx, bus limit %llx)."', () => {
  const r = rig({ memory: '{ base: 0x80000000, size: 2G }', devices: '    - { name: d30, streams: [0], dma_mask: 30 }', steps: '  - probe: d30' });
  const before = r.k.findings.length;
  assert.equal(dmaMapSingle(r.k, r.dev('d30'), 0x80000000, 4096, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.deepEqual(codesSince(r.k, before), ['dma-mask-overflow']);
  assert.match(logged(r.k, 'overflow')[0], /swiotlb addr 0x00000000804[0-9a-f]{5}\+4096 overflow \(mask 3fffffff, bus limit 0\)\./);
});

test('dma-direct without swiotlb: "DMA addr %pad+%zu overflow (mask %llx, bus limit %llx)."', () => {
  const r = rig({ swiotlb: false, memory: '{ base: 0x80000000, size: 4G }', devices: '    - { name: d32, streams: [0], dma_mask: 32 }', steps: '  - probe: d32' });
  assert.equal(dmaMapSingle(r.k, r.dev('d32'), 0x100000000, 4096, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.match(logged(r.k, 'overflow')[0], /DMA addr 0x0000000100000000\+4096 overflow \(mask ffffffff, bus limit 0\)\./);
});

test('swiotlb pool full: "swiotlb buffer is full (sz: %zd bytes), total %lu (slots), used %lu (slots)"', () => {
  const r = rig({ options: 'swiotlb_size: 64K', devices: TBT, steps: '  - probe: tbt' });
  // 64K pool = 32 slots; 16 bounces of 100 bytes take a 4K (2-slot) slot each
  for (let i = 0; i < 16; i++) assert.notEqual(dmaMapSingle(r.k, r.dev('tbt'), 0x800002100, 100, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.equal(dmaMapSingle(r.k, r.dev('tbt'), 0x800002100, 100, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  assert.deepEqual(logged(r.k, 'buffer is full'), ['tbt: swiotlb buffer is full (sz: 100 bytes), total 32 (slots), used 32 (slots)']);
});
