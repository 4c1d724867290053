// Simulator invariants: silent on a sound machine, and each check catches the corruption it is for. The
// corruptions are injected by hand (a simulator bug stands in for them), then found after the next step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession, Session } from '../../simulator/session';
import { checkInvariants, InvariantError } from '../../simulator/invariants';
import { dmaDevices } from '../../simulator/dma/state';
import { getOpHandler, registerOpHandler, type OpHandler } from '../../simulator/runner/ops';
import type { Kernel } from '../../simulator/kernel';

const SCENARIO = `
platform: generic-4k
kernel: { page_size: 4K }
steps:
  - probe: dma0
  - kmalloc: { size: 8K }
    as: a
  - kmalloc: { size: 8K }
    as: b
  - dma_map_single: { dev: dma0, paddr: $a.paddr, size: 8K, dir: to_device }
    as: ha
  - dma_map_single: { dev: dma0, paddr: $b.paddr, size: 8K, dir: to_device }
    as: hb
  - dma_read: { dev: dma0, addr: $ha, size: 64 }
  - init_iova_domain: { granule: 4K, start_pfn: 1 }
    as: v
  - alloc_iova: { iovad: $v, size: 4, limit_pfn: 0xfffff }
`;

function ran(): Session {
  const s = loadSession(SCENARIO, 'inv.iommu.yaml', { checkInvariants: true });
  s.runAll();
  return s;
}

test('a sound machine has no violations, after every step of a run with mappings, IOTLB fills and IOVA trees', () => {
  const s = ran();
  assert.equal(s.runs.length, 8);
  assert.deepEqual(checkInvariants(s.kernel), []);
});

test('overlapping live mappings in a domain are reported', () => {
  const k = ran().kernel;
  const recs = [...dmaDevices(k)].flatMap(([, dd]) => [...dd.entries.values()].map(e => e.rec));
  assert.equal(recs.length, 2);
  recs[1].iova = recs[0].iova;                     // two mappings at one IOVA: the allocator handed it out twice
  assert.ok(checkInvariants(k).some(v => /IOVA overlap in d1/.test(v)), checkInvariants(k).join('; '));
});

test('an IOTLB entry the page table does not give is reported unless it is marked stale', () => {
  const k = ran().kernel;
  const iotlb = k.iommus.get('iommu0')!.iotlb;
  const [e] = iotlb.list();
  assert.ok(e, 'the dma_read filled the IOTLB');
  iotlb.fill({ ...e, paddr: e.paddr + 0x100000 });
  assert.ok(checkInvariants(k).some(v => /IOTLB entry d1 .* disagrees with the page table/.test(v)), checkInvariants(k).join('; '));
  iotlb.markStale(e.domain, e.iova, e.size);
  assert.deepEqual(checkInvariants(k), []);
});

test('buddy allocator corruption is reported: misaligned, overlapping and unmerged free blocks, a count that disagrees', () => {
  const k = ran().kernel;
  const lists = k.mem.buddy.freeLists() as Array<Set<number>>;
  const top = lists.length - 1;
  const [pfn] = lists[top];
  lists[1].add(pfn + 1);                           // misaligned (order 1 at an odd pfn) and inside pfn's block
  const v = checkInvariants(k);
  assert.ok(v.some(x => /is not aligned to its size/.test(x)), v.join('; '));
  assert.ok(v.some(x => /overlap/.test(x)), v.join('; '));
  assert.ok(v.some(x => /counts \d+ free pages but its free lists hold/.test(x)), v.join('; '));
  lists[1].delete(pfn + 1);
  lists[top].delete(pfn);
  const half = 2 ** (top - 1);
  lists[top - 1].add(pfn).add(pfn + half);         // the two halves of one largest block, left unmerged
  assert.ok(checkInvariants(k).some(x => /were not merged/.test(x)), checkInvariants(k).join('; '));
});

test('a live buffer inside a free block is reported', () => {
  const k = ran().kernel;
  const buf = k.mem.listBuffers().find(b => !b.freed && b.kind === 'kmalloc')!;
  const lists = k.mem.buddy.freeLists() as Array<Set<number>>;
  lists[0].add(Math.floor(buf.paddr / 4096));
  assert.ok(checkInvariants(k).some(x => new RegExp(`live buffer ${buf.id} .* lies in a free buddy block`).test(x)), checkInvariants(k).join('; '));
});

test('groups and domains that disagree are reported', () => {
  const k = ran().kernel;
  const d = k.domains.get('d1')!;
  d.groups.clear();
  assert.ok(checkInvariants(k).some(x => /group 0 is attached to d1, but d1 does not list it/.test(x)), checkInvariants(k).join('; '));
});

test('a violation stops the run with an InvariantError naming the step; without the option nothing is checked', () => {
  const original = getOpHandler('kmalloc')!;
  const corrupting: OpHandler = (ctx, a) => {
    const r = original(ctx, a);
    (ctx.k.mem.buddy.freeLists()[1] as Set<number>).add(ctx.k.mem.buddy.basePfn + 1);   // a simulator bug
    return r;
  };
  registerOpHandler('kmalloc', corrupting);
  try {
    const s = loadSession(SCENARIO, 'inv.iommu.yaml', { checkInvariants: true });
    assert.throws(() => s.runAll(), (e: unknown) => e instanceof InvariantError && e.step === 1 && e.op === 'kmalloc'
      && /^simulator invariant violated after step 1 \(kmalloc\): .*free block at pfn 0x[0-9a-f]+ of order 1 is not aligned/.test(e.message));
    const unchecked = loadSession(SCENARIO, 'inv.iommu.yaml', { checkInvariants: false });
    unchecked.runAll();
    assert.equal(unchecked.runs.length, 8);
  } finally {
    registerOpHandler('kmalloc', original);
  }
});

test('IOMMU_LENS_INVARIANTS=1 turns the checks on by default', () => {
  const before = process.env.IOMMU_LENS_INVARIANTS;
  process.env.IOMMU_LENS_INVARIANTS = '1';
  const original = getOpHandler('probe')!;
  registerOpHandler('probe', (ctx, a) => {
    const r = original(ctx, a);
    (ctx.k as Kernel).domains.get('d1')!.groups.clear();
    return r;
  });
  try {
    assert.throws(() => loadSession(SCENARIO, 'inv.iommu.yaml').runAll(), /after step 0 \(probe\): group 0 is attached to d1/);
  } finally {
    registerOpHandler('probe', original);
    if (before === undefined) delete process.env.IOMMU_LENS_INVARIANTS; else process.env.IOMMU_LENS_INVARIANTS = before;
  }
});
