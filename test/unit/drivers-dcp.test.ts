// Apple display sharing (seed 001's thread): DCP and PIODMA behind two DARTs on apple-t8103, and the three ways
// of sharing a buffer: the dma_get_sgtable round trip, one shared default domain, driver-owned domains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrmMm } from '../../simulator/drivers/common/drm-mm';
import { allCodes, codesAt, result, run } from './drivers-fixtures';

const share = (method: string, kernel = '', platform = 'apple-t8103') => run(`platform: ${platform}\nkernel: { ${kernel} }\nsteps:
  - dcp.init: { method: ${method} }
    as: init
  - dcp.allocate_buffer: { size: 0x8000 }
    as: first
  - dcp.allocate_buffer: { size: 0x6000 }
    as: buf
  - dcp.map_piodma: { buffer: $buf }
    as: pio
  - dma_read: { dev: dcp, addr: $buf.dma, size: 0x6000 }
    as: dcpread
  - dma_read: { dev: piodma, addr: $pio.dma, size: 0x6000 }
    as: pioread
`);

test('get_sgtable: PIODMA gets its own address for the same pages, and dma-debug sees the cache lines mapped twice', () => {
  const s = share('get_sgtable');
  const buf = result(s, 'buf'), pio = result(s, 'pio');
  assert.equal(pio.ret, 0);
  assert.equal(pio.dcp, '0x' + buf.dma.toString(16));
  assert.notEqual(pio.dma, buf.dma, 'two IOVA allocators');
  assert.equal(result(s, 'dcpread'), buf.paddr);
  assert.equal(result(s, 'pioread'), buf.paddr);
  assert.deepEqual(codesAt(s, 3).sort(), ['dma-get-sgtable-sharing', 'exposure', 'overlapping-mapping']);
  assert.equal(s.kernel.faults.length, 0);
});

test('get_sgtable with the large-page series on a 4K kernel: -ENXIO at allocation, every PIODMA map denied', () => {
  const s = run(`platform: apple-t8103\nkernel: { page_size: 4K, large_iommu_pages: true }\nsteps:
  - dcp.init: { method: get_sgtable }
  - dcp.allocate_buffer: { size: 0x8000 }
    as: buf
  - dcp.map_piodma: { buffer: $buf }
    as: pio
`);
  assert.equal(result(s, 'buf').get_sgtable, '-ENXIO');
  assert.equal(result(s, 'pio'), '-EINVAL');
  assert.deepEqual(codesAt(s, 2), ['dma-get-sgtable-sharing']);
});

test('shared_default_domain across two DARTs: the attach is refused and PIODMA faults on DCP\'s address', () => {
  const s = share('shared_default_domain');
  assert.equal(result(s, 'init'), '-EINVAL');
  assert.deepEqual(codesAt(s, 0), ['shared-domain-refused']);
  assert.equal(result(s, 'pio').dma, result(s, 'buf').dma);
  assert.equal(result(s, 'dcpread'), result(s, 'buf').paddr);
  assert.equal(result(s, 'pioread').fault, 'translation');
  assert.match(s.kernel.faults[0].message, /^translation fault: status:0x[0-9a-f]+ stream:4 code:0x[0-9a-f]+ \(NO P[TM][ED] FOR IOVA\) at 0x[0-9a-f]+$/);
});

test('shared_default_domain works for two streams of one DART', () => {
  const s = share('shared_default_domain', 'page_size: 16K', `
  memory: { base: 0x800000000, size: 2G }
  iommus: [{ name: dart-disp, model: apple-dart-t8103 }]
  devices: [{ name: dcp, iommu: dart-disp, streams: [0] }, { name: piodma, iommu: dart-disp, streams: [4] }]`);
  assert.equal(result(s, 'init').domain, 'd1');
  assert.equal(result(s, 'pioread'), result(s, 'buf').paddr);
  assert.deepEqual(allCodes(s), []);
});

test('unmanaged_domains: one driver-chosen address valid for both DARTs, no finding', () => {
  const s = share('unmanaged_domains');
  const buf = result(s, 'buf'), pio = result(s, 'pio');
  assert.deepEqual([pio.dma, pio.dcp], [buf.dma, '0x' + buf.dma.toString(16)]);
  assert.equal(buf.dma % 0x4000, 0);
  assert.equal(result(s, 'pioread'), buf.paddr);
  assert.deepEqual(allCodes(s), []);
  assert.deepEqual(s.kernel.faults, []);
  const r = s.snapshot();
  const owners = r.domains.filter(d => d.type === 'UNMANAGED').map(d => d.mappings.map(m => m.owner));
  assert.equal(owners.length, 2);
  assert.ok(owners[1].some(o => /for PIODMA/.test(o ?? '')));
});

test('unmanaged_domains on a 4K mainline kernel: the DARTs force bypass and the locked one cannot, so init fails', () => {
  const s = run('platform: apple-t8103\nkernel: { page_size: 4K }\nsteps:\n  - dcp.init: { method: unmanaged_domains }\n    as: init\n');
  assert.equal(result(s, 'init'), '-EINVAL');
  assert.throws(() => run('platform: apple-t8103\nkernel: { page_size: 4K }\nsteps:\n  - dcp.init: { method: unmanaged_domains }\n  - dcp.allocate_buffer: { size: 4K }\n'),
    /the DCP driver is not bound/);
  assert.ok(allCodes(s).includes('pagesize-mismatch'));
});

test('drm_mm: best fit with alignment, fixed reservations, removal', () => {
  const mm = new DrmMm(0x1000, 0x10000);
  const a = mm.insert(0x3000, 0x1000)!;
  const b = mm.insert(0x2000, 0x4000)!;
  assert.deepEqual([a.start, b.start], [0x1000, 0x4000]);
  assert.equal(mm.reserve(0x5000, 0x1000), null, 'overlaps b');
  const c = mm.reserve(0x8000, 0x1000)!;
  // holes: [0x6000,0x8000) of 8K and [0x9000,0x11000) of 32K: best fit takes the smaller
  assert.equal(mm.insert(0x2000, 0x1000)!.start, 0x6000);
  assert.equal(mm.insert(0x9000, 0x1000), null, 'no hole of 36K');
  assert.ok(mm.remove(c));
  assert.equal(mm.remove(c), false);
  assert.equal(mm.insert(0x9000, 0x1000)!.start, 0x8000);
  assert.equal(mm.reserve(0x11000, 0x1000), null, 'outside the range');
});
