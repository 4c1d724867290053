// The import's fast paths give what the plain ones give: steps kept as columns build the same ReportSteps
// (keys in the same order, results as hex() prints them), bodies parsed inside the whole trace text parse
// as the body alone does, remembered line contexts classify as a first look does, and the address table
// behaves as a Map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { importTrace } from '../../simulator/trace/import';
import { AddrMap } from '../../simulator/trace/import-addr-map';
import { BodyError, Cursor, parseFaultBody, parseMapBody, parseUnmapBody } from '../../simulator/trace/import-body';
import { parseDmaBody } from '../../simulator/trace/import-dma-body';
import { classifyLine } from '../../simulator/trace/import-line';

const line = (task: string, cpu: number, ts: string, ev: string, body: string) => `${task.padStart(16)} [00${cpu}] ..... ${ts}: ${ev}: ${body}`;

test('imported steps: event keys in the order the JSON report has always had, results as hex() prints them', () => {
  const text = [
    line('probe-1', 0, '1.000000', 'add_device_to_group', 'IOMMU: groupID=1 device=xhci'),
    line('probe-1', 0, '1.000001', 'attach_device_to_domain', 'IOMMU: device=xhci'),
    line('usb-10', 1, '2.000000', 'map', 'IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 paddr=0x0000000080001000 size=8192'),
    '         usb-10 [001] ..... 2.000001: <stack trace>',
    ' => iommu_map+0x30/0x90',
    ' => xhci_map_urb+0x30/0x90 [xhci]',
    line('usb-10', 1, '2.000002', 'map', 'IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x0000000080009000 size=4096'),
    line('usb-10', 1, '2.000003', 'dma_map_phys', 'xhci dir=FROM_DEVICE dma_addr=ffffe000 size=4096 phys_addr=80009000 attrs='),
    line('usb-10', 1, '2.000004', 'dma_map_phys', 'xhci dir=FROM_DEVICE dma_addr=0FFFFE000 size=16 phys_addr=80009000 attrs='),
    line('usb-10', 1, '2.000005', 'dma_alloc', 'xhci dir=BIDIRECTIONAL dma_addr=fffe0000 size=4096 virt_addr=ffff000080000000 flags=GFP_KERNEL attrs='),
    line('usb-10', 1, '2.000006', 'dma_unmap_phys', 'xhci dir=FROM_DEVICE dma_addr=12340000 size=16 attrs='),
    line('usb-10', 1, '2.000007', 'unmap', 'IOMMU: iova=0x0000000012340000 - 0x0000000012341000 size=4096 unmapped_size=4096'),
    line('usb-10', 1, '2.000008', 'dma_unmap_phys', 'xhci dir=FROM_DEVICE dma_addr=ffffe000 size=4096 attrs='),
    line('irq-0', 2, '2.000009', 'io_page_fault', 'IOMMU:xhci_hcd xhci iova=0x00000000fffe0000 flags=0x0001'),
  ].join('\n');
  const r = importTrace(text, 'keys.trace');
  assert.equal(r.skippedCount, 0, JSON.stringify(r.skipped));
  const ev = (i: number) => r.report.steps[i].events[0];
  const keys = (i: number) => Object.keys(ev(i));
  const context = ['kind', 'name', 'text', 'task', 'pid', 'cpu', 'ts'];
  const placed = [...context, 'domain', 'via', 'via_step', 'via_device'];
  assert.deepEqual(keys(2), [...placed, 'stack'], 'the first map: placement, then its stack last');
  assert.deepEqual(keys(3), [...placed, 'replaced'], 'the second map overlaps the first');
  assert.deepEqual([ev(3).replaced, ev(3).via, ev(3).via_step, ev(3).via_device], [4096, 'dma-call', 4, 'xhci']);
  assert.deepEqual([ev(2).via, ev(2).via_step, ev(2).via_device, r.report.steps[2].site], ['dma-call', 4, 'xhci', 'xhci_map_urb']);
  assert.deepEqual(keys(0), context);
  assert.deepEqual(keys(1), [...context, 'domain']);
  assert.deepEqual(keys(7), [...context, 'unknown_handle'], 'an unmap of a handle never mapped');
  assert.deepEqual(keys(8), [...placed, 'untracked']);
  assert.deepEqual(keys(10), [...context, 'domain', 'mapped']);
  assert.deepEqual([ev(10).domain, ev(10).mapped], ['d1', false]);
  assert.deepEqual(ev(2).text, 'IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 paddr=0x0000000080001000 size=8192');
  assert.deepEqual([ev(2).task, ev(2).pid, ev(2).cpu, ev(2).ts], ['usb', 10, 1, '2.000000']);
  // results: as the kernel prints it when that is hex()'s form, hex() of the value otherwise
  assert.deepEqual(r.report.steps.map(s => s.result), [1, 0, 0, 0, '0xffffe000', '0xffffe000', { dma: '0xfffe0000' }, null, 4096, null, null]);
  assert.deepEqual(r.report.steps.map(s => [s.index, s.line]), [[0, 1], [1, 2], [2, 3], [3, 7], [4, 8], [5, 9], [6, 10], [7, 11], [8, 12], [9, 13], [10, 14]]);
  assert.equal(r.report.steps[4].findings, r.report.steps[5].findings, 'steps share one empty findings list');
});

/** What parsing a body gives: the values, or the error's offset and message. */
function outcome(parse: (c: Cursor) => unknown, c: Cursor): unknown {
  try {
    return { ok: parse(c) };
  } catch (e) {
    if (!(e instanceof BodyError)) throw e;
    return { offset: e.offset, message: e.message };
  }
}

test('a body parsed inside the whole trace text parses as the body alone does, errors at the same column', () => {
  const bodies: Array<[string, (c: Cursor) => unknown]> = [
    ['IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000 size=524288', c => parseMapBody(c)],
    ['IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000 size=', c => parseMapBody(c)],
    ['IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000', c => parseMapBody(c)],
    ['IOMMU: iova=0x0020000000000001 - 0x0020000000001001 paddr=0x0 size=4096', c => parseMapBody(c)],
    ['IOMMU: iova=0x1000 size=4096 unmapped_size=4096', c => parseUnmapBody(c)],
    ['IOMMU: iova=0x1000 size=4096 unmapped_size=', c => parseUnmapBody(c)],
    ['IOMMU:arm-smmu 0000:01:00.0 iova=0x1000 flags=0x0001', c => parseFaultBody(c)],
    ['IOMMU:arm-smmu 0000:01:00.0', c => parseFaultBody(c)],
    ['xhci dir=TO_DEVICE dma_addr=1000 size=4096 phys_addr=2000 attrs=', c => parseDmaBody(c)],
    ['xhci dir=TO_DEVICE dma_addr=1000 size=4096 phys_addr=2000 attrs=WEAK_ORDERING', c => parseDmaBody(c)],
    ['xhci dir=TO_DEVICE dma_addr=1000 bogus', c => parseDmaBody(c)],
    ['xhci dir=TO_DEVICE dma_addr=1000 bogus=1', c => parseDmaBody(c)],
    ['xhci dir=TO_DEVICE dma_addrs={0x1000,0x2000', c => parseDmaBody(c)],
    ['xhci dir=TO', c => parseDmaBody(c)],
    ['xhci', c => parseDmaBody(c)],
  ];
  // what follows a body in a trace: a line break, then text that would parse on if the cursor ran on
  for (const next of ['\n', '\r\n', '\n  dir=NONE size=1 unmapped_size=2 flags=0x1 iova=0x1 bogus=2 ]']) {
    for (const [body, parse] of bodies) {
      const text = 'x-1 [000] 1.0: e: ' + body + next;
      const alone = outcome(parse, new Cursor(body));
      const inside = outcome(parse, new Cursor('').reset(text, 18, 18 + body.length));
      // offsets of addresses in the text (dmaAt/dmaEnd) count from the start of what was parsed
      const shifted = JSON.stringify(inside).replace(/"dma(At|End)":(\d+)/g, (_, k, v) => `"dma${k}":${Number(v) - 18}`);
      assert.deepEqual(JSON.parse(shifted), JSON.parse(JSON.stringify(alone)), JSON.stringify(body + next));
    }
  }
});

test('a line starting with a context seen before classifies as it does at first sight', () => {
  const lines = [
    '   kworker/u16:3-211     [002] .....     1.001907: dma_unmap_phys: 0000:03:00.0 dir=TO_DEVICE dma_addr=fffc0400 size=1152 attrs=',
    '   kworker/u16:3-211     [002] .....     1.001944: map: IOMMU: iova=0x00000000fffc0000',
    '   kworker/u16:3-211     [002] .....     1.001944 map: IOMMU: iova=0x00000000fffc0000',
    '   kworker/u16:3-211     [002]      1.001944: map: IOMMU: iova=0x00000000fffc0000',
    '   kworker/u16:3-211     [002] ......x 1.001944: map: IOMMU: iova=0x00000000fffc0000',
    '   kworker/u16:3-211     [002] .....     1.001944: <stack trace>',
    '   kworker/u16:3-211     [002] .....     1.001944: kernel_stack: <stack trace>',
    '   kworker/u16:3-211     [002] .....     1.001944: ',
    '   kworker/u16:3-211     [002] .....     1.001944: ??',
    '   kworker/u16:3-211     [002]  1.2 [003] 1.5: map: b',
    '   kworker/u16:3-211     [002] 7 [003] ..... 1.5: map: b',
    '  a [1] b-5 [002] ..... 1.0: map: x',
    '  a [1] b-5 [002] ..... 1.0 [003] 2.0: map: x',
    '  a [1] b-5 [002] 1.0: map: x',
    'CPU:1 [LOST 3 EVENTS]',
  ];
  const first = lines.map(l => JSON.stringify(classifyLine(l)));
  // every order of looking again, after every other line has been seen
  for (let round = 0; round < 3; round++) {
    lines.forEach((l, i) => assert.equal(JSON.stringify(classifyLine(l)), first[i], l));
    lines.reverse();
    first.reverse();
  }
  const ev = classifyLine(lines.find(l => l.includes('1.001907'))!);
  assert.equal(ev.kind, 'event');
  if (ev.kind === 'event') assert.deepEqual([ev.task, ev.pid, ev.cpu, ev.ts, ev.name], ['kworker/u16:3', 211, 2, '1.001907', 'dma_unmap_phys']);
  assert.equal(classifyLine('  a [1] b-5 [002] 1.0: map: x').kind, 'event');
  assert.equal(classifyLine('   kworker/u16:3-211     [002] .....     1.001944 map: IOMMU').kind, 'bad');
});

test('the address table answers as a Map does, for addresses up to 2^53 (seed 20261121)', () => {
  const addr = fc.oneof(fc.integer({ min: 0, max: 64 }).map(n => n * 4096), fc.integer({ min: 0, max: 2 ** 32 }),
    fc.integer({ min: 0, max: 30 }).map(n => 2 ** 53 - 1 - n * 2 ** 30), fc.integer({ min: 0, max: 40 }).map(n => 0xfff00000 + n * 0x20000));
  const op = fc.record({ kind: fc.constantFrom('set', 'delete', 'get'), addr, v: fc.nat(2 ** 31 - 1) });
  fc.assert(fc.property(fc.array(op, { maxLength: 3000 }), ops => {
    const t = new AddrMap();
    const m = new Map<number, number>();
    for (const o of ops) {
      if (o.kind === 'set') { t.set(o.addr, o.v); m.set(o.addr, o.v); }
      else if (o.kind === 'delete') assert.equal(t.delete(o.addr), m.delete(o.addr));
      else assert.equal(t.get(o.addr), m.get(o.addr));
      assert.equal(t.size, m.size);
    }
    assert.deepEqual(t.values().sort((a, b) => a - b), [...m.values()].sort((a, b) => a - b));
  }), { seed: 20261121, numRuns: 60 });
});
