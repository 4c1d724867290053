// tracepoints.ts and the import parsers are exact inverses: bodies formatted the kernel's way parse back to
// the same values, and a random map/unmap history formatted as trace lines imports to the same mappings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tp, traceLine } from '../../simulator/trace/tracepoints';
import { Cursor, parseFaultBody, parseMapBody, parseUnmapBody, parseGroupBody } from '../../simulator/trace/import-body';
import { parseDmaBody } from '../../simulator/trace/import-dma-body';
import { classifyLine, isCoreFrame, siteOf } from '../../simulator/trace/import-line';
import { importTrace } from '../../simulator/trace/import';

const body = (s: string) => new Cursor(s);

test('iommu bodies parse back to the values formatted', () => {
  assert.deepEqual(parseMapBody(body(tp.map(0xfe980000, 0x10ec80000, 524288))), { iova: 0xfe980000, paddr: 0x10ec80000, size: 524288 });
  assert.equal(tp.map(0xfe980000, 0x10ec80000, 524288),
    'IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000 size=524288', 'the captured line');
  assert.deepEqual(parseUnmapBody(body(tp.unmap(0x1000, 0x2000, 0x200000))), { iova: 0x1000, size: 0x2000, unmapped: 0x200000 });
  assert.deepEqual(parseFaultBody(body(tp.ioPageFault('arm-smmu', '0000:01:00.0', 0xdead000, 1))),
    { driver: 'arm-smmu', dev: '0000:01:00.0', iova: 0xdead000, flags: 1 });
  assert.deepEqual(parseGroupBody(body(tp.addDeviceToGroup(12, 'fe980000.dart'))), { group: 12, dev: 'fe980000.dart' });
  // the last page whose end stays below 2^53 survives exactly; past it the line is refused, never rounded
  const top = 2 ** 53 - 0x2000;
  assert.equal(parseMapBody(body(tp.map(top, 0, 0x1000))).iova, top);
  assert.throws(() => parseMapBody(body(tp.map(top, 0, 0x2000))), /iova end=0x0020000000000000 is 2\^53 or more/);
  assert.throws(() => parseMapBody(body(tp.map(top, 0, 0x1000).replace('0x001fffffffffe000 -', '0x0020000000000001 -'))),
    /iova=0x0020000000000001 is 2\^53 or more/);
});

test('dma bodies (include/trace/events/dma.h) parse back to the values formatted', () => {
  const m = parseDmaBody(body(tp.dmaMapPhys('0000:03:00.0', 'TO_DEVICE', 0xfe980040, 100, 0x10ec80040)));
  assert.deepEqual([m.dev, m.dir, m.dma, m.size, m.phys, m.attrs], ['0000:03:00.0', 'TO_DEVICE', 0xfe980040, 100, 0x10ec80040, '']);
  const a = parseDmaBody(body(tp.dmaAlloc('xhci', 0xffff0000, 0xffff000080000000 % 2 ** 52, 8192, 'BIDIRECTIONAL', 'GFP_KERNEL|__GFP_ZERO')));
  assert.deepEqual([a.dir, a.dma, a.size, a.virt, a.flags, a.attrs], ['BIDIRECTIONAL', 0xffff0000, 8192, '000f000080000000', 'GFP_KERNEL|__GFP_ZERO', '']);
  const sgText = tp.dmaMapSg('gpu', 'FROM_DEVICE', 128, 200, 2, 2, [0x10000, 0x20000], [0x1000, 0x3000], [0x8000, 0x9000], 'SKIP_CPU_SYNC|WEAK_ORDERING');
  assert.match(sgText, / ents=2\/2 \[TRUNCATED\] dma_addrs=\{0x10000,0x20000\} sizes=\{0x1000,0x3000\} /);
  const sg = parseDmaBody(body(sgText));
  assert.deepEqual([sg.nents, sg.ents, sg.truncated, sg.dmaAddrs, sg.sizes, sg.physAddrs, sg.attrs],
    [[128, 200], [2, 2], true, [0x10000, 0x20000], [0x1000, 0x3000], [0x8000, 0x9000], 'SKIP_CPU_SYNC|WEAK_ORDERING']);
  const un = parseDmaBody(body(tp.dmaUnmapSg('gpu', 'FROM_DEVICE', 2, [0x8000, 0x9000])));
  assert.deepEqual([un.physAddrs, un.nents], [[0x8000, 0x9000], undefined]);
  const f = parseDmaBody(body(tp.dmaFree('xhci', 0xffff0000, 0x1234, 8192, 'BIDIRECTIONAL')));
  assert.deepEqual([f.dma, f.size, f.virt], [0xffff0000, 8192, '0000000000001234']);
  assert.throws(() => parseDmaBody(body('xhci dir=TO_DEVICE dma_addr=1000 bogus=1')), /unknown field "bogus"/);
});

test('trace line context: flags column or not, TGID, dashes and spaces in the task name, raw clock', () => {
  const ev = (s: string) => {
    const t = classifyLine(s);
    assert.equal(t.kind, 'event', s);
    return t.kind === 'event' ? [t.task, t.pid, t.cpu, t.ts, t.name, t.body] : [];
  };
  assert.deepEqual(ev(traceLine('map', 'X', 4878076, 'iommu-lens', 1, 10)), ['iommu-lens', 1, 10, '4.878076', 'map', 'X']);
  assert.deepEqual(ev('(udev-worker)-532 [010] ..... 4.878076: map: IOMMU: x'), ['(udev-worker)', 532, 10, '4.878076', 'map', 'IOMMU: x']);
  assert.deepEqual(ev('  Web Content-4411    [003] d..2.  77.000001: unmap: b'), ['Web Content', 4411, 3, '77.000001', 'unmap', 'b']);
  assert.deepEqual(ev('  kworker/u16:3-211  (    211) [002] .... 123456789: map: b'), ['kworker/u16:3', 211, 2, '123456789', 'map', 'b']);
  assert.deepEqual(ev('          <...>-99 [000] 5.5: dma_map_phys:       d dir=NONE'), ['<...>', 99, 0, '5.5', 'dma_map_phys', 'd dir=NONE']);
  assert.equal(classifyLine('  x-1 [000] ..... 5.5 map: b').kind, 'bad');
  assert.equal(classifyLine('CPU:1 [LOST 3 EVENTS]').kind, 'lost');
});

test('stack sites skip IOMMU, DMA, IOVA, io-pgtable and tracing frames', () => {
  for (const fn of ['iommu_map', '__iommu_map', 'iommu_dma_map_phys', 'dma_map_page_attrs', '__dma_map_sg_attrs',
    'alloc_iova_fast', 'arm_lpae_map_pages', '__arm_lpae_map', 'apple_dart_map_pages', 'trace_event_raw_event_map',
    'swiotlb_tbl_map_single', 'arm_smmu_map_pages', '0xffffffffc0a01234']) assert.ok(isCoreFrame(fn), fn);
  for (const fn of ['apu_gem_iommu_map', 'nvme_map_data', 'xhci_map_urb_for_dma', 'msm_gem_get_iova']) assert.ok(!isCoreFrame(fn), fn);
  assert.equal(siteOf([{ fn: 'iommu_map' }, { fn: 'apu_gem_iommu_map.constprop.0' }, { fn: 'apu_ioctl' }]), 'apu_gem_iommu_map');
  assert.equal(siteOf([{ fn: 'iommu_map' }]), null);
});

/** Reference model: live pieces, split by partial unmaps, exactly as the kernel's page tables hold them. */
type Piece = { iova: number; size: number; paddr: number };
function unmapModel(live: Piece[], lo: number, hi: number): Piece[] {
  const out: Piece[] = [];
  for (const p of live) {
    const end = p.iova + p.size;
    if (end <= lo || p.iova >= hi) { out.push(p); continue; }
    if (p.iova < lo) out.push({ iova: p.iova, size: lo - p.iova, paddr: p.paddr });
    if (end > hi) out.push({ iova: hi, size: end - hi, paddr: p.paddr + (hi - p.iova) });
  }
  return out;
}
/** iommu_unmap stops at the first hole: bytes mapped contiguously from iova, up to size. */
function contiguousFrom(live: Piece[], iova: number, size: number): number {
  let at = iova;
  for (;;) {
    const p = live.find(q => q.iova <= at && at < q.iova + q.size);
    if (!p || at >= iova + size) return Math.min(at, iova + size) - iova;
    at = p.iova + p.size;
  }
}

test('round trip: a random map/unmap history formatted with tracepoints.ts imports to the same mappings', () => {
  const PAGE = 4096;
  const op = fc.record({ map: fc.boolean(), page: fc.integer({ min: 0, max: 63 }), pages: fc.integer({ min: 1, max: 12 }), phys: fc.integer({ min: 0, max: 1 << 20 }) });
  fc.assert(fc.property(fc.constantFrom(0, 0xfff00000, 2 ** 52), fc.array(op, { maxLength: 60 }), (base, ops) => {
    let live: Piece[] = [];
    const lines = [traceLine('add_device_to_group', tp.addDeviceToGroup(1, 'dev0'), 1, 'drv', 7, 0),
      traceLine('attach_device_to_domain', tp.attachDeviceToDomain('dev0'), 2, 'drv', 7, 0)];
    ops.forEach((o, i) => {
      const iova = base + o.page * PAGE;
      const size = o.pages * PAGE;
      if (o.map) {
        if (live.some(p => p.iova < iova + size && iova < p.iova + p.size)) return;   // the kernel refuses: not traced
        live.push({ iova, size, paddr: o.phys * PAGE });
        lines.push(traceLine('map', tp.map(iova, o.phys * PAGE, size), 10 + i, 'drv', 7, 0));
      } else {
        const unmapped = contiguousFrom(live, iova, size);
        live = unmapModel(live, iova, iova + unmapped);
        lines.push(traceLine('unmap', tp.unmap(iova, size, unmapped), 10 + i, 'drv', 7, 0));
      }
    });
    const r = importTrace(lines.join('\n'), 'prop.trace');
    assert.equal(r.skippedCount, 0, JSON.stringify(r.skipped));
    const got = r.report.domains[0].mappings.map(m => ({ iova: Number(m.iova), size: m.size, paddr: Number(m.paddr) }));
    assert.deepEqual(got, live.sort((a, b) => a.iova - b.iova));
  }), { seed: 20240611, numRuns: 150 });
});
