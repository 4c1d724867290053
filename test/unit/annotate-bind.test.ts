// Binding a run's outcomes to the call sites of a C file: scenario steps with `site:` land on the right
// lines (loops take every iteration, two calls take turns), unmatched events are reported, simulator
// findings and faults become diagnostics on the call or the function, review findings get the simulated
// consequence for the run's platform, kernel traces bind through their stack sites, and the CLI prints it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeC, bindOutcomes, initParser, type Analysis, type Binding } from '../../simulator/analysis/index';
import type { Report, ReportEvent } from '../../simulator/report/types';
import { loadSession } from '../../simulator/session';
import { importTrace } from '../../simulator/trace/import';
import { main } from '../../simulator/cli';
import { driversDir, lineOf } from './analysis-fixtures';

before(async () => { await initParser(); });

const DEMO_C = `// SPDX-License-Identifier: GPL-2.0
#include <linux/iommu.h>
#include <linux/scatterlist.h>

static int demo_map_sg(struct iommu_domain *dom, struct sg_table *sgt, unsigned long iova)
{
	struct scatterlist *sg;
	int i, ret;

	for_each_sgtable_sg(sgt, sg, i) {
		ret = iommu_map(dom, iova, sg_phys(sg), sg->length, IOMMU_READ, GFP_KERNEL);
		if (ret)
			return ret;
		iova += sg->length;
	}
	return 0;
}

static int demo_map_two(struct iommu_domain *dom, unsigned long iova, phys_addr_t pa)
{
	int ret = iommu_map(dom, iova, pa, SZ_4K, IOMMU_READ, GFP_KERNEL);

	if (ret)
		return ret;
	return iommu_map(dom, iova + SZ_64K, pa, SZ_4K, IOMMU_READ, GFP_KERNEL);
}

static void demo_poke(struct device *dev, dma_addr_t addr)
{
	demo_start_dma(dev, addr);
}
`;

const DEMO_SCENARIO = `name: demo sites
platform: generic-4k
kernel: { page_size: 4K }
steps:
  - probe: dma0
  - iommu_domain_alloc: { dev: dma0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: dma0 }
  - iommu_map: { domain: $d, iova: 0x100000, paddr: 0x80000000, size: 8K, prot: [read] }
    site: demo_gem.c:demo_map_sg
  - iommu_map: { domain: $d, iova: 0x102000, paddr: 0x80010000, size: 4K, prot: [read] }
    site: demo_gem.c:demo_map_sg
  - iommu_map: { domain: $d, iova: 0x103800, paddr: 0x80020000, size: 4K, prot: [read] }
    site: drivers/demo/demo_gem.c:demo_map_sg
  - iommu_map: { domain: $d, iova: 0x200000, paddr: 0x80030000, size: 4K, prot: [read] }
    site: demo_gem.c:demo_map_two
  - iommu_map: { domain: $d, iova: 0x210000, paddr: 0x80030000, size: 4K, prot: [read] }
    site: demo_gem.c:demo_map_two
  - iommu_map: { domain: $d, iova: 0x300000, paddr: 0x80040000, size: 4K, prot: [read] }
    site: demo_gem.c:demo_map_two
  - iommu_unmap: { domain: $d, iova: 0x100000, size: 8K }
    site: demo_gem.c:demo_map_two
  - iommu_map: { domain: $d, iova: 0x400000, paddr: 0x80050000, size: 4K, prot: [read] }
    site: demo_gem.c:demo_missing
  - iommu_map: { domain: $d, iova: 0x500000, paddr: 0x80060000, size: 4K, prot: [read] }
    site: other.c:other_map
  - dma_read: { dev: dma0, addr: 0x900000, size: 64 }
    site: demo_gem.c:demo_poke
`;

function run(scenario: string, file = 'demo.iommu.yaml') {
  const s = loadSession(scenario, file);
  s.runAll();
  return s.snapshot();
}

const stepsAt = (b: Binding, line: number) => b.calls.filter(c => c.call.line === line).flatMap(c => c.invocations.map(i => i.step));

describe('scenario steps with sites bound to a small driver', () => {
  let a: Analysis;
  let b: Binding;
  const L = (needle: string, after?: string) => lineOf(DEMO_C, needle, after);
  before(() => {
    a = analyzeC(DEMO_C, 'src/demo_gem.c');
    b = bindOutcomes(a, run(DEMO_SCENARIO));
  });

  test('every iteration of a call in a loop binds to that one call, in step order', () => {
    const line = L('ret = iommu_map(dom, iova, sg_phys');
    assert.deepEqual(stepsAt(b, line), [3, 4, 5]);
    const site = b.calls.find(c => c.call.line === line)!;
    assert.deepEqual(site.invocations.map(i => i.summary.result), ['0', '0', '-EINVAL']);
    assert.deepEqual(site.invocations.map(i => i.summary.address), ['0x100000', '0x102000', '0x103800']);
    assert.equal(site.call.col, 9);
    assert.equal(site.severity, 'error');
    assert.equal(site.text, '×3 → 0 ×2, -EINVAL · mapped 12K of 16K · iova 0x100000–0x103800 · unaligned-map');
    assert.match(site.message, /^iommu_map ×3 → 0 ×2, -EINVAL, mapped 12K of 16K asked/);
  });

  test('two calls of the same API in one function take turns in source order', () => {
    assert.deepEqual(stepsAt(b, L('int ret = iommu_map(dom, iova, pa')), [6, 8]);
    assert.deepEqual(stepsAt(b, L('return iommu_map(dom, iova + SZ_64K')), [7]);
    const one = b.calls.find(c => c.call.line === L('return iommu_map(dom, iova + SZ_64K'))!;
    assert.equal(one.text, '→ 0 · mapped 4K · iova 0x210000');
    assert.equal(one.severity, 'info');
  });

  test('events naming this file that fit no call are reported with the reason, not dropped', () => {
    assert.deepEqual(b.unmatched.map(u => [u.step, u.name, u.reason, u.range?.start.line ?? null]), [
      [9, 'iommu_unmap', 'demo_map_two() has no iommu_unmap call', L('static int demo_map_two')],
      [10, 'iommu_map', 'no function demo_missing in demo_gem.c', null],
    ]);
    assert.equal(b.unmatched[0].scenarioLine, DEMO_SCENARIO.split('\n').findIndex(l => l.includes('iommu_unmap:')) + 1);
    assert.equal(b.otherFiles, 1, 'the step at other.c is another file\'s business');
    assert.equal(b.boundInvocations, 6);
  });

  test('simulator findings land on the bound call, faults of a non-API step on the function', () => {
    const unaligned = b.diagnostics.find(d => d.code === 'unaligned-map')!;
    assert.deepEqual([unaligned.range.start.line, unaligned.onCall, unaligned.function, unaligned.step],
      [L('ret = iommu_map(dom, iova, sg_phys'), true, 'demo_map_sg', 5]);
    const fault = b.diagnostics.find(d => d.kind === 'fault')!;
    assert.deepEqual([fault.code, fault.range.start.line, fault.onCall, fault.function, fault.severity],
      ['translation-fault', L('static void demo_poke'), false, 'demo_poke', 'error']);
    assert.equal(b.diagnostics.length, 2, JSON.stringify(b.diagnostics.map(d => d.code)));
  });

  test('per function: calls, faults, findings and the steps and report indexes behind them', () => {
    const fn = (name: string) => b.functions.find(f => f.function.name === name)!;
    assert.deepEqual([fn('demo_map_sg').calls, fn('demo_map_sg').simFindings, fn('demo_map_sg').steps], [3, 1, [3, 4, 5]]);
    assert.deepEqual([fn('demo_map_two').calls, fn('demo_map_two').steps], [4, [6, 7, 8, 9]]);
    assert.deepEqual([fn('demo_poke').faults, fn('demo_poke').faultIndexes], [1, [0]]);
    assert.equal(fn('demo_map_sg').reviewFindings, a.findings.filter(f => f.function === 'demo_map_sg').length);
    assert.ok(fn('demo_map_sg').reviewFindings > 0, 'the fixture has review findings (map-per-sg-entry)');
  });

  test('a map-per-sg-entry finding reads the run\'s call count', () => {
    const i = a.findings.findIndex(f => f.code === 'map-per-sg-entry');
    assert.ok(i >= 0);
    assert.equal(b.consequences[i]?.text,
      'the run called iommu_map 3 times here (8K, 4K, -EINVAL); iommu_map_sg() would have mapped 12K in one call; step 5 failed with -EINVAL');
  });

  test('a site line (FILE.c:FUNCTION:LINE) pins the call', () => {
    const second = L('return iommu_map(dom, iova + SZ_64K');
    const scenario = DEMO_SCENARIO.split('  - iommu_map: { domain: $d, iova: 0x100000')[0]
      + `  - iommu_map: { domain: $d, iova: 0x600000, paddr: 0x80000000, size: 4K, prot: [read] }\n    site: demo_gem.c:demo_map_two:${second}\n`;
    const pinned = bindOutcomes(a, run(scenario));
    assert.deepEqual(stepsAt(pinned, second), [3]);
  });
});

describe('driver ops that report the kernel\'s work only as tracepoints', () => {
  const a = () => analyzeC(DEMO_C, 'demo_gem.c');
  const tp = (name: string, text: string) => ({ kind: 'tracepoint' as const, name, text });
  const mapLine = (iova: number, size: number) => tp('map', `IOMMU: iova=0x${iova.toString(16).padStart(16, '0')} - 0x${(iova + size).toString(16).padStart(16, '0')} paddr=0x0000000080000000 size=${size}`);
  const report = (steps: Array<{ op: string; site: string; events: Array<Record<string, unknown> & { kind: string }> }>): Report => ({
    scenario: 'ops', kernel: { page_size: 4096, large_iommu_pages: false, dma_strict: true },
    steps: steps.map((s, index) => ({ index, op: s.op, site: s.site, result: 0, findings: [], line: 10 + index,
      events: [...s.events, { kind: 'api', name: s.op, args: {}, result: 0, site: s.site }] as ReportEvent[] })),
    groups: [], domains: [], devices: [], faults: [], findings: [],
  });

  test('each map: line binds to the op\'s own function when several functions map, with the events before it', () => {
    const b = bindOutcomes(a(), report([
      { op: 'demo.map', site: 'demo_gem.c:demo_map_two', events: [{ kind: 'pte', op: 'set' }, mapLine(0x200000, 4096), mapLine(0x210000, 4096)] },
      { op: 'other.map', site: 'other.c:other_map', events: [mapLine(0x300000, 4096)] },
    ]));
    const first = b.calls.find(c => c.call.line === lineOf(DEMO_C, 'int ret = iommu_map'))!;
    assert.deepEqual(first.invocations.map(i => [i.step, i.source, i.events.map(e => e.kind)]), [[0, 'trace', ['pte', 'tracepoint']]]);
    assert.equal(first.text, '→ 0 · mapped 4K · iova 0x200000');
    assert.deepEqual(stepsAt(b, lineOf(DEMO_C, 'return iommu_map(dom, iova + SZ_64K')), [0]);
    assert.equal(b.boundInvocations, 2, 'the other driver\'s map is not this file\'s');
  });

  test('an op whose function makes no such call binds to the only function that does, or is reported', () => {
    const b = bindOutcomes(a(), report([
      { op: 'demo.poke', site: 'demo_gem.c:demo_poke', events: [mapLine(0x200000, 4096), tp('unmap', 'IOMMU: iova=0x0000000000200000 - 0x0000000000201000 size=4096 unmapped_size=4096')] },
    ]));
    assert.equal(b.boundInvocations, 0);
    assert.deepEqual(b.unmatched.map(u => u.reason), [
      'demo.poke traced map, made by demo_map_sg() or demo_map_two(): ambiguous',
      'demo.poke traced unmap but no function of demo_gem.c makes a iommu_unmap/iommu_unmap_fast call',
    ]);
    assert.equal(b.unmatched[0].range?.start.line, lineOf(DEMO_C, 'static void demo_poke'));
  });
});

describe('the example APU driver', () => {
  const text = fs.readFileSync(path.join(driversDir, 'apu_gem.c'), 'utf8');
  let a: Analysis;
  before(() => { a = analyzeC(text, 'apu_gem.c'); });
  const scenario = (platform: string, kernel: string, iova: string, size: string) => `platform: ${platform}
kernel: ${kernel}
steps:
  - probe: dev
  - iommu_domain_alloc: { dev: dev, type: dma }
    as: d
  - kmalloc: { size: 64K }
    as: buf
  - iommu_map: { domain: $d, iova: ${iova}, paddr: $buf.paddr, size: ${size}, prot: [read, write] }
    site: apu_gem.c:apu_gem_iommu_map
`;
  const consequence = (b: Binding, code: string, needle: string) =>
    b.consequences[a.findings.findIndex(f => f.code === code && f.line === lineOf(text, needle))]?.text;

  test('on a 16K-granule DART under a 4K kernel, CPU-page sizes fail with -EINVAL', () => {
    const s = scenario('apple-t8103', '{ page_size: 4K, large_iommu_pages: true }', '0x10000', '4K').replace('probe: dev', 'probe: "0000:03:00.0"')
      .replace(/dev: dev/g, 'dev: "0000:03:00.0"');
    const b = bindOutcomes(a, run(s));
    assert.equal(consequence(b, 'mm-pfn-on-iova', 'PAGE_ALIGN(sg->length),'),
      'on apple-t8103 with 4K pages this size is not a multiple of the 16K granule: iommu_map returns -EINVAL; the run hit it at step 3');
    const map = b.calls.find(c => c.call.api === 'iommu_map')!;
    assert.equal(map.call.line, lineOf(text, 'ret = iommu_map(apu->domain'));
    assert.equal(map.text, '→ -EINVAL · mapped 0 of 4K · iova 0x10000 · unaligned-map');
  });

  test('where the granule equals PAGE_SIZE the same finding says so', () => {
    const b = bindOutcomes(a, run(scenario('generic-4k', '{ page_size: 4K }', '0x10000', '4K').replace(/dev\b(?!:)/g, 'dma0')));
    assert.match(consequence(b, 'mm-pfn-on-iova', 'PAGE_ALIGN(sg->length),') ?? '',
      /^on generic-4k with 4K pages the IOMMU granule is also 4K, so this arithmetic gives the right numbers in this run/);
  });

  test('an IOVA above 4 GiB in the run shows what a u32 keeps of it', () => {
    const b = bindOutcomes(a, run(scenario('generic-4k', '{ page_size: 4K }', '0x100002000', '4K').replace(/dev\b(?!:)/g, 'dma0')));
    assert.equal(consequence(b, 'iova-truncated', '\tu32 iova;'),
      'on generic-4k the run produced the device address 0x100002000 (step 3): a 32-bit \'u32\' keeps 0x2000, so the device is given the wrong address');
  });

  test('a kernel trace binds through its stack sites (bare function names)', () => {
    const trace = `   (udev-worker)-532   [001]     2.000100: add_device_to_group:  IOMMU: groupID=3 device=1a000000.apu
   (udev-worker)-532   [001]     2.000110: attach_device_to_domain: IOMMU: device=1a000000.apu
    apu-test-812   [003]    10.500000: map:                  IOMMU: iova=0x0000000010000000 - 0x0000000010008000 paddr=0x0000000880000000 size=32768
    apu-test-812   [003]    10.500001: kernel_stack:         <stack trace >
=> iommu_map (ffffffff8123a0b0)
=> apu_gem_iommu_map (ffffffffc0a01234)
=> apu_ioctl (ffffffffc0a00100)
    apu-test-812   [003]    10.600000: map:                  IOMMU: iova=0x0000000010200000 - 0x0000000010400000 paddr=0x0000000890000000 size=2097152
`;
    const b = bindOutcomes(a, importTrace(trace, 'apu.trace').report);
    const map = b.calls.find(c => c.call.api === 'iommu_map')!;
    assert.deepEqual(map.invocations.map(i => [i.source, i.name, i.site, i.summary.address, i.summary.mapped]),
      [['trace', 'map', 'apu_gem_iommu_map', '0x10000000', 32768]]);
    assert.equal(map.text, '→ 0 · mapped 32K · iova 0x10000000');
    assert.deepEqual(b.unmatched, []);
  });
});

describe('iommu-lens annotate FILE.c --scenario S', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'annotate-bind-'));
  const cFile = path.join(dir, 'demo_gem.c');
  const yFile = path.join(dir, 'demo.iommu.yaml');
  fs.writeFileSync(cFile, DEMO_C);
  fs.writeFileSync(yFile, DEMO_SCENARIO);
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['annotate', ...argv], {
      stdout: s => { out += s; }, stderr: s => { err += s; }, readFile: p => fs.readFileSync(p, 'utf8'),
    });
    return { code, out, err };
  };

  test('outcome notes follow the findings, in compiler style', async () => {
    const { code, out, err } = await cli(cFile, '--scenario', yFile);
    assert.equal(err, '');
    assert.equal(code, 0);
    const lines = out.trimEnd().split('\n');
    const firstNote = lines.findIndex(l => l.endsWith('[outcome]'));
    assert.ok(firstNote > 0 && lines.slice(0, firstNote).some(l => / (warning|info|error): /.test(l)));
    const loopLine = lineOf(DEMO_C, 'ret = iommu_map(dom, iova, sg_phys');
    assert.ok(lines.includes(`${cFile}:${loopLine}:9: note: iommu_map ×3 → 0 ×2, -EINVAL, mapped 12K of 16K asked, `
      + 'iova 0x100000 … 0x103800, unaligned-map [outcome]'), out);
    assert.ok(lines.includes(`${cFile}:${loopLine}:9: error: iommu_map(0x103800, pa 0x80020000, size 0x1000) is not aligned to the `
      + 'domain\'s smallest page size 0x1000: -EINVAL (step 5) [unaligned-map]'), out);
    assert.ok(lines.some(l => l.startsWith(`${cFile}:1:1: note: step 10 (scenario line `) && l.endsWith('no function demo_missing in demo_gem.c [unbound-event]')), out);
    assert.ok(lines.some(l => /: error: .*translation fault.* \[translation-fault\]$/.test(l)), out);
    for (const l of lines) assert.match(l, /^.+:\d+:\d+: (error|warning|info|note): .+ \[[\w-]+\]$/);
  });

  test('--json carries the outcomes, the unmatched events and the analysis', async () => {
    const { code, out } = await cli(cFile, '--scenario', yFile, '--json');
    assert.equal(code, 0);
    const j = JSON.parse(out);
    assert.equal(j.scenario, yFile);
    assert.deepEqual(j.functions.map((f: { name: string }) => f.name), ['demo_map_sg', 'demo_map_two', 'demo_poke']);
    assert.deepEqual(j.outcomes.map((o: { line: number; invocations: unknown[] }) => [o.line, o.invocations.length]),
      [[lineOf(DEMO_C, 'ret = iommu_map(dom, iova, sg_phys'), 3], [lineOf(DEMO_C, 'int ret = iommu_map'), 2],
        [lineOf(DEMO_C, 'return iommu_map(dom, iova + SZ_64K'), 1]]);
    assert.equal(j.unmatched.length, 2);
    assert.ok(j.findings.some((f: { code: string }) => f.code === 'translation-fault'));
  });

  test('a broken scenario is one line naming FILE:LINE:COL, exit 2', async () => {
    const bad = path.join(dir, 'bad.iommu.yaml');
    fs.writeFileSync(bad, 'platform: generic-4k\nsteps:\n  - iommu_mapp: { domain: x }\n');
    const { code, out, err } = await cli(cFile, '--scenario', bad);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, new RegExp(`^iommu-lens annotate: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:5: error: .*iommu_map.*\\n$`));
  });
});
