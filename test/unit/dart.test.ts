// Apple DART: PTE and TTBR encodings bit by bit (io-pgtable-dart.c, apple-dart.c), table geometry, walks
// against hand-computed tables, register values as the driver programs them, probe lines, fault codes,
// the page-size rules (mainline forced bypass vs the large-page series), locked DARTs and DART groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DartFormat, TTBR_T8020, TTBR_T8110, dartSubpage, decodeTtbr, encodeTtbr } from '../../simulator/models/dart/format';
import { PageTable } from '../../simulator/iommu/pgtable';
import { PROT_CACHE, PROT_READ, PROT_WRITE, descHex } from '../../simulator/iommu/pte-format';
import { loadSession } from '../../simulator/session';
import { dumpPageTable } from '../../simulator/models/dart/dump';

const out = new Uint32Array(2);
const dart1 = (pgsize = 16384) => new DartFormat({ kind: 'dart1', pgsize, ias: 32, oas: 36, ttbr: TTBR_T8020 });
const dart2 = (ias = 32) => new DartFormat({ kind: 'dart2', pgsize: 16384, ias, oas: 42, ttbr: TTBR_T8110 });

test('DART1 leaf: PA bits 35:12 in place, SP_DIS bit 1, VALID bit 0, NO_WRITE bit 7, NO_READ bit 8, sub-page END 0xfff in bits 51:40', () => {
  const f = dart1();
  f.encodeLeaf(0x8_0123_4000, PROT_READ | PROT_WRITE, 2, out);
  assert.equal(out[0], 0x01234003);
  assert.equal(out[1], 0x000fff08, 'PA bits 35:32 = 0x8, END = 0xfff at bits 51:40, START = 0');
  f.encodeLeaf(0x8_0123_4000, PROT_READ, 2, out);
  assert.equal(out[0], 0x01234083, 'read-only sets NO_WRITE (bit 7)');
  f.encodeLeaf(0x8_0123_4000, PROT_WRITE, 2, out);
  assert.equal(out[0], 0x01234103, 'write-only sets NO_READ (bit 8)');
  assert.deepEqual(dartSubpage(out[1]), { start: 0, end: 0xfff });
  const d = f.decode(out[0], out[1], 2);
  assert.deepEqual(d, { type: 2, addr: 0x8_0123_4000, prot: PROT_WRITE });
});

test('DART2 leaf: PA >> 4 in bits 37:10, NO_CACHE bit 1, NO_WRITE bit 2, NO_READ bit 3, sub-page START 63:52 = 0, END 51:40 = 0xfff', () => {
  const f = dart2();
  const pa = 0x100_0012_4000;           // above 2^40: only DART2 reaches it
  f.encodeLeaf(pa, PROT_READ | PROT_WRITE, 2, out);
  // pa >> 4 = 0x10_0001_2400: low word 0x00012400, high bits 37:32 = 0x10
  assert.equal(out[0], 0x00012403, 'no IOMMU_CACHE: NO_CACHE (bit 1) set');
  assert.equal(out[1], 0x000fff10);
  f.encodeLeaf(pa, PROT_READ | PROT_WRITE | PROT_CACHE, 2, out);
  assert.equal(out[0], 0x00012401);
  f.encodeLeaf(pa, PROT_READ | PROT_CACHE, 2, out);
  assert.equal(out[0], 0x00012405, 'read-only: NO_WRITE (bit 2)');
  f.encodeLeaf(pa, PROT_WRITE | PROT_CACHE, 2, out);
  assert.equal(out[0], 0x00012409, 'write-only: NO_READ (bit 3)');
  assert.deepEqual(f.decode(out[0], out[1], 2), { type: 2, addr: pa, prot: PROT_WRITE | PROT_CACHE });
});

test('table descriptors: the next table\'s address in the PTE address field, VALID only', () => {
  dart1().encodeTable(0x8_0000_8000, out, 1);
  assert.deepEqual([...out], [0x00008001, 0x8]);
  dart2().encodeTable(0x100_0000_8000, out, 1);
  assert.deepEqual([...out], [0x00000801, 0x10], '(0x10000008000 >> 4) = 0x1000000800');
});

test('TTBR registers: t8020 VALID bit 31 | pa >> 12; t8110 VALID bit 0 | (pa >> 14) << 2', () => {
  assert.equal(encodeTtbr(TTBR_T8020, 0x8_0000_4000), 0x80800004);
  assert.equal(decodeTtbr(TTBR_T8020, 0x80800004), 0x8_0000_4000);
  assert.equal(encodeTtbr(TTBR_T8110, 0x8_0000_4000), 0x00800005);
  assert.equal(decodeTtbr(TTBR_T8110, 0x00800005), 0x8_0000_4000);
  assert.equal(dart1().descType(0x00800004, 0, 0), 0, 'a TTBR without VALID is invalid');
});

test('geometry: 16K pages 11 bits per level (shifts 36/25/14); 4K pages 4 TTBRs; t8110 with a 42-bit input takes 3 tables', () => {
  const a = dart1();
  assert.deepEqual([a.shifts, a.bits, a.leafLevels, a.nTtbrs, a.tableLevels], [[36, 25, 14], [0, 11, 11], [false, false, true], 1, 2]);
  const b = dart1(4096);
  assert.deepEqual([b.shifts, b.bits, b.nTtbrs], [[30, 21, 12], [2, 9, 9], 4]);
  const c = dart2(42);
  assert.deepEqual([c.shifts, c.bits, c.tableLevels], [[47, 36, 25, 14], [0, 11, 11, 11], 3]);
  assert.equal(dart2(36).tableLevels, 2);
  assert.throws(() => new DartFormat({ kind: 'dart1', pgsize: 16384, ias: 32, oas: 40, ttbr: TTBR_T8020 }), /neither 36 nor 42/);
  assert.throws(() => new DartFormat({ kind: 'dart2', pgsize: 16384, ias: 48, oas: 42, ttbr: TTBR_T8110 }), /exceeds/);
});

function allocator(start = 0x8_0000_0000) {
  let next = start;
  const allocs: number[] = [];
  return { alloc: (bytes: number) => { const p = next; next += bytes; allocs.push(bytes); return p; }, free: () => undefined, allocs };
}

test('walk of a 4K DART against hand-computed tables: TTBR 3, L1 index 0, L2 index 1', () => {
  const mem = allocator();
  const pt = new PageTable(dart1(4096), mem, null, 'd');
  assert.deepEqual(mem.allocs, [4096, 4096, 4096, 4096], 'the four first-level tables exist from the start, one per TTBR');
  assert.equal(pt.map(0xc000_1000, 0x8_0040_2000, 4096, PROT_READ | PROT_WRITE), 0);
  const l1 = 0x8_0000_3000;                      // the fourth first-level table
  const l2 = 0x8_0000_4000;                      // allocated by the map
  const w = pt.walk(0xc000_1234);
  assert.deepEqual(w.map(s => [s.level, s.index, s.table, s.outcome]), [[0, 3, -1, 'table'], [1, 0, l1, 'table'], [2, 1, l2, 'leaf']]);
  assert.equal(w[0].raw, descHex(encodeTtbr(TTBR_T8020, l1), 0));
  assert.equal(w[1].raw, '0x0000000800004001');
  assert.equal(w[2].raw, '0x000fff0800402003');
  assert.equal(pt.iovaToPhys(0xc000_1234), 0x8_0040_2234);
  assert.equal(pt.map(0x1000, 0x8_0000_0000, 4096, 0), -22, 'neither read nor write: -EINVAL');
  assert.equal(pt.map(0x1000, 0x10_0000_0000, 4096, PROT_READ), -34, 'past the 36-bit output: -ERANGE');
  assert.equal(pt.map(0xc000_1000, 0x8_0000_0000, 4096, PROT_READ), -17, 'already valid: -EEXIST');
  const dump = dumpPageTable(pt);
  assert.deepEqual(dump.map(e => e.name), ['TTBR[0]', 'TTBR[1]', 'TTBR[2]', 'TTBR[3]', 'L1[0x000]', 'L2[0x001]']);
  assert.deepEqual(dump[5], { level: 2, name: 'L2[0x001]', index: 1, iova: '0xc0001000', table: '0x800004000', raw: '0x000fff0800402003',
    kind: 'leaf', addr: '0x800402000', prot: ['read', 'write'], subpage: { start: 0, end: 0xfff } });
});

const platform = (iommus: string, devices: string) => `
platform:
  memory: { base: 0x800000000, size: 2G }
  iommus:
${iommus}
  devices:
${devices}
`;

function run(text: string) {
  const s = loadSession(text, 't.iommu.yaml');
  s.runAll();
  return s;
}

function reg(s: ReturnType<typeof run>, iommu: string, name: string) {
  const r = s.kernel.iommus.get(iommu)!.model.registers().find(x => x.name === name);
  assert.ok(r, `${iommu} has register ${name}`);
  return r!;
}

test('t8103 registers: PARAMS1/2, then TTBR0 VALID|pa>>12, TCR TRANSLATE_ENABLE, STREAM_SELECT + INVALIDATE as the driver writes them', () => {
  const s = run(`${platform('    - { name: dart0, model: apple-dart-t8103 }', '    - { name: usb, iommu: dart0, streams: [2] }')}
kernel: { page_size: 16K }
steps:
  - probe: usb
`);
  assert.equal(reg(s, 'dart0', 'PARAMS1').value, 0x0e000000);
  assert.deepEqual(reg(s, 'dart0', 'PARAMS1').fields, { PAGE_SHIFT: 14 });
  assert.deepEqual(reg(s, 'dart0', 'PARAMS2').fields, { BYPASS_SUPPORT: 1 });
  const l1 = s.kernel.domains.get('d1')!.pgtable!.root.children![0]!.paddr;
  assert.equal(reg(s, 'dart0', 'TTBR[2][0]').offset, 0x200 + 16 * 2);
  assert.equal(reg(s, 'dart0', 'TTBR[2][0]').value, (0x80000000 + l1 / 4096) >>> 0);
  assert.equal(reg(s, 'dart0', 'TTBR[2][1]').value, 0);
  assert.equal(reg(s, 'dart0', 'TCR[2]').offset, 0x108);
  assert.deepEqual(reg(s, 'dart0', 'TCR[2]').fields, { TRANSLATE_ENABLE: 1, BYPASS_DART: 0, BYPASS_DAPF: 0 });
  assert.equal(reg(s, 'dart0', 'STREAM_SELECT[0]').value, 1 << 2);
  assert.equal(reg(s, 'dart0', 'STREAMS_ENABLE').value, 0xffffffff);
  assert.deepEqual(s.kernel.dmesg.filter(l => l.text.includes('DART [')).map(l => l.text),
    ['dart0: DART [pagesize 4000, 16 streams, bypass support: 1, bypass forced: 0] initialized']);
});

test('t8110: PARAMS3/4 give widths and streams, TTBR VALID bit 0, TCR FOUR_LEVEL with a 42-bit input, TLB_CMD FLUSH_SID per stream', () => {
  const s = run(`${platform('    - { name: d, model: apple-dart-t8110, va_width: 42, pa_width: 42, streams: 32 }', '    - { name: nic, iommu: d, streams: [7], bus: pci }')}
kernel: { page_size: 16K }
steps:
  - probe: nic
  - iommu_get_domain_for_dev: { dev: nic }
    as: dom
  - iommu_map: { domain: $dom, iova: 0x20000000000, paddr: 0x800004000, size: 16K }
  - dma_read: { dev: nic, addr: 0x10000000000 }
  - dma_read: { dev: nic, addr: 0x20002000000 }
  - dma_read: { dev: nic, addr: 0x20000004000 }
`);
  assert.deepEqual(reg(s, 'd', 'PARAMS3').fields, { PA_WIDTH: 42, VA_WIDTH: 42, VER_MAJ: 0, VER_MIN: 0 });
  assert.deepEqual(reg(s, 'd', 'PARAMS4').fields, { NUM_CLIENTS: 0, NUM_SIDS: 32 });
  assert.equal(reg(s, 'd', 'TCR[7]').offset, 0x1000 + 4 * 7);
  assert.deepEqual(reg(s, 'd', 'TCR[7]').fields, { TRANSLATE_ENABLE: 1, BYPASS_DART: 0, BYPASS_DAPF: 0, FOUR_LEVEL: 1 });
  const pgd = s.kernel.domains.get('d1')!.pgtable!.root.children![0]!.paddr;
  assert.equal(reg(s, 'd', 'TTBR[7][0]').offset, 0x1400 + 4 * 7);
  assert.equal(reg(s, 'd', 'TTBR[7][0]').value, (pgd / 2 ** 14) * 4 + 1);
  assert.deepEqual(reg(s, 'd', 'TLB_CMD').fields, { BUSY: 0, OP: 1, STREAM: 7 });
  assert.deepEqual(s.kernel.faults.map(f => f.message), [
    'translation fault: status:0x80700002 stream:7 code:0x2 (NO PGD FOR IOVA) at 0x10000000000',
    'translation fault: status:0x80700004 stream:7 code:0x4 (NO PMD FOR IOVA) at 0x20002000000',
    'translation fault: status:0x80700008 stream:7 code:0x8 (NO PTE FOR IOVA) at 0x20000004000',
  ]);
  assert.deepEqual(reg(s, 'd', 'ERROR').fields, { FLAG: 1, STREAM: 7, CODE: 8 });
  assert.equal(reg(s, 'd', 'ERROR_ADDR_HI').value, 0x200);
  assert.equal(reg(s, 'd', 'ERROR_ADDR_LO').value, 0x4000);
});

test('t8103 fault codes come from where the walk stopped; permission faults name the access', () => {
  const s = run(`${platform('    - { name: dart0, model: apple-dart-t8103 }', '    - { name: dev, iommu: dart0, streams: [5] }')}
kernel: { page_size: 16K }
steps:
  - probe: dev
  - iommu_get_domain_for_dev: { dev: dev }
    as: d
  - iommu_map: { domain: $d, iova: 0x4000, paddr: 0x800010000, size: 16K, prot: [read] }
  - dma_write: { dev: dev, addr: 0x4010 }
  - dma_read: { dev: dev, addr: 0x8000 }
  - dma_read: { dev: dev, addr: 0x2000000 }
  - dma_read: { dev: dev, addr: 0x1000000000 }
  - iommu_map: { domain: $d, iova: 0x8000, paddr: 0x800010000, size: 16K, prot: [write] }
  - dma_read: { dev: dev, addr: 0x8000 }
`);
  assert.deepEqual(s.kernel.faults.map(f => f.message), [
    'translation fault: status:0x85000008 stream:5 code:0x8 (WRITE FAULT) at 0x4010',
    'translation fault: status:0x85000004 stream:5 code:0x4 (NO PTE FOR IOVA) at 0x8000',
    'translation fault: status:0x85000002 stream:5 code:0x2 (NO PMD FOR IOVA) at 0x2000000',
    'translation fault: status:0x85000001 stream:5 code:0x1 (NO TTBR FOR IOVA) at 0x1000000000',
    'translation fault: status:0x85000010 stream:5 code:0x10 (READ FAULT) at 0x8000',
  ]);
  assert.ok(s.kernel.dmesg.some(l => l.level === 'err' && l.text === 'dart0: translation fault: status:0x85000010 stream:5 code:0x10 (READ FAULT) at 0x8000'));
});

const SIXTEEN_K = '    - { name: dart0, model: apple-dart-t8103 }\n    - { name: usb4, model: apple-dart-t8103-usb4 }';
const TWO_DEVS = '    - { name: xhci, iommu: dart0, streams: [1] }\n    - { name: tb, iommu: usb4, streams: [0], bus: pci, untrusted: true }';

test('mainline, 16K DART on a 4K kernel: bypass forced (identity), paging domains -EINVAL, no bypass support: probe fails', () => {
  const s = run(`${platform(SIXTEEN_K, TWO_DEVS)}
kernel: { page_size: 4K }
steps:
  - probe: xhci
    expect: { finding: pagesize-mismatch }
  - probe: tb
  - iommu_domain_alloc: { dev: xhci, type: dma }
`);
  assert.deepEqual(s.runs.map(r => r.result), [{ id: 'd1', type: 'IDENTITY', iommu: 'dart0', granule: 0 }, '-EINVAL', '-EINVAL']);
  assert.deepEqual(s.kernel.findings.map(f => [f.code, f.severity]), [['pagesize-mismatch', 'warning'], ['pagesize-mismatch', 'error'], ['pagesize-mismatch', 'error']]);
  assert.equal(reg(s, 'dart0', 'TCR[1]').value, (1 << 8) | (1 << 12), 'BYPASS_DART | BYPASS_DAPF');
  assert.ok(s.kernel.dmesg.some(l => l.text === 'dart0: DART [pagesize 4000, 16 streams, bypass support: 1, bypass forced: 1] initialized'));
  assert.ok(s.kernel.dmesg.some(l => l.text === 'usb4: DART [pagesize 4000, 64 streams, bypass support: 0, bypass forced: 1] initialized'));
});

test('large-page series on a 4K kernel: DMA domains with the 16K granule, UNMANAGED refused with -EFAULT', () => {
  const s = run(`${platform(SIXTEEN_K, TWO_DEVS)}
kernel: { page_size: 4K, large_iommu_pages: true }
steps:
  - probe: tb
  - probe: xhci
  - iommu_domain_alloc: { dev: xhci, type: unmanaged }
    as: u
  - iommu_attach_device: { domain: $u, dev: xhci }
`);
  assert.deepEqual(s.runs.map(r => (r.result as { type?: string })?.type ?? r.result), ['DMA', 'DMA', 'UNMANAGED', '-EFAULT']);
  assert.equal(s.kernel.domains.get('d1')!.granule, 16384);
  assert.ok(s.kernel.dmesg.some(l => l.level === 'warn' && l.text === 'IOMMU page size cannot represent CPU pages.'));
  assert.ok(s.kernel.dmesg.some(l => l.text === 'dart0: DART [pagesize 4000, 16 streams, bypass support: 1] initialized'));
});

test('locked DART: mainline refuses at probe with the lock register; downstream keeps the firmware TTBR and allows DMA domains only', () => {
  const main = run(`${platform('    - { name: disp, model: apple-dart-t8103, locked: true }', '    - { name: piodma, iommu: disp, streams: [4] }')}
kernel: { page_size: 16K }
steps:
  - probe: piodma
`);
  assert.ok(main.kernel.dmesg.some(l => l.level === 'err' && l.text === 'disp: DART is locked down until reboot: 00008000'));
  assert.equal(main.runs[0].result, '-ENODEV');
  const down = run(`${platform('    - { name: disp, model: apple-dart-t8103, locked: true, downstream: true }', '    - { name: piodma, iommu: disp, streams: [4] }')}
kernel: { page_size: 16K }
steps:
  - probe: piodma
  - iommu_domain_alloc: { dev: piodma, type: identity }
    as: id
  - iommu_attach_device: { domain: $id, dev: piodma }
`);
  assert.equal((down.runs[0].result as { type: string }).type, 'DMA');
  assert.equal(down.runs[2].result, '-EINVAL');
  const fw = (down.kernel.iommus.get('disp')!.model as unknown as { firmwareL1: number }).firmwareL1;
  assert.equal(reg(down, 'disp', 'TTBR[4][0]').value, (0x80000000 + fw / 4096) >>> 0, 'TTBR still points at the firmware table');
  assert.ok(down.kernel.dmesg.some(l => l.text === 'disp: DART [pagesize 4000, 16 streams, bypass support: 1, bypass forced: 0, locked: 1, AS 32 -> 36] initialized'));
});

test('a device behind two DARTs: both DARTs get the same table; a shared PCI group across DARTs fails to merge', () => {
  const s = run(`${platform('    - { name: a, model: apple-dart-t8103 }\n    - { name: b, model: apple-dart-t8103 }',
    '    - { name: dwc3, iommus: [a, b], streams: [0, 1] }\n    - { name: f0, iommu: a, streams: [4], bus: pci, group: bus1 }\n    - { name: f1, iommu: b, streams: [4], bus: pci, group: bus1 }\n    - { name: f2, iommu: a, streams: [4], bus: pci }')}
kernel: { page_size: 16K }
steps:
  - probe: dwc3
  - probe: f0
  - probe: f1
  - probe: f2
`);
  const l1 = s.kernel.domains.get('d1')!.pgtable!.root.children![0]!.paddr;
  assert.equal(reg(s, 'a', 'TTBR[0][0]').value, reg(s, 'b', 'TTBR[1][0]').value);
  assert.equal(reg(s, 'a', 'TTBR[0][0]').value, (0x80000000 + l1 / 4096) >>> 0);
  assert.equal(s.runs[2].result, '-EINVAL');
  assert.ok(s.kernel.dmesg.some(l => l.level === 'err' && l.text === 'f1: Failed to merge DART IOMMU groups.'));
  assert.equal(s.kernel.devices.get('f2')!.group, s.kernel.devices.get('f0')!.group, 'same stream on the same DART: same group');
});
