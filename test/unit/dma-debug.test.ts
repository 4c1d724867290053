// DMA-API debugging (kernel/dma/debug.c): the exact texts of check_unmap, check_sync, check_sg_segment and the
// unbind leak check, err_printk's prefix "DMA-API: %s %s: " (driver, device), and show_num_errors = 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmaMapSg, dmaMapSingle, dmaSyncSingle, dmaUnmapPage, dmaUnmapSg, dmaUnmapSingle } from '../../simulator/dma/api';
import { dmaAllocCoherent, dmaFreeCoherent } from '../../simulator/dma/api-alloc';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, devDma } from '../../simulator/dma/state';
import { debugLeakCheck } from '../../simulator/dma/debug';
import { codesSince, logged, rig } from './dma-fixtures';
import { dmaMapPage } from '../../simulator/dma/api';
import { loadSession } from '../../simulator/session';

const NIC = '    - { name: "0000:02:00.0", iommu: io0, streams: [9], bus: pci, params: { driver: e1000e } }';

function setup(opts = '') {
  const r = rig({ devices: NIC, steps: '  - probe: "0000:02:00.0"', options: opts });
  return { ...r, nic: r.dev('0000:02:00.0') };
}

function lastMessages(r: ReturnType<typeof setup>, from: number): string[] {
  return r.k.findings.slice(from).map(f => `${f.code}: ${f.message}`);
}

test('check_unmap: different size, then direction; prefix is "DMA-API: <driver> <device>: "', () => {
  const r = setup();
  const dma = dmaMapSingle(r.k, r.nic, 0x800004000, 8192, DMA_TO_DEVICE) as number;
  const from = r.k.findings.length;
  dmaUnmapSingle(r.k, r.nic, dma, 4096, DMA_FROM_DEVICE);
  const msgs = lastMessages(r, from).filter(m => m.startsWith('wrong-size-free: DMA-API') || m.startsWith('wrong-direction'));
  assert.deepEqual(msgs, [
    'wrong-size-free: DMA-API: e1000e 0000:02:00.0: device driver frees DMA memory with different size [device address=0x00000000ffffe000] [map size=8192 bytes] [unmap size=4096 bytes]',
    'wrong-direction: DMA-API: e1000e 0000:02:00.0: device driver frees DMA memory with different direction [device address=0x00000000ffffe000] [size=4096 bytes] [mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]',
  ]);
});

test('check_unmap: an address never mapped is "free DMA memory it has not allocated" (free-unmapped); twice is double-free', () => {
  const r = setup();
  const from = r.k.findings.length;
  dmaUnmapSingle(r.k, r.nic, 0xabc000, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, from), ['free-unmapped']);
  assert.match(r.k.findings[from].message, /tries to free DMA memory it has not allocated \[device address=0x0000000000abc000\] \[size=4096 bytes\]$/);
  const dma = dmaMapSingle(r.k, r.nic, 0x800004000, 4096, DMA_TO_DEVICE) as number;
  dmaUnmapSingle(r.k, r.nic, dma, 4096, DMA_TO_DEVICE);
  const second = r.k.findings.length;
  dmaUnmapSingle(r.k, r.nic, dma, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, second), ['double-free']);
});

test('check_unmap: wrong function "[mapped as coherent] [unmapped as single]"; map_page and map_single are both "single"', () => {
  const r = setup();
  const c = dmaAllocCoherent(r.k, r.nic, 4096)!;
  const from = r.k.findings.length;
  dmaUnmapPage(r.k, r.nic, c.dma, 4096, DMA_BIDIRECTIONAL);
  assert.ok(r.k.findings.slice(from).some(f => f.code === 'wrong-free-function' && f.message.endsWith('[mapped as coherent] [unmapped as single]')));
  const dma = dmaMapSingle(r.k, r.nic, 0x800004000, 4096, DMA_TO_DEVICE) as number;
  const ok = r.k.findings.length;
  dmaUnmapPage(r.k, r.nic, dma, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, ok), []);
});

test('check_unmap: coherent freed with a different CPU address', () => {
  const r = setup();
  const c = dmaAllocCoherent(r.k, r.nic, 4096)!;
  const from = r.k.findings.length;
  dmaFreeCoherent(r.k, r.nic, 4096, c.cpu + 0x1000, c.dma);
  assert.ok(codesSince(r.k, from).includes('wrong-cpu-address'));
});

test('debug_dma_unmap_sg: a different entry count is "[map count=%d] [unmap count=%d]"', () => {
  const r = setup();
  const sg = [{ paddr: 0x800004000, len: 4096 }, { paddr: 0x800006000, len: 4096 }];
  const res = dmaMapSg(r.k, r.nic, sg, DMA_TO_DEVICE);
  const from = r.k.findings.length;
  dmaUnmapSg(r.k, r.nic, sg, res.entries, 1, DMA_TO_DEVICE);
  assert.deepEqual(lastMessages(r, from), [
    'wrong-sg-count: DMA-API: e1000e 0000:02:00.0: device driver frees DMA sg list with different entry count [map count=2] [unmap count=1]',
  ]);
});

test('check_sync: outside any mapping, and the two direction rules for a TO_DEVICE mapping synced FROM_DEVICE for the cpu', () => {
  const r = setup();
  const dma = dmaMapSingle(r.k, r.nic, 0x800004000, 4096, DMA_TO_DEVICE) as number;
  let from = r.k.findings.length;
  dmaSyncSingle(r.k, r.nic, dma + 0x800, 4096, DMA_TO_DEVICE, false);
  assert.deepEqual(codesSince(r.k, from), ['sync-unmapped']);
  from = r.k.findings.length;
  dmaSyncSingle(r.k, r.nic, dma, 4096, DMA_FROM_DEVICE, true);
  assert.deepEqual(lastMessages(r, from).map(m => m.replace(/ \[device address.*$/, '')), [
    'sync-wrong-direction: DMA-API: e1000e 0000:02:00.0: device driver syncs DMA memory with different direction',
    'sync-wrong-direction: DMA-API: e1000e 0000:02:00.0: device driver syncs device read-only DMA memory for cpu',
  ]);
  // a BIDIRECTIONAL mapping may be synced either way; a part of a mapping is fine
  const bi = dmaMapSingle(r.k, r.nic, 0x800005000, 4096, DMA_BIDIRECTIONAL) as number;
  from = r.k.findings.length;
  dmaSyncSingle(r.k, r.nic, bi, 2048, DMA_FROM_DEVICE, true);
  assert.deepEqual(codesSince(r.k, from), []);
});

test('check_sg_segment (CONFIG_DMA_API_DEBUG_SG): an entry longer than max_seg_size', () => {
  const r = setup();
  devDma(r.nic).maxSegSize = 8192;
  const from = r.k.findings.length;
  dmaMapSg(r.k, r.nic, [{ paddr: 0x800010000, len: 16384 }], DMA_TO_DEVICE);
  assert.deepEqual(lastMessages(r, from), [
    'sg-segment-too-long: DMA-API: e1000e 0000:02:00.0: mapping sg segment longer than device claims to support [len=16384] [max=8192]',
  ]);
});

test('unbind with live mappings: "pending DMA allocations while released from device [count=%d]" (leak)', () => {
  const r = setup();
  dmaMapSingle(r.k, r.nic, 0x800004000, 4096, DMA_TO_DEVICE);
  dmaAllocCoherent(r.k, r.nic, 4096);
  const from = r.k.findings.length;
  debugLeakCheck(r.k, r.nic, devDma(r.nic));
  assert.deepEqual(codesSince(r.k, from), ['leak']);
  assert.match(r.k.findings[from].message, /pending DMA allocations while released from device \[count=2\] One of leaked entries details: \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\]/);
});

test('err_printk: show_num_errors = 1 prints only the first error; dma_debug_all_errors prints each', () => {
  const once = setup();
  dmaUnmapSingle(once.k, once.nic, 0xabc000, 4096, DMA_TO_DEVICE);
  dmaUnmapSingle(once.k, once.nic, 0xdef000, 4096, DMA_TO_DEVICE);
  assert.equal(logged(once.k, 'DMA-API:').length, 1);
  assert.equal(once.k.findings.filter(f => f.code === 'free-unmapped').length, 2);
  const all = setup('dma_debug_all_errors: true');
  dmaUnmapSingle(all.k, all.nic, 0xabc000, 4096, DMA_TO_DEVICE);
  dmaUnmapSingle(all.k, all.nic, 0xdef000, 4096, DMA_TO_DEVICE);
  assert.equal(logged(all.k, 'DMA-API:').length, 2);
});

test('kernel.options.dma_debug: false turns the checks off', () => {
  const r = setup('dma_debug: false');
  const from = r.k.findings.length;
  dmaUnmapSingle(r.k, r.nic, 0xabc000, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, from), []);
});

test('active_cacheline_insert: two device-writable mappings starting in one 64-byte line overlap; DMA_TO_DEVICE ones do not', () => {
  const r = setup();
  dmaMapSingle(r.k, r.nic, 0x800004000, 64, DMA_TO_DEVICE);
  let from = r.k.findings.length;
  dmaMapSingle(r.k, r.nic, 0x800004000, 64, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, from).filter(c => c !== 'exposure'), []);
  const a = dmaMapSingle(r.k, r.nic, 0x800005000, 32, DMA_FROM_DEVICE) as number;
  from = r.k.findings.length;
  dmaMapSingle(r.k, r.nic, 0x800005020, 32, DMA_FROM_DEVICE);
  assert.deepEqual(codesSince(r.k, from).filter(c => c !== 'exposure'), ['overlapping-mapping']);
  assert.equal(logged(r.k, "cacheline tracking EEXIST, overlapping mappings aren't supported").length, 1);
  // unmapping the first leaves the second in that line: a third mapping there still overlaps
  dmaUnmapSingle(r.k, r.nic, a, 32, DMA_FROM_DEVICE);
  from = r.k.findings.length;
  dmaMapSingle(r.k, r.nic, 0x800005000, 32, DMA_FROM_DEVICE);
  assert.deepEqual(codesSince(r.k, from).filter(c => c !== 'exposure'), ['overlapping-mapping']);
});

test('active_cacheline tracking survives map/unmap churn over many lines: a freed line is free, a live one still overlaps', () => {
  const r = setup();
  const held = dmaMapSingle(r.k, r.nic, 0x800005000, 32, DMA_FROM_DEVICE) as number;
  // 200 device-writable mappings in other lines, each unmapped again (their counts drop to 0 and get swept)
  for (let i = 0; i < 200; i++) {
    const dma = dmaMapSingle(r.k, r.nic, 0x800010000 + i * 64, 64, DMA_FROM_DEVICE) as number;
    dmaUnmapSingle(r.k, r.nic, dma, 64, DMA_FROM_DEVICE);
  }
  let from = r.k.findings.length;
  const again = dmaMapSingle(r.k, r.nic, 0x800010000 + 7 * 64, 64, DMA_FROM_DEVICE) as number;
  assert.deepEqual(codesSince(r.k, from).filter(c => c !== 'exposure'), [], 'a line whose mapping was unmapped is free again');
  from = r.k.findings.length;
  dmaMapSingle(r.k, r.nic, 0x800005010, 16, DMA_FROM_DEVICE);
  assert.deepEqual(codesSince(r.k, from).filter(c => c !== 'exposure'), ['overlapping-mapping'], 'the held mapping still owns its line');
  dmaUnmapSingle(r.k, r.nic, held, 32, DMA_FROM_DEVICE);
  dmaUnmapSingle(r.k, r.nic, again, 64, DMA_FROM_DEVICE);
});

test('debug_dma_map_single checks the area before mapping (dma_map_single only): a map that fails still warns', () => {
  const r = setup();
  const from = r.k.findings.length;
  dmaMapSingle(r.k, r.nic, 0x1000, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, from).filter(c => c === 'invalid-dma-area'), ['invalid-dma-area']);
  const page = r.k.findings.length;
  dmaMapPage(r.k, r.nic, 0x1000, 4096, DMA_TO_DEVICE);
  assert.deepEqual(codesSince(r.k, page).filter(c => c === 'invalid-dma-area'), []);
  // the IPU3 MMU refuses physical page 0 (-ERANGE): the warning comes first, as in dma_map_single_attrs
  const s = loadSession(`platform:
  memory: { base: 0x80010000, size: 4G }
  iommus: [{ name: io0, model: ipu3-mmu }]
  devices: [{ name: dev0, iommu: io0, streams: [0] }]
kernel: { page_size: 4K }
steps:
  - probe: dev0
  - dma_map_single: { dev: dev0, paddr: 0, size: 1.5K, dir: bidirectional }
`, 'ipu3-page0.iommu.yaml');
  s.runAll();
  assert.deepEqual(s.kernel.findings.map(f => f.code), ['invalid-dma-area']);
  assert.equal(s.kernel.findings[0].message.includes('device driver maps memory from invalid area [addr=0x0000000000000000] [len=1536]'), true);
});
