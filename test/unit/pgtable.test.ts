import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpaeFormat } from '../../simulator/iommu/format-lpae';
import { PageTable } from '../../simulator/iommu/pgtable';
import { PROT_READ, PROT_WRITE, PROT_NOEXEC, formatPageSizes } from '../../simulator/iommu/pte-format';
import { pickPageSize } from '../../simulator/iommu/map';

function allocator() {
  let next = 0x100000000;
  const freed: number[] = [];
  return { alloc: (bytes: number) => { const p = next; next += Math.max(bytes, 4096); return p; }, free: (p: number) => { freed.push(p); }, freed };
}

test('LPAE 4K granule with 48-bit IAS: 4 levels at shifts 39/30/21/12, leaves 1G/2M/4K', () => {
  const f = new LpaeFormat(4096, 48, 48);
  assert.deepEqual(f.shifts, [39, 30, 21, 12]);
  assert.deepEqual(f.bits, [9, 9, 9, 9]);
  assert.deepEqual(formatPageSizes(f), [4096, 2 ** 21, 2 ** 30]);
});

test('LPAE 16K granule: shifts 47/36/25/14 with a 1-bit top level, leaves 16K and 32M', () => {
  const f = new LpaeFormat(16384, 48, 48);
  assert.deepEqual(f.shifts, [47, 36, 25, 14]);
  assert.deepEqual(f.bits, [1, 11, 11, 11]);
  assert.deepEqual(formatPageSizes(f), [16384, 2 ** 25]);
});

test('LPAE 64K granule: 3 levels at 42/29/16, leaves 64K and 512M', () => {
  const f = new LpaeFormat(65536, 48, 48);
  assert.deepEqual(f.shifts, [42, 29, 16]);
  assert.deepEqual(formatPageSizes(f), [65536, 2 ** 29]);
});

test('LPAE page descriptor bits: valid|page, AF, nG, AP[1] unpriv, AP[2] read-only, SH inner, XN in bit 54', () => {
  const f = new LpaeFormat(4096, 48, 48);
  const out = new Uint32Array(2);
  f.encodeLeaf(0x8_1234_5000, PROT_READ, 3, out);
  // lo: 0x12345000 | AF(0x400) | nG(0x800) | SH(0x300) | AP_RDONLY(0x80) | AP_UNPRIV(0x40) | page(0x2) | valid(0x1)
  assert.equal(out[0], (0x12345000 | 0x400 | 0x800 | 0x300 | 0x80 | 0x40 | 0x3) >>> 0);
  assert.equal(out[1], 0x8);
  f.encodeLeaf(0x8_1234_5000, PROT_READ | PROT_WRITE | PROT_NOEXEC, 3, out);
  assert.equal(out[0] & 0x80, 0, 'writable: AP[2] clear');
  assert.equal(out[1], 0x8 | (1 << 22), 'XN is bit 54 = hi bit 22');
  const d = f.decode(out[0], out[1], 3);
  assert.equal(d.addr, 0x8_1234_5000);
  assert.equal(d.prot & (PROT_READ | PROT_WRITE | PROT_NOEXEC), PROT_READ | PROT_WRITE | PROT_NOEXEC);
});

test('LPAE block descriptor at level 2 has type bit 1 clear; table descriptor has it set', () => {
  const f = new LpaeFormat(4096, 48, 48);
  const out = new Uint32Array(2);
  f.encodeLeaf(0x80200000, PROT_READ | PROT_WRITE, 2, out);
  assert.equal(out[0] & 3, 1);
  f.encodeTable(0x90001000, out);
  assert.equal(out[0], 0x90001003);
});

test('iommu_pgsize: largest size that fits the remaining size and the alignment of iova|paddr', () => {
  const bm = [4096, 2 ** 21, 2 ** 30];
  assert.equal(pickPageSize(bm, 0x200000, 0x80200000, 0x400000), 0x200000);
  assert.equal(pickPageSize(bm, 0x1ff000, 0x80200000, 0x400000), 0x1000);
  assert.equal(pickPageSize(bm, 0x40000000, 0xc0000000, 2 ** 30), 2 ** 30);
  assert.equal(pickPageSize(bm, 0x200000, 0x80201000, 0x400000), 0x1000, 'paddr alignment limits the size');
});

test('map allocates tables from memory and writes descriptors that a walk reads back', () => {
  const mem = allocator();
  const pt = new PageTable(new LpaeFormat(4096, 48, 48), mem, null, 'd1');
  assert.equal(pt.map(0x40001000, 0x80005000, 4096, PROT_READ | PROT_WRITE), 0);
  const walk = pt.walk(0x40001abc);
  assert.deepEqual(walk.map(w => w.outcome), ['table', 'table', 'table', 'leaf']);
  assert.deepEqual(walk.map(w => w.index), [0, 1, 0, 1]);
  assert.equal(walk[1].table, pt.root.children![0]!.paddr);
  assert.equal(pt.iovaToPhys(0x40001abc), 0x80005abc);
  assert.equal(pt.tables, 4);
});

test('-EEXIST when remapping a live page or mapping a block over a table; -ERANGE past the input size', () => {
  const pt = new PageTable(new LpaeFormat(4096, 48, 48), allocator(), null, 'd1');
  assert.equal(pt.map(0x1000, 0x80001000, 4096, PROT_READ), 0);
  assert.equal(pt.map(0x1000, 0x80002000, 4096, PROT_READ), -17);
  assert.equal(pt.map(0, 0x80000000, 2 ** 21, PROT_READ), -17);
  assert.equal(pt.map(2 ** 48, 0x80000000, 4096, PROT_READ), -34);
});

test('unmap of a page inside a block removes the whole block (mainline) and reports its size', () => {
  const pt = new PageTable(new LpaeFormat(4096, 48, 48), allocator(), null, 'd1');
  pt.map(0x200000, 0x80200000, 2 ** 21, PROT_READ);
  const inval: Array<[number, number]> = [];
  assert.equal(pt.unmap(0x201000, 4096, (a, s) => inval.push([a, s])), 2 ** 21);
  assert.deepEqual(inval, [[0x200000, 0x200000]]);
  assert.equal(pt.iovaToPhys(0x300000), 0);
});

test('unmap with splitBlocks (pre-2024 arm) splits the block and keeps the rest mapped', () => {
  const pt = new PageTable(new LpaeFormat(4096, 48, 48), allocator(), null, 'd1', { splitBlocks: true });
  pt.map(0x200000, 0x80200000, 2 ** 21, PROT_READ);
  assert.equal(pt.unmap(0x201000, 4096, () => {}), 4096);
  assert.equal(pt.iovaToPhys(0x201000), 0);
  assert.equal(pt.iovaToPhys(0x202000), 0x80202000);
  assert.equal(pt.iovaToPhys(0x200000), 0x80200000);
});

test('unmapping a table-level size frees the subtree back to memory', () => {
  const mem = allocator();
  const pt = new PageTable(new LpaeFormat(4096, 48, 48), mem, null, 'd1');
  pt.map(0x200000, 0x80200000, 4096, PROT_READ);
  const leafTable = pt.root.children![0]!.children![0]!.children![1]!.paddr;
  assert.equal(pt.unmap(0x200000, 2 ** 21, () => {}), 2 ** 21);
  assert.ok(mem.freed.includes(leafTable));
});
