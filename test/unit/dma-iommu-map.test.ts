// dma-iommu streaming mappings (drivers/iommu/dma-iommu.c). Expected values are worked out from the kernel's
// rules: iova_off = phys & (granule - 1), mapped = iova_align(size + iova_off), dma = iova + iova_off, IOVAs
// allocated top-down below min(dma_mask, aperture end) (PCI: below 4G first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmaMapPage, dmaMapSingle, dmaUnmapSingle, lastExposure } from '../../simulator/dma/api';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../simulator/dma/state';
import { DMA_MAPPING_ERROR } from '../../simulator/runner/ops';
import { deviceAccess } from '../../simulator/iommu/access';
import { KernelOops } from '../../simulator/kernel';
import { bitsPer } from '../../simulator/dma/cookie';
import { codesSince, logged, rig } from './dma-fixtures';

const PHYS = 0x800009000;          // 4K into the 16K page 0x800008000

test('map_page: dma = iova + iova_offset(phys); 16K granule maps iova_align(4K + 0x1000) = 16K, 12K exposed', () => {
  const r = rig({ pgsizes: '[16K]', largePages: true });
  const dma = dmaMapSingle(r.k, r.dev('plat'), PHYS, 4096, DMA_TO_DEVICE) as number;
  // first allocation, top-down: the highest 16K page below 2^48 is 0xffffffffc000
  assert.equal(dma, 0xffffffffc000 + 0x1000);
  assert.equal(lastExposure(r.k), 12 * 1024);
  const d = r.dev('plat').group!.domain!;
  const leaf = d.pgtable!.lookup(0xffffffffc000)!;
  assert.deepEqual([leaf.paddr, leaf.size], [0x800008000, 0x4000]);
});

test('map_page: 4K granule, buffer straddling a page boundary: iova_align(0x100 + 0x1f00) = 8K, two pages mapped', () => {
  const r = rig();
  const dma = dmaMapPage(r.k, r.dev('plat'), 0x800001f00, 0x200, DMA_BIDIRECTIONAL) as number;
  // 8K allocation top-down: pfn 0xffffffffe (size 2 pages rounded to 2, aligned to 2)
  assert.equal(dma, 0xffffffffe000 + 0xf00);
  assert.equal(lastExposure(r.k), 8192 - 0x200);
});

test('map_page: the limit is min(dma_mask, aperture end): a 32-bit mask allocates below 4G', () => {
  const r = rig({ devices: '    - { name: m32, iommu: io0, streams: [3], dma_mask: 32 }', steps: '  - probe: m32' });
  assert.equal(dmaMapSingle(r.k, r.dev('m32'), 0x800000000, 4096, DMA_TO_DEVICE), 0xfffff000);
});

test('map_page: a 36-bit aperture (ias 36) caps a 64-bit mask at 2^36 - 1', () => {
  const r = rig({ ias: 36 });
  assert.equal(dmaMapSingle(r.k, r.dev('plat'), 0x800000000, 4096, DMA_TO_DEVICE), 0xffffff000);
});

test('iommu_dma_alloc_iova: PCI tries DMA_BIT_MASK(32) first, then "Using %d-bit DMA addresses" once (bits_per(limit))', () => {
  const r = rig({ memory: '{ base: 0x80000000, size: 2G }' });
  const pci = r.dev('pci');
  // 1G mappings are size-aligned: 0xc0000000, 0x80000000, 0x40000000; pfn 0 is below start_pfn, so the 4th fails
  const got = [0, 1, 2, 3].map(() => dmaMapSingle(r.k, pci, 0x80000000, 2 ** 30, DMA_TO_DEVICE));
  assert.deepEqual(got, [0xc0000000, 0x80000000, 0x40000000, 0xffffc0000000]);
  assert.deepEqual(logged(r.k, 'DMA addresses'), ['pci: Using 48-bit DMA addresses']);
  // no second try below 4G, no second message
  assert.equal(dmaMapSingle(r.k, pci, 0x80000000, 4096, DMA_TO_DEVICE), 0xffffbffff000);
  assert.equal(logged(r.k, 'DMA addresses').length, 1);
});

test('bits_per: 2^48 - 1 needs 48 bits, 2^32 needs 33, 1 needs 1', () => {
  assert.deepEqual([bitsPer(2 ** 48 - 1), bitsPer(2 ** 32), bitsPer(1)], [48, 33, 1]);
});

test('iommu.forcedac (kernel.options.iommu_dma_forcedac) skips the 32-bit-first rule', () => {
  const r = rig({ options: 'iommu_dma_forcedac: true' });
  assert.equal(dmaMapSingle(r.k, r.dev('pci'), 0x800000000, 4096, DMA_TO_DEVICE), 0xfffffffff000);
});

test('strict unmap: IOTLB invalidated at once (the device faults) and the IOVA comes back from the rcache', () => {
  const r = rig();
  const dev = r.dev('plat');
  const dma = dmaMapSingle(r.k, dev, 0x800004000, 4096, DMA_FROM_DEVICE) as number;
  assert.ok(deviceAccess(r.k, dev, dma, 64, 'write').ok);
  dmaUnmapSingle(r.k, dev, dma, 4096, DMA_FROM_DEVICE);
  assert.equal(deviceAccess(r.k, dev, dma, 64, 'write').ok, false);
  assert.equal(dmaMapSingle(r.k, dev, 0x800004000, 4096, DMA_FROM_DEVICE), dma);
});

test('dma_info_to_prot: DMA_TO_DEVICE maps read-only, so a device write faults (permission)', () => {
  const r = rig();
  const dev = r.dev('plat');
  const dma = dmaMapSingle(r.k, dev, 0x800004000, 4096, DMA_TO_DEVICE) as number;
  const w = deviceAccess(r.k, dev, dma, 4, 'write');
  assert.equal(w.ok ? 'ok' : w.fault, 'permission');
});

test('iommu_dma_unmap_page: an address that is not mapped WARNs (WARN_ON(!phys)) and changes nothing', () => {
  const r = rig();
  const before = r.k.findings.length;
  dmaUnmapSingle(r.k, r.dev('plat'), 0x12340000, 4096, DMA_TO_DEVICE);
  assert.equal(logged(r.k, 'WARN_ON(!phys)').length, 1);
  assert.deepEqual(codesSince(r.k, before), ['free-unmapped']);
});

test('dma_map_page with DMA_NONE: BUG_ON(!valid_dma_direction(dir)) oopses', () => {
  const r = rig();
  assert.throws(() => dmaMapSingle(r.k, r.dev('plat'), 0x800004000, 4096, DMA_NONE), KernelOops);
});

test('DMA_MAPPING_ERROR unmapped: dma-debug "tries to free an invalid DMA memory address" (mapping-error-unchecked)', () => {
  const r = rig();
  const before = r.k.findings.length;
  dmaUnmapSingle(r.k, r.dev('plat'), DMA_MAPPING_ERROR, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, before), ['mapping-error-unchecked']);
  assert.match(r.k.findings[before].message, /^DMA-API: plat plat: device driver tries to free an invalid DMA memory address$/);
});

test('lazy unmap (DMA_FQ): a cached translation keeps working (stale-iotlb-access) until the flush-queue timer', () => {
  const r = rig({ strict: false, options: 'flush_queue_timeout: 2' });
  const dev = r.dev('plat');
  assert.equal(dev.group!.domain!.typeName, 'DMA_FQ');
  const dma = dmaMapSingle(r.k, dev, 0x800004000, 4096, DMA_FROM_DEVICE) as number;
  assert.ok(deviceAccess(r.k, dev, dma, 64, 'write').ok);           // fills the IOTLB
  dmaUnmapSingle(r.k, dev, dma, 4096, DMA_FROM_DEVICE);
  const before = r.k.findings.length;
  const stale = deviceAccess(r.k, dev, dma, 64, 'write');
  assert.ok(stale.ok && stale.stale);
  assert.deepEqual(codesSince(r.k, before), ['stale-iotlb-access']);
  // the IOVA is still queued: a new mapping gets a different one
  assert.notEqual(dmaMapSingle(r.k, dev, 0x800005000, 4096, DMA_FROM_DEVICE), dma);
});

test('flush queue: a ring of size 4 holds 3; the 4th queue_iova finds it full and flush_iotlb_all drops every entry', () => {
  const r = rig({ strict: false, options: 'flush_queue_size: 4' });
  const dev = r.dev('plat');
  const d = dev.group!.domain!;
  const maps = [0, 1, 2, 3].map(i => dmaMapSingle(r.k, dev, 0x800004000 + i * 4096, 4096, DMA_TO_DEVICE) as number);
  for (const m of maps) deviceAccess(r.k, dev, m, 4, 'read');
  for (const m of maps.slice(0, 3)) dmaUnmapSingle(r.k, dev, m, 4096, DMA_TO_DEVICE);
  // three queued (a 4-slot ring holds 3): all still stale in the IOTLB
  assert.equal(d.iommu.iotlb.list().filter(e => e.stale).length, 3);
  const cookie = d.cookie as unknown as { fq: { entries: unknown[]; flushes: number } };
  assert.deepEqual([cookie.fq.entries.length, cookie.fq.flushes], [3, 0]);
  dmaUnmapSingle(r.k, dev, maps[3], 4096, DMA_TO_DEVICE);
  // queue_iova runs after the PTEs are gone, so the whole-domain flush drops the fourth's entry too
  assert.equal(d.iommu.iotlb.list().filter(e => e.domain === d.id).length, 0);
  assert.deepEqual([cookie.fq.entries.length, cookie.fq.flushes], [1, 1]);
});

test('untrusted devices are always strict: their default domain is DMA even in lazy mode', () => {
  const r = rig({ strict: false, devices: '    - { name: tbt, iommu: io0, streams: [5], bus: pci, untrusted: true }', steps: '  - probe: tbt' });
  assert.equal(r.dev('tbt').group!.domain!.typeName, 'DMA');
});

test('identity default domain (iommu.passthrough): dma-direct, the device address is the physical address', () => {
  const r = rig({ options: 'passthrough: true' });
  assert.equal(r.dev('plat').group!.domain!.typeName, 'IDENTITY');
  assert.equal(dmaMapSingle(r.k, r.dev('plat'), 0x800004100, 256, DMA_TO_DEVICE), 0x800004100);
  assert.equal(lastExposure(r.k), 0);
});
