// Intel IPU3 (seed 003): the ipu3-mmu page-table format bit by bit, its registers, the two driver designs and
// what they do to CPU caches on x86, the module's missing exports, and the camera behind a translating VT-d.
// Also the cache model on arm64, where the DMA API itself keeps non-coherent devices' buffers clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ipu3Format } from '../../simulator/drivers/ipu3/format';
import { DESC_INVALID, DESC_LEAF, DESC_TABLE } from '../../simulator/iommu/pte-format';
import { ScenarioError } from '../../simulator/scenario/types';
import { allCodes, codesAt, logged, result, run } from './drivers-fixtures';

test('ipu3-mmu format: 10/10/12 split, 4 KiB tables of 1024 32-bit pfn entries, no permission bits', () => {
  const f = new Ipu3Format(39);
  assert.deepEqual([f.shifts, f.bits, f.leafLevels, f.ias], [[22, 12], [10, 10], [false, true], 32]);
  assert.equal(f.tableBytes(), 4096);
  const out = new Uint32Array(2);
  f.encodeLeaf(0x7f_1234_5000, 0, 1, out);
  assert.deepEqual([...out], [0x7f12345, 0]);            // IPU3_ADDR2PTE: addr >> 12
  f.encodeTable(0x4000_3000, out);
  assert.deepEqual([...out], [0x40003, 0]);
  assert.equal(f.descType(0x40003, 0, 0), DESC_TABLE);
  assert.equal(f.descType(0x7f12345, 0, 1), DESC_LEAF);
  assert.equal(f.descType(0, 0, 1), DESC_INVALID);
  assert.deepEqual(f.decode(0x7f12345, 0, 1), { type: DESC_LEAF, addr: 0x7f_1234_5000, prot: 3 });
});

const IPU3 = (variant: string, steps: string, kernel = '') => run(`platform: intel-ipu3\nkernel: { ${kernel} }\nsteps:
  - ipu3.probe: { dev: imgu, variant: ${variant} }
${steps}`);

test('a mapping walks L1[iova >> 22] -> L2[(iova >> 12) & 0x3ff] -> pfn, with the L1 table in REG_L1_PHYS', () => {
  const s = IPU3('iommu_driver', `
  - iommu_get_domain_for_dev: { dev: imgu }
    as: d
  - iommu_map: { domain: $d, iova: 0x12345000, paddr: 0x40678000, size: 4K }
`);
  const d = s.kernel.domains.get(result(s, 'd').id)!;
  const walk = d.pgtable!.walk(0x12345000);
  assert.deepEqual(walk.map(w => [w.level, w.index, w.outcome]), [[0, 0x48, 'table'], [1, 0x345, 'leaf']]);
  assert.equal(walk[0].table, d.pgtable!.root.paddr);
  assert.equal(walk[1].raw, '0x0000000000040678');
  const regs = s.snapshot().platform!.iommus.find(i => i.name === 'imgu-mmu')!.registers!;
  const l1 = regs.find(r => r.name === 'REG_L1_PHYS')!;
  assert.equal(l1.offset, '0x4304');
  assert.equal(parseInt(l1.value, 16), d.pgtable!.root.paddr / 4096);
});

test('physical page 0 cannot be mapped (its pfn is the model\'s empty entry): -ERANGE, nothing recorded', () => {
  const s = IPU3('iommu_driver', `
  - iommu_get_domain_for_dev: { dev: imgu }
    as: d
  - iommu_map: { domain: $d, iova: 0x12345000, paddr: 0, size: 4K }
    as: zero
  - iommu_map: { domain: $d, iova: 0x12346000, paddr: 0x1000, size: 4K }
    as: one
`);
  const d = s.kernel.domains.get(result(s, 'd').id)!;
  assert.equal(d.pgtable!.iovaToPhys(0x12345000), 0);
  assert.equal(d.pgtable!.iovaToPhys(0x12346000), 0x1000);
  assert.match(String(result(s, 'zero')), /ERANGE|-34/);
  assert.equal(new Ipu3Format(39).leafError(0xfff, 0), -34);
  assert.equal(new Ipu3Format(39).leafError(0x1000, 0), 0);
});

const PARAMS = `
  - alloc_pages: { order: 2 }
    as: buf
  - cpu_write: { paddr: $buf.paddr, size: 16K }
  - dma_map_sg: { dev: imgu, sg: [{ paddr: $buf.paddr, len: 16K }], dir: bidirectional }
    as: sg
  - ipu3.dma_read: { dev: imgu, addr: "$sg.entries[0].dma", size: 16K }
    as: read
  - ipu3.dma_write: { dev: imgu, addr: "$sg.entries[0].dma", size: 4K }
  - dma_sync_single_for_cpu: { dev: imgu, dma: "$sg.entries[0].dma", size: 4K, dir: bidirectional }
  - cpu_read: { paddr: $buf.paddr, size: 4K }
`;

test('iommu_driver on x86: the DMA API cleans nothing, so the device reads stale lines and the CPU stale data', () => {
  const s = IPU3('iommu_driver', PARAMS);
  assert.equal(result(s, 'read'), result(s, 'buf').paddr);
  assert.deepEqual(codesAt(s, 4), ['stale-cpu-cache']);
  assert.deepEqual(codesAt(s, 7), ['stale-cpu-cache']);
  assert.match(s.kernel.findings[0].message, /x86 does no cache maintenance in the DMA API/);
});

test('own_dma_ops: the same buffers stay clean because the driver\'s DMA ops flush', () => {
  const s = IPU3('own_dma_ops', PARAMS);
  assert.deepEqual(allCodes(s), []);
});

test('own_dma_ops as a module: unknown symbols without the RFC\'s exports, loads with them', () => {
  const mod = (opts: string) => run(`platform: intel-ipu3\nkernel: { options: { ${opts} } }\nsteps:
  - ipu3.probe: { dev: imgu, variant: own_dma_ops, module: true }
    as: p
`);
  const bare = mod('');
  assert.equal(result(bare, 'p'), '-ENOENT');
  assert.equal(logged(bare, 'ipu3_imgu: Unknown symbol iommu_dma_map_sg (err -2)').length, 1);
  assert.equal(logged(bare, 'Unknown symbol').length, 15);
  assert.deepEqual(allCodes(bare), ['unexported-symbols']);
  assert.equal(bare.kernel.devices.get('imgu')!.probed, false);
  const rfc = mod('dma_iommu_exports: true');
  assert.equal(result(rfc, 'p').variant, 'own_dma_ops');
  assert.throws(() => run(`platform: intel-ipu3\nsteps:\n  - ipu3.probe: { dev: imgu, variant: iommu_driver, module: true }\n`),
    /self-contained IOMMU driver is built in/);
});

test('x86 coherent memory is cached for iommu_driver (stale for the device), write-combined for own_dma_ops', () => {
  const steps = `
  - dma_alloc_coherent: { dev: imgu, size: 8K }
    as: ring
  - cpu_write: { paddr: $ring.paddr, size: 8K }
  - ipu3.dma_read: { dev: imgu, addr: $ring.dma, size: 8K }
`;
  assert.deepEqual(allCodes(IPU3('iommu_driver', steps)), ['stale-cpu-cache']);
  assert.deepEqual(allCodes(IPU3('own_dma_ops', steps)), []);
});

test('behind a translating VT-d the MMU\'s physical addresses fault in the second stage; with passthrough they reach memory', () => {
  const steps = `
  - alloc_pages: { order: 0 }
    as: buf
  - dma_map_single: { dev: imgu, paddr: $buf.paddr, size: 4K, dir: from_device }
    as: h
  - ipu3.dma_write: { dev: imgu, addr: $h, size: 4K }
    as: w
`;
  const vtd = IPU3('iommu_driver', steps, 'options: { passthrough: false }');
  assert.equal(result(vtd, 'w').stage, 'system IOMMU');
  assert.equal(vtd.kernel.faults.length, 1);
  assert.equal(vtd.kernel.faults[0].dev, '0000:00:05.0');
  const pt = IPU3('iommu_driver', steps);
  assert.equal(result(pt, 'w'), result(pt, 'buf').paddr);
});

test('a stray IOVA reads the dummy page: reported as a fault of the IPU3 MMU', () => {
  const s = IPU3('iommu_driver', '  - ipu3.dma_read: { dev: imgu, addr: 0x1000 }\n');
  assert.match(s.kernel.faults[0].message, /^read of unmapped IOVA 0x00001000 goes to the dummy page/);
});

test('arm64 (the default arch): the DMA API cleans on map and sync, a CPU write after the map is stale until synced', () => {
  const plat = `platform:
  iommus: [{ name: io, model: generic }]
  devices: [{ name: cam, iommu: io, streams: [1], coherent: false }, { name: nic, streams: [2] }]
steps:
  - probe: cam
  - probe: nic
  - alloc_pages: { order: 0 }
    as: b
  - cpu_write: { paddr: $b.paddr, size: 4K }
  - dma_map_single: { dev: cam, paddr: $b.paddr, size: 4K, dir: to_device }
    as: h
  - dma_read: { dev: cam, addr: $h, size: 4K }
  - cpu_write: { paddr: $b.paddr, size: 64 }
  - dma_read: { dev: cam, addr: $h, size: 4K }
  - dma_sync_single_for_device: { dev: cam, dma: $h, size: 4K, dir: to_device }
  - cpu_write: { paddr: $b.paddr, size: 64 }
  - dma_read: { dev: nic, addr: $b.paddr, size: 4K }
`;
  const s = run(plat);
  assert.deepEqual(codesAt(s, 5), []);
  assert.deepEqual(codesAt(s, 7), ['stale-cpu-cache']);
  assert.deepEqual(codesAt(s, 10), [], 'a coherent device snoops the CPU caches');
  assert.equal(s.kernel.faults.length, 0);
  assert.throws(() => run(plat.replace('steps:', 'kernel: { options: { arch: riscv } }\nsteps:')),
    (e: unknown) => e instanceof ScenarioError && /arch: expected arm64 or x86, got "riscv"/.test(e.message));
});
