// import-trace: kernel traces in /sys/kernel/tracing/trace and `trace-cmd report` form rebuilt into the
// report snapshot — devices, groups, one domain per attach, live mappings, faults, stacks, skipped lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importTrace, type ImportResult } from '../../simulator/trace/import';
import { generateTraceCase } from '../../simulator/trace/generate';
import type { ReportDomain } from '../../simulator/report/types';

const mappingsOf = (d: ReportDomain | undefined) => (d?.mappings ?? []).map(m => ({ iova: m.iova, size: m.size, paddr: m.paddr }));
const domainOfDevice = (r: ImportResult, dev: string) => {
  const id = r.report.devices.find(d => d.name === dev)?.domain;
  return r.report.domains.find(d => d.id === id);
};

// A boot-time capture with the TGID and irq-info columns, a stack trace, junk and a lost-events marker.
const FTRACE_LINES = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 14/26   #P:8',
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#           TASK-PID     TGID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |        |   |||||     |         |',
  '   (udev-worker)-532     (    532) [010] .....     4.870001: add_device_to_group: IOMMU: groupID=7 device=0000:03:00.0',
  '   (udev-worker)-532     (    532) [010] .....     4.870002: attach_device_to_domain: IOMMU: device=0000:03:00.0',
  '   (udev-worker)-532     (    532) [010] .....     4.878076: map: IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000 size=524288',
  '   (udev-worker)-532     (    532) [010] .....     4.878079: <stack trace>',
  ' => __iommu_map+0x1c/0x40',
  ' => iommu_map+0x30/0x90',
  ' => __iommu_dma_map+0x88/0x100',
  ' => iommu_dma_map_phys+0x120/0x180',
  ' => dma_map_phys+0x60/0x140',
  ' => nvme_map_data.isra.0+0x1f4/0x7a0 [nvme]',
  ' => nvme_queue_rq+0x94/0x2a0 [nvme]',
  '   (udev-worker)-532     (    532) [010] .....     4.878080: dma_map_phys: 0000:03:00.0 dir=BIDIRECTIONAL dma_addr=fe980000 size=524288 phys_addr=10ec80000 attrs=',
  '          <idle>-0       (-------) [002] d.h1.     5.000000: irq_handler_entry: irq=45 name=nvme0q1',
  '   kworker/u16:3-211     (    211) [002] .....     5.100000: unmap: IOMMU: iova=0x00000000fe980000 - 0x00000000fe990000 size=65536 unmapped_size=65536',
  'this is not a trace line',
  '   (udev-worker)-532     (    532) [010] .....     4.878076: map: IOMMU: iova=0x00000000fe980000 - 0x0000',
  'CPU:3 [LOST 12 EVENTS]',
  '         app-900     (    900) [001] .....     6.000000: io_page_fault: IOMMU:nvme 0000:03:00.0 iova=0x00000000fea10000 flags=0x0001',
  '         app-900     (    900) [001] .....     6.100000: map: IOMMU: iova=0xfff0000000000000 - 0xfff0000000001000 paddr=0x0000000000001000 size=4096',
  '         app-900     (    900) [001] .....     6.200000: dma_fence_emit: driver=i915 timeline=0 context=12 seqno=4',
  '         app-900     (    900) [001] .....     6.300000: io_page_fault: IOMMU:nvme 0000:03:00.0 iova=0x00000000fe9a0000 flags=0x0000',
];

test('ftrace capture: devices, group, DMA domain, split mapping, faults, stack site', () => {
  const text = FTRACE_LINES.join('\n') + '\r\n';
  const r = importTrace(text, 'boot.trace');
  assert.equal(r.format, 'ftrace');
  assert.deepEqual(r.report.groups, [{ id: 7, iommu: 'unknown', devices: ['0000:03:00.0'], default_domain: 'd1', domain: 'd1' }]);
  const d1 = domainOfDevice(r, '0000:03:00.0');
  assert.equal(d1?.id, 'd1');
  assert.equal(d1?.type, 'DMA', 'a map explained by dma_map_phys makes it a DMA domain');
  // the kworker's unmap of the first 64K split the 512K mapping
  assert.deepEqual(mappingsOf(d1), [{ iova: '0xfe990000', size: 0x70000, paddr: '0x10ec90000' }]);
  const map = r.report.steps.find(s => s.line === 10)!;
  assert.equal(map.op, 'map');
  assert.equal(map.events[0].via, 'dma-call');
  assert.equal(map.site, 'nvme_map_data', 'first frame outside IOMMU/DMA core, compiler suffix dropped');
  assert.equal(r.stacks.length, 1);
  assert.equal(r.stacks[0].frames.length, 7);
  assert.deepEqual(r.stacks[0].frames[5], { fn: 'nvme_map_data.isra.0', offset: 0x1f4, size: 0x7a0, module: 'nvme' });
  const unmap = r.report.steps.find(s => s.line === 21)!;
  assert.equal(unmap.result, 65536);
  assert.equal(unmap.events[0].via, 'iova-owner');
  assert.deepEqual(r.report.faults.map(f => [f.dev, f.iova, f.access, (f as { line?: number }).line, (f as { mapped?: boolean }).mapped]), [
    ['0000:03:00.0', '0xfea10000', 'write', 25, false],
    ['0000:03:00.0', '0xfe9a0000', 'read', 28, true],
  ]);
  assert.equal((r.report.devices[0] as { driver?: string }).driver, 'nvme', 'the fault names the driver');
  assert.equal(r.ignored, 2, 'irq_handler_entry and dma_fence_emit are other subsystems');
  assert.equal(r.lost, 12);
  assert.equal(r.events, 7);
});

test('ftrace capture: junk, truncated and unrepresentable lines are skipped with line and column', () => {
  const r = importTrace(FTRACE_LINES.join('\n'), 'boot.trace');
  assert.equal(r.skippedCount, 3);
  const [junk, truncated, big] = r.skipped;
  assert.deepEqual([junk.line, junk.col], [22, 1]);
  assert.match(junk.reason, /not a trace line/);
  assert.equal(truncated.line, 23);
  assert.equal(truncated.col, FTRACE_LINES[22].length + 1);
  assert.match(truncated.reason, /^map: expected " paddr=0x", found end of line$/);
  assert.equal(big.line, 26);
  assert.equal(big.col, FTRACE_LINES[25].indexOf('fff0') + 1);
  assert.match(big.reason, /iova=0xfff0000000000000 is 2\^53 or more and cannot be represented exactly/);
  assert.ok(!r.report.steps.some(s => s.line === 26), 'never rounded into a mapping');
});

// trace-cmd report: header lines, no irq-info column, padded event names, `=> fn (addr)` frames.
const TRACE_CMD = `version = 6
CPU 0 is empty
CPU 2 is empty
cpus=4
   (udev-worker)-532   [001]     2.000100: add_device_to_group:  IOMMU: groupID=3 device=1a000000.apu
   (udev-worker)-532   [001]     2.000110: attach_device_to_domain: IOMMU: device=1a000000.apu
   (udev-worker)-532   [001]     2.000120: attach_device_to_domain: IOMMU: device=1a000000.apu
    apu-test-812   [003]    10.500000: map:                  IOMMU: iova=0x0000000010000000 - 0x0000000010008000 paddr=0x0000000880000000 size=32768
    apu-test-812   [003]    10.500001: kernel_stack:         <stack trace >
=> iommu_map (ffffffff8123a0b0)
=> apu_gem_iommu_map (ffffffffc0a01234)
=> apu_ioctl (ffffffffc0a00100)
    apu-test-812   [003]    10.600000: map:                  IOMMU: iova=0x0000000010200000 - 0x0000000010400000 paddr=0x0000000890000000 size=2097152
    apu-test-812   [003]    10.700000: unmap:                IOMMU: iova=0x0000000010201000 - 0x0000000010202000 size=4096 unmapped_size=2097152
    apu-test-812   [003]    10.800000: sched_switch:         prev_comm=apu-test prev_pid=812 prev_prio=120 prev_state=S ==> next_comm=swapper/3 next_pid=0 next_prio=120
    apu-test-812   [003]    10.900000: unmap:                IOMMU: iova=0x0000000010000000 - 0x0000000010002000 size=8192 unmapped_size=8192
`;

test('trace-cmd report: driver-owned domain, a 2M block unmapped whole, partial unmap, stack site', () => {
  const r = importTrace(TRACE_CMD, 'apu.dat.txt');
  assert.equal(r.format, 'trace-cmd');
  assert.equal(r.skippedCount, 0);
  assert.equal(r.ignored, 1);
  assert.deepEqual(r.report.domains.map(d => [d.id, d.type, d.devices, d.default_of_group]), [
    ['d1', 'unknown', [], 3],
    ['d2', 'UNMANAGED', ['1a000000.apu'], null],
  ]);
  assert.deepEqual(r.report.groups[0], { id: 3, iommu: 'unknown', devices: ['1a000000.apu'], default_domain: 'd1', domain: 'd2' });
  // unmapped_size 2M > size 4K: the IOMMU dropped the whole block; the 8K unmap trimmed the 32K object
  assert.deepEqual(mappingsOf(r.report.domains[1]), [{ iova: '0x10002000', size: 0x6000, paddr: '0x880002000' }]);
  const first = r.report.steps[3];
  assert.deepEqual([first.op, first.line, first.site, first.events[0].via], ['map', 8, 'apu_gem_iommu_map', 'driver-owned']);
  assert.deepEqual(r.stacks[0].frames[1], { fn: 'apu_gem_iommu_map', addr: 'ffffffffc0a01234' });
});

test('map events are bound to the DMA call of their own task and CPU, across interleaved events', () => {
  const line = (task: string, cpu: number, ts: string, ev: string, body: string) => `${task.padStart(16)} [00${cpu}] ..... ${ts}: ${ev}: ${body}`;
  const text = [
    line('probe-1', 0, '1.000000', 'add_device_to_group', 'IOMMU: groupID=1 device=xhci'),
    line('probe-1', 0, '1.000001', 'attach_device_to_domain', 'IOMMU: device=xhci'),
    line('probe-1', 0, '1.000002', 'add_device_to_group', 'IOMMU: groupID=2 device=nvme'),
    line('probe-1', 0, '1.000003', 'attach_device_to_domain', 'IOMMU: device=nvme'),
    line('usb-10', 1, '2.000000', 'map', 'IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x0000000080001000 size=4096'),
    line('io-20', 0, '2.000001', 'map', 'IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 paddr=0x0000000090000000 size=8192'),
    line('io-20', 0, '2.000002', 'dma_map_phys', 'nvme dir=TO_DEVICE dma_addr=ffffe010 size=8000 phys_addr=90000010 attrs='),
    line('usb-10', 1, '2.000003', 'dma_map_phys', 'xhci dir=FROM_DEVICE dma_addr=ffffe000 size=4096 phys_addr=80001000 attrs=SKIP_CPU_SYNC'),
    line('usb-10', 1, '2.000004', 'dma_map_phys', 'xhci dir=FROM_DEVICE dma_addr=ffffffffffffffff size=4096 phys_addr=80002000 attrs='),
  ].join('\n');
  const r = importTrace(text, 'two.trace');
  assert.equal(r.skippedCount, 0, JSON.stringify(r.skipped));
  assert.deepEqual(mappingsOf(domainOfDevice(r, 'xhci')), [{ iova: '0xffffe000', size: 4096, paddr: '0x80001000' }]);
  assert.deepEqual(mappingsOf(domainOfDevice(r, 'nvme')), [{ iova: '0xffffe000', size: 8192, paddr: '0x90000000' }]);
  assert.equal(r.report.steps[4].events[0].via_step, 7);
  assert.equal(r.report.steps[6].result, '0xffffe010');
  assert.equal(r.report.steps[8].result, 'DMA_MAPPING_ERROR');
  assert.equal(domainOfDevice(r, 'nvme')?.mappings[0].requested, 8000);
  assert.deepEqual(r.dmaHandles.map(h => [h.dev, h.dma, h.size]), [['nvme', 0xffffe010, 8000], ['xhci', 0xffffe000, 4096]]);
});

test('a DMA map into the default domain while the device is attached elsewhere is a finding', () => {
  const text = [
    '  drv-5 [000] ..... 1.0: add_device_to_group: IOMMU: groupID=4 device=mdss',
    '  drv-5 [000] ..... 1.1: attach_device_to_domain: IOMMU: device=mdss',
    '  drv-5 [000] ..... 1.2: attach_device_to_domain: IOMMU: device=mdss',
    '  drv-5 [000] ..... 1.3: map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000080000000 size=4096',
    '  drv-5 [000] ..... 1.4: dma_map_sg: mdss dir=TO_DEVICE nents=1/1 ents=1/1 dma_addrs={0xfffff000} sizes={0x1000} phys_addrs={0x80000000} attrs=',
  ].join('\n');
  const r = importTrace(text, 'msm.trace');
  assert.equal(r.skippedCount, 0, JSON.stringify(r.skipped));
  assert.deepEqual(mappingsOf(r.report.domains[0]), [{ iova: '0xfffff000', size: 4096, paddr: '0x80000000' }]);
  assert.deepEqual(r.report.findings.map(f => [f.code, f.step]), [['trace-dma-inactive-domain', 3]]);
  assert.match(r.report.findings[0].message, /mapped 0xfffff000 into default domain d1, but mdss is attached to d2/);
});

test('kernels before the map/unmap range end (no " - END") import the same', () => {
  const text = [
    '  drv-5 [000] .... 1.000000: attach_device_to_domain: IOMMU: device=gpu',
    '  drv-5 [000] .... 1.000001: map: IOMMU: iova=0x0000000000100000 paddr=0x0000000040000000 size=16384',
    '  drv-5 [000] .... 1.000002: unmap: IOMMU: iova=0x0000000000100000 size=4096 unmapped_size=4096',
    '  drv-5 [000] .... 1.000003: map: IOMMU: iova=0x0000000000200000 - 0x0000000000300000 paddr=0x0000000040000000 size=4096',
  ].join('\n');
  const r = importTrace(text, 'old.trace');
  assert.deepEqual(mappingsOf(r.report.domains[0]), [{ iova: '0x101000', size: 12288, paddr: '0x40001000' }]);
  assert.deepEqual(r.skipped.map(s => s.line), [4]);
  assert.match(r.skipped[0].reason, /range end 0x300000 is not iova \+ size \(0x201000\)/);
});

test('a 10 MB line is refused unparsed and the lines around it still import', () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const text = ['  drv-5 [000] ..... 1.0: attach_device_to_domain: IOMMU: device=gpu', big,
    '  drv-5 [000] ..... 1.1: map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x0000000040000000 size=4096',
    ' [1]'.repeat(4000)].join('\n');
  const r = importTrace(text, 'huge.trace');
  assert.deepEqual(r.skipped.map(s => s.line), [2, 4]);
  assert.equal(r.skipped[0].reason,
    'line is 10485760 characters long; longer than 16384, not parsed (simulator limit traceLineLength; see docs/limits.md)');
  assert.match(r.skipped[1].reason, /not a trace line/);
  assert.equal(r.report.domains[0].mappings.length, 1);
});

test('generated traces rebuild exactly the mappings the generator left live (fixed seeds)', () => {
  for (const seed of [1, 2, 3]) {
    const g = generateTraceCase(4000, seed, { stacks: seed === 2 });
    const r = importTrace(g.text, `gen-${seed}.trace`);
    assert.equal(r.skippedCount, 0, `seed ${seed}: ${JSON.stringify(r.skipped.slice(0, 3))}`);
    assert.equal(r.report.findings.length, 0, `seed ${seed}: ${r.report.findings[0]?.message}`);
    for (const dev of Object.keys(g.live)) {
      const d = domainOfDevice(r, dev)!;
      const expected = d.devices.flatMap(x => g.live[x]).sort((a, b) => a.iova - b.iova)
        .map(m => ({ iova: '0x' + m.iova.toString(16), size: m.size, paddr: '0x' + m.paddr.toString(16) }));
      assert.deepEqual(mappingsOf(d), expected, `seed ${seed}, device ${dev}`);
    }
    if (seed === 2) assert.ok(r.stacks.length > 0 && r.stacks.every(s => s.site !== null));
  }
});

test('a device removed from its group leaves group and domain; what it left mapped stays visible', () => {
  const text = [
    '  probe-9 [000] ..... 1.0: add_device_to_group: IOMMU: groupID=5 device=0000:07:00.0',
    '  probe-9 [000] ..... 1.1: attach_device_to_domain: IOMMU: device=0000:07:00.0',
    '  probe-9 [000] ..... 1.2: map: IOMMU: iova=0x00000000ffff0000 - 0x00000000ffff4000 paddr=0x0000000123450000 size=16384',
    '  probe-9 [000] ..... 1.3: dma_map_phys: 0000:07:00.0 dir=TO_DEVICE dma_addr=ffff0000 size=16384 phys_addr=123450000 attrs=',
    '  probe-9 [000] ..... 2.0: remove_device_from_group: IOMMU: groupID=5 device=0000:07:00.0',
  ].join('\n');
  const r = importTrace(text, 'unplug.trace');
  assert.deepEqual(r.report.devices.map(d => [d.name, d.group, d.domain]), [['0000:07:00.0', null, null]]);
  assert.deepEqual(r.report.groups, [{ id: 5, iommu: 'unknown', devices: [], default_domain: 'd1', domain: 'd1' }]);
  assert.deepEqual(r.report.domains.map(d => [d.id, d.devices, d.mappings.length]), [['d1', [], 1]]);
  assert.deepEqual(r.dmaHandles.map(h => [h.dev, h.event, h.line]), [['0000:07:00.0', 'dma_map_phys', 4]]);
});

test('a truncated dma_map_sg (over 128 entries) still explains every map its call made', () => {
  const addrs = Array.from({ length: 128 }, (_, i) => `0x${(0x100000 + i * 0x1000).toString(16)}`).join(',');
  const sizes = Array(128).fill('0x1000').join(',');
  const text = [
    '  gpu-3 [001] ..... 1.0: attach_device_to_domain: IOMMU: device=gpu',
    '  gpu-3 [001] ..... 1.1: map: IOMMU: iova=0x0000000000100000 - 0x0000000000180000 paddr=0x0000000040000000 size=524288',
    '  gpu-3 [001] ..... 1.2: map: IOMMU: iova=0x0000000000180000 - 0x00000000001c8000 paddr=0x0000000050000000 size=294912',
    `  gpu-3 [001] ..... 1.3: dma_map_sg: gpu dir=TO_DEVICE nents=128/200 ents=128/200 [TRUNCATED] dma_addrs={${addrs}} sizes={${sizes}} phys_addrs={${addrs}} attrs=`,
  ].join('\n');
  const r = importTrace(text, 'sg.trace');
  assert.equal(r.skippedCount, 0, JSON.stringify(r.skipped));
  assert.deepEqual(r.report.steps.slice(1, 3).map(s => [s.events[0].via, s.events[0].via_step]), [['dma-call', 3], ['dma-call', 3]]);
  assert.equal(r.report.steps[3].result, 200, 'dma_map_sg returns the full entry count');
});

test('a map before any device is known lands in an "unattributed" domain, said so in its event', () => {
  const r = importTrace([
    '  a-1 [000] ..... 1.0: map: IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000001000 size=4096',
    '  a-1 [000] ..... 1.1: attach_device_to_domain: IOMMU: device=x',
  ].join('\n'), 'early.trace');
  assert.deepEqual(r.report.domains.map(d => [d.id, d.mappings.length, d.devices]), [['unattributed', 1, []], ['d1', 0, ['x']]]);
  assert.deepEqual([r.report.steps[0].events[0].domain, r.report.steps[0].events[0].via], ['unattributed', 'unattributed']);
});
