// SVA binding sequences on the arm-sva preset: seed 004's diagram (three devices, two domains, two processes)
// with its PASIDs and PASID-table entries, the seed's error cases, process exit, and the mainline model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession } from '../../simulator/session';

function run(steps: string, kernel = '') {
  const s = loadSession(`platform: arm-sva\n${kernel}\nsteps:\n${steps}`, 'sva.iommu.yaml');
  s.runAll();
  return s;
}

const PROBE_ALL = `
  - probe: "00:00.0"
  - probe: "00:01.0"
  - probe: "00:01.1"
  - iommu_sva_device_init: { dev: "00:00.0" }
  - iommu_sva_device_init: { dev: "00:01.0" }
  - iommu_sva_device_init: { dev: "00:01.1" }
  - mm_map: { mm: X, va: 0x400000, paddr: 0x90000000, size: 8K }
  - mm_map: { mm: Y, va: 0x400000, paddr: 0xa0000000, size: 4K, prot: [read] }
`;
const DIAGRAM = `${PROBE_ALL}
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: Y }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: Y }
  - iommu_sva_bind_device: { dev: "00:01.1", mm: Y }
`;

function tables(s: ReturnType<typeof run>) {
  const r = s.snapshot();
  return Object.fromEntries(r.sva_tables!.pasid_tables.map(t => [t.owner, t.entries.map(e => [e.pasid, e.kind === 'mm' ? e.mm : `io_pgtable ${e.domain}`])]));
}

const results = (s: ReturnType<typeof run>, from: number) => s.runs.slice(from).map(r => r.result);

test('seed 004 diagram: PASID 1 for X, 2 for Y on every device; domain A holds entries 0,1,2, domain B entries 0,2', () => {
  const s = run(DIAGRAM);
  assert.deepEqual(results(s, 8), [1, 2, 2, 2]);
  const r = s.snapshot();
  assert.equal(r.sva_tables!.model, 'seed');
  assert.deepEqual(tables(s), { d1: [[0, 'io_pgtable d1'], [1, 'X'], [2, 'Y']], d2: [[0, 'io_pgtable d2'], [2, 'Y']] });
  const y = r.sva_tables!.processes.find(p => p.mm === 'Y')!;
  const entryY = (owner: string) => r.sva_tables!.pasid_tables.find(t => t.owner === owner)!.entries.find(e => e.pasid === 2)!;
  assert.equal(entryY('d1').ttb0, y.pgd, 'PASID 2 of domain A points at pgd Y');
  assert.equal(entryY('d2').ttb0, y.pgd, 'and so does PASID 2 of domain B');
  assert.equal(entryY('d2').asid, y.asid, 'with the process\'s pinned ASID');
  const d1Io = r.sva_tables!.pasid_tables.find(t => t.owner === 'd1')!.entries[0];
  assert.equal(d1Io.ttb0, '0x' + s.kernel.domains.get('d1')!.pgtable!.root.paddr.toString(16), 'entry 0 is the private io_pgtable');
  const ste = r.sva_tables!.stream_table;
  assert.deepEqual(ste.map(e => [e.sid, e.dev]), [[0, '00:00.0'], [8, '00:01.0'], [9, '00:01.1']]);
  assert.equal(ste[1].s1_context_ptr, ste[2].s1_context_ptr, 'both functions of group B point at domain B\'s table');
  assert.notEqual(ste[0].s1_context_ptr, ste[1].s1_context_ptr);
  assert.deepEqual(r.sva!.map(b => [b.dev, b.pasid, b.mm, b.domain]),
    [['00:00.0', 1, 'X', 'd1'], ['00:00.0', 2, 'Y', 'd1'], ['00:01.0', 2, 'Y', 'd2'], ['00:01.1', 2, 'Y', 'd2']]);
});

test('PASID accesses walk the process page table; the domain\'s entry serves every device in it, even before its own bind', () => {
  const s = run(`${PROBE_ALL}
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: Y }
  - dma_read: { dev: "00:01.1", addr: 0x400123, pasid: 2 }
  - dma_read: { dev: "00:01.1", addr: 0x400123, pasid: 1 }
  - dma_write: { dev: "00:00.0", addr: 0x401008, pasid: 1 }
  - dma_write: { dev: "00:01.0", addr: 0x400000, pasid: 2 }
  - dma_read: { dev: "00:00.0", addr: 0x402000, pasid: 1 }
`);
  assert.deepEqual(results(s, 8), [1, 2, 0xa0000123, { fault: 'translation', iova: '0x400123' }, 0x90001008,
    { fault: 'permission', iova: '0x400000' }, { fault: 'translation', iova: '0x402000' }]);
  assert.deepEqual(s.kernel.faults.map(f => [f.dev, f.pasid]), [['00:01.1', 1], ['00:01.0', 2], ['00:00.0', 1]]);
  assert.equal(s.kernel.faults[1].message, 'event: F_PERMISSION client: 00:01.0 sid: 0x8 ssid: 0x2 iova: 0x400000 ipa: 0x0');
});

test('seed errors: -EEXIST for a second bind, -EDOM for other flags, -ESRCH for an unknown PASID, -EINVAL without device_init', () => {
  const s = run(`
  - probe: "00:00.0"
  - probe: "00:01.0"
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }
  - iommu_sva_device_init: { dev: "00:00.0", features: [iopf] }
  - iommu_sva_device_init: { dev: "00:00.0" }
  - iommu_sva_device_init: { dev: "00:01.0" }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X, flags: [iopf] }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X, flags: [iopf] }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: X }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: X, flags: [iopf] }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 7 }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 1 }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 1 }
`);
  assert.deepEqual(results(s, 2), ['-EINVAL', 0, '-EEXIST', 0, 1, '-EEXIST', '-EDOM', '-EINVAL', '-ESRCH', '-ESRCH', '-ESRCH']);
  assert.ok(s.kernel.dmesg.some(l => l.text.includes('WARNING: iommu_sva_bind_device: 00:00.0 has no SVA parameters')));
});

test('seed ranges: PASIDs come from the binding device\'s [min, max]; a shared io_mm outside another device\'s range is -ERANGE', () => {
  const s = run(`
  - probe: "00:00.0"
  - probe: "00:01.0"
  - iommu_sva_device_init: { dev: "00:00.0", min_pasid: 100, max_pasid: 101 }
  - iommu_sva_device_init: { dev: "00:01.0", min_pasid: 0, max_pasid: 0xffffffff }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: P }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: Q }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: R }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: R }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: R }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: P }
`);
  assert.deepEqual(results(s, 4), [100, 101, '-ENOSPC', 1, '-ERANGE', 100]);
  const r = s.snapshot();
  assert.deepEqual(r.sva_tables!.processes.map(p => [p.mm, p.pasid]), [['P', 100], ['Q', 101], ['R', 1]]);
  assert.equal(s.runs[8].result, '-ERANGE');
  // min_pasid 0 was raised to 1 (PASID 0 holds the io_pgtable), max clamped to SSIDSIZE 20.
  const init = s.kernel.ext.get('sva') as { params: Map<unknown, { minPasid: number; maxPasid: number }> };
  assert.deepEqual([...init.params.values()].map(p => [p.minPasid, p.maxPasid]), [[100, 101], [1, 0xfffff]]);
});

test('seed unbind: the entry stays while another device of the domain is bound; the last unbind frees the PASID for reuse', () => {
  const s = run(`${DIAGRAM}
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 2 }
  - iommu_sva_unbind_device: { dev: "00:01.1", pasid: 2 }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: Z }
  - iommu_sva_unbind_device: { dev: "00:00.0", pasid: 2 }
  - iommu_sva_bind_device: { dev: "00:01.1", mm: W }
`);
  assert.deepEqual(results(s, 12), [0, 0, 3, 0, 2]);
  assert.deepEqual(tables(s), { d1: [[0, 'io_pgtable d1'], [1, 'X']], d2: [[0, 'io_pgtable d2'], [2, 'W'], [3, 'Z']] });
});

test('process exit takes the PASID entries down at once; bonds wait for unbind, and only the last unbind frees the PASID', () => {
  const s = run(`${DIAGRAM}
  - process_exit: { mm: Y }
  - dma_read: { dev: "00:01.0", addr: 0x400000, pasid: 2 }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: Y }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: V }
  - iommu_sva_device_shutdown: { dev: "00:00.0" }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 2 }
  - iommu_sva_unbind_device: { dev: "00:01.1", pasid: 2 }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: U }
`);
  assert.deepEqual(results(s, 12), [3, { fault: 'translation', iova: '0x400000' }, '-ESRCH', 3, 0, 0, 0, 1]);
  assert.deepEqual(tables(s), { d1: [[0, 'io_pgtable d1']], d2: [[0, 'io_pgtable d2'], [1, 'U']] });
});

test('mainline model (6.4+): a second bind takes a reference, the mm keeps its PASID, the group shares it, -EOVERFLOW past a device\'s range', () => {
  const s = run(`
  - probe: "00:00.0"
  - probe: "00:01.0"
  - probe: "00:01.1"
  - iommu_sva_device_init: { dev: "00:00.0", max_pasid: 1 }
  - iommu_sva_device_init: { dev: "00:01.0" }
  - iommu_sva_device_init: { dev: "00:01.1" }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: X }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: Y }
  - iommu_sva_bind_device: { dev: "00:01.0", mm: Y }
  - iommu_sva_bind_device: { dev: "00:01.1", mm: Y }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: Y }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 2 }
  - iommu_sva_unbind_device: { dev: "00:01.0", pasid: 2 }
  - iommu_sva_unbind_device: { dev: "00:01.1", pasid: 2 }
  - iommu_sva_bind_device: { dev: "00:01.1", mm: Y }
`, 'kernel: { version: "6.6" }');
  assert.deepEqual(results(s, 6), [1, 2, 2, 2, '-EOVERFLOW', 0, 0, 0, 2]);
  const r = s.snapshot();
  assert.equal(r.sva_tables!.model, 'mainline');
  assert.deepEqual(tables(s), {
    '00:01.0': [[0, 'io_pgtable d2'], [1, 'X'], [2, 'Y']],
    '00:01.1': [[0, 'io_pgtable d2'], [1, 'X'], [2, 'Y']],
  });
  assert.deepEqual(r.sva!.map(h => [h.dev, h.pasid, h.users]), [['00:01.0', 1, 1], ['00:01.1', 2, 1]]);
});

test('the sva kernel option picks the model and rejects other values', () => {
  const s = run('  - probe: "00:00.0"\n  - iommu_sva_device_init: { dev: "00:00.0" }\n  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }\n  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }',
    'kernel: { version: "4.17", options: { sva: mainline } }');
  assert.deepEqual(results(s, 2), [1, 1]);
  assert.throws(() => run('  - iommu_sva_device_init: { dev: "00:00.0" }', 'kernel: { options: { sva: newest } }'), /kernel option sva: expected seed or mainline/);
});

test('mm_map refuses unaligned input with the argument\'s position; devices without PASID support get -ENODEV', () => {
  assert.throws(() => run('  - mm_map: { mm: X, va: 0x400100, paddr: 0x90000000, size: 4K }'), (e: Error & { format?: () => string }) =>
    /sva\.iommu\.yaml:\d+:\d+: error: mm_map va 0x400100 is not a multiple of PAGE_SIZE/.test(e.format!()));
  const s = loadSession(`platform: generic-4k\nsteps:\n  - probe: dma0\n  - iommu_sva_device_init: { dev: dma0 }\n`, 'g.iommu.yaml');
  s.runAll();
  assert.equal(s.runs[1].result, '-ENODEV');
});

test('mainline: a master\'s CD entry 0 follows the domain it is attached to; PASID entries stay', () => {
  const s = run(`
  - probe: "00:00.0"
  - iommu_sva_device_init: { dev: "00:00.0" }
  - iommu_sva_bind_device: { dev: "00:00.0", mm: X }
  - iommu_domain_alloc: { dev: "00:00.0" }
    as: mine
  - iommu_attach_device: { domain: $mine, dev: "00:00.0" }
`, 'kernel: { options: { sva: mainline } }');
  assert.deepEqual(results(s, 4), [0]);
  assert.deepEqual(tables(s), { '00:00.0': [[0, 'io_pgtable d2'], [1, 'X']] });
});
