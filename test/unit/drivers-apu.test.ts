// The APU driver model (seed 000): the same ioctls on the driver as posted and after the review. Every flaw of
// the review is visible as a finding or a fault in the posted run and none in the reviewed one; the details of
// each flaw (addresses, allocator state, return values) are checked on their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScenarioError } from '../../simulator/scenario/types';
import { allCodes, codesAt, definedFunctions, logged, result, run } from './drivers-fixtures';

const REVIEW_FLAWS = [
  'domain-never-allocated', // "nothing ever allocates this domain or attaches to it"
  'mm-pfn-on-iova',         // "Using mm layer operations on IOVAs looks wrong"
  'iova-overrun',           // "any padding you *do* add at this point means you're going to overrun the allocated IOVA space"
  'map-per-sg-entry',       // "This looks a lot like it should just be iommu_map_sg()"
  'unmap-per-segment',      // "You can unmap a set of IOVA-contiguous mappings as a single range with one call"
  'wrong-free-function',    // "you're freeing the IOVAs wrongly for that"
  'iova-truncated',         // "in 2023, that still assumes 32-bit addressing?"
  'unbounded-user-count',   // "arbitrarily large allocations of unaccounted kernel memory"
  'error-return-zero',      // "TODO: handle error" - "Yes, that would be a good thing to do"
  'error-path-leak',
  'missing-synchronisation', // "a heck of a lot of sychronisation missing from this whole infrastructure"
];

/** One ioctl sequence for both variants: apu0 as the device is set up, apu1 with a domain in the 4-8 GiB region. */
const SEQUENCE = `
  - apu.probe: { dev: apu0 }
  - apu.gem_new: { dev: apu0, size: 16K }
    as: a
  - apu.gem_iommu_map: { dev: apu0, handles: [$a] }
    as: ma
  - apu.gem_queue: { dev: apu0, handles: [$a] }
    as: qa
  - apu.probe: { dev: apu1, domain: attached }
  - apu.gem_new: { dev: apu1, size: 6000, segments: [4K, 1904] }
    as: b
  - apu.gem_iommu_map: { dev: apu1, handles: [$b] }
    as: mb
  - apu.gem_new: { dev: apu1, size: 4196 }
    as: c
  - apu.gem_iommu_map: { dev: apu1, handles: [$c, $b] }
    as: mc
  - apu.gem_queue: { dev: apu1, handles: [$c] }
    as: q
  - apu.job_done: { dev: apu1, job: $q }
  - apu.gem_iommu_unmap: { dev: apu1, handles: [$b, $b, $c] }
    as: ub
  - apu.gem_iommu_map: { dev: apu1, handles: [$b], count: 0x80000000 }
    as: huge
  - apu.gem_iommu_map: { dev: apu1, handles: [$b], count: 100000 }
    as: past
  - apu.gem_new: { dev: apu1, size: 16K }
    as: d
  - apu.gem_queue: { dev: apu1, handles: [$d] }
    as: q2
  - apu.remove: { dev: apu1 }
  - apu.job_done: { dev: apu1, job: $q2 }
`;

const runVariant = (variant: string, steps = SEQUENCE, kernel = '') =>
  run(`platform: mediatek-apu\nkernel: { ${kernel}options: { apu_variant: ${variant} } }\nsteps:${steps}`);

test('as posted: every flaw of the review is a finding, and the dead domain faults', () => {
  const s = runVariant('as_posted');
  const codes = allCodes(s);
  for (const flaw of REVIEW_FLAWS) assert.ok(codes.includes(flaw), `missing ${flaw}; got ${codes.join(', ')}`);
  assert.ok(s.kernel.faults.length >= 2, 'the APU faults on the unmapped job buffers');
});

test('reviewed: the same ioctls raise no finding and no fault', () => {
  const s = runVariant('reviewed');
  assert.deepEqual(s.kernel.findings.map(f => `${f.code}: ${f.message}`), []);
  assert.deepEqual(s.kernel.faults, []);
  assert.equal(s.oops, null);
});

test('as posted: every finding names a function of examples/drivers/apu_gem.c as its site', () => {
  const s = runVariant('as_posted');
  const fns = definedFunctions('apu_gem.c');
  const driverFindings = s.kernel.findings.filter(f => f.site !== null);
  assert.ok(driverFindings.length >= REVIEW_FLAWS.length);
  for (const f of driverFindings) {
    const [file, fn] = f.site!.split(':');
    assert.equal(file, 'apu_gem.c');
    assert.ok(fns.has(fn), `${f.code} at ${f.site}: no such function in apu_gem.c`);
  }
});

test('reviewed: mappings are owned by apu_gem_reviewed.c:apu_gem_iommu_map, a function of the example source', () => {
  const s = runVariant('reviewed');
  assert.ok(definedFunctions('apu_gem_reviewed.c').has('apu_gem_iommu_map'));
  const owners = s.snapshot().domains.flatMap(d => d.mappings.map(m => m.owner ?? ''));
  assert.ok(owners.some(o => o.includes('apu_gem_reviewed.c:apu_gem_iommu_map')), owners.join(' | '));
});

test('as posted, dead domain: GEM_IOMMU_MAP is -ENODEV and the job runs on address 0, which faults', () => {
  const s = runVariant('as_posted');
  assert.equal(result(s, 'ma'), '-ENODEV');
  assert.deepEqual(result(s, 'qa').dma, [0]);
  assert.equal(s.kernel.faults[0].dev, 'apu0');
  assert.equal(s.kernel.faults[0].iova, 0);
  assert.equal(s.kernel.devices.get('apu0')!.group!.domain!.typeName, 'DMA', 'apu0 stays on its default domain');
});

test('as posted: the u32 apu_obj->iova cuts 0x1fffff000 to 0xfffff000, where the object is mapped and reported', () => {
  const s = runVariant('as_posted');
  assert.deepEqual(result(s, 'mb').dma, [0xfffff000]);
  const f = s.kernel.findings.find(x => x.code === 'iova-truncated')!;
  assert.equal(f.data!.iova, 0x1fffff000);
  assert.equal(f.data!.truncated, 0xfffff000);
  // the second segment wrapped round to IOVA 0 with the u32 arithmetic
  const mb = s.runs.find(r => r.spec.as === 'mb')!;
  const maps = s.kernel.trace.filter(t => t.step === mb.spec.index && t.name === 'map').map(t => t.text);
  assert.deepEqual(maps, [
    'IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=' + maps[0].split('paddr=')[1].split(' ')[0] + ' size=4096',
    'IOMMU: iova=0x0000000000000000 - 0x0000000000001000 paddr=' + maps[1].split('paddr=')[1].split(' ')[0] + ' size=4096',
  ]);
  // unmapping frees PHYS_PFN(0xfffff000) = 0xfffff, which is in no range: the real range stays allocated
  assert.ok(codesAt(s, s.runs.find(r => r.spec.as === 'ub')!.spec.index).includes('free-unmapped'));
});

test('as posted: size >> PAGE_SHIFT reserves 1 page for 6000 bytes while the padded segments map 2', () => {
  const s = runVariant('as_posted');
  const f = s.kernel.findings.find(x => x.code === 'iova-overrun' && x.data!.handle === 1)!;
  assert.equal(f.data!.reserved, 4096);
  assert.equal(f.data!.mapped, 8192);
  // the next object's padding runs into it: iommu_map -EEXIST, freed with free_iova, ioctl returns 0
  const mc = result(s, 'mc');
  assert.deepEqual(mc, { ret: 0, dma: [null, null] });
  const i = s.runs.find(r => r.spec.as === 'mc')!.spec.index;
  assert.deepEqual(codesAt(s, i).sort(), ['error-path-leak', 'error-return-zero', 'iova-overrun', 'iova-truncated', 'wrong-free-function']);
  assert.ok(logged(s, 'already maps iova 0xfffff000').length === 1);
});

test('as posted: a failed map keeps its reference, so the next map "succeeds" without mapping and the job faults', () => {
  const s = runVariant('as_posted');
  const q = result(s, 'q');
  assert.deepEqual(q.dma, [0xffffe000]);
  assert.equal(q.faults, 1);
});

test('as posted below 4 GiB: the normal unmap path frees an alloc_iova_fast range with free_iova', () => {
  const s = runVariant('as_posted', `
  - apu.probe: { dev: apu1, domain: attached, iova_base: 16M, iova_size: 0xff000000 }
  - apu.gem_new: { dev: apu1, size: 8K }
    as: b
  - apu.gem_iommu_map: { dev: apu1, handles: [$b] }
    as: m
  - apu.gem_iommu_unmap: { dev: apu1, handles: [$b] }
    as: u
`);
  assert.deepEqual(result(s, 'm').dma, [0xffffe000]);
  const u = s.runs.find(r => r.spec.as === 'u')!.spec.index;
  assert.deepEqual(codesAt(s, u), ['wrong-free-function']);
  assert.equal(s.kernel.findings.find(f => f.code === 'wrong-free-function')!.site, 'apu_gem.c:apu_gem_iommu_unmap');
});

test('as posted: 2^31 handles is refused by kvmalloc with a WARN, nothing is allocated; 100000 reads past the array', () => {
  const s = runVariant('as_posted');
  assert.equal(result(s, 'huge'), '-ENOMEM');
  assert.equal(logged(s, 'WARN_ON_ONCE(size > INT_MAX): 17179869184 bytes').length, 1);
  const f = s.kernel.findings.find(x => x.code === 'unbounded-user-count' && x.data!.count === 0x80000000)!;
  assert.equal(f.data!.bytes, 2 ** 34);
  assert.equal(result(s, 'past'), '-EFAULT');
});

test('a bo_handle_count beyond __u32 is bad input at its position', () => {
  assert.throws(() => runVariant('as_posted', `
  - apu.probe: { dev: apu1, domain: attached }
  - apu.gem_iommu_map: { dev: apu1, handles: [1], count: 0x100000000 }
`), (e: unknown) => e instanceof ScenarioError && /count: 0x100000000 is out of range \(max 4294967295\)/.test(e.message) && e.pos.line === 5);
});

test('as posted without iova_domain_init_rcaches: the first alloc_iova_fast oopses', () => {
  const s = runVariant('as_posted', `
  - apu.probe: { dev: apu1, domain: attached, rcaches: false }
  - apu.gem_new: { dev: apu1, size: 8K }
    as: b
  - apu.gem_iommu_map: { dev: apu1, handles: [$b] }
`);
  assert.match(s.oops ?? '', /NULL pointer dereference in iova_rcache_get/);
});

test('as posted: PAGE_SIZE arithmetic is info when it equals the IOMMU page, a warning above it, an error below it', () => {
  const sev = (kernel: string, platform?: string) => {
    const s = run(`platform: ${platform ?? 'mediatek-apu'}\nkernel: { ${kernel} }\nsteps:
  - apu.probe: { dev: apu1, variant: as_posted, domain: attached, iova_base: 16M, iova_size: 1G }
  - apu.gem_new: { dev: apu1, size: 8K }
    as: b
  - apu.gem_iommu_map: { dev: apu1, handles: [$b] }
`);
    return [...s.kernel.findings.filter(f => f.code === 'mm-pfn-on-iova').map(f => f.severity as string), ...allCodes(s).filter(c => c === 'unaligned-map')];
  };
  assert.deepEqual(sev('page_size: 4K'), ['info']);
  // with 64K pages the 8K object is 8K >> 16 = 0 pages: alloc_iova_fast(0) on top of the warning
  assert.deepEqual(sev('page_size: 64K'), ['warning', 'error']);
  const big = `
  memory: { base: 0x80000000, size: 1G }
  iommus: [{ name: io, model: generic, pgsize_bitmap: [16K], ias: 36, default_domain: identity }]
  devices: [{ name: apu1, iommu: io, streams: [1] }]`;
  assert.deepEqual(sev('page_size: 4K', big), ['error', 'unaligned-map']);
});

test('reviewed: 64-bit addresses above 4 GiB, one iommu_unmap per object, bounded counts', () => {
  const s = runVariant('reviewed');
  assert.deepEqual(result(s, 'mb').dma, [0x100000000]);
  assert.deepEqual(result(s, 'mc').dma, [0x100002000, 0x100000000]);
  const ub = s.runs.find(r => r.spec.as === 'ub')!.spec.index;
  const unmaps = s.kernel.trace.filter(t => t.step === ub && t.name === 'unmap').map(t => t.text);
  assert.deepEqual(unmaps, [
    'IOMMU: iova=0x0000000100000000 - 0x0000000100002000 size=8192 unmapped_size=8192',
    'IOMMU: iova=0x0000000100002000 - 0x0000000100004000 size=8192 unmapped_size=8192',
  ], 'one iommu_unmap per object, once its last reference goes');
  assert.equal(result(s, 'huge'), '-EINVAL');
  assert.equal(result(s, 'past'), '-EINVAL');
});

test('reviewed: a failing map unwinds the objects mapped before it and returns the error', () => {
  const s = runVariant('reviewed', `
  - apu.probe: { dev: apu1, iova_base: 4G, iova_size: 16K }
  - apu.gem_new: { dev: apu1, size: 8K }
    as: x
  - apu.gem_new: { dev: apu1, size: 16K }
    as: y
  - apu.gem_iommu_map: { dev: apu1, handles: [$x, $y] }
    as: m
  - iommu_get_domain_for_dev: { dev: apu1 }
    as: d
  - iommu_iova_to_phys: { domain: $d, iova: 4G }
    as: after
  - apu.gem_iommu_unmap: { dev: apu1, handles: [$x] }
`);
  assert.equal(result(s, 'm'), '-ENOSPC');
  assert.equal(result(s, 'after'), 0, '$x was unmapped again');
  assert.equal(logged(s, 'WARN_ON(!apu_obj->iommu_refcount)').length, 1, 'its reference was dropped too');
  assert.deepEqual(s.kernel.findings, []);
});

test('reviewed: a non-coherent APU is refused at probe', () => {
  const s = run(`platform:
  iommus: [{ name: io, model: generic }]
  devices: [{ name: apu, iommu: io, streams: [1], coherent: false }]
steps:
  - apu.probe: { dev: apu, variant: reviewed }
    as: p
`);
  assert.equal(result(s, 'p'), '-EOPNOTSUPP');
  assert.equal(logged(s, 'APU must be cache-coherent').length, 1);
});

test('the report shows GEM objects as gem buffers with their device addresses, and the driver state', () => {
  const s = runVariant('reviewed');
  const r = s.snapshot();
  const gems = r.buffers!.filter(b => b.kind === 'gem' && b.dma);
  assert.ok(gems.some(b => b.dma!.some(d => d.dev === 'apu0' && d.dma === '0x1000000')), JSON.stringify(gems));
  const drivers = (r as unknown as { drivers: Record<string, { variant: string; objects: unknown[] }> }).drivers;
  assert.equal(drivers.apu1.variant, 'reviewed');
  assert.equal(drivers.apu1.objects.length, 3);
});

test('driver ops before apu.probe, an unknown job and a bad variant are input errors', () => {
  assert.throws(() => run(`platform: mediatek-apu\nsteps:\n  - apu.gem_new: { dev: apu0, size: 4K }\n`), /apu0 has no APU driver bound: run apu.probe/);
  assert.throws(() => run(`platform: mediatek-apu\nsteps:\n  - apu.probe: { dev: apu0 }\n  - apu.job_done: { dev: apu0, job: 3 }\n`), /no job 3 on apu0/);
  assert.throws(() => run(`platform: mediatek-apu\nkernel: { options: { apu_variant: posted } }\nsteps:\n  - apu.probe: { dev: apu0 }\n`),
    /apu_variant: expected as_posted or reviewed, got "posted"/);
  assert.throws(() => run(`platform: mediatek-apu\nsteps:\n  - apu.probe: { dev: apu0, variant: reviewed, domain: dead }\n`), /domain: dead only applies to as_posted/);
});

test('apu_remove with a job in flight: as posted the mappings outlive the domain; reviewed waits for the job first', () => {
  const posted = runVariant('as_posted');
  const d = posted.snapshot().domains.find(x => x.id === 'd3')!;
  assert.deepEqual(d.devices, [], 'apu1 went back to its default domain');
  assert.ok(d.mappings.some(m => (m.owner ?? '').includes('GEM 3')), 'GEM 3 stays mapped in the orphaned domain');
  const reviewed = runVariant('reviewed');
  const r = reviewed.snapshot().domains.find(x => x.id === 'd4')!;
  assert.ok(!r.mappings.some(m => (m.owner ?? '').includes('GEM 3')), 'the job was cleaned up before apu_iommu_fini');
  assert.throws(() => run(`platform: mediatek-apu\nsteps:\n  - apu.probe: { dev: apu0 }\n  - apu.remove: { dev: apu0 }\n  - apu.gem_new: { dev: apu0, size: 4K }\n`),
    /apu0 has no APU driver bound/);
});

test('reviewed: unbinding with objects still mapped through GEM_IOMMU_MAP is a leak drm_mm_takedown warns about', () => {
  const s = runVariant('reviewed', `
  - apu.probe: { dev: apu1 }
  - apu.gem_new: { dev: apu1, size: 8K }
    as: b
  - apu.gem_iommu_map: { dev: apu1, handles: [$b] }
  - apu.remove: { dev: apu1 }
`);
  assert.deepEqual(allCodes(s), ['leak']);
  assert.equal(logged(s, 'Memory manager not clean during takedown.').length, 1);
});
